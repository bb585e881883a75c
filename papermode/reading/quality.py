"""The quality gate: is this photo good enough to read, and if not, what should the clerk do?

Pure functions on arrays. Measurements are made where they matter and in physical units:
blur is the width of the black/white edges of the corner markers in millimetres of paper,
light is the paper's brightness in tiles of the straightened page, glare is saturated paper
surrounded by dimmer paper. `retake_reason` turns a report into one specific message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import permutations

import cv2
import numpy as np

from papermode.core.model import Box
from papermode.core.pageframe import MARKER_IDS, MARKER_QUIET_MM, frame_for
from papermode.reading.locate import PageLocation

logger = logging.getLogger(__name__)

PATCH_PX_PER_MM = 10.0
PAGE_PX_PER_MM = 2.0
# Marker edges wider than this (along the softer axis): ticks and digits are smeared.
# Measured: sound synthetic phone photos 0.24-0.81 mm (40), the committed sample
# capture-0008.jpg (readable, every value right) 1.02 mm; 12 px motion blur on a 200 dpi
# form photo 1.16-1.65 mm, 8 px 0.77-1.11 mm.
MAX_BLUR_MM = 1.1
MIN_PX_PER_MM = 3.0  # below this the page is too small in the photo to read a digit
MIN_PAPER_LEVEL = 70.0  # the darkest part of the page (0-255)
MIN_CONTRAST = 45.0  # paper minus the markers' black
MAX_BLACK_LEVEL = 150.0  # markers' black this light: the photo is washed out
GLARE_LEVEL = 253
GLARE_MAX_FRACTION = 0.004  # of the page
GLARE_MIN_BLOB_MM2 = 30.0
GLARE_PAPER_BELOW = 250.0  # paper this white everywhere (a scan): no glare to tell apart
GLARE_WASHED = 0.25  # a glare blob's core holds under this share of the page's dark pixels
BLURRED = "the photo is too blurred: hold the phone still, closer, in better light"
DARK = "the photo is too dark: turn on the light or move to a window"
GLARE = "glare covers part of the page: tilt the phone to avoid reflections"
# A 1-bit scan drops every mark lighter than the scanner's threshold (pencil, a faint tick):
# an empty box whose printed (lighter) border was dropped too cannot be trusted. Such scans
# are read; this is the advice shown with the boxes sent to review.
BILEVEL = (
    "the scan is black-and-white only, so light pen and pencil marks may be lost: scan the "
    "page again in grayscale or colour"
)
MIN_GLOBAL_SHARPNESS = 0.125  # no page found: below this the photo is blurred, not free
# A shaking hand smears edges along one direction only, so the steepest edges overall stay
# steep: the sharpness along the worst of four directions tells motion blur. Measured on a
# 200 dpi form photo (1954 x 2639 px): sharp 0.71; 12-20 px motion blur 0.17-0.35.
MIN_DIRECTIONAL_SHARPNESS = 0.4
SMALL_COPY = (
    "the photo is too small to read the boxes although the page fills it: send the original "
    "photo, not a copy from a chat app (they shrink photos)"
)
TOO_SMALL = "the page is too small in the photo: move closer so the page fills the photo"
SMALL_COPY_MAX_SIDE = 1600  # px: WhatsApp and most chat apps send photos at most this long
FILLS_FRAME = 0.75  # the page spans this share of the photo's width or height
UNLOCATED = (
    "a papermode form is in the photo but its black corner squares cannot be read: "
    "photograph the whole page, flat and sharp, with all four corner squares visible"
)
# A papermode page without a readable marker or QR code still shows its structure: three or
# four solid dark squares (the corner markers, even blurred), each alone in white, at the
# corners of a rectangle as long as the page. Measured on 60 synthetic screen and note
# photos: none has that structure (again 0 of 60 with RING_MAX_INK 0.08, 2026-12-02);
# 12-20 px motion-blurred form photos all have it.
STRUCTURE_MAX_SIDE = 1200
MARKER_MIN_PX, MARKER_MAX_PX = 18, 120  # at STRUCTURE_MAX_SIDE
# The white ring around a marker may hold this share of dark pixels: a 20 px motion blur
# smears the signature legend's boxes, printed beside the bottom markers, into it.
RING_MAX_INK = 0.08
CORNER_WORDS = {
    "top_left": "top-left",
    "top_right": "top-right",
    "bottom_right": "bottom-right",
    "bottom_left": "bottom-left",
}


@dataclass(frozen=True)
class QualityReport:
    """Measurements of one photo of a page (None: could not be measured)."""

    blur_mm: float | None
    px_per_mm: float
    paper_level: float
    darkest_paper: float
    black_level: float | None
    glare_fraction: float
    missing_corners: tuple[str, ...] = ()
    cut_off_corners: tuple[str, ...] = ()
    has_homography: bool = True
    bilevel: bool = False  # only pure black and white pixels: a 1-bit scan
    page_span: float = 0.0  # how much of the photo's width or height the page spans (0..1)
    image_long_side: int = 0  # px

    def as_numbers(self) -> dict[str, float]:
        """The numeric measurements, for the store."""
        numbers = {
            "px_per_mm": self.px_per_mm,
            "paper_level": self.paper_level,
            "darkest_paper": self.darkest_paper,
            "glare_fraction": self.glare_fraction,
        }
        if self.blur_mm is not None:
            numbers["blur_mm"] = self.blur_mm
        if self.black_level is not None:
            numbers["black_level"] = self.black_level
        return {key: round(float(value), 4) for key, value in numbers.items()}


def measure_quality(image: np.ndarray, location: PageLocation) -> QualityReport:
    """Blur, light, glare and framing of the page `location` found in `image`."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    blur, black, white = _marker_measures(gray, location)
    page = _page_preview(gray, location)
    paper, darkest = _paper_levels(page) if page is not None else (white or 0.0, white or 0.0)
    glare = _glare_fraction(page, paper) if page is not None else 0.0
    return QualityReport(
        blur_mm=blur,
        px_per_mm=location.px_per_mm,
        paper_level=paper,
        darkest_paper=darkest,
        black_level=black,
        glare_fraction=glare,
        missing_corners=location.missing_corners,
        cut_off_corners=location.cut_off_corners,
        has_homography=location.homography is not None,
        bilevel=_is_bilevel(gray),
        page_span=_page_span(location),
        image_long_side=max(gray.shape[:2]),
    )


