"""Tick boxes on a rectified page: empty / ticked / filled (a correction), with confidence.

Each box is first re-registered locally (paper bends, so the printed square may sit a
millimetre or two away from where the homography puts it), then pen ink is measured strictly
inside it, inset from the printed border. Ink is "darker than the local paper by a fraction"
so it adapts to dim photos; the thin drop-out border never counts because it is outside the
inset. Ink that only pokes in from an edge (the tail of a neighbour's tick) is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from papermode.core.flags import Flag
from papermode.core.model import Box, Field

logger = logging.getLogger(__name__)

SEARCH_MM = 1.5  # how far a printed box may have moved from its expected position
INSET_FRACTION = 0.16  # ink is measured inside the box, this far in from each side
INSET_MIN_MM = 0.5
# A pixel is ink when this much darker than the local paper. Low on purpose: pencil and
# faint ballpoint in an over-exposed photo are barely darker than the drop-out border, which
# never counts because it lies outside the inset.
INK_CONTRAST = 0.1
INK_WEAK = 0.05
BORDER_MIN_DARKNESS = 0.04  # the fainter printed side, in median darkness
# A box filled in (a correction): at least this share of the inside is ink, and at most
# FILLED_OPENNESS of it farther than OPEN_DISTANCE from ink. Measured with the synthetic pen
# (tools/measure_corrections.py, docs/reading.md): full fills have openness <= 0.09 and ink
# >= 0.62; ticks and crosses, even in felt pen, openness >= 0.19 and ink <= 0.64. Between
# 0.12 and ~0.2 (a box two-thirds filled) the confidence falls under the threshold: review.
FILLED_MIN_FRACTION = 0.5
FILLED_OPENNESS = 0.12
FILLED_MARGIN = 0.08  # openness this far above FILLED_OPENNESS: surely not a fill
OPEN_DISTANCE = 0.08  # of the inside's side
TICK_EXTENT = 0.4  # a tick spans at least this much of the inside (a dot does not)
TICK_MIN_FRACTION = 0.015
EDGE_POKE_DEPTH = 0.45  # ink touching an edge but reaching less deep is a neighbour's stroke
PAPER_WINDOW_MM = 2.0
LABEL_BAND_MM = 2.8  # signature/text boxes: the printed label's band at the top
LABEL_MIN_HEIGHT_MM = 6.0
INK_MIN_MM2 = 1.0  # signature/initials boxes: this much ink area means "ink"
INK_MIN_EXTENT_MM = 2.0
# Sure enough to accept "ink" without a person: initials drawn with the synthetic pen cover
# >= 3.9 mm² and span >= 3.0 mm (5th percentile 5.6 mm², 4.5 mm); a stray 3 mm stroke covers
# <= 2.7 mm² and spans <= 3.6 mm but passes the INK_MIN bar (docs/reading.md). Between the
# two bars a box holds ink, but a person says whether it is initials.
INK_SURE_MM2 = 4.0
INK_SURE_EXTENT_MM = 4.0
INK_UNSURE_CAP = 0.75

MarkState = Literal["empty", "ticked", "filled", "ink"]


@dataclass(frozen=True)
class MarkReading:
    """What one box holds. `ink_fraction` is the share of the box's inside covered by ink."""

    state: MarkState
    confidence: float
    ink_fraction: float
    flags: tuple[str, ...] = ()
    offset_mm: tuple[float, float] = (0.0, 0.0)


def read_checkbox(rectified: np.ndarray, box: Box, px_per_mm: float) -> MarkReading:
    """Read one tick box of a page rectified at `px_per_mm` (gray, layout mm -> px)."""
    inside = _inside_ink(rectified, box, px_per_mm)
    if inside is None:
        return MarkReading("empty", 0.0, 0.0, (Flag.OUTSIDE_PAGE,))
    ink = inside.ink
    mark = _classify(float(ink.mean()), _extent(ink), _openness(ink), inside.offset_mm)
    if mark.state == "empty" and inside.faint:
        # Something tick-sized is there, too faint to call: a person looks.
        return MarkReading(
            "empty", min(mark.confidence, 0.6), mark.ink_fraction, (Flag.FAINT,), mark.offset_mm
        )
    return mark


