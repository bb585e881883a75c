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

from papermode.core.model import Text  # noqa: E402
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
        assert own["extra"].kind == "text" and own["extra"].box.h >= 10.0  # on Letter too
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


@pytest.mark.parametrize(("paper", "lang"), [("a4", "en"), ("letter", "fr"), ("letter", "nl")])
def test_a_groups_answers_sit_two_to_a_row_each_with_its_key(paper: str, lang: str) -> None:
    """A C / V P / U and air nasal / mask other: two ticks a row inside their column, the
    answer's key (the first letter of its label) printed just right of each tick."""
    (page,) = _chart(paper, lang=lang)
    texts = [d for d in page.drawings if isinstance(d, Text)]
    first = min(f.scheduled for f in page.fields if f.scheduled is not None)
    own = {f.field_id.split(".", 2)[2]: f.box for f in page.fields if f.scheduled == first}
    column = own["initials"]  # as wide as the column
    keys: dict[str, list[str]] = {"acvpu": [], "o2": []}
    for name, rows in (("acvpu", ("AC", "VP", "U")), ("o2", (("air", "nasal"), ("mask", "other")))):
        tops = []
        for row in rows:
            boxes = [own[f"{name}.{choice}"] for choice in row]
            assert len({b.y for b in boxes}) == 1  # one row
            assert all(column.x <= b.x and b.x + b.w <= column.x + column.w for b in boxes)
            tops.append(boxes[0].y)
            for box in boxes:
                beside = [t for t in texts if box.x + box.w < t.x < box.x + box.w + 2.0
                          and box.y < t.y <= box.y + box.h]  # fmt: skip
                assert len(beside) == 1 and beside[0].bold, (name, box)
                keys[name].append(beside[0].text)
        assert [b - a for a, b in zip(tops, tops[1:], strict=False)] == [7.0] * (len(rows) - 1)
    assert keys["acvpu"] == list("ACVPU")
    assert len(set(keys["o2"])) == 4 and all(len(key) == 1 for key in keys["o2"])


def test_an_answer_needs_its_own_one_letter_key(forms_copy: Path) -> None:
    _replace(forms_copy / "i18n" / "fr.toml", 'o2_mask = "M masque"', 'o2_mask = "masque"')
    _replace(forms_copy / "i18n" / "nl.toml", 'o2_nasal = "N neusbril"', 'o2_nasal = "L neusbril"')
    text = "\n".join(_problems(forms_copy))
    assert "i18n/fr.toml: vitals.o2_mask: must start with its one-letter key" in text
    assert "i18n/nl.toml: vitals.o2_nasal: key 'L' is already vitals.o2_air's" in text


def test_tick_and_ink_rows_are_validated(forms_copy: Path) -> None:
    _replace(forms_copy / "vitals.toml", 'choices = ["2"]', 'choices = ["2", "2"]')
    _replace(forms_copy / "vitals.toml", 'kind = "ink"', 'kind = "pen"')
    text = "\n".join(_problems(forms_copy))
    assert "vitals.toml: vitals[2].choices: a list of distinct values" in text
    assert "vitals.toml: vitals[13].kind: must be digits, choice or ink" in text


def test_a_tick_row_needs_its_labels_in_every_language(forms_copy: Path) -> None:
    _replace(forms_copy / "i18n" / "nl.toml", 'acvpu_C = "C nieuwe verwardheid"\n', "")
    assert any("i18n/nl.toml: vitals.acvpu_C: missing" in p for p in _problems(forms_copy))
