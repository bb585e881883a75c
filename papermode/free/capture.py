"""Free photos at capture time: screens and paper notes become text, links and candidates.

Called for page images that are not papermode forms (no markers, no QR) and for files
ingested with `--kind screen|note`. Everything found here is for review: a medication line
read from a photo never becomes an order or an administration by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papermode.core.errors import PapermodeError
from papermode.free.photo import FreeText, read_free_photo
from papermode.free.medlines import (
    Difference,
    MedicationCandidate,
    census_lexicon,
    compare_with_snapshot,
    extract_medication_lines,
)
from papermode.core.model import Snapshot
from papermode.free.patientlink import PatientLink, link_patient


@dataclass(frozen=True)
class FreeRead:
    """What a free photo says, or why its text could not be read."""

    kind: str
    free_text: FreeText | None = None
    link: PatientLink | None = None
    candidates: tuple[MedicationCandidate, ...] = ()
    differences: tuple[Difference, ...] = ()
    problem: str | None = None


def read_free_image(
    pixels: np.ndarray,
    kind: str,
    snapshot: Snapshot | None,
    langs: Sequence[str] = ("fra", "eng"),
) -> FreeRead:
    """OCR a free photo, link it to a patient on strong evidence, extract medication lines."""
    try:
        free_text = read_free_photo(pixels, kind if kind in ("screen", "note") else "auto", langs)  # type: ignore[arg-type]
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
