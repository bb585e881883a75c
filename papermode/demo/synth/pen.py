"""Pen strokes drawn onto a page image: ticks, crosses, scribbles, digits, initials.

Everything is placed in millimetres (the layout's coordinates) and drawn at the page
image's resolution (`px_per_mm`). Strokes are Bezier curves with jittered control points,
drawn anti-aliased (4x supersampled) with a width that varies along the stroke like pen
pressure, and blended multiplicatively like ink on paper. Drawing functions change the
image in place; callers copy the blank page first.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from math import comb

import cv2
import numpy as np

from papermode.core.model import Box
from papermode.demo.synth import handwriting

SUPERSAMPLE = 4


@dataclass(frozen=True)
class Pen:
    """A writing instrument: ink colour (RGB), nominal line width and ink density."""

    name: str
    rgb: tuple[int, int, int]
    width_mm: float
    density: float  # 0..1: how much light the ink absorbs at full pressure
    grain: float = 0.0  # 0..1: pencil-like texture (gaps in the line)


PENS: dict[str, Pen] = {
    "ballpoint_blue": Pen("ballpoint_blue", (20, 40, 140), 0.45, 0.92, 0.08),
    "ballpoint_black": Pen("ballpoint_black", (25, 25, 30), 0.45, 0.92, 0.08),
    "felt_black": Pen("felt_black", (15, 15, 20), 0.8, 0.97),
    "felt_blue": Pen("felt_blue", (10, 50, 170), 0.75, 0.95),
    "pencil": Pen("pencil", (90, 90, 95), 0.5, 0.55, 0.45),
}
# Most nurses write with ballpoints; pencil is rare (and meant to be faint).
PEN_WEIGHTS = {
    "ballpoint_blue": 0.4,
    "ballpoint_black": 0.35,
    "felt_black": 0.1,
    "felt_blue": 0.1,
    "pencil": 0.05,
}


def random_pen(rng: np.random.Generator) -> Pen:
    """A pen drawn from the usual mix on a ward (mostly blue and black ballpoints)."""
    names = list(PEN_WEIGHTS)
    weights = np.array([PEN_WEIGHTS[name] for name in names])
    return PENS[names[int(rng.choice(len(names), p=weights / weights.sum()))]]


# --------------------------------------------------------------------------- strokes


def bezier(control_mm: np.ndarray, samples: int = 32) -> np.ndarray:
    """Points along the Bezier curve of any degree through `control_mm` (N x 2)."""
    control = np.asarray(control_mm, dtype=np.float64)
    degree = len(control) - 1
    t = np.linspace(0.0, 1.0, samples)[:, None]
    basis = [comb(degree, k) * t**k * (1 - t) ** (degree - k) for k in range(degree + 1)]
    return np.asarray(sum(b * control[k] for k, b in enumerate(basis)))


def jitter(points: np.ndarray, rng: np.random.Generator, sigma_mm: float) -> np.ndarray:
    """The control points moved a little: no two hand strokes are alike."""
    return np.asarray(points, dtype=np.float64) + rng.normal(0.0, sigma_mm, size=np.shape(points))


def _pressure_profile(samples: int, pressure: float, rng: np.random.Generator) -> np.ndarray:
    """Width factor along a stroke: thin at the ends, wobbling a little in between."""
    t = np.linspace(0.0, 1.0, samples)
    ends = 0.45 + 0.55 * np.sqrt(np.sin(np.pi * np.clip(t, 0.02, 0.98)))
    wobble = 1.0 + 0.12 * np.sin(2 * np.pi * (t * rng.uniform(0.5, 2.0) + rng.uniform()))
    return pressure * ends * wobble


def draw_stroke(
    image: np.ndarray,
    path_mm: np.ndarray,
    pen: Pen,
    px_per_mm: float,
    rng: np.random.Generator,
    *,
    pressure: float = 1.0,
) -> None:
    """Draw the polyline `path_mm` with `pen`, anti-aliased, width varying along it."""
    points = np.asarray(path_mm, dtype=np.float64) * px_per_mm
    widths = pen.width_mm * px_per_mm * _pressure_profile(len(points), pressure, rng)
    margin = int(np.ceil(widths.max())) + 2
    height, width = image.shape[:2]
    x0 = max(int(np.floor(points[:, 0].min())) - margin, 0)
    y0 = max(int(np.floor(points[:, 1].min())) - margin, 0)
    x1 = min(int(np.ceil(points[:, 0].max())) + margin, width)
    y1 = min(int(np.ceil(points[:, 1].max())) + margin, height)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros(((y1 - y0) * SUPERSAMPLE, (x1 - x0) * SUPERSAMPLE), np.uint8)
    local = np.round((points - (x0, y0)) * SUPERSAMPLE).astype(np.int32)
    for index in range(len(local) - 1):
        thickness = max(1, int(round(widths[index] * SUPERSAMPLE)))
        start, end = tuple(local[index].tolist()), tuple(local[index + 1].tolist())
        cv2.line(mask, start, end, 255, thickness, cv2.LINE_8)
    coverage = cv2.resize(mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    alpha = coverage.astype(np.float32) / 255.0 * pen.density * min(1.0, 0.35 + 0.65 * pressure)
    if pen.grain > 0:
        # Pencil graphite and dry ballpoints leave gaps: random texture inside the line.
        alpha *= 1.0 - pen.grain * rng.random(alpha.shape, dtype=np.float32)
    blend_ink(image, alpha, pen.rgb, x0, y0)


def blend_ink(
    image: np.ndarray, alpha: np.ndarray, rgb: tuple[int, int, int], x0: int, y0: int
) -> None:
    """Darken `image` under `alpha` (0..1) like ink: multiplicative, so overlaps get darker."""
    height, width = alpha.shape
    region = image[y0 : y0 + height, x0 : x0 + width]
    alpha = alpha[: region.shape[0], : region.shape[1]]
    ink = np.asarray(rgb, dtype=np.float32) / 255.0
    if region.ndim == 2:
        factor = 1.0 - alpha * (1.0 - float(ink.mean()))
        region[...] = np.clip(region * factor, 0, 255).astype(np.uint8)
        return
    factor = 1.0 - alpha[..., None] * (1.0 - ink)
    region[...] = np.clip(region * factor, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- tick marks

TICK_STYLES = ("check", "check", "check", "cross", "slash", "check")


def _in_box(box: Box, unit_points: list[tuple[float, float]]) -> np.ndarray:
    """Unit-square coordinates (0..1 across the box) to mm."""
    unit = np.asarray(unit_points, dtype=np.float64)
    return np.column_stack([box.x + unit[:, 0] * box.w, box.y + unit[:, 1] * box.h])


def check_mark_paths(
    box: Box, rng: np.random.Generator, *, reach: tuple[float, float] = (0.0, 0.0)
) -> list[np.ndarray]:
    """A check mark: a short down-stroke then a long up-stroke, as one pen movement.

    `reach` (in box widths/heights) stretches the end of the up-stroke beyond the box,
    for ticks that overshoot into the neighbouring box.
    """
    scale = rng.uniform(0.7, 1.0)
    cx, cy = rng.uniform(0.42, 0.58), rng.uniform(0.45, 0.6)
    start = (cx - 0.33 * scale, cy - 0.02)
    apex = (cx - 0.08 * scale, cy + 0.3 * scale)
    end = (cx + 0.35 * scale + reach[0], cy - 0.38 * scale - reach[1])
    down = jitter(_in_box(box, [start, (start[0] + 0.1, apex[1] - 0.05), apex]), rng, 0.12)
    up = jitter(_in_box(box, [apex, ((apex[0] + end[0]) / 2, apex[1] - 0.25), end]), rng, 0.12)
    up[0] = down[-1]
    return [np.vstack([bezier(down, 12), bezier(up, 20)[1:]])]


def cross_paths(box: Box, rng: np.random.Generator) -> list[np.ndarray]:
    """An X: two slightly bowed diagonals."""
    a, b = rng.uniform(0.12, 0.25, 2), rng.uniform(0.75, 0.9, 2)
    first = [(a[0], a[1]), (0.5 + rng.uniform(-0.1, 0.1), 0.5), (b[0], b[1])]
    second = [(b[0], a[1]), (0.5, 0.5 + rng.uniform(-0.1, 0.1)), (a[0], b[1])]
    return [bezier(jitter(_in_box(box, pts), rng, 0.1), 16) for pts in (first, second)]


def slash_paths(box: Box, rng: np.random.Generator) -> list[np.ndarray]:
    """A single diagonal stroke, bottom-left to top-right."""
    pts = [(rng.uniform(0.15, 0.3), rng.uniform(0.75, 0.9)), (0.5, 0.5), (0.8, 0.15)]
    return [bezier(jitter(_in_box(box, pts), rng, 0.1), 16)]


def scribble_paths(box: Box, rng: np.random.Generator) -> list[np.ndarray]:
    """A box scribbled over (a correction): dense zigzags covering the interior."""
    passes = int(rng.integers(7, 12))
    ys = np.linspace(0.08, 0.92, passes)
    zigzag = [(0.08 if k % 2 == 0 else 0.92, y) for k, y in enumerate(ys)]
    path = jitter(_in_box(box, zigzag), rng, 0.15)
    back = jitter(_in_box(box, [(x, 1.0 - y) for x, y in zigzag[::-1]]), rng, 0.15)
    return [_polyline(path), _polyline(back)]


def _polyline(corners: np.ndarray, per_segment: int = 6) -> np.ndarray:
    """Corner points joined by straight runs (enough samples for the pressure wobble)."""
    runs = [np.linspace(corners[i], corners[i + 1], per_segment) for i in range(len(corners) - 1)]
    return np.vstack(runs)


def dot_path(x_mm: float, y_mm: float, rng: np.random.Generator) -> np.ndarray:
    """A stray pen dot: a tiny stroke where the pen rested on the paper."""
    angle = rng.uniform(0, 2 * np.pi)
    length = rng.uniform(0.2, 0.6)
    end = (x_mm + length * np.cos(angle), y_mm + length * np.sin(angle))
    return np.linspace((x_mm, y_mm), end, 4)


def draw_tick(
    image: np.ndarray,
    box: Box,
    pen: Pen,
    px_per_mm: float,
    rng: np.random.Generator,
    *,
    style: str = "check",
    pressure: float = 1.0,
    reach: tuple[float, float] = (0.0, 0.0),
) -> None:
    """Draw a tick of `style` (check, cross, slash, faint, overshoot) in `box` (mm)."""
    if style in ("check", "faint", "overshoot"):
        paths = check_mark_paths(box, rng, reach=reach)
    elif style == "cross":
        paths = cross_paths(box, rng)
    elif style == "slash":
        paths = slash_paths(box, rng)
    else:
        raise ValueError(f"unknown tick style {style!r}")
    if style == "faint":
        pressure *= 0.3
    for path in paths:
        draw_stroke(image, path, pen, px_per_mm, rng, pressure=pressure)


def draw_scribble(
    image: np.ndarray, box: Box, pen: Pen, px_per_mm: float, rng: np.random.Generator
) -> None:
    """Scribble a box over (a nurse cancelling a tick)."""
    for path in scribble_paths(box, rng):
        draw_stroke(image, path, pen, px_per_mm, rng, pressure=rng.uniform(0.9, 1.2))


def draw_dot(
    image: np.ndarray, x: float, y: float, pen: Pen, px_per_mm: float, rng: np.random.Generator
) -> None:
    """A stray dot (not a tick): the reader must not count it."""
    draw_stroke(image, dot_path(x, y, rng), pen, px_per_mm, rng, pressure=1.3)


# --------------------------------------------------------------------------- glyphs

_FONTS = (cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN)


def _putText_glyph(text: str, rng: np.random.Generator, font: int | None = None) -> np.ndarray:
    """Dark-on-white text rendered with a Hershey font, slightly distorted (fallback glyphs)."""
    font = font if font is not None else int(rng.choice(_FONTS))
    scale, thickness = 2.0, int(rng.integers(3, 6))
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    canvas = np.full((h + base + 20, w + 20), 255, np.uint8)
    cv2.putText(canvas, text, (10, h + 10), font, scale, 0, thickness, cv2.LINE_AA)
    # Handwriting wobble: a small random affine distortion of the printed shape.
    matrix = np.array(
        [[1, rng.uniform(-0.15, 0.15), 0], [rng.uniform(-0.08, 0.08), 1, 0]], dtype=np.float32
    )
    return cv2.warpAffine(canvas, matrix, canvas.shape[::-1], borderValue=255)


def _handwriting() -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]] | None:
    """The real handwriting glyph source (held-out MNIST digits)."""
    return handwriting.digit_glyph, handwriting.initials_glyph


def digit_glyph(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A handwritten digit, dark ink on white (uint8): MNIST when available, else a font."""
    source = _handwriting()
    if source is not None:
        try:
            return _as_grey(source[0](digit, rng))
        except (OSError, ValueError, KeyError):
            pass  # missing data files: fall back rather than stop the corpus
    return _putText_glyph(str(digit), rng)


