"""`papermode prepare --from-photos`: a census made of what two reviewers confirmed on
photos of screens, then the normal prepare path (docs/screen-photos.md).

Rules (a wrong order on a printed MAR is given as printed):
- a patient exists only when two reviewers confirmed the family name, given name, birth
  date and MRN read on a photo (review/proposals.py); otherwise the photo's lines print
  nothing with a name, and the refusal names the photo;
- room, bed and allergies are printed only as two reviewers confirmed them on a photo that
  shows them; otherwise they are unknown (allergies "NOT RECORDED", never "no known
  allergies", which only an explicit "none known" confirmed by two people gives); two
  photos of one patient that disagree on one of them leave it unknown;
- an order is printed only when every part (drug, dose, unit, route, frequency, times) is
  decided by two reviewers; a part called unreadable or still open keeps the whole order
  off the forms, listed with why;
- photos naming one MRN with different names or birth dates print nothing for that MRN;
- every page says "from photos of screens, confirmed by X and Y".
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path

from papermode.census.snapshot import is_high_alert
from papermode.core.errors import NothingConfirmedError
from papermode.core.model import Order, Patient, Snapshot, Timing
from papermode.core.settings import Settings, load_settings
from papermode.free.identity import allergies_of
from papermode.printing.layout.provenance import FROM_PHOTOS
from papermode.printing.prepare import PrepareResult, print_snapshot
from papermode.review.items import QueueItem
from papermode.review.proposals import (
    IDENTITY_PARTS,
    LOCATION_PARTS,
    NO_VALUE,
    ORDER_PARTS,
    PHOTO_PREFIX,
    PROPOSAL_PREFIX,
    screen_photos,
)
from papermode.review.queue import build_queue
from papermode.store.database import Store, open_store

logger = logging.getLogger(__name__)
DECIDED = ("confirmed", "corrected")


@dataclass(frozen=True)
class LeftOff:
    """Something on a photo that is not printed, and why (never patient data)."""

    file: str
    what: str  # "patient" or "order, line N"
    reason: str

    @property
    def line(self) -> str:
        return f"{self.file}: {self.what} not printed: {self.reason}"


@dataclass(frozen=True)
class PhotoCensus:
    """The snapshot built from confirmed photos, and everything left off it."""

    snapshot: Snapshot
    reviewers: tuple[str, ...]
    left_off: tuple[LeftOff, ...]


def photo_census(
    store: Store,
    *,
    ward: str = "",
    now: datetime | None = None,
    settings: Settings | None = None,
) -> PhotoCensus:
    """The census confirmed on photos of screens (docs/screen-photos.md); orders of the
    `[high_alert]` medicines are marked as a census export's would be."""
    settings = settings or load_settings()
    items = [i for i in build_queue(store, include_decided=True) if _from_photo(i)]
    by_photo: dict[str, list[QueueItem]] = {}
    for item in items:
        by_photo.setdefault(str(item.capture_id), []).append(item)
    left: list[LeftOff] = []
    patients: dict[str, Patient] = {}
    orders: list[Order] = []
    reviewers: set[str] = set()
    for photo in screen_photos(store):
        if photo["capture_id"] not in by_photo:
            left.append(
                LeftOff(
                    Path(photo["file_name"] or "").name,
                    "patient",
                    "no name or MRN was read on this photo; it creates no patient",
                )
            )
    for capture_id, photo_items in by_photo.items():
        file = Path(photo_items[0].file or capture_id).name  # the clerk's name for it
        patient = _patient(photo_items, ward, left, file)
        if patient is None:
            continue
        known = patients.setdefault(patient.mrn, patient)
        if _identity(known) == _identity(patient) and known != patient:
            patients[patient.mrn] = _merged(known, patient, left, file)
        elif known != patient:
            left.append(
                LeftOff(
                    file,
                    "patient",
                    "another photo shows this MRN with a "
                    "different name or birth date; correct one of them",
                )
            )
            patients[patient.mrn] = _conflict(known)
            continue
        reviewers.update(_reviewers(i for i in photo_items if i.kind == "photo_identity"))
        for line, parts in _lines(photo_items).items():
            order = _order(parts, patient.patient_id, f"{capture_id}-{line}", file, line, left)
            if order is not None:
                orders.append(order)
                reviewers.update(_reviewers(parts.values()))
    kept = {p.patient_id for p in patients.values() if p.mrn}
    named = tuple(p for p in patients.values() if p.patient_id in kept)
    orders = [
        replace(o, high_alert=is_high_alert(o, settings)) for o in orders if o.patient_id in kept
    ]
    return PhotoCensus(
        _snapshot(named, orders, reviewers, now), tuple(sorted(reviewers)), tuple(left)
    )


