"""The vital-signs chart's layout: its rows, a page it fills, its printed PDF, its template."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_layout import _layout, _patient, check_page  # noqa: E402
from test_templates import REPO_FORMS, _problems, _replace  # noqa: E402

from papermode.printing.pdf import render_pdf  # noqa: E402


@pytest.fixture
def forms_copy(tmp_path: Path) -> Path:
    target = tmp_path / "forms"
    shutil.copytree(REPO_FORMS, target)
    return target


ROWS = ("rr", "spo2", "o2_flow", "sbp", "dbp", "hr", "temp", "news2", "pain", "glucose")


def _chart(paper: str = "a4", **options: object) -> list:
    pages = _layout(_patient(), [], {}, paper=paper, **options)
    return [p for p in pages if p.template == "vitals"]


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_every_column_has_every_row(paper: str) -> None:
    (page,) = _chart(paper)
    check_page(page)
    columns = {f.scheduled for f in page.fields if f.scheduled is not None}
    assert len(columns) == 6  # a 24 h period every 4 hours
    for moment in columns:
        own = {f.field_id.split(".", 2)[2]: f for f in page.fields if f.scheduled == moment}
        assert set(ROWS) <= set(own)
        assert {own[f"acvpu.{v}"].group for v in "ACVPU"} == {own["acvpu.A"].group}
        assert {own[f"o2.{v}"].value for v in ("air", "nasal", "mask", "other")} == {
            "air", "nasal", "mask", "other"
        }  # fmt: skip
        assert own["spo2_scale.2"].kind == "checkbox"
        if paper == "a4":  # on US Letter the write-in row does not fit above the legend
            assert own["extra"].kind == "text"
        assert own["glucose"].code == "14743-9" and own["glucose"].decimals == 1
        assert own["pain"].code == "72514-3" and own["o2_flow"].code == "3151-8"
        assert own["news2"].cells == 2 and own["acvpu.C"].code == "67775-7"


def test_the_chart_uses_its_page() -> None:
    (page,) = _chart()
    content_w = 210.0 - 2 * 7.0
    xs = [f.box.x + f.box.w for f in page.fields]
    ys = [f.box.y + f.box.h for f in page.fields]
    assert max(xs) > 7.0 + content_w - 3.0  # columns spread to the right edge
    assert max(ys) > 297.0 - 7.0 - 12.0 - 2.0 - 5.0  # and down to the footer
    extra = next(f for f in page.fields if f.field_id.endswith(".extra"))
    assert extra.box.h > 10.0  # the write-in box takes what the rows leave


def test_a_longer_period_flows_onto_more_pages() -> None:
    pages = _chart(period=(datetime(2026, 11, 28, 0, 0), datetime(2026, 11, 30, 0, 0)))
    assert len(pages) == 2  # 12 columns, 6 a block, one block a page
    for page in pages:
        check_page(page)


def test_the_printed_chart_says_what_each_row_is(tmp_path: Path) -> None:
    (page,) = _chart()
    path = tmp_path / "vitals.pdf"
    render_pdf([page], path)
    document = pdfium.PdfDocument(str(path))
    text = document[0].get_textpage().get_text_range().replace("\r\n", " ")
    document.close()
    for label in ("Resp. rate (/min)", "SpO2 scale 2", "nasal cannula", "O2 flow (L/min)",
                  "C new confusion", "U unresponsive", "NEWS2 total", "Pain (0-10)",
                  "Cap. glucose (mmol/L)", "Other observation"):  # fmt: skip
        assert label in text, label


def test_tick_and_ink_rows_are_validated(forms_copy: Path) -> None:
    _replace(forms_copy / "vitals.toml", 'choices = ["2"]', 'choices = ["2", "2"]')
    _replace(forms_copy / "vitals.toml", 'kind = "ink"', 'kind = "pen"')
    text = "\n".join(_problems(forms_copy))
    assert "vitals.toml: vitals[2].choices: a list of distinct values" in text
    assert "vitals.toml: vitals[13].kind: must be digits, choice or ink" in text


def test_a_tick_row_needs_its_labels_in_every_language(forms_copy: Path) -> None:
    _replace(forms_copy / "i18n" / "nl.toml", 'acvpu_C = "C nieuwe verwardheid"\n', "")
    assert any("i18n/nl.toml: vitals.acvpu_C: missing" in p for p in _problems(forms_copy))