def initials_glyph(rng: np.random.Generator) -> np.ndarray:
    """Handwritten initials (two letters), dark ink on white."""
    source = _handwriting()
    if source is not None:
        try:
            return _as_grey(source[1](rng))
        except (OSError, ValueError, KeyError):
            pass
    letters = "".join(rng.choice(list(string.ascii_uppercase), 2))
    return _putText_glyph(letters, rng, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)


def words_glyph(rng: np.random.Generator, length: int = 8) -> np.ndarray:
    """A handwritten-looking word (free text in a text field)."""
    letters = "".join(rng.choice(list(string.ascii_lowercase), length))
    return _putText_glyph(letters.capitalize(), rng, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)


def _as_grey(glyph: np.ndarray) -> np.ndarray:
    glyph = np.asarray(glyph)
    if glyph.dtype != np.uint8:
        glyph = np.clip(glyph * (255.0 if glyph.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if glyph.ndim == 3:
        glyph = cv2.cvtColor(glyph, cv2.COLOR_RGB2GRAY)
    return glyph


def _ink_bbox(glyph: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(glyph < 160)
    if len(xs) == 0:
        return glyph
    return glyph[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def stamp_glyph(
    image: np.ndarray,
    glyph: np.ndarray,
    target: Box,
    pen: Pen,
    px_per_mm: float,
    rng: np.random.Generator,
    *,
    size: tuple[float, float] = (0.55, 0.85),
    slant: tuple[float, float] = (-0.25, 0.12),
    touch_border: bool = False,
) -> None:
    """Write `glyph` (dark on white) into `target` (mm) in `pen`'s ink.

    Varied size (fraction of the box height), slant (shear) and offset; with
    `touch_border` the glyph is pushed against one side of the box so it touches it.
    """
    ink = _ink_bbox(glyph)
    glyph_h, glyph_w = ink.shape
    scale = target.h * rng.uniform(*size) * px_per_mm / glyph_h
    scale = min(scale, target.w * 0.92 * px_per_mm / glyph_w)
    shear = rng.uniform(*slant)
    free_x = target.w * px_per_mm - glyph_w * scale
    free_y = target.h * px_per_mm - glyph_h * scale
    offset_x, offset_y = rng.uniform(0.25, 0.75) * free_x, rng.uniform(0.25, 0.75) * free_y
    if touch_border:
        side = int(rng.integers(4))
        offset_x = [-0.03 * glyph_w * scale, free_x + 0.03 * glyph_w * scale, offset_x, offset_x][
            side
        ]
        offset_y = [offset_y, offset_y, -0.04 * glyph_h * scale, free_y + 0.04 * glyph_h * scale][
            side
        ]
    margin = int(0.5 * max(target.w, target.h) * px_per_mm) + 2
    x0 = max(int(target.x * px_per_mm) - margin, 0)
    y0 = max(int(target.y * px_per_mm) - margin, 0)
    x1 = min(int((target.x + target.w) * px_per_mm) + margin, image.shape[1])
    y1 = min(int((target.y + target.h) * px_per_mm) + margin, image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    left = target.x * px_per_mm + offset_x - x0
    top = target.y * px_per_mm + offset_y - y0
    # x' = s*x + shear*s*(h/2 - y): positive shear leans the top of the glyph to the right.
    matrix = np.array(
        [[scale, -shear * scale, left + shear * scale * glyph_h / 2], [0, scale, top]],
        dtype=np.float32,
    )
    coverage = cv2.warpAffine(
        255 - ink, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderValue=0
    )
    alpha = coverage.astype(np.float32) / 255.0 * pen.density
    if pen.grain > 0:
        alpha *= 1.0 - pen.grain * rng.random(alpha.shape, dtype=np.float32)
    blend_ink(image, alpha, pen.rgb, x0, y0)


def draw_digits(
    image: np.ndarray,
    cells: tuple[Box, ...],
    text: str,
    pen: Pen,
    px_per_mm: float,
    rng: np.random.Generator,
    *,
    touch_rate: float = 0.05,
) -> None:
    """Write `text` into comb `cells`, one character per cell; a space leaves a cell blank."""
    for cell, char in zip(cells, text, strict=False):
        if char.isdigit():
            glyph = digit_glyph(int(char), rng)
            touch = bool(rng.random() < touch_rate)
            stamp_glyph(image, glyph, cell, pen, px_per_mm, rng, touch_border=touch)


def draw_crossed_digit(
    image: np.ndarray,
    cell: Box,
    wrong: str,
    right: str,
    pen: Pen,
    px_per_mm: float,
    rng: np.random.Generator,
) -> None:
    """A digit written, struck through, and the right digit squeezed in above it."""
    stamp_glyph(image, digit_glyph(int(wrong), rng), cell, pen, px_per_mm, rng)
    strike = _in_box(cell, [(-0.05, 0.7), (0.5, 0.45), (1.05, 0.25)])
    draw_stroke(image, bezier(jitter(strike, rng, 0.1), 12), pen, px_per_mm, rng, pressure=1.1)
    above = Box(cell.x + 0.15 * cell.w, cell.y - 0.45 * cell.h, cell.w * 0.8, cell.h * 0.7)
    stamp_glyph(image, digit_glyph(int(right), rng), above, pen, px_per_mm, rng)


def draw_initials(
    image: np.ndarray, box: Box, pen: Pen, px_per_mm: float, rng: np.random.Generator
) -> None:
    """Initials (or a short signature) in a signature box."""
    stamp_glyph(image, initials_glyph(rng), box, pen, px_per_mm, rng, size=(0.5, 0.85))


def draw_words(
    image: np.ndarray, box: Box, pen: Pen, px_per_mm: float, rng: np.random.Generator
) -> None:
    """A handwritten word or two in a free-text box."""
    length = int(np.clip(box.w / 4.0, 3, 12))
    glyph = words_glyph(rng, int(rng.integers(max(2, length // 2), length + 1)))
    stamp_glyph(image, glyph, box, pen, px_per_mm, rng, size=(0.45, 0.75), slant=(-0.2, 0.1))
