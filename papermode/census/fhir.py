"""Read a FHIR R4 Bundle (collection, searchset, transaction, batch) into a `RawCensus`.

Resources used: Patient, Encounter (+ Location), MedicationRequest (+ Medication),
AllergyIntolerance, Observation (body weight). Every problem names the resource
(`MedicationRequest/med-12`), never patient data.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, time
from functools import partial
from pathlib import Path
from typing import Any

from papermode.census.raw import RawCensus
from papermode.census.fhir_parts import (
    Resources,
    allergies_by_patient,
    concept_text,
    encounter_places,
    get,
    guarded,
    parse_datetime,
    reference_text,
    weights_by_patient,
)
from papermode.core.model import Order, Patient, Timing
from papermode.census.schedule import describes
from papermode.core.settings import Settings

_NOT_ORDERS = {"proposal", "plan"}
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
    places = encounter_places(resources, raw)
    allergies = allergies_by_patient(resources, raw)
    weights = weights_by_patient(resources, raw)
    for label, resource in resources.of_type("Patient"):
        patient = guarded(raw, label, partial(_patient, resource, label, resources))
        if patient is not None:
            key = f"Patient/{patient.patient_id}"
            ward, room, bed, encounter = places.get(key, ("", None, None, None))
            patient = replace(patient, ward=ward, room=room, bed=bed, encounter=encounter,
                              allergies=allergies.get(key), weight=weights.get(key))  # fmt: skip
            raw.patients.append((label, patient))
    for label, resource in resources.of_type("MedicationRequest"):
        if resource.get("status") == "active" and str(resource.get("intent")) not in _NOT_ORDERS:
            order = guarded(raw, label, partial(_order, resource, label, resources, raw, settings))
            if order is not None:
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


def _patient(resource: Json, label: str, resources: Resources) -> Patient:
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict)]
    identifiers = [i for i in identifiers if str(i.get("value") or "").strip()]
    by_type = [
        i
        for i in identifiers
        if any(c.get("code") == "MR" for c in get(i, "type", "coding") or [] if isinstance(c, dict))
    ]
    chosen = (by_type or identifiers or [{}])[0]
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    official = [n for n in names if n.get("use") in {"official", "usual"}]
    name = (official or names or [{}])[0]
    given = " ".join(str(g) for g in name.get("given") or [] if g)
    return Patient(
        patient_id=resources.id_of(resource, label),
        mrn=str(chosen.get("value") or "").strip(),
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
    if patient is None:
        raw.problems.append(
            f"{label}: its subject ({reference_text(resource.get('subject'))}) is not a "
            "Patient in this Bundle; export the patient with their orders"
        )
        return None
    dosage = get(resource, "dosageInstruction", 0)
    dosage = dosage if isinstance(dosage, dict) else {}
    dose_value, dose_unit, dose_note = _dose(dosage, label, raw)
    as_needed = bool(dosage.get("asNeededBoolean")) or "asNeededCodeableConcept" in dosage
    notes = [n for n in (dose_note, str(dosage.get("text") or "").strip()) if n]
    return Order(
        order_id=resources.id_of(resource, label),
        patient_id=patient.split("/", 1)[1],
        medication=_medication(resource, resources),
        dose_value=dose_value,
        dose_unit=dose_unit,
        route=concept_text(dosage.get("route")) or None,
        timing=_timing(dosage.get("timing"), label, raw, settings),
        as_needed=as_needed,
        indication=concept_text(dosage.get("asNeededCodeableConcept")) or None,
        max_per_period=_max_per_period(dosage.get("maxDosePerPeriod")),
        authored_on=parse_datetime(resource.get("authoredOn")),
        requester=str(get(resource, "requester", "display") or "").strip() or None,
        note="; ".join(notes) or None,
    )


def _medication(resource: Json, resources: Resources) -> str:
    text = concept_text(resource.get("medicationCodeableConcept"))
    reference = resource.get("medicationReference")
    if text or not isinstance(reference, dict):
        return text
    target = str(reference.get("reference") or "")
    if target.startswith("#"):
        for contained in resource.get("contained") or []:
            if isinstance(contained, dict) and contained.get("id") == target[1:]:
                return concept_text(contained.get("code"))
    key = resources.resolve(reference, "Medication")
    medication = resources.get(key) if key else None
    return concept_text(get(medication, "code")) or str(reference.get("display") or "").strip()


def _dose(dosage: Json, label: str, raw: RawCensus) -> tuple[float | None, str | None, str]:
    rate = get(dosage, "doseAndRate", 0) or {}
    quantity = rate.get("doseQuantity") if isinstance(rate, dict) else None
    if isinstance(quantity, dict) and "value" in quantity:
        value = quantity.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raw.problems.append(f"{label}: the dose {value!r} is not a positive number")
            return None, None, ""
        unit = str(quantity.get("unit") or quantity.get("code") or "").strip() or None
        return float(value), unit, ""
    low, high = get(rate, "doseRange", "low"), get(rate, "doseRange", "high")
    if isinstance(low, dict) or isinstance(high, dict):  # a range is printed, never scheduled
        unit = get(high, "unit") or get(low, "unit") or ""
        note = f"{get(low, 'value') or ''}-{get(high, 'value') or ''} {unit}".strip()
        return None, None, f"dose {note}"
    return None, None, ""


def _max_per_period(ratio: Any) -> str | None:
    """Ratio -> "6 doses / 24 h" (R4 has one Ratio; R5 a list of them)."""
    if isinstance(ratio, list):
        ratio = ratio[0] if ratio else None
    amount, per = get(ratio, "numerator", "value"), get(ratio, "denominator", "value")
    if not isinstance(amount, int | float) or not isinstance(per, int | float):
        return None
    unit = str(get(ratio, "numerator", "unit") or get(ratio, "numerator", "code") or "doses")
    per_unit = str(get(ratio, "denominator", "unit") or get(ratio, "denominator", "code") or "")
    return f"{amount:g} {unit} / {per:g} {per_unit}".strip()


def _timing(timing: Any, label: str, raw: RawCensus, settings: Settings) -> Timing | None:
    if not isinstance(timing, dict):
        return None
    repeat: Json = timing["repeat"] if isinstance(timing.get("repeat"), dict) else {}
    times: list[time] = []
    for text in repeat.get("timeOfDay") or []:
        try:
            times.append(time.fromisoformat(str(text)).replace(second=0))
        except ValueError:
            raw.problems.append(f"{label}: the time of day {text!r} is not HH:MM:SS")
    codes = [concept_text(timing.get("code"))]
    codes += [
        str(c.get("code") or "") for c in get(timing, "code", "coding") or [] if isinstance(c, dict)
    ]
    codes += [str(w) for w in repeat.get("when") or []]
    codes = [c.strip() for c in codes if c and c.strip()]
    known = [c for c in codes if describes(Timing(code=c), settings)]
    result = Timing(
        frequency=_number(repeat.get("frequency"), int),
        period=_number(repeat.get("period"), float),
        period_unit=repeat.get("periodUnit") if isinstance(repeat.get("periodUnit"), str) else None,
        times_of_day=tuple(sorted(set(times))),
        code=(known or codes)[0] if codes else None,
    )
    return None if result == Timing() else result


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    """A JSON number as `kind`, or None (JSON true is not 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value) if kind is float or float(value).is_integer() else None
