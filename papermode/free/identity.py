"""A patient's identity as a screen photo shows it: name, birth date and MRN, as read; and,
where the screen shows them under their label, room, bed and allergies.

Used when no census export exists (docs/screen-photos.md): the identity read here is only a
suggestion for two reviewers; nothing here ever makes a patient by itself. A value that is
not found, or found twice with different readings, stays empty for a person to key. A screen
with no allergy line says nothing about allergies: "unknown", never "no known allergies".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from papermode.core.model import Allergy
from papermode.free.patientlink import MRN_LABEL, find_dates, find_mrns

MRN_LENGTHS = set(range(5, 13))  # no census says how long an MRN is: any plausible run
NONE_KNOWN = "none known"  # the proposed value of a screen that says "no known allergies"
NOT_SHOWN = "-"  # a reviewer's answer: the screen does not show it (the review's NO_VALUE)

_ROOM = re.compile(r"\b(?:room|chambre|ch\.|kamer)\s*[:#n°.]*\s*([A-Z0-9][A-Z0-9\-]{0,5})\b",
                   re.IGNORECASE)  # fmt: skip
_BED = re.compile(r"\b(?:bed|lit)\s*[:#n°.]*\s*([A-Z0-9]{1,3})\b", re.IGNORECASE)
_ALLERGY_LINE = re.compile(
    r"\b(?:allergies|allergie\(s\)|allergieën|allergieen|allergie|allergy)\s*[:\-]\s*(.*)$",
    re.IGNORECASE,
)
_NONE_WORDS = re.compile(
    r"^(?:none(?: known)?|nka|nkda|no known (?:drug )?allerg\w*|aucune(?: allergie)?(?: "
    r"connue)?|geen(?: bekende allergie\w*)?|pas d'allergie(?: connue)?)\.?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PhotoIdentity:
    """What one photo says about its patient; None where nothing sure was read.

    `shown` names the optional parts (room, bed, allergies) whose label is on the photo:
    only those become review items."""

    family: str | None
    given: str | None
    birth_date: str | None  # ISO yyyy-mm-dd
    mrn: str | None
    room: str | None = None
    bed: str | None = None
    allergies: str | None = None  # "Penicillin; Latex", or NONE_KNOWN
    shown: frozenset[str] = frozenset()

    @property
    def anything(self) -> bool:
        return any((self.family, self.given, self.birth_date, self.mrn))


def read_identity(text: str) -> PhotoIdentity:
    """The identity a photo's text shows: a labelled MRN (MRN, IPP...), one birth date and
    the name written before the MRN label on the banner line ("FAMILY, Given" or "FAMILY
    Given"); a labelled room, bed and allergy line. Ambiguous readings are left empty,
    never picked."""
    labelled, _unlabelled = find_mrns(text, MRN_LENGTHS)
    dates = find_dates(text)
    family, given = _name(text)
    rooms = {m.upper() for m in _ROOM.findall(text)}
    beds = {m.upper() for m in _BED.findall(text)}
    allergy_lines = [m.group(1) for line in text.splitlines() if (m := _ALLERGY_LINE.search(line))]
    allergies = {_allergy_value(line) for line in allergy_lines}
    shown = {"room": bool(rooms), "bed": bool(beds), "allergies": bool(allergy_lines)}
    return PhotoIdentity(
        family=family,
        given=given,
        birth_date=next(iter(dates)).isoformat() if len(dates) == 1 else None,
        mrn=next(iter(labelled)) if len(labelled) == 1 else None,
        room=next(iter(rooms)) if len(rooms) == 1 else None,
        bed=next(iter(beds)) if len(beds) == 1 else None,
        allergies=next(iter(allergies)) if len(allergies) == 1 else None,
        shown=frozenset(part for part, found in shown.items() if found),
    )


def _allergy_value(line: str) -> str | None:
    """The allergy line as a proposal: substances joined by "; " (reactions in brackets
    dropped), NONE_KNOWN for "none known" wordings, None when nothing follows the label."""
    words = line.strip().strip(".")
    if not words:
        return None
    if _NONE_WORDS.match(words):
        return NONE_KNOWN
    substances = [re.sub(r"\(.*?\)", "", part).strip(" .") for part in re.split(r"[,;]", words)]
    return "; ".join(s for s in substances if s) or None


def allergies_of(value: str | None) -> tuple[Allergy, ...] | None:
    """Allergies as two reviewers confirmed them: None (unknown, printed "NOT RECORDED")
    for no answer or NOT_SHOWN, () only for an explicit NONE_KNOWN, else the substances."""
    if value is None or value.strip() in ("", NOT_SHOWN):
        return None
    if value.strip().casefold() == NONE_KNOWN:
        return ()
    substances = [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    return tuple(Allergy(substance) for substance in substances) or None


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
