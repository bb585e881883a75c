"""Find the handwriting in each comb cell and shape it the way MNIST digits are shaped.

Works on a page already rectified to layout millimetres (grayscale, `px_per_mm`). Per field:
re-register the comb locally (the paper bends, the homography is never exact) by finding
its printed lines near where the layout says they are, subtract those lines, then per cell
keep the ink components that are not specks or border residue, and normalise them to a
28 x 28 image: the ink scaled into a 20 x 20 box, centred by its centre of mass.

The training script runs this same code on synthetic cells, so the classifier learns
exactly what the reader will show it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from papermode.core.model import Box, Field

MARGIN_MM = 1.6  # around the comb: how far the printed comb may sit from its layout place
SEARCH_MM = 1.2  # the largest local shift of a comb we look for
LINE_BAND_MM = 0.55  # half-width of the band around a printed line where it is subtracted
MIN_COMPONENT_MM2 = 0.2  # smaller ink blobs are specks (dust, noise, JPEG)
MIN_INK_MM2 = 0.9  # less ink than this in a cell: the cell is empty
MIN_DARKNESS = 35.0  # gray levels below the paper that can be ink at all
ABOVE_BAND_MM = 1.5  # how far above the comb ink is looked for (forms leave >= 2.5 mm free)
# The top of a tall digit crossing the comb's top line: narrow and small above the line.
POKE_MAX_SPAN = 0.45  # of the cell's width
POKE_MAX_MM2 = 0.8
WRITTEN_ABOVE_MM2 = 0.1  # a stroke's foot this big at the band's top: written above the comb
LOW_DARKNESS = 25.0  # a pixel this dark is ink if it touches ink darker than the threshold
FLANK_SHARE = 0.5  # beside a printed line, lighter than this share of it: the line's own rim


@dataclass(frozen=True)
class CellInk:
    """What a cell holds before classification. `image` is 28 x 28 float32 0..1, or None."""

    ink_mm2: float
    image: np.ndarray | None
    width_mm: float = 0.0
    height_mm: float = 0.0
    components: int = 0
    darkness: float = 0.0  # the pen's darkness below the paper (gray levels)
    above_mm2: float = 0.0  # ink just above the comb over this cell: a correction written there?
    written_above: bool = False  # a stroke above the cell that goes on above the band


def field_cells(rectified: np.ndarray, field: Field, px_per_mm: float = 8.0) -> list[CellInk]:
    """The ink of every cell of a digits `field`, left to right."""
    crop, origin = _crop(rectified, field.box, px_per_mm)
    if crop.size == 0:
        return [CellInk(0.0, None) for _ in range(field.cells)]
    clean, origin, shift = clean_comb(crop, origin, field, px_per_mm)
    pen = float(np.percentile(clean[::2], 99.7))
    threshold = max(MIN_DARKNESS, 0.35 * pen)
    cells = []
    for cell in field.cell_boxes():
        x0 = (cell.x - origin[0]) * px_per_mm + shift[0]
        y0 = (cell.y - origin[1]) * px_per_mm + shift[1]
        region = _window(clean, x0, y0, cell.w * px_per_mm, cell.h * px_per_mm, 0.2 * px_per_mm)
        # a band just above the printed top line, short of whatever is printed above the comb
        above_mm2, written_above = _ink_above(clean, x0, y0, cell, threshold, px_per_mm)
        ink = cell_ink(region, threshold, px_per_mm)
        cells.append(replace(ink, above_mm2=above_mm2, written_above=written_above))
    return cells


def clean_comb(
    crop: np.ndarray, origin: tuple[float, float], field: Field, px_per_mm: float
) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
    """The darkness of a comb's crop with its printed lines and dots taken out.

    Returns the clean darkness, the crop's origin (mm) and the comb's local shift (px).
    Printed lines are subtracted, then pen strokes that cross a line are joined again
    across it: a printed line darker than the pen (the dark-grey borders that survive a
    1-bit scan) would otherwise cut every stroke crossing it.
    """
    darkness = _darkness(crop)
    lines = _line_maps(darkness, field, px_per_mm)
    shift = _register(lines, field, origin, px_per_mm)
    line_map = np.maximum(*lines)
    clean = _subtract_lines(darkness, line_map, field, origin, shift, px_per_mm)
    _drop_line_flanks(clean, darkness, lines)
    _bridge_crossings(clean, darkness, line_map, field, origin, shift, px_per_mm)
    _blank_dots(clean, darkness, line_map, field, origin, shift, px_per_mm)
    return clean, origin, shift


def _drop_line_flanks(
    clean: np.ndarray, darkness: np.ndarray, lines: tuple[np.ndarray, np.ndarray]
) -> None:
    """Take out the rim a printed line leaves beside itself after subtraction.

    A line seldom lies on exactly one pixel row (the page is rectified from a photo, the
    line is blurred), so its sloped flanks fall outside the long structure found; a dark
    line's flanks are dark enough to pass for ink. A pixel one pixel off a line and less
    than FLANK_SHARE as dark as that line is its flank; a pen stroke beside the line is
    darker than that and stays.
    """
    flanks = np.maximum(
        cv2.dilate(lines[0], np.ones((3, 1), np.uint8)),
        cv2.dilate(lines[1], np.ones((1, 3), np.uint8)),
    )
    clean[darkness < FLANK_SHARE * flanks] = 0.0


def _bridge_crossings(
    clean: np.ndarray,
    darkness: np.ndarray,
    lines: np.ndarray,
    field: Field,
    origin: tuple[float, float],
    shift: tuple[int, int],
    px: float,
) -> None:
    """Join pen strokes across the printed lines where subtracting the line cut them.

    On the core of each printed line only, a closing across the line (a horizontal element
    for the dividers and sides, a vertical one for the top and bottom lines) of the clear
    ink (darker than MIN_DARKNESS: faint residue of the line never bridges) fills the gap
    the line left, where ink lies on both sides of it. A stroke that ends at the line stays
    as it was, and the fill never exceeds the image's own darkness there.
    """
    strong = np.where(clean >= MIN_DARKNESS, clean, 0.0).astype(np.float32)
    if not strong.any():
        return
    reach = max(3, int(2 * LINE_BAND_MM * px) + 1)
    core = lines > LOW_DARKNESS
    box = field.box
    vertical = np.zeros(clean.shape, bool)
    for i in range(field.cells + 1):
        x = int(round((box.x + box.w * i / field.cells - origin[0]) * px)) + shift[0]
        vertical[:, max(x - reach // 2, 0) : x + reach // 2 + 1] = True
    for mask, element in (
        (vertical, np.ones((1, reach), np.uint8)),
        (~vertical, np.ones((reach, 1), np.uint8)),
    ):
        closed = cv2.morphologyEx(strong, cv2.MORPH_CLOSE, element)
        fill = core & mask & (closed > clean)
        clean[fill] = np.minimum(closed[fill], darkness[fill])


def _ink_above(
    clean: np.ndarray, x0: float, y0: float, cell: Box, threshold: float, px_per_mm: float
) -> tuple[float, bool]:
    """Ink (mm²) in a band just above a cell that is not the top of the digit written in it,
    and whether some of it goes on above the band (written up there).

    A tall digit often pokes above the comb's top line: a narrow, small stroke joined to the
    ink inside the cell is the digit's own. Anything else above the line (a stroke standing
    apart, or a wide one: a correction squeezed in there) counts. The printed top line was
    subtracted, so strokes are joined across its band before deciding what belongs to what.
    A stroke that reaches the band's top edge is the foot of something written above the
    comb: a corrected digit squeezed in over a struck-out one shows only its stem here
    (0.2 mm², under the area threshold), so it is reported on its own.
    """
    top = max(int(y0 - ABOVE_BAND_MM * px_per_mm), 0)
    band = max(int(y0 - LINE_BAND_MM * px_per_mm), 0) - top
    bottom = int(y0 + cell.h * px_per_mm)
    left, right = max(int(x0), 0), int(x0 + cell.w * px_per_mm)
    ink = (clean[top:bottom, left:right] > threshold).astype(np.uint8)
    if ink.size == 0 or band <= 0 or not ink[:band].any():
        return 0.0, False
    bridge = max(3, int(2 * LINE_BAND_MM * px_per_mm) + 1)
    joined = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((bridge, 1), np.uint8))
    _, labels = cv2.connectedComponents(joined, connectivity=8)
    labels = labels * (ink > 0)
    inside = set(np.unique(labels[band + bridge :])) - {0}
    outside = 0
    written_above = False
    for label in set(np.unique(labels[:band])) - {0}:
        part = labels[:band] == label
        columns = np.flatnonzero(part.any(axis=0))
        span = (columns[-1] - columns[0] + 1) / max(ink.shape[1], 1)
        rows = np.flatnonzero(part.any(axis=1))
        reaches_top = rows[0] < 0.3 * band  # it goes on above the band: written up there
        small = part.sum() < POKE_MAX_MM2 * px_per_mm**2
        poke = label in inside and span < POKE_MAX_SPAN and small and not reaches_top
        if not poke:
            outside += int(part.sum())
            written_above |= reaches_top and part.sum() >= WRITTEN_ABOVE_MM2 * px_per_mm**2
    return float(outside) / px_per_mm**2, written_above


def comb_dots(field: Field) -> list[tuple[float, float, float]]:
    """The printed dots of a comb, as the PDF draws them: (x, y, half size) in mm.

    A decimal point at the foot of the divider before the decimals, and the colon of a
    4-cell time. Printed in the drop-out colour; the reader blanks them out.
    """
    box, cells = field.box, field.cells
    if cells <= 1:
        return []
    half = min(0.45, box.w / cells / 8)
    dots = []
    if 0 < field.decimals < cells:
        dots.append((box.x + (cells - field.decimals) * box.w / cells, box.y + box.h - half, half))
    if field.role == "time" and cells == 4:
        dots += [(box.x + box.w / 2, box.y + box.h * k / 3, half) for k in (1, 2)]
    return dots


def _blank_dots(
    clean: np.ndarray,
    darkness: np.ndarray,
    lines: np.ndarray,
    field: Field,
    origin: tuple[float, float],
    shift: tuple[int, int],
    px: float,
) -> None:
    """Take out the printed dots (wider than the line, so line removal leaves a rim).

    Only the printed colour's darkness is removed there: a pen stroke crossing a dot is
    darker than the drop-out colour and keeps what is left.
    """
    dots = comb_dots(field)
    if not dots:
        return
    printed = lines[lines > LOW_DARKNESS]
    level = 1.2 * float(np.percentile(printed, 90)) if printed.size else 0.0
    for x_mm, y_mm, half in dots:
        x = (x_mm - origin[0]) * px + shift[0]
        y = (y_mm - origin[1]) * px + shift[1]
        reach = (half + 0.2) * px
        rows = slice(max(int(y - reach), 0), max(int(np.ceil(y + reach)), 0))
        cols = slice(max(int(x - reach), 0), max(int(np.ceil(x + reach)), 0))
        clean[rows, cols] = np.clip(darkness[rows, cols] - level, 0.0, None)


def _crop(image: np.ndarray, box: Box, px_per_mm: float) -> tuple[np.ndarray, tuple[float, float]]:
    """The comb plus a margin, clipped to the page; origin is its top-left corner in mm."""
    x0 = max(int((box.x - MARGIN_MM) * px_per_mm), 0)
    y0 = max(int((box.y - MARGIN_MM) * px_per_mm), 0)
    x1 = min(int(np.ceil((box.x + box.w + MARGIN_MM) * px_per_mm)), image.shape[1])
    y1 = min(int(np.ceil((box.y + box.h + MARGIN_MM) * px_per_mm)), image.shape[0])
    return image[y0:y1, x0:x1], (x0 / px_per_mm, y0 / px_per_mm)


def _darkness(crop: np.ndarray) -> np.ndarray:
    """How much darker than the local paper each pixel is (float32, >= 0)."""
    gray: np.ndarray = crop.astype(np.float32)
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    if gray.size == 0:
        return gray
    # most of a comb is paper, even a filled one; every other pixel is plenty to see it
    paper = float(np.percentile(gray[::2, ::2], 80))
    return np.clip(paper - gray, 0.0, None)


def _line_maps(
    darkness: np.ndarray, field: Field, px_per_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Long horizontal and long vertical structures: the printed comb, not the digits."""
    cell_w = field.box.w / max(field.cells, 1) * px_per_mm
    cell_h = field.box.h * px_per_mm
    # A line longer than one cell and a half is the comb's; a one-cell comb (the MAR's reason
    # box) has lines only its own width long, so the element never exceeds 90 % of the box.
    length = min(1.5 * cell_w, 0.9 * field.box.w * px_per_mm)
    horizontal = cv2.getStructuringElement(cv2.MORPH_RECT, (max(int(length), 3), 1))
    vertical = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(int(0.85 * cell_h), 3)))
    return cv2.morphologyEx(darkness, cv2.MORPH_OPEN, horizontal), cv2.morphologyEx(
        darkness, cv2.MORPH_OPEN, vertical
    )


