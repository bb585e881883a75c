"""Forms survive a black-and-white printer, a 1-bit scan and a photocopy.

The sample ward is printed; its first MAR, PRN and vitals pages are rendered at 200 and
300 dpi (straight from the PDF, and through the simulated scanner from a 600 dpi render),
turned to 1 bit at thresholds 128 and 160, and looked at with detectors of the tests' own
(tools/measure_bilevel.py), never the reader's code: the printed field borders, the
temperature's decimal point and the box labels must all be there. No printed text may lie
on a grey (dithered) fill, anywhere on any page.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools"))
import edgepages as ep  # noqa: E402
import measure_bilevel as mb  # noqa: E402

ONE_BIT = [(dpi, threshold) for dpi in (200, 300) for threshold in (128, 160)]
FILL_DPI = 100


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ep.prepare(tmp_path_factory.mktemp("bw"))


@pytest.fixture(scope="module")
def borders(prepared: Path) -> list[mb.BorderCount]:
    return mb.count_borders(prepared)


@pytest.mark.parametrize("source", ["render", "scan"])
@pytest.mark.parametrize(("dpi", "threshold"), ONE_BIT)
def test_box_borders_survive_one_bit(
    borders: list[mb.BorderCount], source: str, dpi: int, threshold: int
) -> None:
    (count,) = [c for c in borders if (c.source, c.dpi, c.threshold) == (source, dpi, threshold)]
    assert count.boxes >= 60  # tick boxes, combs, initials boxes of three templates
    assert count.survived >= 0.95 * count.boxes, count


def test_the_detector_finds_no_border_where_none_is_printed(prepared: Path) -> None:
    """The border detector is not fooled: the same boxes moved 3 mm onto blank paper fail."""
    page = ep.pages(prepared, "vitals")[0]
    black = mb.page_grey(prepared, page, 300, "render") < 160
    moved = [[x + 3.0, y + 3.0, w, h] for x, y, w, h in (f["box_mm"] for f in page["fields"])]
    assert sum(mb.border_survives(black, box, 300 / 25.4) for box in moved) == 0


def _black_share(black: np.ndarray, box_mm: tuple[float, float, float, float], ppm: float) -> float:
    x, y, w, h = (v * ppm for v in box_mm)
    area = black[int(y) : int(np.ceil(y + h)), int(x) : int(np.ceil(x + w))]
    return float(area.mean()) if area.size else 0.0


def _decimal_points(page: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    """The square of each printed decimal point, inset a little (mm): as the PDF draws it."""
    squares = []
    for f in page["fields"]:
        if f["kind"] != "digits" or not f["decimals"] or f["decimals"] >= f["cells"]:
            continue
        x, y, w, h = f["box_mm"]
        half = min(0.45, w / f["cells"] / 8)
        centre = x + (f["cells"] - f["decimals"]) * w / f["cells"]
        core = 0.6 * half
        squares.append((centre - core, y + h - half - core, 2 * core, 2 * core))
    return squares


@pytest.mark.parametrize("source", ["render", "scan"])
@pytest.mark.parametrize(("dpi", "threshold"), ONE_BIT)
def test_the_temperature_decimal_point_survives_one_bit(
    prepared: Path, source: str, dpi: int, threshold: int
) -> None:
    page = ep.pages(prepared, "vitals")[0]
    squares = _decimal_points(page)
    assert squares, "the vitals page has a temperature comb with a decimal point"
    black = mb.page_grey(prepared, page, dpi, source) < threshold
    shares = [_black_share(black, square, dpi / 25.4) for square in squares]
    assert min(shares) >= 0.8, shares


@pytest.mark.parametrize(("dpi", "threshold"), ONE_BIT)
def test_box_labels_survive_one_bit(prepared: Path, dpi: int, threshold: int) -> None:
    """The small printed label of an initials box ("Initials") is still there in 1 bit."""
    page = ep.pages(prepared, "mar")[0]
    labelled = [f for f in page["fields"] if f["kind"] in ("text", "signature") and f["label"]]
    assert labelled
    black = mb.page_grey(prepared, page, dpi, "scan") < threshold
    ppm = dpi / 25.4
    for f in labelled:
        x, y, w, h = f["box_mm"]
        band = (x + 0.5, y + 0.5, min(w - 1.0, 6.0), min(1.9, h - 1.0))  # where the label sits
        ink_mm2 = _black_share(black, band, ppm) * band[2] * band[3]
        assert ink_mm2 >= 0.4, (f["field_id"], ink_mm2)


def _grey_fill(grey: np.ndarray) -> np.ndarray:
    """Areas printed in a mid grey (a fill), wider than any line or letter stroke (2 mm)."""
    mid = ((grey > 40) & (grey < 235)).astype(np.uint8)
    size = int(round(2.0 * FILL_DPI / 25.4))
    return cv2.morphologyEx(mid, cv2.MORPH_OPEN, np.ones((size, size), np.uint8)).astype(bool)


def test_no_grey_fill_on_any_page(prepared: Path) -> None:
    """A grey fill dithers in a 1-bit scan and a photocopy, and the text on it with it:
    no page of any template has one (high-alert and do-not-give bands are framed)."""
    for pdf in sorted((prepared / "forms").glob("ward-*.pdf")):
        document = pdfium.PdfDocument(str(pdf))
        try:
            for index in range(len(document)):
                bitmap = document[index].render(scale=FILL_DPI / 72, grayscale=True)
                pixels = bitmap.to_numpy()
                grey = pixels if pixels.ndim == 2 else pixels[:, :, 0]
                fill = _grey_fill(np.ascontiguousarray(grey))
                assert not fill.any(), f"{pdf.name} page {index + 1}: {int(fill.sum())} px"
        finally:
            document.close()


def test_the_fill_detector_sees_a_grey_band() -> None:
    """The fill detector itself: a 0.78 grey band with black text on it is found."""
    page = np.full((200, 300), 255, np.uint8)
    page[50:100, 20:200] = 199
    cv2.putText(page, "HIGH ALERT", (25, 85), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    assert _grey_fill(page)[50:100, 20:200].mean() > 0.5
    assert not _grey_fill(page)[150:, :].any()
