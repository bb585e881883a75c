"""Read a FHIR R4 Bundle (collection, searchset, transaction, batch) into a `RawCensus`.

Resources used: Patient, Encounter (+ Location), MedicationRequest (+ Medication),
AllergyIntolerance, Observation (body weight). Every problem names the resource
(`MedicationRequest/med-12`), never patient data.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from papermode.census.fhir.dosage import ends_before, read_dosages
from papermode.census.fhir.parts import (
    Resources,
    allergies_by_patient,
    concept_text,
    current_encounters,
    encounter_places,
    get,
    guarded,
    parse_datetime,
    weights_by_patient,
)
from papermode.census.fhir.scope import OrderScope, current_mrn
from papermode.census.fhir.timing import bound_start
from papermode.census.raw import RawCensus
from papermode.core.model import Dosage, LeftOut, Order, Patient, Timing
from papermode.core.settings import Settings

BUNDLE_TYPES = {"collection", "searchset", "transaction", "batch", "document"}
Json = dict[str, Any]


def read_bundle(path: Path, settings: Settings) -> RawCensus:
    """Parse the Bundle at `path`; problems are collected in the result, never raised."""
    raw = RawCensus(source=path.name)
    bundle = _load_json(path, raw)
    if bundle is None:
        return raw
    resources = _index(bundle, raw)
    raw.taken_at = parse_datetime(bundle.get("timestamp") or get(bundle, "meta", "lastUpdated"))
    now = raw.taken_at or datetime.fromtimestamp(path.stat().st_mtime)
    current, no_stay = current_encounters(resources, raw)
    places = encounter_places(current, resources, raw, now)
    allergies = allergies_by_patient(resources, raw)
    weights = weights_by_patient(resources, raw)
    in_scope: set[str] = set()
    for label, resource in resources.of_type("Patient"):
        key = resources.key_of(resource)
        why = _patient_left_out(resource, no_stay.get(key))
        if why:
            raw.left_out.append(LeftOut(label, why, "patient"))
            continue
        patient = guarded(
            raw, label, partial(_patient, resource, label, resources, raw, settings, now)
        )
        if patient is not None:
            ward, room, bed, encounter = places.get(key, ("", None, None, None))
            patient = replace(patient, ward=ward, room=room, bed=bed, encounter=encounter,
                              allergies=allergies.get(key), weight=weights.get(key))  # fmt: skip
            raw.patients.append((label, patient))
            in_scope.add(key)
    scope = OrderScope(resources, current, in_scope, now, settings.do_not_perform == "print")
    for label, resource in resources.of_type("MedicationRequest"):
        reason = guarded(raw, label, partial(scope.left_out, resource, label, raw))
        if reason:
            raw.left_out.append(LeftOut(label, reason, "order"))
        elif reason is not None:
            order = guarded(raw, label, partial(_order, resource, label, resources, raw, settings))
            ended = ends_before(order, now) if order is not None else None
            if ended is not None:
                raw.left_out.append(
                    LeftOut(label, f"its last dose was due before {ended:%Y-%m-%d %H:%M}")
                )
            elif order is not None:
                raw.orders.append((label, order))
    return raw


def _load_json(path: Path, raw: RawCensus) -> Json | None:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raw.problems.append(f"cannot be read ({error.strerror}); check the file and its rights")
        return None
    except UnicodeDecodeError as error:
        raw.problems.append(f"byte {error.start + 1} is not UTF-8; export the Bundle as UTF-8 JSON")
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raw.problems.append(
            f"line {error.lineno} column {error.colno}: not valid JSON ({error.msg}); "
            "the export is damaged or incomplete: export it again"
        )
        return None
    kind = document.get("resourceType") if isinstance(document, dict) else type(document).__name__
    if kind != "Bundle":
        raw.problems.append(
            f"not a FHIR Bundle (resourceType is {kind!r}); export the census as a Bundle"
        )
        return None
    if str(document.get("type")) not in BUNDLE_TYPES:
        raw.problems.append(
            f"Bundle type {document.get('type')!r} cannot hold a census; "
            "export a collection, searchset or transaction Bundle"
        )
        return None
    return document


def _index(bundle: Json, raw: RawCensus) -> Resources:
    resources = Resources()
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raw.problems.append("Bundle.entry is not a list; export the Bundle again")
        return resources
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raw.problems.append(f"Bundle entry {number}: not a JSON object")
            continue
        if get(entry, "request", "method") == "DELETE" or get(entry, "search", "mode") == "outcome":
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict) or not resource.get("resourceType"):
            if get(entry, "request", "method") is None:
                raw.problems.append(f"Bundle entry {number}: no resource in it")
            continue
        resources.add(resource, entry.get("fullUrl"), number)
    return resources


# --------------------------------------------------------------------------- values


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _patient_left_out(resource: Json, no_stay: str | None) -> str:
    """Why a Patient of the export is not an inpatient to print for, or ""."""
    if resource.get("deceasedBoolean") is True or resource.get("deceasedDateTime"):
        return "the patient is recorded as deceased"
    if resource.get("active") is False:
        return "the patient record is not active"
    return no_stay or ""


def _patient(
    resource: Json, label: str, resources: Resources, raw: RawCensus, settings: Settings,
    now: datetime,
) -> Patient:  # fmt: skip
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    official = [n for n in names if n.get("use") in {"official", "usual"}]
    name = (official or names or [{}])[0]
    given = " ".join(str(g) for g in name.get("given") or [] if g)
    born = resource.get("birthDate")
    if isinstance(born, str) and born.strip() and _parse_date(born) is None:
        raw.warnings.append(
            f"{label}: the birth date is not a full date (only a year, or a year and "
            "month); the forms print no birth date: check the patient's identity on the "
            "wristband"
        )  # an R4 date may be "1947" or "1947-11": never printed as a made-up day; the
        # message never holds the date itself (it may be read over a shoulder)
    return Patient(
        patient_id=resources.id_of(resource, label),
        mrn=current_mrn(resource, label, raw, settings, now),
        family=str(name.get("family") or "").strip(),
        given=given.strip()
        or (str(name.get("text") or "").strip() if not name.get("family") else ""),
        birth_date=_parse_date(resource.get("birthDate")),
        sex=resource.get("gender"),
    )


# --------------------------------------------------------------------------- orders


def _order(
    resource: Json, label: str, resources: Resources, raw: RawCensus, settings: Settings
) -> Order | None:
    patient = resources.resolve(resource.get("subject"), "Patient")
    assert patient is not None  # OrderScope left out orders of unknown patients
    anchor = parse_datetime(resource.get("authoredOn")) or bound_start(
        get(resource, "dispenseRequest", "validityPeriod", "start")
    )
    reading = read_dosages(resource, label, settings, anchor, raw.taken_at)
    not_to_give = resource.get("doNotPerform") is True
    # An order NOT to give has no schedule to print: its dosage only names what not to give,
    # so a timing or dose the MAR could not schedule does not refuse the census.
    raw.problems += [] if not_to_give else reading.problems
    medication = _medication(resource, resources)
    dosages: tuple[Dosage, ...] = ()
    if reading.as_needed:
        dose_value, dose_unit, dose_max = reading.prn_dose
        timing = reading.prn_timing
    else:
        dosages = tuple(reading.dosages)
        first = dosages[0] if dosages else None
        dose_value, dose_unit, dose_max = (
            (first.dose_value, first.dose_unit, first.dose_max) if first else (None, None, None)
        )
        timing = _order_timing(dosages)
    return Order(
        order_id=resources.id_of(resource, label),
        patient_id=patient.split("/", 1)[1],
        medication=medication,
        dose_value=dose_value,
        dose_unit=dose_unit,
        route=reading.route,
        timing=timing,
        as_needed=reading.as_needed,
        indication=reading.indication,
        max_per_period=reading.max_per_period,
        authored_on=parse_datetime(resource.get("authoredOn")),
        requester=str(get(resource, "requester", "display") or "").strip() or None,
        note="; ".join(reading.instructions + reading.dosage_text) or None,
        dosages=dosages if len(dosages) > 1 else (),
        instructions=tuple(reading.instructions),
        # MedicationRequest.note: the prescriber's comments, printed in full after the SIG
        dosage_text=tuple(dict.fromkeys((*reading.dosage_text, *_notes(resource)))),
        dose_max=dose_max,
        rate=reading.rate,
        calculated_rate=reading.calculated_rate,
        continuous=reading.continuous,
        do_not_perform=not_to_give,
    )


def _notes(resource: Json) -> list[str]:
    """MedicationRequest.note[].text (Annotation), each on one line."""
    notes = [get(note, "text") for note in resource.get("note") or []]
    return [" ".join(note.split()) for note in notes if isinstance(note, str) and note.strip()]


def _order_timing(dosages: tuple[Dosage, ...]) -> Timing | None:
    """The order column's timing: the dosage's own, or every dosage's label joined."""
    if len(dosages) <= 1:
        return dosages[0].timing if dosages else None
    labels = list(dict.fromkeys(d.timing.label for d in dosages if d.timing.label))
    return Timing(code=" + ".join(labels)) if labels else None


