"""Free photos: a screen or a paper note, prepared for OCR and read into words and lines.

These photos are not papermode forms (no markers, no QR): nurses photograph whatever is
still on a screen, or write on any paper at hand. Each kind needs its own preparation before
Tesseract: screens (monitor perspective, moiré, glare, dark themes, small fonts) and notes
(shadows, ruled lines, skew). Every step applied is recorded in `FreeText.preparation`, and
word boxes can be mapped back to the original photo for an evidence crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from papermode.free.ocr import TextLine, Word, group_lines, ocr_words

FreeKind = Literal["screen", "note", "auto"]

TARGET_TEXT_PX = 24  # median blob height; 22-30 px read best on bench screens
WORK_MAX_SIDE = 3000  # larger photos are reduced first: slower, never better for OCR


@dataclass(frozen=True)
class FreeText:
    """What a free photo says: text lines with word boxes (in `size` px of the prepared image)."""

    text: str
    lines: tuple[TextLine, ...]
    words: tuple[Word, ...]
    mean_confidence: float
    kind: str  # "screen" or "note" (as decided when asked for "auto")
    preparation: tuple[str, ...]
    size: tuple[int, int]  # prepared image (w, h)
    to_original: tuple[float, ...]  # 3x3 row-major: prepared px -> original photo px

    def box_in_original(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """The bounding box, in the original photo, of a box of the prepared image."""
        x, y, w, h = box
        corners = np.array(
            [[[x, y]], [[x + w, y]], [[x + w, y + h]], [[x, y + h]]], dtype=np.float32
        )
        matrix = np.array(self.to_original, dtype=np.float64).reshape(3, 3)
        mapped = cv2.perspectiveTransform(corners, matrix).reshape(-1, 2)
        x0, y0 = np.floor(mapped.min(axis=0))
        x1, y1 = np.ceil(mapped.max(axis=0))
        return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


@dataclass
class _Prepared:
    """The image on its way to OCR, and the transform from the original photo to it."""

    gray: np.ndarray
    matrix: np.ndarray  # original px -> current px
    steps: list[str]

    def transform(self, matrix: np.ndarray, size: tuple[int, int], step: str) -> None:
        enlarges = abs(np.linalg.det(matrix[:2, :2])) > 1
        if np.allclose(matrix, np.diag(np.diag(matrix))):  # a pure scale: resize is sharper
            flags = cv2.INTER_CUBIC if enlarges else cv2.INTER_AREA
            self.gray = cv2.resize(self.gray, size, interpolation=flags)
        else:
            self.gray = cv2.warpPerspective(
                self.gray, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
            )
        self.matrix = matrix @ self.matrix
        self.steps.append(step)


def read_free_photo(
    image: np.ndarray,
    kind: FreeKind = "auto",
    langs: Sequence[str] = ("fra", "eng"),
    *,
    timeout: float = 60,
) -> FreeText:
    """Prepare a screen photo or paper note for OCR, read it, and return its text and words.

    `kind="auto"` decides from the image (dark theme or a solid coloured UI bar: screen).
    Raises InstallationError / OcrError from `papermode.free.ocr`.
    """
    decided = detect_kind(image) if kind == "auto" else kind
    prepared = prepare_screen(image) if decided == "screen" else prepare_note(image)
    # psm 6 (one uniform block) reads table rows across columns; psm 3 drops sparse columns.
    words = ocr_words(prepared.gray, langs=langs, psm=6, timeout=timeout)
    lines = tuple(group_lines(words))
    confidences = [w.confidence for w in words]
    inverse = np.linalg.inv(prepared.matrix)
    return FreeText(
        text="\n".join(line.text for line in lines),
        lines=lines,
        words=tuple(words),
        mean_confidence=round(float(np.mean(confidences)), 4) if confidences else 0.0,
        kind=decided,
        preparation=tuple(prepared.steps),
        size=(prepared.gray.shape[1], prepared.gray.shape[0]),
        to_original=tuple(float(v) for v in inverse.reshape(-1)),
    )


def detect_kind(image: np.ndarray) -> Literal["screen", "note"]:
    """Screen when the middle of the picture is dark (dark theme, or a screen photographed in a
    dark room) or when it holds a solid saturated band (a record system's header bar);
    paper is bright and its only colour is thin (ink, ruled lines)."""
    small = _shrink(image, 800)
    gray = _gray(small)
    h, w = gray.shape
    centre = gray[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    if float(np.median(centre)) < 100:
        return "screen"
    if small.ndim == 3:
        saturation = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)[..., 1]
        solid = cv2.morphologyEx(
            (saturation > 110).astype(np.uint8), cv2.MORPH_OPEN, np.ones((9, 9), np.uint8)
        )
        if solid.mean() > 0.01:
            return "screen"
    return "note"


def prepare_screen(image: np.ndarray) -> _Prepared:
    """Unwarp the monitor, invert dark themes, flatten glare, soften moiré, upscale small text."""
    prepared = _start(image)
    _unwarp_quad(prepared, "screen")
    if float(np.median(prepared.gray)) < 110:
        prepared.gray = 255 - prepared.gray
        prepared.steps.append("invert dark theme")
    # Moiré is a fine periodic pattern: a light blur before Tesseract binarises removes it;
    # stronger blurs cost more on small fonts than they gain (measured on bench screens).
    prepared.gray = cv2.GaussianBlur(prepared.gray, (0, 0), 0.6)
    prepared.steps.append("moire blur")
    _scale_text(prepared)
    _invert_dark_bars(prepared)
    _flatten_background(prepared, "glare")
    return prepared


def _invert_dark_bars(prepared: _Prepared) -> None:
    """Invert regions with a dark background (header bars, dark panels): light text on dark
    is read as noise by Tesseract. Text is sized by now, so a median over ~3 characters
    measures the background, not the letters."""
    gray = prepared.gray
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    background = cv2.medianBlur(small, 15)
    dark = cv2.resize(
        (background < 110).astype(np.uint8), (gray.shape[1], gray.shape[0]),
        interpolation=cv2.INTER_NEAREST,
    )  # fmt: skip
    if dark.mean() < 0.01:
        return
    prepared.gray = np.where(dark > 0, 255 - gray, gray).astype(np.uint8)
    prepared.steps.append("invert dark bars")


def prepare_note(image: np.ndarray) -> _Prepared:
    """Flatten shadows, unwarp the sheet, deskew, remove ruled lines, scale text."""
    prepared = _start(image)
    _unwarp_quad(prepared, "sheet")
    _flatten_background(prepared, "shadow")
    _deskew(prepared)
    _remove_ruled_lines(prepared)
    _scale_text(prepared)
    return prepared


def _start(image: np.ndarray) -> _Prepared:
    gray = _gray(image)
    prepared = _Prepared(gray, np.eye(3), [])
    longest = max(gray.shape)
    if longest > WORK_MAX_SIDE:
        scale = WORK_MAX_SIDE / longest
        size = (round(gray.shape[1] * scale), round(gray.shape[0] * scale))
        prepared.transform(np.diag([scale, scale, 1.0]), size, f"reduce x{scale:.2f}")
    return prepared


def _unwarp_quad(prepared: _Prepared, what: str) -> None:
    """Find the screen (or sheet) as the largest convex quadrilateral and straighten it."""
    quad = find_quadrilateral(prepared.gray, faint_edges=what == "screen")
    if quad is None:
        return
    tl, tr, br, bl = quad
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    prepared.transform(matrix, (width, height), f"unwarp {what} perspective")


def find_quadrilateral(gray: np.ndarray, *, faint_edges: bool = True) -> np.ndarray | None:
    """Corners (tl, tr, br, bl) of the largest convex quadrilateral covering 20-98% of the
    image, or None. Edges of a bright screen or sheet against a darker surround;
    `faint_edges` also tries "differs from the border" (dark themes; not for paper, where it
    finds the grid of ruled lines)."""
    small = _shrink(gray, 900)
    scale = gray.shape[1] / small.shape[1]
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    best: tuple[float, np.ndarray] | None = None
    # A real edge separates a screen or sheet from its surround; ruled lines on paper do not.
    min_contrast = 6.0 if faint_edges else 15.0
    for mask in _quad_masks(blurred, faint_edges):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            quad = _four_corners(cv2.convexHull(contour))
            if quad is None:
                continue
            area = cv2.contourArea(quad) / (small.shape[0] * small.shape[1])
            if not 0.2 < area < 0.98 or _edge_contrast(blurred, quad) < min_contrast:
                continue
            if best is None or area > best[0]:
                best = (area, quad.reshape(4, 2).astype(np.float64))
    return None if best is None else _order_corners(best[1] * scale)


def _edge_contrast(gray: np.ndarray, quad: np.ndarray) -> float:
    """Mean brightness difference between thin bands just inside and just outside `quad`."""
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(inside, quad.reshape(-1, 2).astype(np.int32), 255)
    band = np.ones((9, 9), np.uint8)
    outer = cv2.subtract(cv2.dilate(inside, band), inside) > 0
    inner = cv2.subtract(inside, cv2.erode(inside, band)) > 0
    if not outer.any() or not inner.any():
        return 0.0
    return abs(float(gray[inner].mean()) - float(gray[outer].mean()))


def _four_corners(hull: np.ndarray) -> np.ndarray | None:
    """Simplify a convex hull to 4 corners, tolerating a bump (glare spilling over the
    bezel); None when no 4-corner shape covers the hull well."""
    perimeter = cv2.arcLength(hull, True)
    hull_area = cv2.contourArea(hull)
    for tolerance in (0.02, 0.04, 0.06, 0.08):
        approx = cv2.approxPolyDP(hull, tolerance * perimeter, True)
        if len(approx) == 4:
            return approx if cv2.contourArea(approx) > 0.85 * hull_area else None
        if len(approx) < 4:
            return None
    return None


def _quad_masks(blurred: np.ndarray, faint_edges: bool) -> list[np.ndarray]:
    """Candidate masks of "the screen or sheet": Otsu (bright against dark), edges, and
    "differs from the photo's border" (a dark-theme screen is only a little brighter than
    its bezel, so Otsu and edges miss it)."""
    _, otsu = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edges = cv2.dilate(cv2.Canny(blurred, 10, 40), np.ones((5, 5), np.uint8))
    if not faint_edges:
        return [otsu, edges]
    band = max(2, min(blurred.shape) // 40)
    border = np.concatenate(
        [blurred[:band].ravel(), blurred[-band:].ravel(), blurred[:, :band].ravel(),
         blurred[:, -band:].ravel()]
    )  # fmt: skip
    surround = float(np.median(border))
    differs = (np.abs(blurred.astype(np.int16) - surround) > 6).astype(np.uint8) * 255
    differs = cv2.morphologyEx(differs, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    return [otsu, edges, differs]


def _order_corners(points: np.ndarray) -> np.ndarray:
    total, diff = points.sum(axis=1), np.diff(points, axis=1).ravel()
    return np.array(
        [
            points[np.argmin(total)],
            points[np.argmin(diff)],
            points[np.argmax(total)],
            points[np.argmax(diff)],
        ]
    )


def _flatten_background(prepared: _Prepared, cause: str) -> None:
    """Divide by the page's own background (a large median blur): shadows and glare vanish."""
    gray = prepared.gray
    small = _shrink(gray, 400)
    kernel = max(3, (min(small.shape) // 12) | 1)
    background = cv2.medianBlur(cv2.dilate(small, np.ones((3, 3), np.uint8)), kernel)
    background = cv2.resize(
        background, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    flat = gray.astype(np.float32) / np.maximum(background.astype(np.float32), 1) * 235
    prepared.gray = np.clip(flat, 0, 255).astype(np.uint8)
    prepared.steps.append(f"normalise background ({cause})")


def _deskew(prepared: _Prepared) -> None:
    """Rotate so text lines are horizontal: the angle whose row profile is sharpest."""
    small = _shrink(prepared.gray, 700)
    ink = (small < 160).astype(np.float32)
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    if ink.sum() < 50:
        return  # nothing written: no skew to measure

    def sharpness(angle: float) -> float:
        rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(ink, rotation, (small.shape[1], small.shape[0]))
        return float(np.var(rotated.sum(axis=1)))

    scores = {float(angle): sharpness(float(angle)) for angle in np.arange(-10, 10.01, 0.5)}
    best_angle = max(scores, key=lambda angle: scores[angle])
    # Rotate only for a clear gain: a flat profile (few words) gives no reliable angle.
    if abs(best_angle) < 0.5 or scores[best_angle] < 1.05 * scores[0.0]:
        return
    h, w = prepared.gray.shape
    rotation = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), best_angle, 1.0), [0, 0, 1]])
    prepared.transform(rotation, (w, h), f"deskew {best_angle:+.1f} deg")