def _register(
    lines: tuple[np.ndarray, np.ndarray],
    field: Field,
    origin: tuple[float, float],
    px_per_mm: float,
) -> tuple[int, int]:
    """The (dx, dy) pixel shift that puts the layout's comb lines on the printed ones."""
    lines_h, lines_v = lines
    rows = _soft_profile(lines_h.sum(axis=1))
    cols = _soft_profile(lines_v.sum(axis=0))
    box, search = field.box, int(SEARCH_MM * px_per_mm)
    ys = [(box.y - origin[1]) * px_per_mm, (box.y + box.h - origin[1]) * px_per_mm]
    xs = [(box.x + box.w * i / field.cells - origin[0]) * px_per_mm for i in range(field.cells + 1)]
    return _best_shift(cols, xs, search), _best_shift(rows, ys, search)


def _soft_profile(profile: np.ndarray) -> np.ndarray:
    """A profile where each position also sees its neighbours (lines are 2-3 px wide)."""
    return np.maximum.reduce([np.roll(profile, k) for k in (-1, 0, 1)])


def _best_shift(profile: np.ndarray, positions: list[float], search: int) -> int:
    """The shift in [-search, search] under which the expected lines collect most darkness."""
    best, best_score = 0, 0.0
    for shift in range(-search, search + 1):
        indices = [int(round(p)) + shift for p in positions]
        score = sum(float(profile[i]) for i in indices if 0 <= i < profile.size)
        # prefer the layout's own place unless another shift is clearly better
        if score > best_score * 1.05 + 1e-6 or (
            abs(score - best_score) < 1e-6 and abs(shift) < abs(best)
        ):
            best, best_score = shift, score
    return best


