"""Are the printed boxes still visible? A layout-aware check for glare and washed-out light.

Glare on glossy paper or under a lamp clips part of the page to pure white: the pen marks
there vanish, and an empty-looking box would be read as "empty" with confidence. Once the
page is identified we know exactly where every box was printed, so we look for its thin
printed border: where it cannot be seen, nothing inside it can be trusted either.

Pure numpy on the rectified page; about 10 ms for a MAR page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papermode.core.model import Field
from papermode.reading.quality import GLARE

logger = logging.getLogger(__name__)

BAND_MM = 1.2  # the printed border is searched this far either side of its place
MIN_BORDER_CONTRAST = 12.0  # grey levels between the paper and a visible printed border
RETAKE_SHARE = 0.05  # this share of the boxes washed out (and at least MIN_RETAKE_BOXES)
MIN_RETAKE_BOXES = 3
GLARE_MESSAGE = GLARE
# A scanner has no glare: boxes vanish when it scans black-and-white or far too light.
SCAN_MESSAGE = (
    "the printed boxes are lost in this scan (black-and-white or too light), so light pen "
    "marks may be lost too: scan the page again in grayscale or colour"
)


def retake_message(source: str) -> str:
    """What to tell the clerk when the printed boxes vanished, by kind of capture."""
    return GLARE_MESSAGE if source == "photo" else SCAN_MESSAGE


@dataclass(frozen=True)
class Washout:
    """Which fields' printed borders cannot be seen, and whether the photo must be retaken."""

    washed_out: tuple[str, ...]
    checked: int

    @property
    def retake(self) -> bool:
        limit = max(MIN_RETAKE_BOXES, RETAKE_SHARE * self.checked)
        return len(self.washed_out) >= limit


def check_borders(rectified: np.ndarray, fields: Sequence[Field], px_per_mm: float) -> Washout:
    """The fields whose printed border is invisible on the rectified page."""
    contrasts = border_contrasts(rectified, fields, px_per_mm)
    washed = [f.field_id for f, c in zip(fields, contrasts, strict=True) if c < MIN_BORDER_CONTRAST]
    logger.debug(
        "%d of %d printed borders under contrast %s: %s",
        len(washed),
        len(fields),
        MIN_BORDER_CONTRAST,
        ", ".join(washed[:20]) or "none",
    )
    return Washout(tuple(washed), len(fields))


def border_contrasts(
    rectified: np.ndarray, fields: Sequence[Field], px_per_mm: float
) -> list[float]:
    """`border_contrast` of every field, the same numbers, computed in batches.

    A page holds thousands of edge strips but few strip shapes (boxes of one size): each
    shape's strips are stacked and their profiles, levels and minima taken in one numpy
    call each, instead of three calls per strip (50 ms -> a few ms for a MAR page).
    """
    band = max(2, int(round(BAND_MM * px_per_mm)))
    batches: dict[tuple[int, tuple[int, ...]], list[tuple[int, np.ndarray]]] = {}
    for index, f in enumerate(fields):
        for axis, strip in _edge_strips(rectified, f, px_per_mm, band):
            if strip.size == 0 or min(strip.shape) < 2:
                continue  # an edge outside the page: not measured (as `_edge_contrast`)
            batches.setdefault((axis, strip.shape), []).append((index, strip))
    found: list[list[float]] = [[] for _ in fields]
    for (axis, _shape), strips in batches.items():
        stack = np.stack([strip for _, strip in strips]).astype(np.float32)
        profiles = np.median(stack, axis=axis + 1)
        papers = np.percentile(profiles, 90, axis=1)
        darkest = profiles.min(axis=1)
        for (index, _), paper, low in zip(strips, papers, darkest, strict=True):
            found[index].append(float(paper) - float(low))
    # The median of each field's edges in their order (top, bottom, left, right), as
    # `border_contrast` takes it: the order does not change a median.
    return [float(np.median(values)) if values else 0.0 for values in found]


def _edge_strips(
    rectified: np.ndarray, field: Field, px_per_mm: float, band: int
) -> list[tuple[int, np.ndarray]]:
    """(axis along the edge, strip) of the field's top, bottom, left and right edges."""
    box = field.box
    x0, y0 = int(round(box.x * px_per_mm)), int(round(box.y * px_per_mm))
    x1, y1 = int(round((box.x + box.w) * px_per_mm)), int(round((box.y + box.h) * px_per_mm))
    inner_x = slice(x0 + band, max(x1 - band, x0 + band + 1))
    inner_y = slice(y0 + band, max(y1 - band, y0 + band + 1))
    return [(1, rectified[max(y - band, 0) : y + band + 1, inner_x]) for y in (y0, y1)] + [
        (0, rectified[inner_y, max(x - band, 0) : x + band + 1]) for x in (x0, x1)
    ]


def border_contrast(rectified: np.ndarray, field: Field, px_per_mm: float) -> float:
    """How much darker than the paper the field's printed border is (median of its edges)."""
    box = field.box
    band = max(2, int(round(BAND_MM * px_per_mm)))
    x0, y0 = int(round(box.x * px_per_mm)), int(round(box.y * px_per_mm))
    x1, y1 = int(round((box.x + box.w) * px_per_mm)), int(round((box.y + box.h) * px_per_mm))
    inner_x = slice(x0 + band, max(x1 - band, x0 + band + 1))
    inner_y = slice(y0 + band, max(y1 - band, y0 + band + 1))
    edges = [
        _edge_contrast(rectified[max(y - band, 0) : y + band + 1, inner_x], axis=1)
        for y in (y0, y1)
    ] + [
        _edge_contrast(rectified[inner_y, max(x - band, 0) : x + band + 1], axis=0)
        for x in (x0, x1)
    ]
    found = [value for value in edges if value is not None]
    return float(np.median(found)) if found else 0.0


def _edge_contrast(strip: np.ndarray, axis: int) -> float | None:
    """Paper level minus the darkest line across the strip, the line averaged along it."""
    if strip.size == 0 or min(strip.shape) < 2:
        return None
    # Averaging along the edge keeps a pen stroke that crosses it from faking a border.
    profile = np.median(strip.astype(np.float32), axis=axis)
    paper = float(np.percentile(profile, 90))
    return paper - float(profile.min())