def _medication(resource: Json, resources: Resources) -> str:
    """The medicine's name: its code's text, else the reference's display, else ingredients."""
    text = concept_text(resource.get("medicationCodeableConcept"))
    reference = resource.get("medicationReference")
    if text or not isinstance(reference, dict):
        return text
    target = str(reference.get("reference") or "")
    medication: Json | None = None
    if target.startswith("#"):
        medication = next(
            (c for c in resource.get("contained") or []
             if isinstance(c, dict) and c.get("id") == target[1:]), None,
        )  # fmt: skip
    else:
        key = resources.resolve(reference, "Medication")
        medication = resources.get(key) if key else None
    return (
        concept_text(get(medication, "code"))
        or str(reference.get("display") or "").strip()
        or _ingredients(medication)
    )


def _ingredients(medication: Json | None) -> str:
    """ "Potassium chloride 20 mEq/1 L + Water 1 L" from Medication.ingredient."""
    parts = []
    for ingredient in get(medication, "ingredient") or []:
        name = (
            concept_text(get(ingredient, "itemCodeableConcept"))
            or str(get(ingredient, "itemReference", "display") or "").strip()
        )
        strength = _ratio_text(get(ingredient, "strength"))
        if name:
            parts.append(f"{name} {strength}".strip())
    return " + ".join(parts)


def _ratio_text(ratio: Any) -> str:
    def amount(quantity: Any) -> str:
        value = get(quantity, "value")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return ""
        unit = str(get(quantity, "unit") or get(quantity, "code") or "").strip()
        return f"{value:g} {unit}".strip()

    top, bottom = amount(get(ratio, "numerator")), amount(get(ratio, "denominator"))
    return f"{top}/{bottom}" if top and bottom else top
