"""Printed identity on a straightened page: the page id under the QR, the banner MRN.

Both are small crops of the rectified page (a few hundred pixels), read by Tesseract as
one line (psm 7) with a character whitelist: two calls per page at most, ~50 ms each.
"""

from __future__ import annotations

import logging
import re

import cv2
import numpy as np

from papermode.core.errors import InstallationError, PageIdError
from papermode.core.model import Box
from papermode.core.pageframe import frame_for
from papermode.core.pageid import ALPHABET, normalise

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
    rectified: np.ndarray, size_mm: tuple[float, float], px_per_mm: float
) -> str | None:
    """The MRN printed on the banner ("MRN 12345678"), or None when it cannot be read."""
    box = frame_for(size_mm).mrn_text_box
    text = _ocr_line(_crop(rectified, box, px_per_mm, margin_mm=0.8), MRN_CHARS + " :#")
    match = _MRN.search(text.upper())
    logger.debug("banner MRN text %s", "found" if match else "not read")  # never the MRN itself
    return match.group(1).strip("-") if match else None


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
    import pytesseract

    config = f"--psm 7 -c tessedit_char_whitelist={whitelist.replace(' ', '')}"
    try:
        return str(
            pytesseract.image_to_string(image, lang="eng", config=config, timeout=OCR_TIMEOUT_S)
        ).strip()
    except pytesseract.TesseractNotFoundError as error:
        raise InstallationError(
            "Tesseract is not installed: the printed page id cannot be read.",
            advice="Ask IT to install tesseract-ocr (`papermode doctor` gives the exact command).",
        ) from error
    except RuntimeError:  # pytesseract's timeout: treat the text as unread
        logger.info("Tesseract timed out after %s s on a printed line: unread", OCR_TIMEOUT_S)
        return ""
