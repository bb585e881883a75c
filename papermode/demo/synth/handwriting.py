"""Handwritten digits and pen strokes for synthetic filled forms, with known truth.

The digits come from `data/heldout_digits.npz`: real MNIST digits (CC BY-SA 3.0) that
`tools/train_digits.py` kept out of training, so a demo, test or benchmark never reads a
digit the model has seen. Glyphs are grayscale uint8, ink dark on white (255).

`draw_comb` writes a comb field (printed cell borders in the drop-out colour, then the
digits) onto a grayscale page at `px_per_mm`; `degrade` adds what a phone camera adds.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from papermode.core.model import Box, Field
from papermode.core.pageframe import DROPOUT_RGB
from papermode.reading.combs import comb_dots

HELDOUT_PATH = Path(__file__).parent / "data" / "heldout_digits.npz"
# The drop-out colour as a scanner or a phone sees it in gray (ITU-R BT.601 luma).
DROPOUT_GRAY = int(
    round(255 * (0.299 * DROPOUT_RGB[0] + 0.587 * DROPOUT_RGB[1] + 0.114 * DROPOUT_RGB[2]))
)
BORDER_MM = 0.25


@dataclass(frozen=True)
class Pen:
    """How a nurse's pen looks in gray: `gray` of full ink (blue ~60, black ~25, faint ~140)."""

    gray: int = 40
    stroke: int = 0  # < 0 thinner (erode), > 0 thicker (dilate), in glyph pixels
    height: float = 0.7  # glyph height as a share of the cell height
    jitter_mm: float = 0.6  # random offset of the glyph inside its cell


@functools.lru_cache(maxsize=2)
def heldout_digits(path: Path = HELDOUT_PATH) -> tuple[np.ndarray, np.ndarray]:
    """The held-out handwritten digits: (images N x 28 x 28 uint8 ink-bright, labels N)."""
    with np.load(path) as data:
        return data["images"], data["labels"]


# The held-out digits are split in two halves that never overlap (docs/digits.md): the
# calibration half chooses thresholds and decides flags (`tools/calibrate_digits.py`); the
# test half is the only one that tests, the demo and the benchmarks draw and score.
SPLIT_SEED = 20261202
HELDOUT_PARTS = ("calibration", "test")
_drawing_part = ["test"]


@functools.lru_cache(maxsize=2)
def heldout_part_indices(part: str) -> np.ndarray:
    """Indices into `heldout_digits()` of one half: a fixed seeded permutation, halved."""
    if part not in HELDOUT_PARTS:
        raise ValueError(f"unknown held-out part {part!r}; use one of {HELDOUT_PARTS}")
    _, labels = heldout_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    half = len(labels) // 2
    return np.sort(order[:half] if part == "calibration" else order[half:])


@functools.lru_cache(maxsize=2)
def heldout_part(part: str) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of one half of the held-out digits."""
    images, labels = heldout_digits()
    index = heldout_part_indices(part)
    return images[index], labels[index]


@contextlib.contextmanager
def drawing_from(part: str) -> Iterator[None]:
    """Draw glyphs from `part` inside the block (the calibration tool); "test" otherwise."""
    heldout_part_indices(part)  # checks the name
    _drawing_part.append(part)
    try:
        yield
    finally:
        _drawing_part.pop()


def digit_glyph(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A held-out handwritten `digit` (from the test half, unless `drawing_from` says
    otherwise) as a tight grayscale glyph, ink dark on white."""
    images, labels = heldout_part(_drawing_part[-1])
    choices = np.flatnonzero(labels == digit)
    if choices.size == 0:
        raise ValueError(f"no held-out glyph for digit {digit!r}")
    image = images[int(rng.choice(choices))]
    return 255 - _tight(image)


def _tight(ink: np.ndarray, level: int = 30) -> np.ndarray:
    """Crop an ink-bright image to its ink, keeping one pixel of margin."""
    rows = np.flatnonzero((ink > level).any(axis=1))
    cols = np.flatnonzero((ink > level).any(axis=0))
    if rows.size == 0:
        return ink
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, ink.shape[0])
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, ink.shape[1])
    return ink[top:bottom, left:right]


