"""The readers with combs and boxes printed in the dark grey that survives a 1-bit scan.

Combs are drawn with the synthetic handwriting module at 8 px/mm, in the drop-out colour of
before (grey level 166) and in the border grey the PDF prints now (0.35: level 89).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from papermode.core.model import Box, Field
from papermode.demo.synth import handwriting as hw
from papermode.reading import combs
from papermode.reading.digits import read_digit_fields

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_digits as td  # noqa: E402

PX = 8.0
DARK_GREY = int(round(0.35 * 255))  # papermode.printing.pdf.BORDER_GREY on a 255 scale
PEN_GREY = 120  # a blue ballpoint in a dim photo: lighter than the printed line


def _crossing_page(line_grey: int) -> tuple[np.ndarray, Field, int]:
    """A 2-cell comb and a pen stroke straight across its divider, at mid-height."""
    page = hw.blank_page((40.0, 20.0), PX)
    field = Field("f", "digits", Box(5.0, 5.0, 10.0, 7.0), cells=2)
    hw.draw_comb_border(page, field.box, 2, PX)
    page[page < 255] = line_grey  # the comb in the grey under test
    row = int(round(8.5 * PX))
    cv2.line(page, (int(7 * PX), row), (int(13 * PX), row), PEN_GREY, 3)
    return page, field, row


@pytest.mark.parametrize("line_grey", [hw.DROPOUT_GRAY, DARK_GREY])
def test_a_stroke_crossing_a_printed_line_keeps_its_ink(line_grey: int) -> None:
    page, field, row = _crossing_page(line_grey)
    crop, origin = combs._crop(page, field.box, PX)
    clean, origin, shift = combs.clean_comb(crop, origin, field, PX)
    divider = int(round((10.0 - origin[0]) * PX)) + shift[0]
    y = int(round(row - origin[1] * PX)) + shift[1]
    stroke_rows = np.flatnonzero(clean[:, divider - 15] >= combs.MIN_DARKNESS)
    assert stroke_rows.size and abs(stroke_rows.mean() - y) <= 2
    crossing = clean[stroke_rows, divider - 2 : divider + 3]
    assert crossing.max(axis=0).min() >= combs.MIN_DARKNESS, crossing  # the stroke is not cut
    # ... while the printed divider itself is gone above and below the stroke
    line = clean[y - 20 : y - 8, divider - 2 : divider + 3]
    assert line.max() < combs.MIN_DARKNESS, line.max()


def test_dark_lines_leave_no_ink_in_empty_cells() -> None:
    texts = ["    "] * 12
    for grey in (hw.DROPOUT_GRAY, DARK_GREY):
        page, fields = _write_in(grey, texts, seed=9, blur=1.0, noise=6.0, jpeg=60, shift_mm=0.8)
        readings = read_digit_fields(page, fields, PX)
        assert all(reading.value is None for reading in readings.values()), grey
        assert all(c.digit is None for r in readings.values() for c in r.cells), grey


def _write_in(grey: int, texts: list[str], seed: int, **degradation):  # type: ignore[no-untyped-def]
    saved = hw.DROPOUT_GRAY
    hw.DROPOUT_GRAY = grey  # draw_comb_border prints the comb in this grey
    try:
        return td.write(texts, seed=seed, **degradation)
    finally:
        hw.DROPOUT_GRAY = saved


def test_digits_in_dark_combs_read_as_well_as_in_drop_out_combs() -> None:
    """Held-out MNIST digits, degraded (blur, noise, JPEG, a misprinted comb, a faint pen):
    the share read right in dark-grey combs is within one point of drop-out combs'."""
    accuracy = {}
    for grey in (hw.DROPOUT_GRAY, DARK_GREY):
        right = total = 0
        for seed in range(2):
            texts = td.random_texts(48, seed=3 + 10 * seed)
            page, fields = _write_in(
                grey, texts, 4 + 10 * seed, blur=1.0, noise=6.0, jpeg=60, shift_mm=0.8,
                pen=hw.Pen(gray=PEN_GREY, stroke=-1),
            )  # fmt: skip
            right += round(td.digit_accuracy(texts, read_digit_fields(page, fields, PX)) * 192)
            total += 192
        accuracy[grey] = right / total
    assert accuracy[DARK_GREY] >= accuracy[hw.DROPOUT_GRAY] - 0.01, accuracy
    assert accuracy[DARK_GREY] >= 0.9, accuracy