def retake_reason(image: np.ndarray, location: PageLocation | None) -> str | None:
    """Why this photo must be retaken, in words for the clerk, or None when it can be read.

    With no location (no marker and no QR found) only a photo that is far too dark or
    blurred gets a reason; anything else is a free photo, not a failed form.
    """
    if location is None:
        return _reason_without_page(image)
    return reason_for(measure_quality(image, location))


def reason_for(report: QualityReport) -> str | None:
    """The first problem of `report` as a message, most fundamental first."""
    logger.debug(
        "quality %s; limits: blur %s mm, glare %s",
        report.as_numbers(),
        MAX_BLUR_MM,
        GLARE_MAX_FRACTION,
    )
    blurred = report.blur_mm is not None and report.blur_mm > MAX_BLUR_MM
    if not report.has_homography and blurred:
        # With one or two markers found, where the others lie is a guess: blur first.
        return BLURRED
    if report.cut_off_corners:
        return _cut_off_message(report.cut_off_corners)
    if not report.has_homography:
        return (
            "the page's black corner squares cannot be found: photograph the whole page, "
            "flat, with all four corner squares visible"
        )
    # A 1-bit scan is read (form readers take 300 dpi 1-bit scans as standard input): what
    # it cannot prove (an empty box whose printed border the threshold removed) goes to
    # review, box by box (`papermode.reading.fields`), instead of refusing the page.
    if report.px_per_mm < MIN_PX_PER_MM:
        small_copy = report.image_long_side <= SMALL_COPY_MAX_SIDE
        return SMALL_COPY if small_copy and report.page_span >= FILLS_FRAME else TOO_SMALL
    if report.darkest_paper < MIN_PAPER_LEVEL or _contrast(report) < MIN_CONTRAST:
        if report.black_level is not None and report.black_level > MAX_BLACK_LEVEL:
            return "the photo is overexposed: move out of direct light and take it again"
        return DARK
    if report.blur_mm is not None and report.blur_mm > MAX_BLUR_MM:
        return BLURRED
    if report.glare_fraction > GLARE_MAX_FRACTION:
        return GLARE
    return None


def _contrast(report: QualityReport) -> float:
    if report.black_level is None:
        return 255.0
    return report.paper_level - report.black_level


def _cut_off_message(corners: tuple[str, ...]) -> str:
    words = [CORNER_WORDS[c] for c in corners]
    if len(words) == 1:
        return (
            f"the {words[0]} corner of the page is outside the photo: step back and include "
            "the whole page"
        )
    listed = ", ".join(words[:-1]) + " and " + words[-1]
    return (
        f"the {listed} corners of the page are outside the photo: step back and include the "
        "whole page"
    )