def initials_glyph(rng: np.random.Generator) -> np.ndarray:
    """Two or three quick pen strokes that look like initials, ink dark on white."""
    height, width = 48, 28 * int(rng.integers(2, 4))
    canvas = np.full((height, width), 255, np.uint8)
    letters = width // 28
    for index in range(letters):
        points = _letter_stroke(rng, x0=index * 28 + 3, width=22, height=height)
        cv2.polylines(canvas, [points], False, 30, int(rng.integers(2, 4)), cv2.LINE_AA)
    if rng.random() < 0.5:  # the full stop or flourish many people add
        y = int(height * rng.uniform(0.7, 0.9))
        cv2.line(canvas, (2, y), (width - 3, y + int(rng.integers(-4, 4))), 30, 2, cv2.LINE_AA)
    return canvas


def _letter_stroke(rng: np.random.Generator, *, x0: int, width: int, height: int) -> np.ndarray:
    """One smooth random polyline, roughly letter-sized: a spline through 4-6 points."""
    knots = int(rng.integers(4, 7))
    xs = x0 + rng.uniform(0, width, knots)
    ys = rng.uniform(0.1 * height, 0.85 * height, knots)
    t = np.linspace(0, knots - 1, 40)
    curve_x = np.interp(t, np.arange(knots), xs)
    curve_y = np.interp(t, np.arange(knots), ys)
    kernel = np.ones(5) / 5  # smooth the corners the way a moving hand does
    curve_x = np.convolve(np.pad(curve_x, 2, mode="edge"), kernel, "valid")
    curve_y = np.convolve(np.pad(curve_y, 2, mode="edge"), kernel, "valid")
    return np.stack([curve_x, curve_y], axis=1).astype(np.int32).reshape(-1, 1, 2)


def blank_page(size_mm: tuple[float, float], px_per_mm: float = 8.0) -> np.ndarray:
    """A white grayscale page of `size_mm` (w, h) at `px_per_mm`."""
    width, height = (int(round(v * px_per_mm)) for v in size_mm)
    return np.full((height, width), 255, np.uint8)


def draw_comb_border(
    page: np.ndarray, box: Box, cells: int, px_per_mm: float = 8.0, *, field: Field | None = None
) -> None:
    """Print a comb (outer box, cell separators, and with `field` its decimal point or time
    colon) in the drop-out colour, as the PDF does."""
    thickness = max(1, int(round(BORDER_MM * px_per_mm)))

    def px(value: float) -> int:
        return int(round(value * px_per_mm))

    top_left, bottom_right = (px(box.x), px(box.y)), (px(box.x + box.w), px(box.y + box.h))
    cv2.rectangle(page, top_left, bottom_right, DROPOUT_GRAY, thickness)
    for index in range(1, cells):
        x = px(box.x + box.w * index / cells)
        cv2.line(page, (x, top_left[1]), (x, bottom_right[1]), DROPOUT_GRAY, thickness)
    if field is not None:
        printed = replace(field, box=box)
        for x_mm, y_mm, half in comb_dots(printed):
            corner_a = (px(x_mm - half), px(y_mm - half))
            corner_b = (px(x_mm + half), px(y_mm + half))
            cv2.rectangle(page, corner_a, corner_b, DROPOUT_GRAY, -1)


def draw_glyph(
    page: np.ndarray,
    glyph: np.ndarray,
    cell: Box,
    pen: Pen,
    rng: np.random.Generator,
    px_per_mm: float = 8.0,
) -> None:
    """Write `glyph` (ink dark on white) into `cell` of `page` with `pen`, darkening only."""
    ink: np.ndarray = (255 - glyph.astype(np.float32)) / 255.0
    if pen.stroke:
        kernel = np.ones((abs(pen.stroke) + 1, abs(pen.stroke) + 1), np.uint8)
        ink = cv2.dilate(ink, kernel) if pen.stroke > 0 else cv2.erode(ink, kernel)
    target_h = max(4, int(round(cell.h * pen.height * px_per_mm)))
    scale = target_h / ink.shape[0]
    target_w = max(2, int(round(ink.shape[1] * scale)))
    ink = cv2.resize(ink, (target_w, target_h), interpolation=cv2.INTER_LINEAR)
    jitter = rng.uniform(-pen.jitter_mm, pen.jitter_mm, 2) * px_per_mm
    centre_x = (cell.x + cell.w / 2) * px_per_mm + jitter[0]
    centre_y = (cell.y + cell.h / 2) * px_per_mm + jitter[1]
    _blend(
        page,
        ink,
        int(round(centre_x - target_w / 2)),
        int(round(centre_y - target_h / 2)),
        pen.gray,
    )