def read_group(
    rectified: np.ndarray, fields: Sequence[Field], px_per_mm: float
) -> dict[str, MarkReading]:
    """Read every checkbox of `fields`; two ticked answers in one group are a contradiction.

    A contradiction flags every ticked box of the group and caps its confidence at 0.5, so
    the group goes to review as a whole.
    """
    readings = {f.field_id: read_checkbox(rectified, f.box, px_per_mm) for f in fields}
    for f in (f for f in fields if any(readings[f.field_id].offset_mm)):  # the paper bent
        logger.debug(
            "field %s: box re-registered by %+.2f, %+.2f mm",
            f.field_id,
            *readings[f.field_id].offset_mm,
        )
    groups: dict[str, list[str]] = {}
    for f in fields:
        if f.group and readings[f.field_id].state == "ticked":
            groups.setdefault(f.group, []).append(f.field_id)
    for members in groups.values():
        if len(members) < 2:
            continue
        logger.info("fields %s: ticked in one group, a contradiction", ", ".join(members))
        for field_id in members:
            mark = readings[field_id]
            readings[field_id] = MarkReading(
                mark.state,
                min(mark.confidence, 0.5),
                mark.ink_fraction,
                (*mark.flags, Flag.CONTRADICTION),
                mark.offset_mm,
            )
    return readings


def ink_present(
    rectified: np.ndarray, box: Box, px_per_mm: float, label: Box | None = None
) -> MarkReading:
    """Initials or signature box: "ink" or "empty".

    The top band of a tall box and the area of its printed label (`label`, from
    `papermode.core.labels.label_area`; dark grey, so it survives a photocopy) are left
    out; the paper level is local, so a shadow across a wide box is no ink.
    """
    inside = _inside_ink(rectified, box, px_per_mm, search=False, label_band=True, label=label)
    if inside is None:
        return MarkReading("empty", 0.0, 0.0, (Flag.OUTSIDE_PAGE,))
    ink, offset = inside.ink, inside.offset_mm
    area_mm2 = float(ink.sum()) / px_per_mm**2
    extent_mm = _extent(ink) * max(ink.shape) / px_per_mm if ink.any() else 0.0
    fraction = float(ink.mean())
    score = min(area_mm2 / INK_MIN_MM2, extent_mm / INK_MIN_EXTENT_MM)
    state: MarkState = "ink" if score >= 1.0 else "empty"
    confidence = _ramp(abs(np.log2(max(score, 1e-3))), 1.0)
    if state == "ink" and min(area_mm2 / INK_SURE_MM2, extent_mm / INK_SURE_EXTENT_MM) < 1.0:
        confidence = min(confidence, INK_UNSURE_CAP)  # a stroke, maybe not initials
    if state == "empty" and inside.faint:
        return MarkReading(state, min(confidence, 0.6), fraction, (Flag.FAINT,), offset)
    return MarkReading(state, confidence, fraction, (), offset)


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class _Inside:
    ink: np.ndarray  # pen strokes inside the box (boolean mask)
    faint: bool  # a stroke-sized trace too faint to call ink, but not nothing either
    offset_mm: tuple[float, float]


