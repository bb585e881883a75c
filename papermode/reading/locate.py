"""Find a papermode page in a photo or scan: markers + QR -> page identity and homography.

The four ArUco markers (ids by corner, `pageframe.MARKER_IDS`) give position, rotation, scale
("fit to page" printing) and perspective: a homography maps layout millimetres to image
pixels. Markers are detected on a downscaled copy (speed) and refined at full resolution.
The QR code carries the page id; the printed page id and the banner MRN are OCR fallbacks
(`papermode.reading.printed_text`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

from papermode.core.model import PAPER_SIZES_MM
from papermode.core.pageframe import MARKER_IDS, Frame, frame_for
from papermode.core.pageid import from_qr
from papermode.reading.onepage import (
    MAX_REPROJECTION_MM,
    NOT_ONE_PAGE,
    QR_SYMBOL_RATIO,
    SEVERAL_PAGES,
    QrCode,
    marker_groups,
    own_code,
)
from papermode.reading.printed_text import read_banner_mrn, read_printed_page_id

logger = logging.getLogger(__name__)

__all__ = [
    "PageLocation",
    "locate_page",
    "read_banner_mrn",
    "read_printed_page_id",
    "rectify",
    "refit",
]

DETECT_MAX_SIDE = 1600  # detection copy: 12 MP photo -> ~2 MP, markers still > 40 px
SECOND_TRY_MAX_SIDE = 3200
DETECT_PAD_PX = 16
CORNER_NAMES = {number: name for name, number in MARKER_IDS.items()}
QR_MARGIN_MM = 4.0
_QR_FORMAT = zxingcpp.barcode_formats_from_str("QRCode")
CUT_OFF_MARGIN_MM = 3.0
QR_RECTIFY_PX_PER_MM = 10.0
SIZE_CANDIDATES = (PAPER_SIZES_MM["a4"], PAPER_SIZES_MM["letter"])


@dataclass(frozen=True, eq=False)
class PageLocation:
    """Where the page is in the image and who it is.

    `homography` maps layout mm -> image px (None when fewer than three markers were found:
    the page cannot be straightened). `markers` maps marker id -> its 4 corners in image px
    (OpenCV order). `missing_corners` names the corners whose marker was not found;
    `cut_off_corners` those of them that lie outside the image.
    """

    page_id: str | None
    qr_text: str | None
    markers: dict[int, np.ndarray]
    homography: np.ndarray | None
    size_mm: tuple[float, float]
    reprojection_mm: float
    missing_corners: tuple[str, ...]
    cut_off_corners: tuple[str, ...]
    image_shape: tuple[int, int]
    size_certain: bool = True
    quality: dict[str, float] = field(default_factory=dict)
    qr_corners: np.ndarray | None = None  # the QR symbol's TL, TR, BR, BL in px
    # Why this photo cannot be read as one page (several pages, a QR code that is not the
    # page's own): a retake message, or None.
    conflict: str | None = None
    qr_codes: int = 0  # papermode QR codes decoded anywhere in the image

    @property
    def px_per_mm(self) -> float:
        """Mean image pixels per layout millimetre near the page centre (0 when unknown)."""
        if self.homography is None:
            return 0.0
        w, h = self.size_mm
        centre = np.array([[w / 2, h / 2], [w / 2 + 10.0, h / 2], [w / 2, h / 2 + 10.0]])
        pts = _project(self.homography, centre)
        return float((np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[0])) / 20.0)


def locate_page(
    image: np.ndarray, size_hint_mm: tuple[float, float] | None = None
) -> PageLocation | None:
    """Markers and QR code of the papermode page in `image` (gray or BGR), or None.

    None means neither a marker nor a papermode QR code is in the image: not a papermode form
    (ingest stores it as a free photo). `size_hint_mm` fixes the paper size (A4 vs Letter)
    instead of deciding it from the marker geometry.

    Identity is the agreement of one page's four markers and one QR code: every marker and
    every papermode QR code in the image is found; the markers must form one flat page
    (`MAX_REPROJECTION_MM`) and exactly one QR code must lie inside that page at the place
    the page prints it. Otherwise `conflict` says why the photo must be retaken (one page
    per photo); one page's boxes are never read under another page's id.
    """
    gray = _gray(image)
    found = _detect_markers(gray)
    codes = _read_qrs(gray)
    if not found and not codes:
        return None
    sizes = (size_hint_mm,) if size_hint_mm else SIZE_CANDIDATES
    markers, conflict = _one_page_markers(gray.shape[:2], found, sizes)
    single = codes[0].corners if len(codes) == 1 else None
    location = _fit_best(gray.shape[:2], markers, single, sizes)
    conflict = conflict or _geometry_conflict(location)
    own, qr_conflict = _own_qr(location, codes)
    conflict = conflict or qr_conflict
    qr_text = own.text if own is not None else None
    if own is not None and own.corners is not single:
        location = _replace(location, qr_corners=own.corners)
    if qr_text is None and conflict is None and location.homography is not None:
        qr_text = _read_qr_rectified(gray, location)
        logger.info("QR code second try, straightened: %s", "read" if qr_text else "not read")
    page_id = from_qr(qr_text) if qr_text and conflict is None else None
    certain = True if size_hint_mm else location.size_certain
    location = _replace(location, conflict=conflict, qr_codes=len(codes))
    return _finish(location, page_id, qr_text, certain)


def refit(location: PageLocation, size_mm: tuple[float, float]) -> PageLocation:
    """The same markers fitted to a known paper size (e.g. from the page registry)."""
    fitted = _fit(location.image_shape, location.markers, location.qr_corners, size_mm)
    fitted = _replace(fitted, conflict=location.conflict, qr_codes=location.qr_codes)
    if fitted.conflict is None:
        fitted = _replace(fitted, conflict=_geometry_conflict(fitted))
    return _finish(fitted, location.page_id, location.qr_text, True)


def _finish(
    location: PageLocation, page_id: str | None, qr_text: str | None, certain: bool
) -> PageLocation:
    numbers = {
        "markers_found": float(len(location.markers)),
        "px_per_mm": round(location.px_per_mm, 3),
        "qr_read": 1.0 if page_id else 0.0,
        "qr_codes": float(location.qr_codes),
    }
    if location.homography is not None:
        numbers["reprojection_mm"] = round(location.reprojection_mm, 4)
    return _replace(
        location, page_id=page_id, qr_text=qr_text, size_certain=certain, quality=numbers
    )


def rectify(image: np.ndarray, location: PageLocation, px_per_mm: float = 8.0) -> np.ndarray:
    """The page warped to layout millimetres at `px_per_mm`, gray; pixel (0, 0) is mm (0, 0)."""
    if location.homography is None:
        raise ValueError("rectify needs a location with a homography (three markers or more)")
    gray = _gray(image)
    scale = np.diag([px_per_mm, px_per_mm, 1.0])
    to_layout = scale @ np.linalg.inv(location.homography)
    w, h = location.size_mm
    size = (int(round(w * px_per_mm)), int(round(h * px_per_mm)))
    return cv2.warpPerspective(
        gray, to_layout, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )


# --------------------------------------------------------------------------- markers


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image


def _detector() -> cv2.aruco.ArucoDetector:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    params = cv2.aruco.DetectorParameters()
    params.adaptiveThreshWinSizeMax = 53
    params.adaptiveThreshWinSizeStep = 10
    params.minMarkerPerimeterRate = 0.02
    params.polygonalApproxAccuracyRate = 0.05
    return cv2.aruco.ArucoDetector(dictionary, params)


def _detect_markers(gray: np.ndarray) -> dict[int, list[np.ndarray]]:
    """Marker id -> every instance's 4x2 corners in full-resolution px, ids 0-3 only.

    Every instance is kept (biggest first): two pages in one photo give two markers of an
    id, and `_one_page_markers` decides which belong together, or that none do.
    """
    found = _detect_at(gray, DETECT_MAX_SIDE)
    if len(found) < 4 and max(gray.shape) > DETECT_MAX_SIDE:
        for marker_id, instances in _detect_at(gray, SECOND_TRY_MAX_SIDE).items():
            known = found.setdefault(marker_id, [])
            known += [m for m in instances if not any(_same_marker(m, k) for k in known)]
    return {
        marker_id: sorted((_refine(gray, c) for c in instances), key=_area, reverse=True)
        for marker_id, instances in found.items()
    }


def _same_marker(one: np.ndarray, other: np.ndarray) -> bool:
    side = np.sqrt(max(_area(one), _area(other), 1.0))
    return bool(np.linalg.norm(one.mean(axis=0) - other.mean(axis=0)) < side / 2)


def _detect_at(gray: np.ndarray, max_side: int) -> dict[int, list[np.ndarray]]:
    scale = min(1.0, max_side / max(gray.shape))
    small = (
        gray
        if scale == 1.0
        else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    # A scan cropped tight to the paper may cut a marker's white quiet zone: restore it.
    pad = DETECT_PAD_PX
    padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    corners, ids, _ = _detector().detectMarkers(padded)
    found: dict[int, list[np.ndarray]] = {}
    if ids is None:
        return found
    for quad, marker_id in zip(corners, ids.ravel(), strict=True):
        if int(marker_id) not in CORNER_NAMES:
            continue
        points = (quad.reshape(4, 2).astype(np.float64) - pad) / scale
        found.setdefault(int(marker_id), []).append(points)
    return found


def _area(points: np.ndarray) -> float:
    return float(abs(cv2.contourArea(points.astype(np.float32))))


def _refine(gray: np.ndarray, corners: np.ndarray) -> np.ndarray:
    side = np.sqrt(_area(corners))
    window = int(max(2, min(10, side / 12)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    points = corners.astype(np.float32).reshape(-1, 1, 2).copy()
    try:
        cv2.cornerSubPix(gray, points, (window, window), (-1, -1), criteria)
    except cv2.error:
        return corners
    refined = points.reshape(4, 2).astype(np.float64)
    # A refinement that jumps far was pulled to another edge: keep the detector's corner.
    moved = np.linalg.norm(refined - corners, axis=1) > window
    refined[moved] = corners[moved]
    return refined


# --------------------------------------------------------------------------- one page


def _one_page_markers(
    shape: tuple[int, int],
    found: dict[int, list[np.ndarray]],
    sizes: tuple[tuple[float, float], ...],
) -> tuple[dict[int, np.ndarray], str | None]:
    """The markers of the one page in the photo, or a retake message.

    One instance of each id: that is the page (its geometry is checked after the fit).
    More: every group of one marker per id that forms a flat page is a whole page in the
    photo; exactly one must exist, or the clerk is asked for one page per photo.
    """
    if all(len(instances) == 1 for instances in found.values()):
        return {marker_id: instances[0] for marker_id, instances in found.items()}, None
    whole = []
    for group in marker_groups(found):
        fit = min((_fit(shape, group, None, size) for size in sizes), key=_error)
        if fit.reprojection_mm <= MAX_REPROJECTION_MM:
            whole.append(group)
    if len(whole) == 1:
        return whole[0], None
    biggest = {marker_id: instances[0] for marker_id, instances in found.items()}
    return biggest, SEVERAL_PAGES


def _error(location: PageLocation) -> float:
    return location.reprojection_mm


def _geometry_conflict(location: PageLocation) -> str | None:
    """Markers that do not fit one flat page of the size fitted."""
    if location.homography is None:
        return None
    if location.reprojection_mm > MAX_REPROJECTION_MM:
        return NOT_ONE_PAGE
    return None


def _own_qr(location: PageLocation, codes: list[QrCode]) -> tuple[QrCode | None, str | None]:
    return own_code(location.homography, location.size_mm, codes)


# --------------------------------------------------------------------------- homography


def _fit_best(
    shape: tuple[int, int],
    markers: dict[int, np.ndarray],
    qr_corners: np.ndarray | None,
    sizes: tuple[tuple[float, float], ...],
) -> PageLocation:
    fits = [_fit(shape, markers, qr_corners, size) for size in sizes]
    fits.sort(key=lambda loc: loc.reprojection_mm)
    best = fits[0]
    # Sizes are told apart by residuals only when there are enough markers to disagree.
    certain = len(fits) == 1 or (
        len(markers) == 4 and fits[1].reprojection_mm > 1.5 * best.reprojection_mm + 0.05
    )
    return _replace(best, size_certain=certain)


def _fit(
    shape: tuple[int, int],
    markers: dict[int, np.ndarray],
    qr_corners: np.ndarray | None,
    size_mm: tuple[float, float],
) -> PageLocation:
    frame = frame_for(size_mm)
    layout_pts: list[tuple[float, float]] = []
    image_pts: list[tuple[float, ...]] = []
    for marker_id, corners in sorted(markers.items()):
        layout_pts += frame.marker_corners(marker_id)
        image_pts += [tuple(p) for p in corners]
    if qr_corners is not None and len(markers) < 4:
        # The symbol's TL, TR and BL corners sit on finder patterns (precise); zxing only
        # extrapolates the BR one, so it is left out.
        qr = frame.qr_box
        margin = qr.w * (1.0 - QR_SYMBOL_RATIO) / 2.0
        left, top = qr.x + margin, qr.y + margin
        right, bottom = qr.x + qr.w - margin, qr.y + qr.h - margin
        layout_pts += [(left, top), (right, top), (left, bottom)]
        image_pts += [tuple(qr_corners[i]) for i in (0, 1, 3)]
    homography = None
    if len(markers) >= 3 or (len(markers) == 2 and qr_corners is not None):
        homography, _ = cv2.findHomography(_points(layout_pts), _points(image_pts), 0)
    error = _reprojection_mm(homography, layout_pts, image_pts)
    missing = tuple(name for name, number in MARKER_IDS.items() if number not in markers)
    cut = _cut_off(homography, frame, missing, shape, markers)
    return PageLocation(
        None,
        None,
        dict(markers),
        homography,
        (float(size_mm[0]), float(size_mm[1])),
        error,
        missing,
        cut,
        (int(shape[0]), int(shape[1])),
        qr_corners=qr_corners,
    )


def _points(points: list[tuple[float, float]] | list[tuple[float, ...]]) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def _reprojection_mm(
    homography: np.ndarray | None,
    layout_pts: list[tuple[float, float]],
    image_pts: list[tuple[float, ...]],
) -> float:
    if homography is None or not layout_pts:
        return float("inf")
    back = _project(np.linalg.inv(homography), _points(image_pts))
    return float(np.sqrt(np.mean(np.sum((back - _points(layout_pts)) ** 2, axis=1))))


def _cut_off(
    homography: np.ndarray | None,
    frame: Frame,
    missing: tuple[str, ...],
    shape: tuple[int, int],
    markers: dict[int, np.ndarray],
) -> tuple[str, ...]:
    """Missing corners whose marker lies (partly) outside the image.

    Without a homography (one or two markers), an affine fit of the found markers still
    says where the others should be; with no marker at all nothing is claimed.
    """
    model = homography if homography is not None else _affine_guess(frame, markers)
    if model is None:
        return ()
    height, width = shape
    cut = []
    for corner in missing:
        # A marker whose quiet zone touches the photo's edge is not found either.
        box = frame.marker_box(corner).inset(-CUT_OFF_MARGIN_MM)
        quad = np.array(
            [
                [box.x, box.y],
                [box.x + box.w, box.y],
                [box.x + box.w, box.y + box.h],
                [box.x, box.y + box.h],
            ]
        )
        pts = _project(model, quad)
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < width) & (pts[:, 1] >= 0) & (pts[:, 1] < height)
        if not inside.all():
            cut.append(corner)
    return tuple(cut)


def _affine_guess(frame: Frame, markers: dict[int, np.ndarray]) -> np.ndarray | None:
    if not markers:
        return None
    layout_pts = _points([p for i in markers for p in frame.marker_corners(i)])
    image_pts = np.concatenate(list(markers.values())).astype(np.float64)
    affine, _ = cv2.estimateAffine2D(layout_pts, image_pts, method=cv2.LMEDS)
    if affine is None:
        return None
    return np.vstack([affine, [0.0, 0.0, 1.0]])


def _project(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, homography).reshape(-1, 2)


def _replace(location: PageLocation, **changes: object) -> PageLocation:
    from dataclasses import replace

    return replace(location, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- QR code


def _read_qrs(gray: np.ndarray) -> list[QrCode]:
    """Every papermode QR code in the image, with its corners (TL, TR, BR, BL) in px."""
    scale = min(1.0, DETECT_MAX_SIDE * 1.5 / max(gray.shape))
    small = (
        gray
        if scale == 1.0
        else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    codes = []
    for barcode in zxingcpp.read_barcodes(small, formats=_QR_FORMAT):
        if from_qr(barcode.text) is None:
            continue
        pos = barcode.position
        corners = np.array(
            [[p.x, p.y] for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)],
            dtype=np.float64,
        )
        codes.append(QrCode(barcode.text, corners / scale))
    return codes


def _read_qr_rectified(gray: np.ndarray, location: PageLocation) -> str | None:
    """Second try: the QR region straightened and upscaled from the full-resolution image."""
    assert location.homography is not None
    qr = frame_for(location.size_mm).qr_box
    left, top = qr.x - QR_MARGIN_MM, qr.y - QR_MARGIN_MM
    side = qr.w + 2 * QR_MARGIN_MM
    ppm = QR_RECTIFY_PX_PER_MM
    shift = np.array([[ppm, 0, -left * ppm], [0, ppm, -top * ppm], [0, 0, 1.0]])
    warp = shift @ np.linalg.inv(location.homography)
    size = int(round(side * ppm))
    crop = cv2.warpPerspective(
        gray,
        warp,
        (size, size),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    for candidate in (crop, cv2.GaussianBlur(crop, (0, 0), 1.0)):
        for barcode in zxingcpp.read_barcodes(candidate, formats=_QR_FORMAT):
            if from_qr(barcode.text) is not None:
                return barcode.text
    return None