def _blend(page: np.ndarray, ink: np.ndarray, left: int, top: int, gray: int) -> None:
    """Darken `page` with `ink` (0..1) at (left, top), clipped to the page."""
    height, width = ink.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, page.shape[0]), min(left + width, page.shape[1])
    if y1 <= y0 or x1 <= x0:
        return
    patch = ink[y0 - top : y1 - top, x0 - left : x1 - left]
    written = 255.0 - patch * (255.0 - gray)
    page[y0:y1, x0:x1] = np.minimum(page[y0:y1, x0:x1], written.astype(np.uint8))


def draw_comb(
    page: np.ndarray,
    field: Field,
    text: str,
    rng: np.random.Generator,
    *,
    pen: Pen | None = None,
    px_per_mm: float = 8.0,
) -> None:
    """Print `field`'s comb and write `text` in it: one character per cell, " " for empty.

    "x" writes a crossed-out digit (a digit with a pen stroke through it).
    """
    pen = pen or Pen()
    draw_comb_border(page, field.box, field.cells, px_per_mm, field=field)
    for cell, char in zip(field.cell_boxes(), text, strict=False):
        if char.isdigit():
            draw_glyph(page, digit_glyph(int(char), rng), cell, pen, rng, px_per_mm)
        elif char == "x":
            draw_glyph(page, crossed_out_glyph(rng), cell, pen, rng, px_per_mm)


def crossed_out_glyph(rng: np.random.Generator) -> np.ndarray:
    """A digit struck through (one or two strokes) or overwritten by another digit."""
    glyph = 255 - _pad_to(255 - digit_glyph(int(rng.integers(10)), rng), (28, 22))
    height, width = glyph.shape
    style = rng.integers(3)
    if style == 2:  # two glyphs on top of each other: a correction written over the old one
        other = 255 - _pad_to(255 - digit_glyph(int(rng.integers(10)), rng), (28, 22))
        return np.minimum(glyph, np.roll(other, int(rng.integers(-3, 4)), axis=1))
    strokes = 1 if style == 0 else 2
    for _ in range(strokes):
        y0, y1 = rng.uniform(0.1, 0.9, 2) * height
        cv2.line(glyph, (0, int(y0)), (width - 1, int(y1)), 0, int(rng.integers(2, 4)), cv2.LINE_AA)
    if style == 1:
        cv2.line(glyph, (0, 0), (width - 1, height - 1), 0, 2, cv2.LINE_AA)
    return glyph


def _pad_to(ink: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Centre an ink-bright glyph on a zero canvas of at least `shape`."""
    height, width = max(shape[0], ink.shape[0]), max(shape[1], ink.shape[1])
    canvas = np.zeros((height, width), ink.dtype)
    top, left = (height - ink.shape[0]) // 2, (width - ink.shape[1]) // 2
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return canvas


def degrade(
    page: np.ndarray,
    rng: np.random.Generator,
    *,
    blur: float = 0.0,
    noise: float = 0.0,
    jpeg: int | None = None,
) -> np.ndarray:
    """What a phone adds: Gaussian blur (sigma px), sensor noise (std gray levels), JPEG."""
    out: np.ndarray = page.astype(np.float32)
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if noise > 0:
        out += rng.normal(0.0, noise, out.shape).astype(np.float32)
    out8: np.ndarray = np.clip(out, 0, 255).astype(np.uint8)
    if jpeg is not None:
        ok, encoded = cv2.imencode(".jpg", out8, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else None
        out8 = out8 if decoded is None else decoded
    return out8
