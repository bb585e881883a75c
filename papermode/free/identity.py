"""A patient's identity as a screen photo shows it: name, birth date and MRN, as read.

Used when no census export exists (docs/screen-photos.md): the identity read here is only a
suggestion for two reviewers; nothing here ever makes a patient by itself. A value that is
not found, or found twice with different readings, stays empty for a person to key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from papermode.free.patientlink import MRN_LABEL, find_dates, find_mrns

MRN_LENGTHS = set(range(5, 13))  # no census says how long an MRN is: any plausible run


@dataclass(frozen=True)
class PhotoIdentity:
    """What one photo says about its patient; None where nothing sure was read."""

    family: str | None
    given: str | None
    birth_date: str | None  # ISO yyyy-mm-dd
    mrn: str | None

    @property
    def anything(self) -> bool:
        return any((self.family, self.given, self.birth_date, self.mrn))


def read_identity(text: str) -> PhotoIdentity:
    """The identity a photo's text shows: a labelled MRN (MRN, IPP...), one birth date and
    the name written before the MRN label on the banner line ("FAMILY, Given" or "FAMILY
    Given"). Ambiguous readings are left empty, never picked."""
    labelled, _unlabelled = find_mrns(text, MRN_LENGTHS)
    dates = find_dates(text)
    family, given = _name(text)
    return PhotoIdentity(
        family=family,
        given=given,
        birth_date=next(iter(dates)).isoformat() if len(dates) == 1 else None,
        mrn=next(iter(labelled)) if len(labelled) == 1 else None,
    )


def _name(text: str) -> tuple[str | None, str | None]:
    for line in text.splitlines():
        label = re.search(r"\b" + MRN_LABEL + r"\s*[:#.]?\s*\d", line, re.IGNORECASE)
        if label is None:
            continue
        words = re.findall(r"[^\W\d_][^\W\d_'\-]*(?:[-'][^\W\d_]+)*", line[: label.start()])
        family = [w for w in words if w.isupper() and len(w) > 1]
        given = [w for w in words if not w.isupper()]
        if family and given:
            return " ".join(family), " ".join(given)
    return None, None
