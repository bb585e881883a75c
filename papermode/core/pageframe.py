"""Where the machine-readable furniture sits on every page, in millimetres.

Shared by the PDF renderer (which draws it) and the reader (which looks for it), so the
two can never disagree. Pure geometry: no OpenCV, no reportlab.

- Four ArUco markers (dictionary 4x4_50) at the corners, ids by corner.
- The QR code at the top right, inside the markers, with the page id printed under it.
- The header band (patient banner) and footer band (page i of n, snapshot time, version).
"""

from __future__ import annotations

from dataclasses import dataclass

from papermode.core.model import Box

ARUCO_DICTIONARY = "DICT_4X4_50"
MARKER_SIZE_MM = 12.0
MARKER_MARGIN_MM = 7.0  # from the paper edge to the marker's outer edge
MARKER_QUIET_MM = 2.0  # white around each marker
QR_SIZE_MM = 20.0
QR_GAP_MM = 3.0
HEADER_HEIGHT_MM = 30.0
FOOTER_HEIGHT_MM = 16.0
# Field boxes are printed thin and in this light colour so the pen stands out; the reader
# measures ink inside a box, never its border.
DROPOUT_RGB = (0.93, 0.55, 0.45)
MRN_TEXT_SIZE_PT = 11.0

MARKER_IDS = {"top_left": 0, "top_right": 1, "bottom_right": 2, "bottom_left": 3}


@dataclass(frozen=True)
class Frame:
    """The furniture of one page size."""

    width: float
    height: float

    def marker_box(self, corner: str) -> Box:
        m, s = MARKER_MARGIN_MM, MARKER_SIZE_MM
        x = m if corner.endswith("left") else self.width - m - s
        y = m if corner.startswith("top") else self.height - m - s
        return Box(x, y, s, s)

    def marker_corners(self, marker_id: int) -> list[tuple[float, float]]:
        """The marker's four corners in mm, in OpenCV's order: TL, TR, BR, BL of the marker."""
        corner = next(name for name, number in MARKER_IDS.items() if number == marker_id)
        box = self.marker_box(corner)
        return [
            (box.x, box.y),
            (box.x + box.w, box.y),
            (box.x + box.w, box.y + box.h),
            (box.x, box.y + box.h),
        ]

    @property
    def qr_box(self) -> Box:
        right = self.width - MARKER_MARGIN_MM - MARKER_SIZE_MM - QR_GAP_MM - 1.0
        return Box(right - QR_SIZE_MM, MARKER_MARGIN_MM, QR_SIZE_MM, QR_SIZE_MM)

    @property
    def page_id_text_box(self) -> Box:
        """Where the page id is printed in large monospace letters (OCR fallback for the QR)."""
        qr = self.qr_box
        return Box(qr.x - 4.0, qr.y + qr.h + 0.5, qr.w + 8.0, 5.0)

    @property
    def mrn_text_box(self) -> Box:
        """Where the banner prints "MRN <mrn>" in bold monospace (second check of identity)."""
        header = self.header
        return Box(header.x, header.y + 12.0, 70.0, 6.0)

    @property
    def header(self) -> Box:
        """The patient banner: from the left marker to the QR code."""
        left = MARKER_MARGIN_MM + MARKER_SIZE_MM + 3.0
        return Box(left, MARKER_MARGIN_MM, self.qr_box.x - 3.0 - left, HEADER_HEIGHT_MM - 4.0)

    @property
    def content(self) -> Box:
        """Where a template may put its fields and text."""
        left = MARKER_MARGIN_MM
        top = MARKER_MARGIN_MM + HEADER_HEIGHT_MM
        bottom = self.height - MARKER_MARGIN_MM - MARKER_SIZE_MM - 2.0
        return Box(left, top, self.width - 2 * left, bottom - top)

    @property
    def footer(self) -> Box:
        """Between the bottom markers: page i of n, orders-as-of time, template version."""
        left = MARKER_MARGIN_MM + MARKER_SIZE_MM + 3.0
        top = self.height - MARKER_MARGIN_MM - MARKER_SIZE_MM
        return Box(left, top, self.width - 2 * left, MARKER_SIZE_MM)


def frame_for(size_mm: tuple[float, float]) -> Frame:
    return Frame(width=size_mm[0], height=size_mm[1])