def provenance_line(reviewers: Sequence[str]) -> str:
    """'from photos of screens, confirmed by X and Y' (every page prints it)."""
    names = list(reviewers)
    who = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
    return f"{FROM_PHOTOS}, confirmed by {who}"


def prepare_from_photos(
    store_path: Path,
    out_dir: Path,
    *,
    ward: str,
    start: datetime | None,
    hours: int,
    lang: str,
    paper: str,
    settings_path: Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[PrepareResult, PhotoCensus]:
    """Print the forms of the census confirmed on photos (`prepare --from-photos`)."""
    settings = load_settings(settings_path)
    with open_store(store_path) as store:
        census = photo_census(store, ward=ward, settings=settings)
    if not census.snapshot.orders and not census.snapshot.patients:
        raise NothingConfirmedError([item.line for item in census.left_off])
    result = print_snapshot(
        census.snapshot,
        out_dir,
        store_path,
        start=start,
        hours=hours,
        lang=lang,
        paper=paper,
        settings=settings,
        progress=progress,
    )
    logger.info(
        "prepare --from-photos: %d order(s), %d left off",
        len(census.snapshot.orders),
        len(census.left_off),
    )
    return result, census


# ---------------------------------------------------------------------- helpers


def _from_photo(item: QueueItem) -> bool:
    return item.item_id.startswith((PHOTO_PREFIX, PROPOSAL_PREFIX))


def _decided(item: QueueItem) -> str | None:
    """The value two reviewers agreed on, or None."""
    state = item.state
    if state is None or state.needed != "none" or state.outcome not in DECIDED:
        return None
    return state.value


def _reviewers(items: Iterable[QueueItem]) -> set[str]:
    return {name for item in items if item.state for name in item.state.reviewers}


def _patient(items: list[QueueItem], ward: str, left: list[LeftOff], file: str) -> Patient | None:
    parts = {i.field_id: i for i in items if i.kind == "photo_identity"}
    if not parts:
        left.append(
            LeftOff(file, "patient", "no name or MRN was read on this photo; it creates no patient")
        )
        return None
    values = {part: _decided(parts[part]) if part in parts else None for part in IDENTITY_PARTS}
    missing = [part for part, value in values.items() if not value]
    if missing:
        left.append(
            LeftOff(
                file,
                "patient",
                f"identity not confirmed by two reviewers "
                f"({', '.join(missing)}); a blank pack is printed instead",
            )
        )
        return None
    try:
        birth = date.fromisoformat(str(values["birth_date"]))
    except ValueError:
        left.append(
            LeftOff(
                file, "patient", "the birth date confirmed is not a date (type it as yyyy-mm-dd)"
            )
        )
        return None
    mrn = str(values["mrn"])
    where = {part: _decided(parts[part]) if part in parts else None for part in LOCATION_PARTS}
    waiting = [part for part in LOCATION_PARTS if part in parts and not where[part]]
    if waiting:
        left.append(LeftOff(file, ", ".join(waiting), "not confirmed by two reviewers; "
                            "printed as unknown (allergies: NOT RECORDED)"))  # fmt: skip
    return Patient(
        patient_id=f"photo-{mrn}",
        mrn=mrn,
        family=str(values["family"]),
        given=str(values["given"]),
        birth_date=birth,
        ward=ward,
        room=_shown(where["room"]),
        bed=_shown(where["bed"]),
        allergies=allergies_of(where["allergies"]),
    )


def _shown(value: str | None) -> str | None:
    return None if value is None or value.strip() in ("", NO_VALUE) else value.strip()


def _identity(patient: Patient) -> tuple[str, str, date | None]:
    return patient.family, patient.given, patient.birth_date


def _merged(known: Patient, other: Patient, left: list[LeftOff], file: str) -> Patient:
    """Two photos of one patient: a room, bed or allergy list one shows and the other does
    not is kept; one they disagree on becomes unknown (never one of them picked)."""
    facts = {}
    for part in LOCATION_PARTS:
        mine, theirs = getattr(known, part), getattr(other, part)
        if mine is None or theirs is None or mine == theirs:
            facts[part] = mine if mine is not None else theirs
        else:
            facts[part] = None
            left.append(LeftOff(file, part, "another photo of this patient shows another "
                                "value; printed as unknown until one is corrected"))  # fmt: skip
    return replace(known, **facts)


def _conflict(patient: Patient) -> Patient:
    """A patient two photos disagree about: kept out (empty MRN drops it and its orders)."""
    return Patient(patient.patient_id, "", patient.family, patient.given)


def _lines(items: list[QueueItem]) -> dict[str, dict[str, QueueItem]]:
    lines: dict[str, dict[str, QueueItem]] = {}
    for item in items:
        if item.kind == "proposed_order":
            line = item.item_id[len(PROPOSAL_PREFIX) :].rsplit(":", 2)[1]
            lines.setdefault(line, {})[str(item.field_id)] = item
    return lines


def _order(
    parts: dict[str, QueueItem],
    patient_id: str,
    order_id: str,
    file: str,
    line: str,
    left: list[LeftOff],
) -> Order | None:
    what = f"order, line {int(line) + 1}"
    values = {part: _decided(parts[part]) if part in parts else None for part in ORDER_PARTS}
    missing = [part for part, value in values.items() if not value]
    if missing:
        left.append(LeftOff(file, what, f"awaiting confirmation ({', '.join(missing)})"))
        return None
    try:
        dose = float(str(values["dose"]).replace(",", "."))
        times = _times(str(values["times"]))
    except ValueError:
        left.append(LeftOff(file, what, "the dose or times confirmed are not numbers"))
        return None
    frequency = str(values["frequency"])
    as_needed = frequency.upper() == "PRN"
    return Order(
        order_id=f"photo-{order_id}",
        patient_id=patient_id,
        medication=str(values["drug"]),
        dose_value=dose,
        dose_unit=str(values["unit"]),
        route=str(values["route"]),
        timing=Timing(code=frequency, times_of_day=() if as_needed else times),
        as_needed=as_needed,
    )


def _times(text: str) -> tuple[time, ...]:
    if text.strip() in (NO_VALUE, ""):
        return ()
    return tuple(time.fromisoformat(part.strip()) for part in text.split(",") if part.strip())


def _snapshot(
    patients: Sequence[Patient],
    orders: Sequence[Order],
    reviewers: set[str],
    now: datetime | None,
) -> Snapshot:
    taken = (now or datetime.now()).replace(second=0, microsecond=0)
    facts = repr((sorted(map(repr, patients)), sorted(map(repr, orders)), sorted(reviewers)))
    digest = hashlib.sha256(facts.encode()).hexdigest()[:12]
    source = provenance_line(sorted(reviewers)) if reviewers else FROM_PHOTOS
    return Snapshot(f"photos-{digest}", taken, source, tuple(patients), tuple(orders))
