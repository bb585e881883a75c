"""Where the PDF prints a box's small label ("initials", "signature du prescripteur").

The label is printed inside the box, top left, in the border grey so it survives a
photocopy and a 1-bit scan. That also makes it dark enough to look like ink, so the reader
leaves out the area given here. The PDF (printing/pdf.py) and the reader (reading/marks.py)
both take the label's size from this module.
"""

from __future__ import annotations

from papermode.core.model import Box

LABEL_SIZE_PT = 5.0
_PT_PER_MM = 72 / 25.4
_LABEL_PAD_MM = 0.6  # from the box's top-left corner to the label
_CHAR_W_EM = 0.62  # DejaVu Sans: wider than the average lower-case letter, so generous


def label_size_pt(box_h_mm: float) -> float:
    """The label's font size: 5 pt, smaller in a low box so it leaves room to write."""
    return min(LABEL_SIZE_PT, box_h_mm * _PT_PER_MM * 0.4)


def label_area(box: Box, label: str) -> Box | None:
    """The part of `box` its printed label covers (generous), or None without a label."""
    if not label:
        return None
    size_mm = label_size_pt(box.h) / _PT_PER_MM
    width = _LABEL_PAD_MM + len(label) * _CHAR_W_EM * size_mm + _LABEL_PAD_MM
    height = _LABEL_PAD_MM + 1.25 * size_mm + 0.4
    return Box(box.x, box.y, min(box.w, width), min(box.h, height))
