"""Census fidelity: every FHIR order printed as prescribed, left out with its reason, or refused.

One test per shape of the FHIR R4 MedicationRequest / Dosage / Timing / Patient / Encounter /
AllergyIntolerance that the forms must print exactly or refuse by name.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from papermode.census.schedule import scheduled_doses
from papermode.census.snapshot import load_census
from papermode.core.errors import CensusError
from papermode.core.model import Allergy, Order, Snapshot
from papermode.core.settings import load_settings

MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
SS = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SS"}]}
TAKEN = "2026-11-28T06:00:00"
START = datetime(2026, 11, 28, 7, 0)  # a Saturday
ORDERED = {"coding": [{"code": "ordered"}]}
CALCULATED = {"coding": [{"code": "calculated"}]}


def patient(pid: str = "p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"type": MR, "value": f"MRN-{pid}"}],
        "name": [{"family": "Dupont", "given": ["Anne"]}],
        **extra,
    }


def encounter(pid: str = "p1", status: str = "in-progress", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": f"enc-{pid}",
        "status": status,
        "subject": {"reference": f"Patient/{pid}"},
        "location": [{"location": {"display": "Ward 1"}}, {"location": {"display": "Bed 1"}}],
        **extra,
    }


def dose(value: float, unit: str = "mg", **extra: Any) -> dict[str, Any]:
    return {"doseQuantity": {"value": value, "unit": unit}, **extra}


def dosage(repeat: dict[str, Any] | None = None, *rates: dict[str, Any], **extra: Any) -> Any:
    entry: dict[str, Any] = {"timing": {"repeat": repeat or {"timeOfDay": ["08:00:00"]}}}
    entry["doseAndRate"] = list(rates) or [dose(1, "g")]
    return {**entry, **extra}


def med(oid: str, *dosages: dict[str, Any], pid: str = "p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": oid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": "2026-11-27T10:00:00",
        "medicationCodeableConcept": {"text": "Metoprolol"},
        "dosageInstruction": list(dosages) or [dosage()],
        **extra,
    }


def bundle(tmp_path: Path, *resources: dict[str, Any]) -> Path:
    document = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": TAKEN,
        "entry": [{"resource": r} for r in resources],
    }
    path = tmp_path / "census.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load(tmp_path: Path, *resources: dict[str, Any]) -> Snapshot:
    return load_census(bundle(tmp_path, *resources))


def problems(tmp_path: Path, *resources: dict[str, Any]) -> list[str]:
    with pytest.raises(CensusError) as caught:
        load(tmp_path, *resources)
    return caught.value.problems


def doses(order: Order, hours: int = 24, start: datetime = START) -> list[tuple[str, str]]:
    found = scheduled_doses(order, start, start + timedelta(hours=hours), load_settings())
    return [(d.scheduled_at.strftime("%a %d %H:%M"), d.dose_text) for d in found]


def only_order(tmp_path: Path, *dosages: dict[str, Any], **extra: Any) -> Order:
    snapshot = load(tmp_path, patient(), encounter(), med("m1", *dosages, **extra))
    assert [o.order_id for o in snapshot.orders] == ["m1"]
    return snapshot.orders[0]


# --------------------------------------------------------------------------- scope: orders


def test_orders_out_of_scope_are_left_out_with_their_reason(tmp_path: Path) -> None:
    old_encounter = {**encounter(status="finished"), "id": "enc-old"}
    snapshot = load(
        tmp_path,
        patient(),
        encounter(),
        old_encounter,
        med("given"),
        med("stopped", status="stopped"),
        med("plan", intent="plan"),
        med("proposal", intent="proposal"),
        med("original", intent="original-order"),
        med("not-to-give", doNotPerform=True),
        med("discharge", category=[{"coding": [{"code": "discharge"}]}]),
        med("community", category=[{"coding": [{"code": "community"}]}]),
        med("inpatient", category=[{"coding": [{"code": "inpatient"}]}]),
        med("earlier-stay", encounter={"reference": "Encounter/enc-old"}),
        med("this-stay", encounter={"reference": "Encounter/enc-p1"}),
        med("expired", dispenseRequest={"validityPeriod": {"end": "2026-11-01"}}),
    )
    assert [o.order_id for o in snapshot.orders] == ["given", "original", "inpatient", "this-stay"]
    assert [item.line for item in snapshot.left_out] == [
        "MedicationRequest/stopped: left out (status is stopped, not active)",
        "MedicationRequest/plan: left out (intent is plan, not an order to give)",
        "MedicationRequest/proposal: left out (intent is proposal, not an order to give)",
        "MedicationRequest/not-to-give: left out (doNotPerform: an order NOT to give this "
        "medicine)",
        "MedicationRequest/discharge: left out (category discharge, not an inpatient order)",
        "MedicationRequest/community: left out (category community, not an inpatient order)",
        "MedicationRequest/earlier-stay: left out (of Encounter/enc-old, not the patient's "
        "current encounter)",
        "MedicationRequest/expired: left out (its validity period ended (2026-11-01))",
    ]


def test_an_order_whose_every_dose_ended_long_ago_is_left_out(tmp_path: Path) -> None:
    ended = dosage({"frequency": 1, "period": 1, "periodUnit": "d",
                    "boundsPeriod": {"start": "2015-01-16", "end": "2015-01-20"}})  # fmt: skip
    snapshot = load(tmp_path, patient(), encounter(), med("m1"), med("old", ended))
    assert [o.order_id for o in snapshot.orders] == ["m1"]
    assert snapshot.left_out[0].line == (
        "MedicationRequest/old: left out (its last dose was due before 2015-01-21 00:00)"
    )


def test_an_encounter_not_in_the_bundle_is_refused_not_guessed(tmp_path: Path) -> None:
    order = med("m1", encounter={"reference": "Encounter/elsewhere"})
    assert problems(tmp_path, patient(), encounter(), order) == [
        "MedicationRequest/m1: its encounter (Encounter/elsewhere) is not in this Bundle; "
        "export that encounter with the order"
    ]


def test_no_intent_is_refused(tmp_path: Path) -> None:
    order = med("m1")
    del order["intent"]
    assert problems(tmp_path, patient(), encounter(), order) == [
        "MedicationRequest/m1: no intent; R4 requires one (order for an order)"
    ]


# --------------------------------------------------------------------------- scope: patients


def test_deceased_and_discharged_patients_are_left_out_with_their_orders(tmp_path: Path) -> None:
    snapshot = load(
        tmp_path,
        patient("p1"),
        encounter("p1"),
        patient("dead", deceasedDateTime="2026-11-27T23:10:00"),
        encounter("dead"),
        patient("gone"),
        encounter("gone", status="finished"),
        patient("inactive", active=False),
        encounter("inactive"),
        med("m1"),
        med("m-dead", pid="dead"),
    )
    assert [p.patient_id for p in snapshot.patients] == ["p1"]
    assert [item.line for item in snapshot.left_out] == [
        "Patient/dead: left out (the patient is recorded as deceased)",
        "Patient/gone: left out (no encounter in progress (Encounter/enc-gone is finished))",
        "Patient/inactive: left out (the patient record is not active)",
        "MedicationRequest/m-dead: left out (its patient Patient/dead is left out)",
    ]
    assert all(item.kind == "patient" for item in snapshot.left_out[:3])
    for item in snapshot.left_out:  # resource ids only, never patient data
        assert "Dupont" not in item.line and "MRN" not in item.line


def test_a_census_with_no_patient_in_scope_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, patient(deceasedBoolean=True), encounter(), med("m1"))
    assert found == [
        "no patient to print for (2 left out: see below); check that this is the right export",
        "Patient/p1: left out (the patient is recorded as deceased)",
    ]
    with pytest.raises(CensusError, match="no patient to print for"):
        load(tmp_path)


def test_mrn_is_the_current_identifier_typed_mr_only(tmp_path: Path) -> None:
    identifiers = [
        {"type": SS, "value": "123-45-6789"},
        {"type": MR, "use": "old", "value": "OLD-1"},
        {"type": MR, "value": "ENDED-2", "period": {"end": "2020-01-01"}},
        {"type": MR, "use": "official", "value": "CURRENT-3"},
    ]
    snapshot = load(tmp_path, patient(identifier=identifiers), encounter())
    assert snapshot.patients[0].mrn == "CURRENT-3"
    only_ssn = [{"type": SS, "value": "123-45-6789"}, {"type": MR, "use": "old", "value": "X"}]
    assert problems(tmp_path, patient(identifier=only_ssn), encounter()) == [
        "Patient/p1: no MRN; every patient needs the hospital's record number"
    ]
    two = [{"type": MR, "value": "A-1"}, {"type": MR, "value": "B-2"}]
    assert problems(tmp_path, patient(identifier=two), encounter())[0].startswith(
        "Patient/p1: 2 current MRN identifiers"
    )


def test_mrn_system_setting_chooses_the_hospital_s_identifier(tmp_path: Path) -> None:
    from dataclasses import replace

    from papermode.census.fhir.bundle import read_bundle

    identifiers = [
        {"type": MR, "system": "https://other.example/mrn", "value": "OTHER-1"},
        {"system": "https://ehr.example.org/mrn", "value": "OURS-2"},
    ]
    path = bundle(tmp_path, patient(identifier=identifiers), encounter())
    settings = replace(load_settings(), mrn_system="https://ehr.example.org/mrn")
    raw = read_bundle(path, settings)
    assert [p.mrn for _, p in raw.patients] == ["OURS-2"]


def test_current_bed_comes_from_the_active_location_of_now(tmp_path: Path) -> None:
    history = [
        {"location": {"display": "Bed 7 (yesterday)"}, "status": "completed",
         "physicalType": {"coding": [{"code": "bd"}]}},
        {"location": {"display": "Bed 9 (moved out)"}, "status": "active",
         "period": {"start": "2026-11-25T08:00:00", "end": "2026-11-27T18:00:00"}},
        {"location": {"display": "Bed 12 (tomorrow)"}, "status": "planned"},
        {"location": {"display": "Bed 11 (older)"}, "status": "active",
         "period": {"start": "2026-11-20T08:00:00"}},
        {"location": {"display": "Bed 14 (now)"}, "status": "active",
         "period": {"start": "2026-11-27T18:00:00"}},
    ]  # fmt: skip
    ward = {"location": {"display": "Ward 5"}, "physicalType": {"coding": [{"code": "wa"}]}}
    for place in history:
        place.setdefault("physicalType", {"coding": [{"code": "bd"}]})
    snapshot = load(tmp_path, patient(), encounter(location=[ward, *history]))
    assert (snapshot.patients[0].ward, snapshot.patients[0].bed) == ("Ward 5", "Bed 14 (now)")


def allergy(code: str | None, text: str | None = None, **extra: Any) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code:
        concept["coding"] = [{"system": "http://snomed.info/sct", "code": code}]
    if text:
        concept["text"] = text
    return {
        "resourceType": "AllergyIntolerance",
        "id": f"a-{code or text}",
        "patient": {"reference": "Patient/p1"},
        "code": concept,
        **extra,
    }


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([allergy("716186003")], ()),
        ([allergy(None, "No known allergies")], ()),
        ([allergy("409137002")], (Allergy("No known drug allergy"),)),
        ([allergy("429625007")], (Allergy("No known food allergy"),)),
        ([allergy(None, "No known latex allergy")], (Allergy("No known latex allergy"),)),
        ([allergy(None, "NKDA")], (Allergy("NKDA"),)),
        (
            [allergy(None, "Penicillin", verificationStatus={"coding": [{"code": "refuted"}]})],
            None,
        ),
        (
            [allergy(None, "Latex", verificationStatus={"coding": [{"code": "entered-in-error"}]})],
            None,
        ),
    ],
)
def test_no_known_allergy_only_from_the_codes_that_mean_it(
    tmp_path: Path, records: list[dict[str, Any]], expected: Any
) -> None:
    snapshot = load(tmp_path, patient(), encounter(), *records)
    assert snapshot.patients[0].allergies == expected


# --------------------------------------------------------------------------- every dosage


def test_a_split_dose_gives_each_time_its_own_dose(tmp_path: Path) -> None:
    order = only_order(
        tmp_path,
        dosage({"timeOfDay": ["08:00:00"]}, dose(200)),
        dosage({"timeOfDay": ["20:00:00"]}, dose(400)),
    )
    assert doses(order) == [("Sat 28 08:00", "200 mg"), ("Sat 28 20:00", "400 mg")]
    assert order.dose_text == "200 mg 08:00; 400 mg 20:00"


def test_insulin_before_each_meal_three_doses(tmp_path: Path) -> None:
    order = only_order(
        tmp_path,
        dosage({"when": ["ACM"], "offset": 10}, dose(10, "U")),
        dosage({"when": ["ACD"]}, dose(15, "U")),
        dosage({"when": ["ACV"]}, dose(20, "U")),
    )
    assert doses(order) == [
        ("Sat 28 07:50", "10 units"),  # breakfast 08:00, 10 min before
        ("Sat 28 11:30", "15 units"),  # lunch 12:00, before_meal_minutes 30
        ("Sat 28 17:30", "20 units"),
    ]


def test_several_when_events_each_give_a_dose(tmp_path: Path) -> None:
    order = only_order(tmp_path, dosage({"when": ["MORN", "EVE"]}))
    assert doses(order) == [("Sat 28 08:00", "1 g"), ("Sat 28 18:00", "1 g")]
    order = only_order(tmp_path, dosage({"when": ["PCM", "HS"], "offset": 15}))
    assert doses(order) == [("Sat 28 08:15", "1 g"), ("Sat 28 22:15", "1 g")]
    order = only_order(tmp_path, dosage({"when": ["AC"], "frequency": 3, "period": 1,
                                          "periodUnit": "d"}))  # fmt: skip
    assert [at for at, _ in doses(order)] == ["Sat 28 07:30", "Sat 28 11:30", "Sat 28 17:30"]


def test_count_is_counted_from_the_start_never_repeated_each_day(tmp_path: Path) -> None:
    single = dosage({"count": 1, "boundsPeriod": {"start": "2026-11-28T09:00:00"}})
    assert doses(only_order(tmp_path, single), hours=72) == [("Sat 28 09:00", "1 g")]
    three = dosage({"count": 3, "frequency": 1, "period": 1, "periodUnit": "d",
                    "boundsPeriod": {"start": "2026-11-27"}})  # fmt: skip
    # day 1 (the 27th) was before the period: the 28th and the 29th remain, not the 30th
    assert doses(only_order(tmp_path, three), hours=72) == [
        ("Sat 28 08:00", "1 g"),
        ("Sun 29 08:00", "1 g"),
    ]


def test_a_count_with_no_start_is_refused(tmp_path: Path) -> None:
    order = med("m1", dosage({"count": 2, "frequency": 1, "period": 1, "periodUnit": "d"}))
    del order["authoredOn"]
    assert problems(tmp_path, patient(), encounter(), order) == [
        "MedicationRequest/m1 dosageInstruction[0]: count 2 has no start: add "
        "boundsPeriod.start (or authoredOn) so doses already given are not printed again"
    ]


def test_bounds_keep_doses_inside_the_order_s_period(tmp_path: Path) -> None:
    period = {"start": "2026-11-28T12:00:00", "end": "2026-11-29"}
    bounded = dosage({"timeOfDay": ["08:00:00", "20:00:00"], "boundsPeriod": period})
    assert doses(only_order(tmp_path, bounded), hours=72) == [
        ("Sat 28 20:00", "1 g"),
        ("Sun 29 08:00", "1 g"),  # a date-only end includes its whole day
        ("Sun 29 20:00", "1 g"),
    ]
    lasting = dosage({"timeOfDay": ["08:00:00"], "boundsDuration": {"value": 2, "code": "d"}})
    # two days from authoredOn 2026-11-27T10:00, so up to the 29th at 10:00
    assert doses(only_order(tmp_path, lasting), hours=72) == [
        ("Sat 28 08:00", "1 g"),
        ("Sun 29 08:00", "1 g"),
    ]


def test_day_of_week_prints_only_on_those_days(tmp_path: Path) -> None:
    monday = dosage({"timeOfDay": ["09:00:00"], "dayOfWeek": ["mon", "thu"]})
    assert doses(only_order(tmp_path, monday), hours=24 * 7) == [
        ("Mon 30 09:00", "1 g"),
        ("Thu 03 09:00", "1 g"),
    ]


def test_event_only_timing_is_printed_at_its_times(tmp_path: Path) -> None:
    once = {"timing": {"event": ["2026-11-28T15:30:00"]}, "doseAndRate": [dose(2, "g")]}
    assert doses(only_order(tmp_path, once)) == [("Sat 28 15:30", "2 g")]


def test_tapering_steps_each_with_their_bounds(tmp_path: Path) -> None:
    order = only_order(
        tmp_path,
        dosage({"timeOfDay": ["08:00:00"], "boundsDuration": {"value": 2, "code": "d"}},
               dose(40), sequence=1),
        dosage({"timeOfDay": ["08:00:00"], "boundsDuration": {"value": 2, "code": "d"}},
               dose(20), sequence=2),
        dosage({"timeOfDay": ["08:00:00"], "boundsDuration": {"value": 2, "code": "d"}},
               dose(10), sequence=3),
    )  # fmt: skip
    # authored 27th 10:00: 40 mg to the 29th 10:00, 20 mg to the 1st, 10 mg to the 3rd
    assert doses(order, hours=24 * 7) == [
        ("Sat 28 08:00", "40 mg"),
        ("Sun 29 08:00", "40 mg"),
        ("Mon 30 08:00", "20 mg"),
        ("Tue 01 08:00", "20 mg"),
        ("Wed 02 08:00", "10 mg"),
        ("Thu 03 08:00", "10 mg"),
    ]


def test_tapering_steps_without_bounds_are_refused(tmp_path: Path) -> None:
    order = med("m1", dosage(sequence=1), dosage(sequence=2))
    found = problems(tmp_path, patient(), encounter(), order)
    assert found == [
        f"MedicationRequest/m1 dosageInstruction[{n}]: step {n + 1} of a multi-step order has "
        "no bounds; give each step a boundsPeriod or boundsDuration"
        for n in (0, 1)
    ]


def test_dose_range_is_printed_as_a_range(tmp_path: Path) -> None:
    ranged = dosage(None, {"doseRange": {"low": {"value": 5, "unit": "mg"},
                                         "high": {"value": 10, "unit": "mg"}}})  # fmt: skip
    order = only_order(tmp_path, ranged)
    assert order.dose_text == "5-10 mg"
    assert doses(order) == [("Sat 28 08:00", "5-10 mg")]


def test_ordered_dose_wins_over_the_calculated_one(tmp_path: Path) -> None:
    both = dosage(None, dose(5, "mg/kg", type=CALCULATED), dose(350, "mg", type=ORDERED))
    assert only_order(tmp_path, both).dose_text == "350 mg"
    untyped = dosage(None, dose(5, "mg/kg"), dose(350, "mg"))
    assert problems(tmp_path, patient(), encounter(), med("m1", untyped)) == [
        "MedicationRequest/m1 dosageInstruction[0]: doseAndRate has 2 entries and not one of "
        "type 'ordered'; send the ordered dose with type 'ordered'"
    ]


@pytest.mark.parametrize(
    "rate",
    [
        {"rateQuantity": {"value": 18, "unit": "mL/h"}},
        {"rateRatio": {"numerator": {"value": 100, "unit": "mL"},
                       "denominator": {"value": 1, "unit": "h"}}},
        {"rateRange": {"low": {"value": 1, "unit": "U/h"}, "high": {"value": 4, "unit": "U/h"}}},
    ],
)  # fmt: skip
def test_a_rate_on_a_daily_time_with_no_duration_is_refused_not_printed_as_ticks(
    tmp_path: Path, rate: dict[str, Any]
) -> None:
    """Continuous infusions print as infusion bands (tests/test_census_infusions.py)."""
    heparin = dosage(None, {**dose(25000, "U"), **rate})
    assert problems(tmp_path, patient(), encounter(), med("m1", heparin)) == [
        "MedicationRequest/m1 dosageInstruction[0]: an infusion given on a schedule needs "
        "timing.repeat.duration (how long each dose runs, e.g. 1 h); add it, or send a "
        "continuous infusion without a frequency"
    ]


def test_instructions_are_carried_on_the_order(tmp_path: Path) -> None:
    entry = dosage(
        {"timeOfDay": ["08:00:00"], "duration": 1, "durationUnit": "h"},
        text="Metoprolol 25 mg at 08:00",
        patientInstruction="Take with water",
        additionalInstruction=[{"text": "hold if heart rate < 55"}],
    )
    order = only_order(tmp_path, {"text": "withhold if WBC < 15,000/µL"}, entry)
    assert order.instructions == (
        "withhold if WBC < 15,000/µL",
        "hold if heart rate < 55",
        "Take with water",
        "over 1 h",
    )
    assert order.dosage_text == ("Metoprolol 25 mg at 08:00",)


@pytest.mark.parametrize(
    ("repeat", "problem"),
    [
        ({"frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d"},
         "a range of frequencies (frequencyMax) cannot be scheduled on a MAR"),
        ({"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"},
         "a range of periods (periodMax) cannot be scheduled on a MAR"),
        ({"count": 2, "countMax": 4, "frequency": 1, "period": 1, "periodUnit": "d"},
         "a range of counts (countMax) cannot be scheduled on a MAR"),
        ({"frequency": 1, "period": 1, "periodUnit": "mo"},
         "periodUnit 'mo' cannot be scheduled on a MAR"),
        ({"timeOfDay": ["08:00:00"], "when": ["MORN"]},
         "the timing gives both timeOfDay and when (R4 rule tim-10)"),
        ({"frequency": 1, "period": 8, "periodUnit": "h", "offset": 30},
         "an offset needs a when event (R4 rule tim-9)"),
        ({"when": ["BREAKFAST"]}, "when BREAKFAST is not an R4 EventTiming code"),
        ({"when": ["MORN", "EVE"], "frequency": 1, "period": 1, "periodUnit": "d"},
         "frequency 1 per 1 d contradicts the 2 time(s) a day it lists"),
        ({"dayOfWeek": ["monday"], "timeOfDay": ["08:00:00"]}, "dayOfWeek monday is not mon..sun"),
    ],
)  # fmt: skip
def test_shapes_the_mar_cannot_show_are_refused(
    tmp_path: Path, repeat: dict[str, Any], problem: str
) -> None:
    found = problems(tmp_path, patient(), encounter(), med("m1", dosage(repeat)))
    assert any(p.startswith(f"MedicationRequest/m1 dosageInstruction[0]: {problem}") for p in found)


def test_frequency_ranges_are_fine_on_an_as_needed_order(tmp_path: Path) -> None:
    prn = dosage({"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"},
                 asNeededCodeableConcept={"text": "pain"})  # fmt: skip
    order = only_order(tmp_path, prn)
    assert order.as_needed and order.indication == "pain" and doses(order) == []


def test_text_only_first_entry_with_a_structured_second(tmp_path: Path) -> None:
    order = only_order(tmp_path, {"text": "Take one tablet daily as directed"}, dosage())
    assert doses(order) == [("Sat 28 08:00", "1 g")]
    assert order.instructions == ("Take one tablet daily as directed",)


def test_a_scheduled_order_with_no_dose_is_a_problem(tmp_path: Path) -> None:
    no_dose = {"timing": {"repeat": {"timeOfDay": ["08:00:00"]}}}
    assert problems(tmp_path, patient(), encounter(), med("m1", no_dose)) == [
        "MedicationRequest/m1 dosageInstruction[0]: a scheduled dosage with no dose; add "
        "doseAndRate.doseQuantity",
    ]


def test_medication_name_from_display_or_ingredients(tmp_path: Path) -> None:
    contained = {
        "resourceType": "Medication",
        "id": "kcl",
        "ingredient": [
            {"itemCodeableConcept": {"text": "Potassium chloride"},
             "strength": {"numerator": {"value": 20, "unit": "mEq"},
                          "denominator": {"value": 1, "unit": "L"}}},
            {"itemCodeableConcept": {"text": "Sodium chloride 0.9%"}},
        ],
    }  # fmt: skip
    reference = {"reference": "#kcl", "display": "KCl 20 mEq in 1L NS"}
    by_display = med("m1", medicationReference=reference, contained=[contained])
    by_ingredients = med("m2", medicationReference={"reference": "#kcl"}, contained=[contained])
    for order in (by_display, by_ingredients):
        del order["medicationCodeableConcept"]
    snapshot = load(tmp_path, patient(), encounter(), by_display, by_ingredients)
    assert [o.medication for o in snapshot.orders] == [
        "KCl 20 mEq in 1L NS",
        "Potassium chloride 20 mEq/1 L + Sodium chloride 0.9%",
    ]


def test_timing_code_and_repeat_times_must_agree(tmp_path: Path) -> None:
    agreed = {"timing": {"code": {"text": "nightly"}, "repeat": {"when": ["HS"]}},
              "doseAndRate": [dose(10)]}  # fmt: skip
    assert doses(only_order(tmp_path, agreed)) == [("Sat 28 22:00", "10 mg")]
    clash = {"timing": {"code": {"text": "nightly"}, "repeat": {"when": ["MORN"]}},
             "doseAndRate": [dose(10)]}  # fmt: skip
    assert problems(tmp_path, patient(), encounter(), med("m1", clash)) == [
        "MedicationRequest/m1 dosageInstruction[0]: timing.code nightly and the repeat's "
        "times give different times; send one of them"
    ]


def test_meal_times_are_settings(tmp_path: Path) -> None:
    settings_file = tmp_path / "hospital.toml"
    settings_file.write_text(
        '[schedule.meals]\nbreakfast = "07:00"\nlunch = "12:30"\ndinner = "19:00"\n'
        "[schedule.meal_minutes]\nbefore = 15\n",
        encoding="utf-8",
    )
    settings = load_settings(settings_file)
    order = only_order(tmp_path, dosage({"when": ["ACM", "CD", "PCV"]}))
    found = scheduled_doses(
        order, START - timedelta(hours=1), START + timedelta(hours=23), settings
    )
    assert [d.scheduled_at.time() for d in found] == [time(6, 45), time(12, 30), time(19, 30)]


# --------------------------------------------------------------------------- units, routes


def test_unknown_units_and_routes_are_refused_by_order(tmp_path: Path) -> None:
    typo = med("m1", dosage(None, dose(5, "mgg"), route={"text": "intrathecal-ish"}))
    assert problems(tmp_path, patient(), encounter(), typo) == [
        "MedicationRequest/m1: the dose unit 'mgg' is not known (UCUM units such as mg, mL, "
        "[iU], or their usual spellings); correct it, or add it to [census] units in the "
        "settings",
        "MedicationRequest/m1: the route 'intrathecal-ish' is not known (SNOMED CT routes, "
        "PO, IV, SC, IM...); correct it, or add it to [census] routes in the settings",
    ]


@pytest.mark.parametrize(
    ("unit", "route"),
    [
        ("mg", {"text": "PO"}),
        ("mcg", {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]}),
        ("[iU]", {"coding": [{"display": "Subcutaneous route (qualifier value)"}]}),
        ("TAB", {"text": "sous-cutanée"}),
        ("units", {"text": "IV"}),
    ],
)
def test_usual_units_and_routes_are_accepted(
    tmp_path: Path, unit: str, route: dict[str, Any]
) -> None:
    order = only_order(tmp_path, dosage(None, dose(2, unit), route=route))
    assert order.dose_unit == unit


def test_hospital_units_and_routes_are_settings(tmp_path: Path) -> None:
    from dataclasses import replace

    from papermode.census.vocabulary import known_route, known_unit

    settings = replace(load_settings(), census_units=("flapule",), census_routes=("PEJ-tube",))
    assert known_unit("Flapule", settings) and not known_unit("flapule", load_settings())
    assert known_route("pej-tube", settings) and not known_route("pej-tube", load_settings())


def test_csv_orders_follow_the_same_unit_and_route_rules(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(
        "patient_id,mrn,family,given,ward\np1,M1,Dupont,Anne,Ward 1\n", encoding="utf-8"
    )
    (tmp_path / "orders.csv").write_text(
        "order_id,patient_id,medication,dose,unit,route,frequency\n"
        "o1,p1,Metoprolol,25,mgg,PO,BID\n"
        "o2,p1,Metoprolol,25,mg,by-vein,BID\n"
        "o3,p1,Metoprolol,,,PO,BID\n",
        encoding="utf-8",
    )
    with pytest.raises(CensusError) as caught:
        load_census(tmp_path)
    assert [p[:40] for p in caught.value.problems] == [
        "orders.csv row 2: the dose unit 'mgg' is",
        "orders.csv row 3: the route 'by-vein' is",
        "orders.csv row 4: a scheduled order with",
    ]


def test_csv_orders_carry_instructions_bounds_days_and_refuse_rates_with_no_duration(
    tmp_path: Path,
) -> None:
    (tmp_path / "patients.csv").write_text(
        "patient_id,mrn,family,given,ward\np1,M1,Dupont,Anne,Ward 1\n", encoding="utf-8"
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,patient_id,medication,dose,unit,route,frequency,start,end,days,instructions\n"
        "o1,p1,Methotrexate,10,mg,PO,09:00,,,mon,take with food\n"
        "o2,p1,Ceftriaxone,1,g,IV,08:00,2026-11-28T12:00,2026-11-29,,\n",
        encoding="utf-8",
    )
    snapshot = load_census(tmp_path)
    first, second = snapshot.orders
    assert first.instructions == ("take with food",)
    assert doses(first, hours=24 * 7) == [("Mon 30 09:00", "10 mg")]
    assert doses(second, hours=72) == [("Sun 29 08:00", "1 g")]
    orders.write_text(
        "order_id,patient_id,medication,dose,unit,route,frequency,rate\n"
        "o1,p1,Heparin,25000,units,IV,q24h,18 mL/h\n",
        encoding="utf-8",
    )
    with pytest.raises(CensusError) as caught:
        load_census(tmp_path)
    assert caught.value.problems == [
        "orders.csv row 2: a rate with a frequency is an intermittent infusion and needs its "
        "duration (how long each dose runs: 1 h, 30 min); fill in the duration column, or leave "
        "the frequency empty for a continuous infusion"
    ]


def test_an_as_needed_order_that_ended_is_left_out(tmp_path: Path) -> None:
    ended = dosage({"frequency": 1, "period": 4, "periodUnit": "h",
                    "boundsPeriod": {"end": "2015-02-01"}}, asNeededBoolean=True)  # fmt: skip
    snapshot = load(tmp_path, patient(), encounter(), med("m1"), med("prn", ended))
    assert [o.order_id for o in snapshot.orders] == ["m1"]
    assert snapshot.left_out[0].reason == "its last dose was due before 2015-02-02 00:00"


def test_csv_orders_not_active_are_listed_as_left_out(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(
        "patient_id,mrn,family,given,ward\np1,M1,Dupont,Anne,Ward 1\n", encoding="utf-8"
    )
    (tmp_path / "orders.csv").write_text(
        "order_id,patient_id,medication,dose,unit,route,frequency,status\n"
        "o1,p1,Metoprolol,25,mg,PO,BID,active\n"
        "o2,p1,Metoprolol,50,mg,PO,BID,stopped\n",
        encoding="utf-8",
    )
    snapshot = load_census(tmp_path)
    assert [o.order_id for o in snapshot.orders] == ["o1"]
    assert [item.line for item in snapshot.left_out] == [
        "orders.csv row 3: left out (status is stopped, not active)"
    ]


def test_a_snomed_display_prints_without_its_semantic_tag() -> None:
    """A PRN indication coded in SNOMED CT with its fully specified name printed
    "Insomnia (disorder)"; the tag is for terminologists, not for the form."""
    from papermode.census.fhir.parts import concept_text

    coded = {"coding": [{"system": "http://snomed.info/sct", "code": "193462001",
                         "display": "Insomnia (disorder)"}]}  # fmt: skip
    assert concept_text(coded) == "Insomnia"
    other = {"coding": [{"system": "http://example.org/local", "display": "Pain (finding)"}]}
    assert concept_text(other) == "Pain (finding)"  # only SNOMED CT has these tags
    assert concept_text({"text": "insomnie", **coded}) == "insomnie"  # the text comes first
