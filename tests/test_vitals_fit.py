"""The vital-signs chart fits its page on every paper size (issue #11): a patient's chart has
its "other observation" write-in row on US Letter too, and a blank pack's chart is one page
under the identity strip and above the signature legend, with its write-in row. Checked on
what `papermode prepare` writes: the manifest (the reader uses only its geometry) and the
rendered PDF (the write-in box is printed where the manifest says, and empty)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from papermode.census.snapshot import sample_census_path
from papermode.cli.main import main
from papermode.printing.templates import MIN_GAP_MM

DPI = 150
PPM = DPI / 25.4


def _prepare(folder: Path, paper: str, lang: str) -> dict[str, Any]:
    out = folder / f"{paper}-{lang}"
    arguments = ["prepare", str(sample_census_path()), "--out", str(out), "--paper", paper,
                 "--lang", lang, "--start", "2026-11-28T08:00", "--store",
                 str(folder / f"{paper}-{lang}.db")]  # fmt: skip
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["folder"] = out
    return manifest


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    folder = tmp_path_factory.mktemp("vitals-fit")
    runs = [("letter", "en"), ("letter", "fr"), ("letter", "nl"), ("a4", "en")]
    return {(paper, lang): _prepare(folder, paper, lang) for paper, lang in runs}


def _write_ins(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's write-in row: the ink field of the template's `extra` row, per column."""
    return [f for f in page["fields"] if f["role"] == "vital" and f["code"] == "extra"]


def _render(manifest: dict[str, Any], page: dict[str, Any]) -> np.ndarray:
    document = pdfium.PdfDocument(str(manifest["folder"] / page["pdf"]))
    image = document[page["pdf_page"] - 1].render(scale=DPI / 72, grayscale=True).to_numpy()
    document.close()
    return np.asarray(image[:, :, 0] if image.ndim == 3 else image)


def _check_write_in_row(manifest: dict[str, Any], page: dict[str, Any]) -> None:
    """Every column has its write-in box, inside the page, clear of the signature legend,
    printed where the manifest says (four dark sides) with nothing printed inside it."""
    where = f"{page['page_id']} ({page['template']} p{page['page_number']})"
    boxes = _write_ins(page)
    columns = {f["field_id"].rsplit(".", 1)[0] for f in page["fields"] if f["role"] == "initials"}
    assert {f["field_id"].rsplit(".", 1)[0] for f in boxes} == columns, where
    legend_top = min(f["box_mm"][1] for f in page["fields"] if f["role"].startswith("legend_"))
    width, height = page["size_mm"]
    image = _render(manifest, page)
    for field in boxes:
        x, y, w, h = field["box_mm"]
        assert field["kind"] == "text" and h >= 10.0, (where, field)
        assert x > 0 and x + w < width and y > 0 and y + h < height, (where, field)
        assert y + h + MIN_GAP_MM <= legend_top, (where, field, legend_top)
        assert _printed_outline(image, field["box_mm"]), (where, field["field_id"])


def _printed_outline(image: np.ndarray, box_mm: list[float]) -> bool:
    """The box's four sides are printed (dark along 90% of each) and nothing inside it."""
    x, y, w, h = (round(v * PPM) for v in box_mm)
    sides = [image[y - 1 : y + 2, x : x + w], image[y + h - 1 : y + h + 2, x : x + w]]
    sides = [side.T for side in sides]  # one row of pixels per position along the side
    sides += [image[y : y + h, x - 1 : x + 2], image[y : y + h, x + w - 1 : x + w + 2]]
    drawn = all((side.min(axis=1) < 160).mean() > 0.9 for side in sides)
    return drawn and image[y + 3 : y + h - 3, x + 3 : x + w - 3].min() > 200


@pytest.mark.parametrize("lang", ["en", "fr", "nl"])
def test_a_patients_chart_on_letter_has_its_write_in_row(
    printed: dict[tuple[str, str], dict[str, Any]], lang: str
) -> None:
    manifest = printed[("letter", lang)]
    charts = [p for p in manifest["pages"] if p["template"] == "vitals" and p["patient_id"]]
    assert charts
    for page in charts:
        assert page["size_mm"] == pytest.approx([215.9, 279.4])
        _check_write_in_row(manifest, page)


def _packs(manifest: dict[str, Any]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """A ward PDF's blank packs, by (pdf, the pack's first PDF page)."""
    packs: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for page in manifest["pages"]:
        if page["patient_id"] is None and page["template"] != "ward_census":
            packs[(page["pdf"], page["pdf_page"] - page["page_number"] + 1)].append(page)
    return packs


@pytest.mark.parametrize(("paper", "lang"), [("a4", "en"), ("letter", "en"), ("letter", "fr"),
                                             ("letter", "nl")])  # fmt: skip
def test_a_blank_packs_chart_is_one_page_with_its_write_in_row(
    printed: dict[tuple[str, str], dict[str, Any]], paper: str, lang: str
) -> None:
    manifest = printed[(paper, lang)]
    packs = _packs(manifest)
    assert len(packs) >= 2  # two packs per ward
    for pages in packs.values():
        assert [p["template"] for p in pages] == ["mar", "prn", "vitals", "new_orders"]
        assert {p["page_count"] for p in pages} == {4}
        (chart,) = [p for p in pages if p["template"] == "vitals"]
        roles = {f["role"] for f in chart["fields"]}
        assert {"obs_time", "vital", "initials"} <= roles
        assert len({f["value"] for f in chart["fields"] if f["code"] == "67775-7"}) == 5
        _check_write_in_row(manifest, chart)
