"""FHIR R4 pieces for the census reader: references, locations, allergies, body weights."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from functools import partial
from typing import Any, TypeVar

from papermode.census.raw import RawCensus
from papermode.core.model import Allergy, Weight

Json = dict[str, Any]
# SNOMED CT 716186003 "No known allergy" is the only code that means no allergy to anything.
NO_KNOWN_ALLERGY = {"716186003"}
# The narrower ones are printed as what they are, never as "no known allergies".
NO_KNOWN_NARROW = {
    "409137002": "No known drug allergy",
    "429625007": "No known food allergy",
    "428607008": "No known environmental allergy",
    "428197003": "No known insect allergy",
    "716184000": "No known latex allergy",
}
_NO_KNOWN_WORDS = re.compile(r"^(no known allerg(y|ies)|nka|none known)\.?$")
BODY_WEIGHT_LOINC = {"29463-7", "3141-9"}
_TO_KG = {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237, "lb": 0.45359237, "lbs": 0.45359237}


class Resources:
    """The Bundle's resources, findable by every form of reference that may point at them."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, Json, str]] = []  # (label, resource, key)
        self._keys: dict[str, str] = {}  # reference text -> key "Type/id"
        self._by_key: dict[str, Json] = {}

    def add(self, resource: Json, full_url: Any, number: int) -> None:
        kind = str(resource["resourceType"])
        rid = str(resource.get("id") or "").strip()
        url = str(full_url or "").strip()
        if not rid and url.startswith("urn:uuid:"):
            rid = url.removeprefix("urn:uuid:")
        label = f"{kind}/{rid}" if rid else f"{kind} in Bundle entry {number}"
        key = f"{kind}/{rid or f'entry-{number}'}"
        self._entries.append((label, resource, key))
        self._by_key.setdefault(key, resource)
        for reference in (key, url):
            if reference:
                self._keys.setdefault(reference, key)

    def of_type(self, kind: str) -> list[tuple[str, Json]]:
        return [(label, res) for label, res, _ in self._entries if res["resourceType"] == kind]

    def key_of(self, resource: Json) -> str:
        return next(key for _, res, key in self._entries if res is resource)

    def id_of(self, resource: Json, label: str) -> str:
        return self.key_of(resource).split("/", 1)[1]

    def resolve(self, reference: Any, kind: str) -> str | None:
        """The key ("Patient/p1") a Reference points at, if that resource is in the Bundle."""
        text = str(get(reference, "reference") or "").strip()
        if "/_history/" in text:
            text = text.split("/_history/")[0]
        candidates = [text, "/".join(text.split("/")[-2:])]
        for candidate in candidates:
            key = self._keys.get(candidate)
            if key is not None and key.startswith(kind + "/"):
                return key
        return None

    def get(self, key: str) -> Json | None:
        return self._by_key.get(key)


T = TypeVar("T")


def guarded(raw: RawCensus, label: str, build: Callable[[], T]) -> T | None:
    """`build()`, or None and a problem when the resource's structure is not FHIR R4.

    A damaged export (a string where an object belongs) must become a census problem
    naming the resource, never a crash.
    """
    try:
        return build()
    except (AttributeError, TypeError, ValueError, KeyError, IndexError):
        raw.problems.append(
            f"{label}: an element has the wrong structure for FHIR R4; export it again "
            "(or ask IT to check the export)"
        )
        return None


def reference_text(reference: Any) -> str:
    """What a Reference says, for messages: its reference, else "no reference"."""
    text = str(get(reference, "reference") or "").strip()
    return text or "no reference"