def _subtract_lines(
    darkness: np.ndarray,
    lines: np.ndarray,
    field: Field,
    origin: tuple[float, float],
    shift: tuple[int, int],
    px_per_mm: float,
) -> np.ndarray:
    """Darkness with the printed comb lines taken out, near where the lines are."""
    band = int(np.ceil(LINE_BAND_MM * px_per_mm))
    near = np.zeros(darkness.shape, bool)
    box = field.box
    for y_mm in (box.y, box.y + box.h):
        y = int(round((y_mm - origin[1]) * px_per_mm)) + shift[1]
        near[max(y - band, 0) : y + band + 1, :] = True
    for i in range(field.cells + 1):
        x = int(round((box.x + box.w * i / field.cells - origin[0]) * px_per_mm)) + shift[0]
        near[:, max(x - band, 0) : x + band + 1] = True
    return np.where(near, np.clip(darkness - lines, 0.0, None), darkness)


def _window(image: np.ndarray, x: float, y: float, w: float, h: float, inset: float) -> np.ndarray:
    """The part of `image` inside a cell, `inset` pixels in from its printed border."""
    x0, y0 = max(int(round(x + inset)), 0), max(int(round(y + inset)), 0)
    x1 = min(int(round(x + w - inset)), image.shape[1])
    y1 = min(int(round(y + h - inset)), image.shape[0])
    return image[y0 : max(y1, y0), x0 : max(x1, x0)]