def _remove_ruled_lines(prepared: _Prepared) -> None:
    """Paint long thin horizontal and vertical strokes (ruled paper, margins) white."""
    gray = prepared.gray
    ink = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 12
    )
    h, w = gray.shape
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(40, w // 8)), np.uint8))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(40, h // 8), 1), np.uint8))
    lines = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    if lines.mean() < 0.5:
        return
    prepared.gray = np.where(lines > 0, np.uint8(235), gray).astype(np.uint8)
    prepared.steps.append("remove ruled lines")


def _scale_text(prepared: _Prepared) -> None:
    """Scale so the typical character is about TARGET_TEXT_PX tall (small fonts, far shots)."""
    height = text_height(prepared.gray)
    if height is None:
        return
    scale = float(np.clip(TARGET_TEXT_PX / height, 0.5, 4.0))
    if 0.8 < scale < 1.25:
        return
    h, w = prepared.gray.shape
    scale = min(scale, 5000 / max(h, w)) if scale > 1 else scale
    size = (round(w * scale), round(h * scale))
    prepared.transform(np.diag([scale, scale, 1.0]), size, f"scale text x{scale:.2f}")


def text_height(gray: np.ndarray) -> float | None:
    """Median height in px of character-like blobs, or None when there are too few."""
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = [
        stats[i, cv2.CC_STAT_HEIGHT]
        for i in range(1, count)
        if 5 <= stats[i, cv2.CC_STAT_HEIGHT] <= 200
        and stats[i, cv2.CC_STAT_WIDTH] <= 2 * stats[i, cv2.CC_STAT_HEIGHT]
        and stats[i, cv2.CC_STAT_AREA] >= 12
    ]
    return float(np.median(heights)) if len(heights) >= 10 else None


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.uint8)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _shrink(image: np.ndarray, longest: int) -> np.ndarray:
    scale = longest / max(image.shape[:2])
    if scale >= 1:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