def _reason_without_page(image: np.ndarray) -> str | None:
    """A photo with no page found: retake when it is plainly too dark or blurred, or when it
    shows a papermode page that could not be read (never a free photo, then)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, STRUCTURE_MAX_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if float(np.percentile(small, 95)) < 50.0:
        return DARK
    sharpness = global_sharpness(small)
    if sharpness < MIN_GLOBAL_SHARPNESS:
        return BLURRED
    if has_page_structure(small):
        if min(sharpness, directional_sharpness(small)) < MIN_DIRECTIONAL_SHARPNESS:
            return BLURRED
        return UNLOCATED
    return None


def global_sharpness(gray: np.ndarray) -> float:
    """Steepest edges over contrast (1/px at ~1200 px wide): ~0.3-0.8 sharp, < 0.13 blurred."""
    pixels = gray.astype(np.float32)
    gy, gx = np.gradient(pixels)
    steepest = float(np.percentile(np.hypot(gx, gy), 99.5))
    contrast = float(np.percentile(pixels, 98) - np.percentile(pixels, 2))
    return steepest / max(contrast, 1.0)


def directional_sharpness(gray: np.ndarray) -> float:
    """Sharpness along the worst of four directions (0, 90, 45, 135 degrees), same scale as
    `global_sharpness`: a motion-blurred photo is sharp across the motion, soft along it."""
    pixels = gray.astype(np.float32)
    contrast = float(np.percentile(pixels, 98) - np.percentile(pixels, 2))
    steps = {
        "across": np.abs(pixels[:, 1:] - pixels[:, :-1]),
        "down": np.abs(pixels[1:, :] - pixels[:-1, :]),
        "diagonal": np.abs(pixels[1:, 1:] - pixels[:-1, :-1]) / np.sqrt(2.0),
        "anti_diagonal": np.abs(pixels[1:, :-1] - pixels[:-1, 1:]) / np.sqrt(2.0),
    }
    steepest = min(float(np.percentile(step, 99.5)) for step in steps.values())
    return steepest / max(contrast, 1.0)


def has_page_structure(gray: np.ndarray) -> bool:
    """True when `gray` (long side ~STRUCTURE_MAX_SIDE px) shows papermode corner markers:
    three solid dark squares of one size, each alone in white, at the corners of a
    rectangle shaped like the markers' frame on A4 or Letter (even when too blurred to
    decode)."""
    squares = _marker_like_squares(gray)
    for corner, first, second in permutations(squares, 3):
        if _is_marker_frame(corner, first, second):
            return True
    return False


def _marker_like_squares(gray: np.ndarray) -> list[tuple[float, float, float]]:
    """(x, y, side) of dark solid squares with a clear white ring around them."""
    paper = cv2.blur(cv2.dilate(gray, np.ones((31, 31), np.uint8)), (31, 31))
    dark = ((paper.astype(np.int16) - gray.astype(np.int16)) > 60).astype(np.uint8)
    count, _, stats, centres = cv2.connectedComponentsWithStats(dark, connectivity=8)
    squares = []
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        if not (min(w, h) >= MARKER_MIN_PX and max(w, h) <= MARKER_MAX_PX):
            continue
        if not 0.7 <= w / h <= 1.4 or area < 0.55 * w * h:
            continue
        margin = max(2, int(0.35 * max(w, h)))
        y0, x0 = max(y - margin, 0), max(x - margin, 0)
        y1, x1 = min(y + h + margin, dark.shape[0]), min(x + w + margin, dark.shape[1])
        ring = int(dark[y0:y1, x0:x1].sum()) - int(dark[y : y + h, x : x + w].sum())
        ring_area = (y1 - y0) * (x1 - x0) - w * h
        if ring_area > 0 and ring <= RING_MAX_INK * ring_area:
            squares.append((float(centres[index][0]), float(centres[index][1]), (w + h) / 2.0))
        if len(squares) > 40:  # a pattern of squares (a chessboard, a tiled floor): not a page
            return []
    return squares


def _is_marker_frame(
    corner: tuple[float, float, float],
    first: tuple[float, float, float],
    second: tuple[float, float, float],
) -> bool:
    """Three squares of one size at a right angle, the sides as long as the marker frame
    (A4: 184 x 271 mm between marker centres, markers 12 mm: 15 and 23 marker sides)."""
    side = (corner[2] + first[2] + second[2]) / 3.0
    if max(abs(corner[2] - side), abs(first[2] - side), abs(second[2] - side)) > 0.3 * side:
        return False
    u = np.subtract(first[:2], corner[:2])
    v = np.subtract(second[:2], corner[:2])
    short, long = sorted((float(np.linalg.norm(u)), float(np.linalg.norm(v))))
    if not (10 * side <= short <= 21 * side and 15 * side <= long <= 30 * side):
        return False
    cosine = abs(float(u @ v)) / (short * long)
    return cosine < 0.26 and 0.6 <= short / long <= 0.82


# --------------------------------------------------------------------------- measuring


def _marker_measures(
    gray: np.ndarray, location: PageLocation
) -> tuple[float | None, float | None, float | None]:
    """(edge width mm, black level, white level) over the found markers; worst blur wins.

    Each marker is straightened by its own four corners, so this works with one marker too.
    """
    if not location.markers:
        return None, None, None
    frame = frame_for(location.size_mm)
    blurs, blacks, whites = [], [], []
    for marker_id, corners in location.markers.items():
        own = cv2.getPerspectiveTransform(
            np.asarray(frame.marker_corners(marker_id), dtype=np.float32),
            np.asarray(corners, dtype=np.float32),
        )
        corner = next(n for n, i in MARKER_IDS.items() if i == marker_id)
        box = frame.marker_box(corner).inset(-MARKER_QUIET_MM * 0.75)
        patch = _warp_box(gray, own, box, PATCH_PX_PER_MM)
        black, white = float(np.percentile(patch, 5)), float(np.percentile(patch, 95))
        gy, gx = np.gradient(patch.astype(np.float32))
        # The marker's edges run along both axes: a shaking hand smears one set only, so
        # the softer of the two is the blur (the steepest edge overall would hide it).
        steepest = min(float(np.percentile(np.abs(g), 99.5)) for g in (gx, gy))
        blurs.append((white - black) / max(steepest, 1e-3) / PATCH_PX_PER_MM)
        blacks.append(black)
        whites.append(white)
    return max(blurs), float(np.median(blacks)), float(np.median(whites))


def _warp_box(gray: np.ndarray, homography: np.ndarray, box: Box, ppm: float) -> np.ndarray:
    shift = np.array([[ppm, 0, -box.x * ppm], [0, ppm, -box.y * ppm], [0, 0, 1.0]])
    size = (int(round(box.w * ppm)), int(round(box.h * ppm)))
    return cv2.warpPerspective(
        gray,
        shift @ np.linalg.inv(homography),
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _page_span(location: PageLocation) -> float:
    """The share of the photo's width or height (the larger) that the page spans."""
    if location.homography is None:
        return 0.0
    w, h = location.size_mm
    corners = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]], dtype=np.float64)
    projected = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), location.homography)
    xs, ys = projected[:, 0, 0], projected[:, 0, 1]
    height, width = location.image_shape[:2]
    return float(max((xs.max() - xs.min()) / width, (ys.max() - ys.min()) / height))


