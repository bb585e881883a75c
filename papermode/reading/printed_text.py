"""Printed identity on a straightened page: the page id under the QR, the banner MRN.

Both are small crops of the rectified page (a few hundred pixels), read by Tesseract as
one line (psm 7) with a character whitelist, through the in-process Tesseract API of
`free.ocr`: two calls per page at most, a few tens of milliseconds each.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from papermode.core.errors import PageIdError
from papermode.core.model import Box
from papermode.core.pageframe import frame_for
from papermode.core.pageid import ALPHABET, normalise
from papermode.free import ocr

logger = logging.getLogger(__name__)

OCR_TIMEOUT_S = 5.0
OCR_CAP_HEIGHT_PX = 32.0  # Tesseract reads capitals ~30 px tall well; smaller is faster
PAGE_ID_CHARS = ALPHABET + "OILU-"
MRN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
_MRN = re.compile(r"MRN\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{2,})")


def read_printed_page_id(
    rectified: np.ndarray, size_mm: tuple[float, float], px_per_mm: float
) -> str | None:
    """The page id printed under the QR code, OCRed and checked, or None.

    A reading that fails its check value is read again at another scale; then a single
    common OCR confusion (5/S, 2/Z, 8/B, 6/G, 0/D) may be undone, but only when exactly one
    such correction passes the check value.
    """
    box = frame_for(size_mm).page_id_text_box
    readings = []
    for cap_height in (OCR_CAP_HEIGHT_PX, OCR_CAP_HEIGHT_PX * 1.4):
        crop = _crop(rectified, box, px_per_mm, margin_mm=1.0, cap_height=cap_height)
        compact = _compact_id(_ocr_line(crop, PAGE_ID_CHARS))
        valid = _checked_id(compact)
        if valid:
            return valid
        readings.append(compact)
    corrected = {c for reading in readings for c in _one_confusion_fixed(reading)}
    logger.info("printed page id fails its check value; %d one-symbol fix(es)", len(corrected))
    return corrected.pop() if len(corrected) == 1 else None


# Comparing the printed id with the QR's: a misread costs a symbol or two (J read as 3, a
# last symbol dropped); another page's id differs in nearly all ten (40 random bits),
# so "another id" needs 8 of 10 symbols different: a garbled reading of the right id is not.
SAME_ID_MAX_EDITS = 2
OTHER_ID_MIN_EDITS = 8


def printed_id_agreement(
    rectified: np.ndarray, size_mm: tuple[float, float], px_per_mm: float, expected: str
) -> Literal["match", "mismatch", "unread"]:
    """Does the page id printed under the QR code say `expected` (the QR's id)?

    "match" when a reading is within `SAME_ID_MAX_EDITS` of it; "mismatch" when the
    readings are a valid other id, or all far from it (a QR code pasted from another page
    over the printed one); "unread" when the print says nothing clear either way.
    """
    box = frame_for(size_mm).page_id_text_box
    target = expected.replace("-", "")
    readings = []
    for cap_height in (OCR_CAP_HEIGHT_PX, OCR_CAP_HEIGHT_PX * 1.4):
        crop = _crop(rectified, box, px_per_mm, margin_mm=1.0, cap_height=cap_height)
        compact = _compact_id(_ocr_line(crop, PAGE_ID_CHARS)).translate(_OCR_TO_ID)
        if Levenshtein.distance(compact, target) <= SAME_ID_MAX_EDITS:
            return "match"
        readings.append(compact)
    if any(_checked_id(r) not in (None, expected) for r in readings):
        return "mismatch"
    legible = [r for r in readings if len(r) >= _MIN_LEGIBLE]
    if legible and all(Levenshtein.distance(r, target) >= OTHER_ID_MIN_EDITS for r in legible):
        return "mismatch"
    return "unread"


_MIN_LEGIBLE = 9
_OCR_TO_ID = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _compact_id(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _checked_id(compact: str) -> str | None:
    if len(compact) != 10:
        return None
    try:
        return normalise(f"{compact[:4]}-{compact[4:8]}-{compact[8:]}")
    except PageIdError:
        return None


def _one_confusion_fixed(compact: str) -> set[str]:
    found = set()
    for index, symbol in enumerate(compact):
        for other in _CONFUSIONS.get(symbol, ""):
            valid = _checked_id(compact[:index] + other + compact[index + 1 :])
            if valid:
                found.add(valid)
    return found


_CONFUSIONS = {
    "5": "S",
    "S": "5",
    "2": "Z",
    "Z": "2",
    "8": "B",
    "B": "8",
    "6": "G",
    "G": "6",
    "0": "DQ",
    "D": "0",
    "Q": "0",
}


def read_banner_mrn(
    rectified: np.ndarray,
    size_mm: tuple[float, float],
    px_per_mm: float,
    expected: str | None = None,
) -> str | None:
    """The MRN printed on the banner ("MRN 12345678"), or None when it cannot be read.

    Only the MRN's own box is read, binarised and scaled to Tesseract's best size. When
    the reading is not `expected` (the page's patient), it is read once more at a larger
    scale: a misread costs one more call, a right reading none.
    """
    box = frame_for(size_mm).mrn_text_box
    first = None
    for cap_height in (OCR_CAP_HEIGHT_PX, OCR_CAP_HEIGHT_PX * 1.4):
        crop = _crop(rectified, box, px_per_mm, margin_mm=0.8, cap_height=cap_height)
        match = _MRN.search(_ocr_line(crop, MRN_CHARS + " :#").upper())
        reading = match.group(1).strip("-") if match else None
        if reading is not None and (expected is None or reading == expected):
            return reading
        first = first or reading
    logger.debug("banner MRN text %s", "found" if first else "not read")  # never the MRN
    return first


def _crop(
    rectified: np.ndarray,
    box: Box,
    px_per_mm: float,
    margin_mm: float,
    cap_height: float = OCR_CAP_HEIGHT_PX,
) -> np.ndarray:
    """The box (plus a margin) binarised, scaled for Tesseract, with a white border."""
    top = max(0, int((box.y - margin_mm) * px_per_mm))
    left = max(0, int((box.x - margin_mm) * px_per_mm))
    bottom = int((box.y + box.h + margin_mm) * px_per_mm)
    right = int((box.x + box.w + margin_mm) * px_per_mm)
    crop = rectified[top:bottom, left:right]
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    if crop.size == 0:
        return np.full((10, 10), 255, np.uint8)
    scale = cap_height / max(box.h * 0.8 * px_per_mm, 1.0)
    if abs(scale - 1.0) > 0.15:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    _, binary = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.copyMakeBorder(binary, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def _ocr_line(image: np.ndarray, whitelist: str) -> str:
    try:
        return ocr.ocr_line(
            image, langs=("eng",), timeout=OCR_TIMEOUT_S, whitelist=whitelist.replace(" ", "")
        )
    except ocr.OcrError:  # a timeout: treat the text as unread
        logger.info("Tesseract timed out after %s s on a printed line: unread", OCR_TIMEOUT_S)
        return ""