def cell_ink(darkness: np.ndarray, threshold: float, px_per_mm: float) -> CellInk:
    """Keep a cell's real ink (no specks, no border residue) and normalise it for the classifier."""
    if darkness.size == 0:
        return CellInk(0.0, None)
    # hysteresis: a faint stroke counts when it is connected to clearly dark ink
    mask = (darkness > max(LOW_DARKNESS, 0.5 * threshold)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    seeded = np.bincount(labels[darkness > threshold], minlength=count) > 0
    keep = np.zeros(count, bool)
    for label in range(1, count):
        keep[label] = seeded[label] and _is_ink(stats[label], darkness.shape, px_per_mm)
    kept = keep[labels]
    area_mm2 = float(kept.sum()) / px_per_mm**2
    if area_mm2 < MIN_INK_MM2:
        return CellInk(area_mm2, None)
    rows, cols = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    # keep the anti-aliased rim of the kept strokes, as MNIST's gray edges
    rim = cv2.dilate(kept.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    glyph = np.where(rim, darkness, 0.0)[top:bottom, left:right]
    pen = float(np.percentile(darkness[kept], 90))
    return CellInk(
        ink_mm2=area_mm2,
        image=mnist_shape(glyph / max(pen, 1.0)),
        width_mm=(right - left) / px_per_mm,
        height_mm=(bottom - top) / px_per_mm,
        components=int(keep.sum()),
        darkness=pen,
    )


def _is_ink(stat: np.ndarray, shape: tuple[int, ...], px_per_mm: float) -> bool:
    """A component is ink unless it is a speck or a thin line hugging the cell's edge."""
    x, y, w, h, area = (int(v) for v in stat)
    if area < MIN_COMPONENT_MM2 * px_per_mm**2:
        return False
    thin = 0.45 * px_per_mm
    edge = 0.5 * px_per_mm
    height, width = shape[0], shape[1]
    hugs_side = w <= thin and (x <= edge or x + w >= width - edge) and h >= 0.4 * height
    hugs_top = h <= thin and (y <= edge or y + h >= height - edge) and w >= 0.4 * width
    return not (hugs_side or hugs_top)


def mnist_shape(glyph: np.ndarray) -> np.ndarray:
    """Scale ink (0..1, bright) into a 20 x 20 box, then centre its mass in 28 x 28."""
    glyph = np.clip(glyph, 0.0, 1.0).astype(np.float32)
    height, width = glyph.shape
    scale = 20.0 / max(height, width)
    new_w, new_h = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(glyph, (new_w, new_h), interpolation=interpolation)
    canvas = np.zeros((28, 28), np.float32)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = small
    total = float(canvas.sum())
    if total <= 0:
        return canvas
    ys, xs = np.mgrid[0:28, 0:28]
    dy = int(round(13.5 - float((ys * canvas).sum()) / total))
    dx = int(round(13.5 - float((xs * canvas).sum()) / total))
    shift = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    moved: np.ndarray = cv2.warpAffine(
        canvas, shift, (28, 28), flags=cv2.INTER_NEAREST, borderValue=0.0
    )
    return moved