def is_bilevel(gray: np.ndarray) -> bool:
    """True when the image holds only pure black and white pixels (a 1-bit scan)."""
    return _is_bilevel(gray)


def _is_bilevel(gray: np.ndarray) -> bool:
    sample = gray[::7, ::7]
    extremes = np.count_nonzero((sample == 0) | (sample == 255))
    return bool(extremes >= 0.995 * sample.size)


def _page_preview(gray: np.ndarray, location: PageLocation) -> np.ndarray | None:
    """The page's content area straightened at 2 px/mm (cheap: ~0.25 MP)."""
    if location.homography is None:
        return None
    content = frame_for(location.size_mm).content
    return _warp_box(gray, location.homography, content, PAGE_PX_PER_MM)


def _paper_levels(page: np.ndarray) -> tuple[float, float]:
    """(median, darkest) paper brightness over a 4 x 6 grid of tiles (90th percentile each)."""
    levels = []
    for rows in np.array_split(page, 6, axis=0):
        for tile in np.array_split(rows, 4, axis=1):
            if tile.size:
                levels.append(float(np.percentile(tile, 90)))
    return float(np.median(levels)), float(min(levels))


def _glare_fraction(page: np.ndarray, paper: float) -> float:
    """Share of the page under glare: solid blobs of clipped white that wash the print out.

    Bright light also clips the paper to white (a multiplicative gain), but there the print
    and the ink stay dark; a reflection blends everything towards white. So a blob counts
    only when its core holds far fewer dark pixels than the page as a whole. A page that is
    white already (a scan) has no glare to tell.
    """
    if paper >= GLARE_PAPER_BELOW:
        return 0.0
    clipped = (page >= GLARE_LEVEL).astype(np.uint8)
    solid = cv2.morphologyEx(clipped, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    dark = page < min(paper, 250.0) - 60.0
    page_dark = max(float(dark.mean()), 1e-3)
    count, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    min_area = GLARE_MIN_BLOB_MM2 * PAGE_PX_PER_MM**2
    washed = 0
    for x, y, w, h, area in stats[1:count]:
        core = dark[y + h // 4 : y + h - h // 4, x + w // 4 : x + w - w // 4]
        if area >= min_area and core.size and core.mean() < GLARE_WASHED * page_dark:
            washed += int(area)
    return washed / float(page.size)
