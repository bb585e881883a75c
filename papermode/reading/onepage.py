"""One page per photo: do the markers and the QR code found in an image belong to one page?

Pure geometry on what `locate` found (marker corners and QR corners in image pixels, a
homography layout-mm -> px). A photo may hold two pages (MAR page 1 in front, page 2 beside
it), or a QR code pasted from another page: one page's boxes must never be read under
another page's id, so anything that does not agree is a retake.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from papermode.core.pageframe import MARKER_IDS, QR_SIZE_MM, frame_for

# The RMS distance, in layout mm, between where the homography puts the marker corners and
# where they were found. Flat pages photographed or scanned fit within 0.05 mm (docs/
# reading.md); a curled page in a phone photo within ~0.5 mm. Markers of two pages side by
# side (or a folded page) leave 5 mm or more, since each 12 mm marker is then stretched or
# squeezed by the fit. 2.5 mm sits well between the two.
MAX_REPROJECTION_MM = 2.5
# The QR centre must be within this distance (layout mm) of where the page prints it, and
# its symbol's side within this fraction of the printed side: a code held beside the page,
# or one of another size pasted on it, is not the page's own.
QR_PLACE_TOLERANCE_MM = 5.0
QR_SIDE_TOLERANCE = 0.3
# The symbol (21 modules, version 1) is centred in `qr_box` with a 4-module quiet zone.
QR_SYMBOL_RATIO = 21.0 / 29.0
MAX_INSTANCES = 4  # of each marker id considered when grouping (the biggest ones)

SEVERAL_PAGES = (
    "more than one papermode page is in this photo: photograph one page per photo, "
    "flat, filling the frame"
)
NOT_ONE_PAGE = (
    "the four corner markers do not fit one flat page (two pages overlapping, or a folded "
    "page): photograph one page per photo, flat"
)
FOREIGN_QR = (
    "a QR code in this photo is not where this page prints its own (a code from another "
    "page?): photograph one page per photo, with nothing on top of it or beside it"
)
TWO_CODES = (
    "two page QR codes are on this page (a code pasted from another page?): photograph "
    "one page per photo; a page carrying a pasted code goes to a person"
)


@dataclass(frozen=True, eq=False)
class QrCode:
    """A decoded papermode QR code: its text and the symbol's TL, TR, BR, BL in image px."""

    text: str
    corners: np.ndarray


def marker_groups(found: Mapping[int, Sequence[np.ndarray]]) -> Iterator[dict[int, np.ndarray]]:
    """Every choice of one instance per marker id whose centres form a convex quadrilateral
    in the page's corner order (TL, TR, BR, BL, either orientation of the photo)."""
    if set(found) != set(MARKER_IDS.values()):
        return
    ids = sorted(found)
    choices = [list(found[i])[:MAX_INSTANCES] for i in ids]
    for combo in itertools.product(*choices):
        group = dict(zip(ids, combo, strict=True))
        if is_convex_in_order([group[MARKER_IDS[c]].mean(axis=0) for c in _ORDER]):
            yield group


_ORDER = ("top_left", "top_right", "bottom_right", "bottom_left")


def is_convex_in_order(points: Sequence[np.ndarray]) -> bool:
    """True when the points, in this order, turn the same way at every corner."""
    signs = []
    for index in range(len(points)):
        a, b, c = points[index], points[(index + 1) % 4], points[(index + 2) % 4]
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        signs.append(np.sign(cross))
    return all(sign == signs[0] and sign != 0 for sign in signs)


def qr_in_page(
    homography: np.ndarray, size_mm: tuple[float, float], code: QrCode
) -> tuple[bool, bool]:
    """(inside the page, at the page's printed QR place and size) for one decoded code."""
    to_layout = np.linalg.inv(homography)
    pts = cv2.perspectiveTransform(code.corners.reshape(-1, 1, 2).astype(np.float64), to_layout)
    corners = pts.reshape(-1, 2)
    centre = corners.mean(axis=0)
    width, height = size_mm
    inside = bool(0.0 <= centre[0] <= width and 0.0 <= centre[1] <= height)
    box = frame_for(size_mm).qr_box
    expected_centre = np.array([box.x + box.w / 2, box.y + box.h / 2])
    expected_side = QR_SIZE_MM * QR_SYMBOL_RATIO
    sides = [np.linalg.norm(corners[i] - corners[(i + 1) % 4]) for i in range(4)]
    side = float(np.mean(sides))
    placed = bool(
        np.linalg.norm(centre - expected_centre) <= QR_PLACE_TOLERANCE_MM
        and abs(side - expected_side) <= QR_SIDE_TOLERANCE * expected_side
    )
    return inside, placed and inside


def own_code(
    homography: np.ndarray | None, size_mm: tuple[float, float], codes: Sequence[QrCode]
) -> tuple[QrCode | None, str | None]:
    """The page's own QR code among `codes`, or why the photo is not one page.

    Without a homography nothing says where a code lies: one code is taken as is (the
    quality gate then asks for the missing markers), two or more are a retake.
    """
    if homography is None:
        if len(codes) > 1:
            return None, SEVERAL_PAGES
        return (codes[0] if codes else None), None
    placement = [(code, *qr_in_page(homography, size_mm, code)) for code in codes]
    inside = [code for code, is_inside, _ in placement if is_inside]
    placed = [code for code, _, is_placed in placement if is_placed]
    if len({code.text for code in inside}) > 1:
        return None, TWO_CODES
    if inside and not placed:
        return None, FOREIGN_QR
    if placed:
        return placed[0], None
    # Only codes outside the page: its own code was not decoded, another page's was.
    return None, (FOREIGN_QR if codes else None)