def _inside_ink(
    rectified: np.ndarray,
    box: Box,
    ppm: float,
    search: bool = True,
    label_band: bool = False,
    label: Box | None = None,
) -> _Inside | None:
    """The pen ink inside the box after local re-registration (None: box off the page).

    `label_band` leaves out the top LABEL_BAND_MM of a tall box, where a small printed
    label ("Initials") sits in the drop-out colour.
    """
    gray = rectified if rectified.ndim == 2 else cv2.cvtColor(rectified, cv2.COLOR_BGR2GRAY)
    margin = SEARCH_MM if search else 0.0
    region, origin = _region(gray, box.inset(-margin - 0.5), ppm)
    if region is None:
        return None
    dark = _darkness(region, ppm, local=label_band)
    if label is not None:  # the printed label is not ink
        lx0, ly0 = int(label.x * ppm) - origin[0], int(label.y * ppm) - origin[1]
        lx1 = int(np.ceil((label.x + label.w) * ppm)) - origin[0]
        ly1 = int(np.ceil((label.y + label.h) * ppm)) - origin[1]
        dark = dark.copy()
        dark[max(ly0, 0) : max(ly1, 0), max(lx0, 0) : max(lx1, 0)] = 0
    dx, dy = _register(dark, box, ppm, origin) if search else (0, 0)
    inset = max(INSET_MIN_MM, INSET_FRACTION * min(box.w, box.h))
    inner = box.inset(inset)
    top_cut = LABEL_BAND_MM - inset if label_band and box.h >= LABEL_MIN_HEIGHT_MM else 0.0
    x0 = int(round((inner.x * ppm) - origin[0])) + dx
    y0 = int(round((inner.y * ppm) - origin[1])) + dy
    x1, y1 = x0 + int(round(inner.w * ppm)), y0 + int(round(inner.h * ppm))
    y0 += int(round(max(top_cut, 0.0) * ppm))
    inside = dark[max(y0, 0) : y1, max(x0, 0) : x1]
    if inside.size == 0:
        return None
    ink, faint = _strokes(inside, ppm)
    return _Inside(ink, faint, (dx / ppm, dy / ppm))


def _strokes(dark: np.ndarray, ppm: float) -> tuple[np.ndarray, bool]:
    """Ink strokes, and whether a faint stroke-sized trace is there besides.

    Hysteresis: lightly smoothed darkness above INK_WEAK, in strokes that reach INK_CONTRAST
    somewhere (a faint pencil tick in a bright photo is only 10-15% darker than the paper).
    Each stroke is then cut to its core, at least half as dark as the mark itself, so blur
    and JPEG halos do not widen it; specks and a neighbour's overshoot are dropped.
    """
    smooth = cv2.GaussianBlur(dark, (3, 3), 0.7)
    if float(smooth.max()) < INK_WEAK:  # blank paper: most boxes on a page
        return np.zeros(dark.shape, dtype=bool), False
    weak = (smooth >= INK_WEAK).astype(np.uint8)
    count, labels, _, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    strongest = np.zeros(count, dtype=np.float32)
    np.maximum.at(strongest, np.asarray(labels, dtype=np.intp).ravel(), smooth.ravel())
    keep = strongest >= INK_CONTRAST
    keep[0] = False
    ink = keep[labels]
    if ink.any():
        ink &= smooth >= 0.5 * _quantile(smooth[ink], 0.9)
    ink = _drop_edge_pokes(_drop_specks(ink, ppm))
    trace = _drop_edge_pokes(_drop_specks(weak.astype(bool) & ~keep[labels], ppm))
    return ink, _extent(trace) >= TICK_EXTENT


def _region(gray: np.ndarray, box: Box, ppm: float) -> tuple[np.ndarray | None, tuple[int, int]]:
    left, top = int(np.floor(box.x * ppm)), int(np.floor(box.y * ppm))
    right, bottom = int(np.ceil((box.x + box.w) * ppm)), int(np.ceil((box.y + box.h) * ppm))
    height, width = gray.shape[:2]
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, width), min(bottom, height)
    if right - left < 3 or bottom - top < 3:
        return None, (0, 0)
    return gray[top:bottom, left:right], (left, top)