def get(node: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(node, dict) and isinstance(key, str):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
            node = node[key]
        else:
            return None
    return node


SNOMED = "http://snomed.info/sct"
# A SNOMED CT fully specified name ends in its semantic tag: "Insomnia (disorder)". The
# tag is for terminologists; printed on a form it reads as part of the indication.
_SEMANTIC_TAG = re.compile(
    r"\s+\((disorder|finding|qualifier value|procedure|substance|product|medicinal product|"
    r"clinical drug|body structure|situation|observable entity|regime/therapy|event|"
    r"morphologic abnormality|physical object)\)$"
)


def concept_text(concept: Any) -> str:
    """CodeableConcept -> its text, else the first coding display (a SNOMED CT display
    without its semantic tag), else code."""
    if not isinstance(concept, dict):
        return ""
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return concept["text"].strip()
    for key in ("display", "code"):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and str(coding.get(key) or "").strip():
                text = str(coding[key]).strip()
                if key == "display" and coding.get("system") == SNOMED:
                    text = _SEMANTIC_TAG.sub("", text) or text
                return text
    return ""


def parse_datetime(value: Any) -> datetime | None:
    """FHIR dateTime/instant -> naive local time (an offset is converted to this machine's)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0))
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment


# --------------------------------------------------------------------------- locations


Place = tuple[str, str | None, str | None, str]
# Encounter statuses of a patient who is in the hospital now, best first.
_IN_STAY = {"in-progress": 0, "onleave": 1, "arrived": 2, "triaged": 2}


def current_encounters(
    resources: Resources, raw: RawCensus
) -> tuple[dict[str, tuple[str, Json]], dict[str, str]]:
    """Patient key -> (label, Encounter) of the current stay; patient key -> why none is."""
    best: dict[str, tuple[int, str, Json]] = {}
    other: dict[str, str] = {}
    for label, encounter in resources.of_type("Encounter"):
        status = str(encounter.get("status") or "")
        patient = resources.resolve(encounter.get("subject"), "Patient")
        if patient is None:
            continue
        if status not in _IN_STAY:
            other.setdefault(
                patient,
                f"no encounter in progress ({label} is {status or 'without status'})",
            )
            continue
        rank = _IN_STAY[status]
        if patient in best and best[patient][0] == rank:
            raw.problems.append(
                f"{label}: a second current encounter for {patient} (also {best[patient][1]}); "
                "finish the old encounter in the export"
            )
        if patient not in best or rank < best[patient][0]:
            best[patient] = (rank, label, encounter)
    current = {patient: (label, encounter) for patient, (_, label, encounter) in best.items()}
    return current, {p: why for p, why in other.items() if p not in current}


def encounter_places(
    current: dict[str, tuple[str, Json]], resources: Resources, raw: RawCensus, now: datetime
) -> dict[str, Place]:
    """Patient key -> (ward, room, bed, encounter number) from the current Encounter."""
    places = {}
    for patient, (label, encounter) in current.items():
        place = guarded(raw, label, partial(_place, encounter, resources, now))
        if place is not None:
            places[patient] = place
    return places


def _place(encounter: Json, resources: Resources, now: datetime) -> Place:
    ward, room, bed = _ward_room_bed(encounter, resources, now)
    number = str(get(encounter, "identifier", 0, "value") or encounter.get("id") or "")
    return ward, room, bed, number


def _is_current_place(place: Json, now: datetime) -> bool:
    """A location the patient is in now: active (or no status), its period around now."""
    if place.get("status") not in {None, "active"}:
        return False  # planned, reserved (not yet there) or completed (left)
    start = parse_datetime(get(place, "period", "start"))
    end = parse_datetime(get(place, "period", "end"))
    return (start is None or start <= now) and (end is None or end > now)


def _ward_room_bed(
    encounter: Json, resources: Resources, now: datetime
) -> tuple[str, str | None, str | None]:
    found: dict[str, str] = {}
    unnamed: list[str] = []
    places = [p for p in encounter.get("location") or [] if isinstance(p, dict)]
    places = [p for p in places if _is_current_place(p, now)]
    # the latest move first: a history that left two active entries names the newest bed
    places.sort(key=lambda p: parse_datetime(get(p, "period", "start")) or datetime.min,
                reverse=True)  # fmt: skip
    for place in places:
        untyped: list[str] = []
        for kind, name in _location_chain(place, resources):
            if kind in {"wa", "wi", "ro", "bd"}:
                found.setdefault("wa" if kind == "wi" else kind, name)
            elif kind is None and name not in unnamed:
                untyped.append(name)
        # the chain runs from the place up its partOf parents: the outermost is the ward
        unnamed += [name for name in reversed(untyped) if name not in unnamed]
    for kind in ("wa", "ro", "bd"):  # locations without a type fill ward, room, bed in order
        if kind not in found and unnamed:
            found[kind] = unnamed.pop(0)
    return found.get("wa", ""), found.get("ro"), found.get("bd")


def _location_chain(place: Json, resources: Resources) -> list[tuple[str | None, str]]:
    chain: list[tuple[str | None, str]] = []
    key = resources.resolve(place.get("location"), "Location")
    location = resources.get(key) if key else None
    if location is None:
        name = str(get(place, "location", "display") or "").strip()
        kind = get(place, "physicalType", "coding", 0, "code")
        return [(kind, name)] if name else []
    seen: set[int] = set()  # a partOf loop in a damaged export must not hang us
    while location is not None and id(location) not in seen:
        seen.add(id(location))
        name = str(location.get("name") or "").strip()
        kind = get(location, "physicalType", "coding", 0, "code")
        if name:
            chain.append((kind, name))
        parent = resources.resolve(location.get("partOf"), "Location")
        location = resources.get(parent) if parent else None
    return chain


# --------------------------------------------------------------------------- allergies


def allergies_by_patient(resources: Resources, raw: RawCensus) -> dict[str, tuple[Allergy, ...]]:
    """Patient key -> allergies; () for "no known allergy"; absent key: not recorded."""
    found: dict[str, list[Allergy]] = {}
    for label, resource in resources.of_type("AllergyIntolerance"):
        guarded(raw, label, partial(_allergy, resource, label, resources, raw, found))
    return {patient: tuple(allergies) for patient, allergies in found.items()}


def _allergy(
    resource: Json,
    label: str,
    resources: Resources,
    raw: RawCensus,
    found: dict[str, list[Allergy]],
) -> None:
    if _codes(resource.get("verificationStatus")) & {"entered-in-error", "refuted"}:
        return
    patient = resources.resolve(resource.get("patient"), "Patient")
    if patient is None:
        raw.problems.append(
            f"{label}: its patient ({reference_text(resource.get('patient'))}) is not a "
            "Patient in this Bundle; export the patient with their allergies"
        )
        return
    allergies = found.setdefault(patient, [])
    if _is_no_known_allergy(resource.get("code")):
        return
    if _codes(resource.get("clinicalStatus")) & {"inactive", "resolved"}:
        return
    substance = _narrow_no_known(resource.get("code")) or concept_text(resource.get("code"))
    if not substance:
        raw.problems.append(f"{label}: no substance; add what the patient is allergic to")
        return
    criticality = resource.get("criticality")
    allergies.append(
        Allergy(
            substance, _reactions(resource), criticality if isinstance(criticality, str) else None
        )
    )


def _codes(concept: Any) -> set[str]:
    return {str(c.get("code")) for c in get(concept, "coding") or [] if isinstance(c, dict)}


def _is_no_known_allergy(concept: Any) -> bool:
    """Only "no known allergy" to anything; "no known drug allergy" is listed as written."""
    codes = _codes(concept)
    if codes & set(NO_KNOWN_NARROW):
        return False
    return bool(codes & NO_KNOWN_ALLERGY) or bool(
        _NO_KNOWN_WORDS.match(" ".join(concept_text(concept).lower().split()))
    )


def _narrow_no_known(concept: Any) -> str:
    return next((NO_KNOWN_NARROW[c] for c in sorted(_codes(concept)) if c in NO_KNOWN_NARROW), "")


def _reactions(resource: Json) -> str | None:
    names = [
        concept_text(manifestation)
        for reaction in resource.get("reaction") or []
        for manifestation in get(reaction, "manifestation") or []
    ]
    names = list(dict.fromkeys(n for n in names if n))
    return ", ".join(names) or None


# --------------------------------------------------------------------------- weights


def weights_by_patient(resources: Resources, raw: RawCensus) -> dict[str, Weight]:
    """Patient key -> the latest body weight (LOINC 29463-7), in kg."""
    latest: dict[str, tuple[datetime, Weight]] = {}
    for label, resource in resources.of_type("Observation"):
        guarded(raw, label, partial(_weight, resource, label, resources, raw, latest))
    return {patient: weight for patient, (_, weight) in latest.items()}


def _weight(
    resource: Json,
    label: str,
    resources: Resources,
    raw: RawCensus,
    latest: dict[str, tuple[datetime, Weight]],
) -> None:
    codes = {
        str(c.get("code")) for c in get(resource, "code", "coding") or [] if isinstance(c, dict)
    }
    if not codes & BODY_WEIGHT_LOINC or str(resource.get("status")) in {
        "entered-in-error",
        "cancelled",
    }:
        return
    patient = resources.resolve(resource.get("subject"), "Patient")
    kg = _kilograms(resource.get("valueQuantity"))
    if patient is None or kg is None:
        raw.warnings.append(f"{label}: body weight skipped (no known patient or unit)")
        return
    when = parse_datetime(
        resource.get("effectiveDateTime") or get(resource, "effectivePeriod", "start")
        or resource.get("effectiveInstant") or resource.get("issued")
    )  # fmt: skip
    moment = when or datetime.min
    if patient not in latest or moment >= latest[patient][0]:
        latest[patient] = (moment, Weight(kg, when.date() if when else None))


def _kilograms(quantity: Any) -> float | None:
    value = get(quantity, "value")
    unit = str(get(quantity, "code") or get(quantity, "unit") or "").strip()
    factor = _TO_KG.get(unit) or _TO_KG.get(unit.lower())
    if isinstance(value, bool) or not isinstance(value, int | float) or factor is None:
        return None
    return round(float(value) * factor, 2) if value > 0 else None
