"""Free photos at capture time: screens and paper notes become text, links and candidates.

Called for page images that are not papermode forms (no markers, no QR) and for files
ingested with `--kind screen|note`. Everything found here is for review: a medication line
read from a photo never becomes an order or an administration by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from papermode.core.errors import PapermodeError
from papermode.core.model import Snapshot
from papermode.free.medlines import (
    Difference,
    MedicationCandidate,
    census_lexicon,
    compare_with_snapshot,
    extract_medication_lines,
)
from papermode.free.patientlink import PatientLink, link_patient
from papermode.free.photo import FreeText, read_free_photo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FreeRead:
    """What a free photo says, or why its text could not be read."""

    kind: str
    free_text: FreeText | None = None
    link: PatientLink | None = None
    candidates: tuple[MedicationCandidate, ...] = ()
    differences: tuple[Difference, ...] = ()
    problem: str | None = None


FREE_PHOTO_SECONDS = 20.0  # default of the setting `ocr.free_photo_seconds`
NO_TEXT = (
    "no text was found in this photo (it looks like noise or a blank surface): if it shows a "
    "screen or a note, photograph it again, closer and sharp"
)
# "Is this text at all", before Tesseract: text on a screen or paper is edges (busy tiles)
# on a plain background (blank tiles). Measured on 40 synthetic screen and note photos:
# busy >= 0.09 and blank >= 0.54 of the tiles; noise, a blank wall, a blurred surface have
# no busy tile or no blank one.
TILE_PX = 24
BLANK_STD, BUSY_STD = 6.0, 20.0
MIN_BUSY_SHARE, MIN_BLANK_SHARE = 0.02, 0.1


def looks_like_text(pixels: np.ndarray) -> bool:
    """A fast test (~20 ms) that the image may hold text: some tiles with strong edges,
    some plain ones. Tesseract on noise can run for a minute and read nothing."""
    gray = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, 1200.0 / max(gray.shape[:2]))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small.astype(np.float32), (3, 3), 0.8)
    rows, cols = small.shape[0] // TILE_PX, small.shape[1] // TILE_PX
    if rows == 0 or cols == 0:
        return False
    tiles = small[: rows * TILE_PX, : cols * TILE_PX].reshape(rows, TILE_PX, cols, TILE_PX)
    spread = tiles.std(axis=(1, 3))
    busy, blank = float((spread >= BUSY_STD).mean()), float((spread < BLANK_STD).mean())
    return busy >= MIN_BUSY_SHARE and blank >= MIN_BLANK_SHARE


def read_free_image(
    pixels: np.ndarray,
    kind: str,
    snapshot: Snapshot | None,
    langs: Sequence[str] = ("fra", "eng"),
    *,
    seconds: float = FREE_PHOTO_SECONDS,
) -> FreeRead:
    """OCR a free photo, link it to a patient on strong evidence, extract medication lines.

    Tesseract gets at most `seconds` (the setting `ocr.free_photo_seconds`); a photo that
    holds no text at all is not given to it.
    """
    if not looks_like_text(pixels):
        logger.info("free photo (%s): no text found, not given to Tesseract", kind)
        return FreeRead(kind=kind, problem=NO_TEXT)
    try:
        free_text = read_free_photo(
            pixels,
            kind if kind in ("screen", "note") else "auto",  # type: ignore[arg-type]
            langs,
            timeout=seconds,
        )
    except PapermodeError as error:
        return FreeRead(kind=kind, problem=f"the text of this photo could not be read: {error}")
    medicines = tuple(order.medication for order in snapshot.orders) if snapshot else ()
    candidates = tuple(extract_medication_lines(free_text.lines, census_lexicon(medicines)))
    if snapshot is None:
        return FreeRead(free_text.kind, free_text, None, candidates)
    link = link_patient(free_text.text, free_text.words, snapshot)
    differences: tuple[Difference, ...] = ()
    if link.patient_id is not None and free_text.kind == "screen":
        differences = tuple(compare_with_snapshot(candidates, snapshot.orders_for(link.patient_id)))
    return FreeRead(free_text.kind, free_text, link, candidates, differences)
