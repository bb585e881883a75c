"""Census import: FHIR R4 Bundles and CSV files -> Snapshot, with every problem reported."""

from __future__ import annotations

import json
import os
import time as systime
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from papermode.census.schedule import scheduled_doses
from papermode.census.snapshot import load_census, sample_census_path, sample_csv_path
from papermode.core.errors import CensusError
from papermode.core.model import Allergy, Weight
from papermode.core.settings import load_settings

MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


@pytest.fixture
def brussels() -> Any:
    """Local time is Brussels time while the test runs (FHIR offsets are converted to it)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Brussels"
    systime.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    systime.tzset()


def patient(pid: str, mrn: str | None = "M1", **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": "Dupont", "given": ["Anne"]}],
    }
    if mrn is not None:
        resource["identifier"] = [{"type": MR, "value": mrn}]
    return {**resource, **extra}


def encounter(pid: str, ward: str | None = "Ward 1", bed: str = "1") -> dict[str, Any]:
    locations = [{"location": {"display": ward}}, {"location": {"display": bed}}] if ward else []
    return {
        "resourceType": "Encounter",
        "id": f"enc-{pid}",
        "status": "in-progress",
        "subject": {"reference": f"Patient/{pid}"},
        "location": locations,
    }


def med(oid: str, pid: str, timing: dict[str, Any] | None = None, **dose: Any) -> dict[str, Any]:
    dosage: dict[str, Any] = {"timing": timing or {"code": {"text": "q8h"}}}
    dosage["doseAndRate"] = [{"doseQuantity": {"value": 1, "unit": "g", **dose}}]
    return {
        "resourceType": "MedicationRequest",
        "id": oid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"text": "Paracetamol"},
        "dosageInstruction": [dosage],
    }


def nka(pid: str) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": f"nka-{pid}",
        "patient": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "716186003"}]},
    }


def weight(pid: str, oid: str, value: float, unit: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "code": unit},
    }


def write_bundle(tmp_path: Path, resources: list[dict[str, Any]], **bundle: Any) -> Path:
    document = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
        **bundle,
    }
    path = tmp_path / "census.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CensusError) as caught:
        load_census(path)
    return caught.value.problems


# --------------------------------------------------------------------------- FHIR


@pytest.mark.parametrize("kind", ["collection", "searchset", "transaction"])
def test_bundle_types_are_read(tmp_path: Path, kind: str) -> None:
    resources = [patient("p1"), encounter("p1"), med("m1", "p1"), nka("p1")]
    entries: list[dict[str, Any]] = [{"resource": r} for r in resources]
    if kind == "transaction":
        entries = [
            {
                **e,
                "fullUrl": f"urn:uuid:{e['resource']['id']}",
                "request": {"method": "POST", "url": e["resource"]["resourceType"]},
            }
            for e in entries
        ]
    if kind == "searchset":
        entries = [{**e, "search": {"mode": "match"}} for e in entries]
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": kind, "entry": entries}))
    snapshot = load_census(path)
    assert [p.patient_id for p in snapshot.patients] == ["p1"]
    assert snapshot.patients[0].ward == "Ward 1" and snapshot.patients[0].room == "1"
    assert [(o.order_id, o.patient_id, o.dose_text) for o in snapshot.orders] == [
        ("m1", "p1", "1 g")
    ]
    assert snapshot.source == "b.json"


def test_transaction_with_urn_references(tmp_path: Path) -> None:
    entries = [
        {
            "fullUrl": "urn:uuid:aaa",
            "resource": {k: v for k, v in patient("x").items() if k != "id"},
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "fullUrl": "urn:uuid:bbb",
            "request": {"method": "POST", "url": "Encounter"},
            "resource": {**encounter("x"), "subject": {"reference": "urn:uuid:aaa"}},
        },
    ]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
    snapshot = load_census(path)
    assert snapshot.patients[0].patient_id == "aaa"
    assert snapshot.patients[0].ward == "Ward 1"


def test_mrn_from_mr_type_never_another_identifier(tmp_path: Path) -> None:
    typed = patient("p1", identifier=[{"value": "SSN-1"}, {"type": MR, "value": "MRN-7"}])
    untyped = patient("p2", identifier=[{"value": "FIRST-9"}, {"value": "SECOND"}])
    path = write_bundle(tmp_path, [typed, encounter("p1")])
    assert {p.patient_id: p.mrn for p in load_census(path).patients} == {"p1": "MRN-7"}
    path = write_bundle(tmp_path, [typed, untyped, encounter("p1"), encounter("p2", bed="2")])
    assert problems_of(path) == [
        "Patient/p2: no MRN; every patient needs the hospital's record number"
    ]


def test_latest_weight_wins_and_units_convert(tmp_path: Path) -> None:
    resources = [
        patient("p1"),
        encounter("p1"),
        weight("p1", "w1", 80, "kg", "2026-01-01T08:00:00Z"),
        weight("p1", "w2", 72500, "g", "2026-03-01T08:00:00Z"),
        weight("p1", "w3", 70, "kg", "2026-02-01T08:00:00Z"),
        patient("p2", "M2"),
        encounter("p2", bed="2"),
        weight("p2", "w4", 165, "[lb_av]", "2026-03-02"),
    ]
    snapshot = load_census(write_bundle(tmp_path, resources))
    assert snapshot.patient("p1").weight == Weight(72.5, date(2026, 3, 1))
    assert snapshot.patient("p2").weight == Weight(74.84, date(2026, 3, 2))


def test_allergies_not_recorded_none_and_listed(tmp_path: Path) -> None:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "criticality": "high",
        "patient": {"reference": "Patient/p3"},
        "code": {"text": "Penicillin"},
        "reaction": [{"manifestation": [{"text": "hives"}, {"text": "wheeze"}]}],
    }
    resources = [
        patient("p1", "M1"),
        encounter("p1"),
        nka("p2"),
        patient("p2", "M2"),
        encounter("p2", bed="2"),
        patient("p3", "M3"),
        encounter("p3", bed="3"),
        allergy,
    ]
    snapshot = load_census(write_bundle(tmp_path, resources))
    assert snapshot.patient("p1").allergies is None
    assert snapshot.patient("p2").allergies == ()
    assert snapshot.patient("p3").allergies == (Allergy("Penicillin", "hives, wheeze", "high"),)
    assert (
        "Patient/p1: allergy information not recorded; the forms print "
        "'allergies: NOT RECORDED'" in snapshot.warnings
    )
    assert "Patient/p1: no body weight recorded; the forms leave it blank" in snapshot.warnings


def test_order_details_prn_max_and_medication_reference(tmp_path: Path) -> None:
    order = med("m1", "p1", timing={"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}})
    order.pop("medicationCodeableConcept")
    order["contained"] = [
        {
            "resourceType": "Medication",
            "id": "c1",
            "code": {"coding": [{"display": "Morphine 2 mg/mL"}]},
        }
    ]
    order["medicationReference"] = {"reference": "#c1"}
    order["authoredOn"] = "2026-03-01T10:00:00"
    order["requester"] = {"display": "Dr X"}
    dosage = order["dosageInstruction"][0]
    dosage["doseAndRate"] = [{"doseQuantity": {"value": 2, "unit": "mg"}}]
    dosage["route"] = {"coding": [{"display": "Intravenous route"}]}
    dosage["asNeededCodeableConcept"] = {"text": "pain"}
    dosage["maxDosePerPeriod"] = {
        "numerator": {"value": 6},
        "denominator": {"value": 24, "unit": "h"},
    }
    snapshot = load_census(write_bundle(tmp_path, [patient("p1"), encounter("p1"), order]))
    (result,) = snapshot.orders
    assert result.medication == "Morphine 2 mg/mL" and result.dose_text == "2 mg"
    assert result.route == "Intravenous route" and result.as_needed and result.indication == "pain"
    assert result.max_per_period == "6 doses / 24 h" and result.high_alert
    assert result.authored_on == datetime(2026, 3, 1, 10, 0) and result.requester == "Dr X"


def test_only_active_orders_are_kept(tmp_path: Path) -> None:
    stopped = {**med("m2", "p1"), "status": "stopped"}
    on_hold = {**med("m3", "p1"), "status": "on-hold"}
    path = write_bundle(
        tmp_path, [patient("p1"), encounter("p1"), med("m1", "p1"), stopped, on_hold]
    )
    assert [o.order_id for o in load_census(path).orders] == ["m1"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    resources = [
        patient("p1", mrn=None),
        encounter("p1"),
        patient("p2", "DUP"),
        encounter("p2", bed="2"),
        patient("p3", "DUP"),
        encounter("p3", bed="3"),
        patient("p4", "M4"),  # no encounter: no ward
        med("med-12", "p2", unit=""),
        med("med-13", "p99"),
        med("med-14", "p2", timing={"code": {"text": "when the moon is full"}}),
    ]
    resources[7]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {"value": 5}
    assert problems_of(write_bundle(tmp_path, resources)) == [
        "MedicationRequest/med-13: its subject (Patient/p99) is not a Patient in this Bundle; "
        "export the patient with their orders",
        "Patient/p1: no MRN; every patient needs the hospital's record number",
        "Patient/p3: same MRN as Patient/p2; each patient needs their own MRN",
        "Patient/p4: no ward; add the ward the patient is in",
        "MedicationRequest/med-12: the dose 5 has no unit; add the unit (mg, g, mL, units...)",
        "MedicationRequest/med-14: the timing 'when the moon is full' is not known; use a "
        "standard code (q4h, q6h, q8h, q12h, BID, TID, QID, daily, nightly), times like "
        "08:00;20:00, or add it to [schedule.aliases] in the settings",
    ]


def test_error_message_carries_no_patient_data(tmp_path: Path) -> None:
    bundle = json.loads(sample_census_path().read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "MedicationRequest":
            resource["subject"] = {"reference": "Patient/gone"}
    path = tmp_path / "ward.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CensusError) as caught:
        load_census(path)
    message = str(caught.value)
    assert "44 problems in the census; no forms were printed." in message
    for word in ("Lambert", "Hélène", "30018842", "1948", "Müller", "Ødegaard"):
        assert word not in message


def test_unreadable_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"resourceType": "Bundle",\n "type": "collection",\n "entry": [\n', "utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith("line 4 column 1: not valid JSON (")
    assert problem.endswith("the export is damaged or incomplete: export it again")


def test_a_resource_that_is_not_a_bundle(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(patient("p1")), encoding="utf-8")
    assert problems_of(path) == [
        "not a FHIR Bundle (resourceType is 'Patient'); export the census as a Bundle"
    ]
    with pytest.raises(CensusError) as caught:
        load_census(path)
    assert caught.value.exit_code == 3 and str(caught.value).startswith("p.json: 1 problem")


def test_taken_at_from_bundle_timestamp_else_file_time(tmp_path: Path, brussels: Any) -> None:
    resources = [patient("p1"), encounter("p1")]
    stamped = write_bundle(tmp_path, resources, timestamp="2026-03-29T01:30:00Z")
    assert load_census(stamped).taken_at == datetime(2026, 3, 29, 3, 30)  # CEST after the switch
    bare = write_bundle(tmp_path, resources)
    os.utime(bare, (1_700_000_000, 1_700_000_000))
    assert load_census(bare).taken_at == datetime(2023, 11, 14, 23, 13, 20)


def test_snapshot_id_is_stable_and_follows_content(tmp_path: Path) -> None:
    first = load_census(write_bundle(tmp_path, [patient("p1"), encounter("p1")]))
    again = load_census(write_bundle(tmp_path, [patient("p1"), encounter("p1")]))
    other = load_census(write_bundle(tmp_path, [patient("p1"), encounter("p1", bed="9")]))
    assert first.snapshot_id == again.snapshot_id != other.snapshot_id
    assert len(first.snapshot_id) == 12


def test_high_alert_words_across_languages(tmp_path: Path) -> None:
    names = {
        "a": ("Insuline Lantus", "SC"),
        "b": ("HÉPARINE sodique", "SC"),
        "c": ("Morfine 10 mg", "PO"),
        "d": ("Chlorure de potassium 1 g", "IV"),
        "e": ("Potassium chloride 600 mg", "PO"),
        "f": ("Paracetamol", "PO"),
        "g": ("Sinsulinex", "PO"),
    }
    resources = [patient("p1"), encounter("p1")]
    for oid, (name, route) in names.items():
        order = med(oid, "p1")
        order["medicationCodeableConcept"] = {"text": name}
        order["dosageInstruction"][0]["route"] = {"text": route}
        resources.append(order)
    flags = {
        o.order_id: o.high_alert for o in load_census(write_bundle(tmp_path, resources)).orders
    }
    assert flags == {"a": True, "b": True, "c": True, "d": True, "e": False, "f": False, "g": False}


# --------------------------------------------------------------------------- CSV

PATIENTS = (
    "patient_id,mrn,family,given,birth_date,sex,ward,room,bed,weight_kg,allergies_recorded\n"
    'p1,M1,Dupont,Anne,1950-02-03,female,Ward 1,10,A,"61,5",yes\n'
    "p2,M2,Martin,Luc,14/03/1960,male,Ward 1,9,B,,no\n"
)
ORDERS = (
    "order_id,patient_id,medication,dose,unit,route,frequency,as_needed,indication\n"
    "o1,p1,Paracetamol,1,g,PO,q6h,no,\n"
    "o2,p2,Morphine,2 mg,,IV,q4h PRN,,pain\n"
    "o3,p2,Furosemide,40,mg,PO,08:00;14:00,no,\n"
)


def write_csv(folder: Path, name: str, text: str, delimiter: str = ",", bom: bool = False) -> Path:
    folder.mkdir(exist_ok=True)
    if delimiter == ";":
        text = text.replace(";", "|").replace(",", ";").replace('"61;5"', '"61,5"')
        text = text.replace("|", ",").replace("08:00,14:00", '"08:00;14:00"')
    path = folder / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (";", True), (";", False)])
def test_csv_census_comma_semicolon_bom(tmp_path: Path, delimiter: str, bom: bool) -> None:
    folder = tmp_path / "export"
    patients_csv = write_csv(folder, "patients.csv", PATIENTS, delimiter, bom)
    write_csv(folder, "orders.csv", ORDERS, delimiter, bom)
    for path in (folder, patients_csv):
        snapshot = load_census(path)
        assert [p.patient_id for p in snapshot.patients] == ["p2", "p1"]  # room 9 before 10
        first = snapshot.patient("p1")
        assert (first.weight, first.allergies) == (Weight(61.5), ())
        assert snapshot.patient("p2").allergies is None
        assert snapshot.patient("p2").birth_date == date(1960, 3, 14)
        orders = {o.order_id: o for o in snapshot.orders}
        assert (
            orders["o2"].as_needed and orders["o2"].dose_text == "2 mg" and orders["o2"].high_alert
        )
        assert orders["o3"].timing is not None and orders["o3"].timing.label == "08:00 14:00"
        assert "patients.csv row 3: no body weight recorded; the forms leave it blank" in (
            snapshot.warnings
        )


def test_csv_allergy_rows_and_no_known(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_csv(folder, "patients.csv", PATIENTS.replace(",no\n", ",yes\n"))
    write_csv(folder, "orders.csv", ORDERS)
    write_csv(
        folder,
        "allergies.csv",
        "patient_id,substance,reaction,criticality\n"
        "p2,Penicillin,rash,high\np1,No known allergies,,\n",
    )
    snapshot = load_census(folder)
    assert snapshot.patient("p2").allergies == (Allergy("Penicillin", "rash", "high"),)
    assert snapshot.patient("p1").allergies == ()


def test_csv_problems_name_rows(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_csv(folder, "patients.csv", PATIENTS + "p3,M1,Peeters,Jan,,,,,,,maybe\n")
    write_csv(
        folder,
        "orders.csv",
        ORDERS + "o4,p99,Aspirin,75,mg,PO,daily,,\no5,p1,Heparin,5000,,SC,q7x,,\n",
    )
    assert problems_of(folder) == [
        "patients.csv row 4: allergies_recorded must be yes or no, not 'maybe'",
        "orders.csv row 5: order o4 refers to patient p99, who is not in patients.csv",
        "patients.csv row 4: same MRN as patients.csv row 2; each patient needs their own MRN",
        "patients.csv row 4: no ward; add the ward the patient is in",
        "orders.csv row 6: the dose 5000 has no unit; add the unit (mg, g, mL, units...)",
        "orders.csv row 6: the timing 'q7x' is not known; use a standard code (q4h, q6h, q8h, "
        "q12h, BID, TID, QID, daily, nightly), times like 08:00;20:00, or add it to "
        "[schedule.aliases] in the settings",
    ]


def test_csv_missing_file_column_and_encoding(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_csv(folder, "patients.csv", "patient_id,family,given\np1,A,B\n")
    assert problems_of(folder) == [
        "patients.csv: no column mrn, ward in the header row",
        "orders.csv: missing; export it beside patients.csv",
    ]
    (folder / "patients.csv").write_bytes(PATIENTS.replace("Dupont", "Lef\xe8vre").encode("cp1252"))
    write_csv(folder, "orders.csv", ORDERS)
    assert problems_of(folder) == [
        'patients.csv line 2: not UTF-8 text; save the file as "CSV UTF-8"'
    ]


# --------------------------------------------------------------------------- sample ward


def test_sample_ward_loads_both_ways_to_equivalent_snapshots(brussels: Any) -> None:
    settings = load_settings()
    fhir, table = load_census(sample_census_path()), load_census(sample_csv_path())
    assert fhir.patients == table.patients
    assert len(fhir.patients) == 12 and len({p.ward for p in fhir.patients}) == 2
    assert len(fhir.orders) == len(table.orders) >= 40
    start = datetime(2026, 11, 28, 7, 0)
    for mine, theirs in zip(fhir.orders, table.orders, strict=True):
        assert replace(mine, timing=None) == replace(theirs, timing=None)
        assert scheduled_doses(mine, start, start + timedelta(hours=48), settings) == (
            scheduled_doses(theirs, start, start + timedelta(hours=48), settings)
        )
    assert fhir.taken_at == datetime(2026, 11, 28, 6, 0)


def test_sample_ward_covers_what_the_forms_need() -> None:
    snapshot = load_census(sample_census_path())
    counts = [len(snapshot.orders_for(p.patient_id)) for p in snapshot.patients]
    assert max(counts) >= 14
    assert sum(o.as_needed for o in snapshot.orders) >= 4
    assert sum(o.high_alert for o in snapshot.orders) >= 5
    allergies = [p.allergies for p in snapshot.patients]
    assert None in allergies and () in allergies and any(a for a in allergies)
    assert sum(p.weight is None for p in snapshot.patients) == 1
    beds = [(p.ward, p.room, p.bed) for p in snapshot.patients]
    assert beds == sorted(beds)


def test_damaged_resources_are_problems_not_crashes(tmp_path: Path) -> None:
    broken_order = med("m1", "p1", timing={"repeat": {"timeOfDay": 8}})
    odd_order = med("m2", "p1")
    odd_order["dosageInstruction"] = ["1 g q8h"]
    broken_patient = {**patient("p2", "M2"), "name": "Jan Peeters"}
    resources = [patient("p1"), encounter("p1"), broken_order, odd_order, broken_patient]
    resources.append(encounter("p2"))
    assert problems_of(write_bundle(tmp_path, resources)) == [
        "MedicationRequest/m1: an element has the wrong structure for FHIR R4; export it again "
        "(or ask IT to check the export)",
        "MedicationRequest/m2: dosageInstruction[0] is not an object",
        "Patient/p2: no patient name; add the family and given names",
    ]


def test_folder_or_any_csv_of_the_census_is_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_csv(folder, "Patients.CSV", PATIENTS)
    orders_csv = write_csv(folder, "orders.csv", ORDERS)
    assert len(load_census(orders_csv).orders) == 3
    json_folder = tmp_path / "fhir"
    json_folder.mkdir()
    write_bundle(json_folder, [patient("p1"), encounter("p1")])
    assert load_census(json_folder).source == "census.json"


def test_csv_taken_at_is_the_newest_file_time(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    patients_csv = write_csv(folder, "patients.csv", PATIENTS)
    orders_csv = write_csv(folder, "orders.csv", ORDERS)
    os.utime(patients_csv, (1_700_000_000, 1_700_000_000))
    os.utime(orders_csv, (1_700_003_600, 1_700_003_600))
    expected = datetime.fromtimestamp(1_700_003_600)
    assert load_census(folder).taken_at == expected


def test_excel_sep_line_and_row_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_csv(
        folder, "patients.csv", "sep=;\n" + PATIENTS.replace(",", ";").replace("61;5", "61,5")
    )
    write_csv(folder, "orders.csv", ORDERS + "o9,p7,Aspirin,75,mg,PO,daily,,\n")
    assert problems_of(folder) == [
        "orders.csv row 5: order o9 refers to patient p7, who is not in patients.csv"
    ]
    write_csv(folder, "orders.csv", ORDERS)
    assert load_census(folder).patient("p1").weight == Weight(61.5)