def _darkness(region: np.ndarray, ppm: float, local: bool) -> np.ndarray:
    """How much darker than the paper each pixel is (0..1), adaptive to the light.

    A tick box is small: one paper level (a high percentile of the box and its surround)
    serves, and a scribbled-over box stays dark. A wide signature box may lie across a
    shadow's edge: there the paper is the local maximum over 2 mm, which pen strokes
    (narrower than that) do not reach.
    """
    pixels = region.astype(np.float32)
    if local:
        size = max(3, int(round(PAPER_WINDOW_MM * ppm)) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        paper = cv2.blur(cv2.dilate(pixels, kernel), (size, size))
    else:
        paper = np.full_like(pixels, _quantile(pixels, 0.9))
    return np.clip((paper - pixels) / np.maximum(paper, 1.0), 0.0, 1.0)


def _register(dark: np.ndarray, box: Box, ppm: float, origin: tuple[int, int]) -> tuple[int, int]:
    """Shift (px) that puts the expected box outline on the printed one (projection profiles).

    A printed side is a line across the whole box, so the profile is a low percentile (25th)
    of the darkness along each row (column) over the middle of the box: a side scores its
    full darkness, a pen stroke or a black label letter near the box (covering part of the
    row) scores nothing. The two sides must make two peaks `box.w` apart. No clear border: no shift.
    """
    x_mid = _middle(box.x * ppm - origin[0], box.w * ppm, dark.shape[1])
    y_mid = _middle(box.y * ppm - origin[1], box.h * ppm, dark.shape[0])
    rows = _quantile_along(dark[:, x_mid], 0.25, axis=1)
    cols = _quantile_along(dark[y_mid, :], 0.25, axis=0)
    reach = int(SEARCH_MM * ppm)
    dx = _best_shift(cols, box.x * ppm - origin[0], box.w * ppm, reach)
    dy = _best_shift(rows, box.y * ppm - origin[1], box.h * ppm, reach)
    return dx, dy


def _quantile(values: np.ndarray, q: float) -> float:
    """The q-quantile (nearest rank) by partition: np.percentile is slow on small arrays."""
    flat = values.ravel()
    k = min(int(q * (flat.size - 1) + 0.5), flat.size - 1)
    return float(np.partition(flat, k)[k])


def _quantile_along(values: np.ndarray, q: float, axis: int) -> np.ndarray:
    size = values.shape[axis]
    k = min(int(q * (size - 1) + 0.5), size - 1)
    return np.take(np.partition(values, k, axis=axis), k, axis=axis)


def _middle(start: float, length: float, size: int) -> slice:
    """The middle 70% of a side: a printed side covers all of it, a pen stroke or a label
    letter only part, so a low percentile along it keeps the side and drops the rest."""
    low = int(np.clip(start + 0.15 * length, 0, size - 1))
    high = int(np.clip(start + 0.85 * length, low + 1, size))
    return slice(low, high)


def _best_shift(profile: np.ndarray, start: float, length: float, reach: int) -> int:
    """The shift (px) of the box's two printed sides along one axis; 0 when unclear.

    A printed side is a thin line with paper just outside the box: each side scores how
    much darker it is than the profile 3 px further out (a scribble or a letter next to
    the box is dark there too), and the pair scores its weaker side (a black label or the
    pen inside makes one strong peak, never a pair at the box's width).
    """
    size, pad = len(profile), reach + 4
    line = np.zeros(size + 2 * pad, dtype=np.float32)
    line[pad : pad + size] = profile
    peaks = np.maximum(line[1:-1], 0.5 * (line[:-2] + line[2:]))
    peaks = np.concatenate(([0.0], peaks, [0.0]))
    shifts = _SHIFTS[reach] if reach in _SHIFTS else np.arange(-reach, reach + 1)
    a = (np.round(start + shifts).astype(int) + pad).clip(3, len(line) - 1)
    b = (np.round(start + length + shifts).astype(int) + pad).clip(0, len(line) - 4)
    side_a = peaks[a] - line[a - 3]
    side_b = peaks[b] - line[b + 3]
    pair = np.minimum(side_a, side_b)
    alike = pair >= 0.5 * np.maximum(side_a, side_b)  # both sides are the same printed line
    penalty = 0.01 * np.abs(shifts) / max(reach, 1)  # far shifts must win clearly
    scores = np.where(alike, pair - penalty, -1.0)
    best = int(np.argmax(scores))
    # Trust only a visible border that clearly beats the expected position.
    if scores[best] < BORDER_MIN_DARKNESS or scores[best] <= scores[reach] + 0.02:
        return 0
    return best - reach


_SHIFTS = {reach: np.arange(-reach, reach + 1) for reach in range(1, 40)}


def _drop_edge_pokes(ink: np.ndarray) -> np.ndarray:
    """Remove strokes that touch an edge but reach less than EDGE_POKE_DEPTH inside."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if count <= 1:
        return ink
    height, width = ink.shape
    keep = np.zeros(count, dtype=bool)
    for label in range(1, count):
        x, y, w, h = stats[label, :4]
        depths = []
        if x == 0:
            depths.append((x + w) / width)
        if x + w >= width:
            depths.append((width - x) / width)
        if y == 0:
            depths.append((y + h) / height)
        if y + h >= height:
            depths.append((height - y) / height)
        keep[label] = not depths or max(depths) >= EDGE_POKE_DEPTH
    return keep[labels]


def _drop_specks(ink: np.ndarray, ppm: float) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= max(2, int(0.05 * ppm * ppm))
    keep[0] = False
    return keep[labels]


def _openness(ink: np.ndarray) -> float:
    """Share of the inside far from any ink: large for ticks and crosses, ~0 when scribbled."""
    if not ink.any():
        return 1.0
    distance = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 3)
    return float((distance > OPEN_DISTANCE * min(ink.shape)).mean())


def _extent(ink: np.ndarray) -> float:
    """Span of the ink (largest of width, height of its bounding box) over the inside's size."""
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        return 0.0
    span = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    return float(span) / max(ink.shape)


# --------------------------------------------------------------------------- deciding


def _classify(
    fraction: float, extent: float, openness: float, offset_px: tuple[float, float]
) -> MarkReading:
    """Decide the state; confidence falls to 0.5 at each decision boundary.

    Filled means little paper is left far from ink (`openness`), whatever the pen width: a
    bold cross in a small box covers half of it yet leaves four open triangles.
    """
    if fraction >= FILLED_MIN_FRACTION and openness <= FILLED_OPENNESS:
        confidence = min(
            _ramp(FILLED_OPENNESS - openness, FILLED_OPENNESS / 2),
            _ramp(fraction - FILLED_MIN_FRACTION, 0.15),
        )
        return MarkReading("filled", confidence, fraction, (Flag.CORRECTION,), offset_px)
    if extent >= TICK_EXTENT and fraction >= TICK_MIN_FRACTION:
        filled_margin = max(
            _ramp(openness - FILLED_OPENNESS, FILLED_MARGIN),
            _ramp(FILLED_MIN_FRACTION - fraction, 0.15),
        )
        confidence = min(
            _ramp(extent - TICK_EXTENT, 0.12),
            _ramp(fraction - TICK_MIN_FRACTION, 0.02),
            filled_margin,
        )
        return MarkReading("ticked", confidence, fraction, (), offset_px)
    confidence = max(_ramp(TICK_EXTENT - extent, 0.15), _ramp(TICK_MIN_FRACTION - fraction, 0.01))
    return MarkReading("empty", confidence, fraction, (), offset_px)


def _ramp(distance: float, scale: float) -> float:
    """0.5 at a boundary, rising to 1 at `scale` beyond it (linear, clipped)."""
    return float(np.clip(0.5 + 0.5 * distance / scale, 0.0, 1.0))
