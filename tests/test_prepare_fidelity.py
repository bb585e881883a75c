"""`prepare` and census fidelity: what is left out is said, instructions print, old forms stay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from test_census_fidelity import dosage, dose, encounter, med, patient
from test_pdf import pdf_text

from papermode.cli.main import main

START = "2026-11-28T07:00"


def write_bundle(path: Path, *resources: dict[str, Any], timestamp: str = "2026-11-28T06:00:00"):
    document = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timestamp,
        "entry": [{"resource": r} for r in resources],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def prepare(tmp: Path, census: Path, *extra: str):
    return CliRunner().invoke(
        main,
        ["prepare", str(census), "--out", str(tmp / "forms"), "--store", str(tmp / "pm.db"),
         "--start", START, "--hours", "24", *extra],
        catch_exceptions=False,
    )  # fmt: skip


def ward_of(patient_id: str = "p1") -> dict[str, Any]:
    return {
        **patient(patient_id),
        "name": [{"family": "Martin", "given": ["Louise"]}],
    }


def test_left_out_orders_are_listed_and_instructions_printed(tmp_path: Path) -> None:
    held = dosage(
        {"timeOfDay": ["08:00:00"]},
        dose(25),
        additionalInstruction=[{"text": "hold if heart rate < 55"}],
    )
    split = med(
        "m-split",
        dosage({"timeOfDay": ["08:00:00"]}, dose(200)),
        dosage({"timeOfDay": ["20:00:00"]}, dose(400)),
        medicationCodeableConcept={"text": "Carbamazepine"},
    )
    census = write_bundle(
        tmp_path / "census.json",
        ward_of(),
        encounter(),
        med("m-held", held),
        split,
        med("m-stopped", status="stopped"),
        med("m-not", doNotPerform=True),
    )
    result = prepare(tmp_path, census)
    assert result.exit_code == 0, result.output
    assert "Warning: MedicationRequest/m-stopped: left out (status is stopped, not active)" in (
        result.output
    )
    assert (
        "Warning: MedicationRequest/m-not: left out (doNotPerform: an order NOT to give this "
        "medicine)" in result.output
    )
    text = pdf_text(tmp_path / "forms" / "ward-ward-1.pdf")
    assert "hold if heart rate < 55" in text
    assert "200 mg 08:00; 400 mg 20:00" in text
    manifest = json.loads((tmp_path / "forms" / "manifest.json").read_text(encoding="utf-8"))
    cells = {
        (f["order_id"], f["scheduled"])
        for page in manifest["pages"]
        for f in page["fields"]
        if f.get("role") == "given" and f.get("order_id")
    }
    assert cells == {
        ("m-held", "2026-11-28T08:00"),
        ("m-split", "2026-11-28T08:00"),
        ("m-split", "2026-11-28T20:00"),
    }


def test_no_patient_in_scope_is_refused_and_the_earlier_printout_stays(tmp_path: Path) -> None:
    census = write_bundle(tmp_path / "census.json", ward_of(), encounter(), med("m1"))
    assert prepare(tmp_path, census).exit_code == 0
    before = {p.as_posix(): p.read_bytes() for p in (tmp_path / "forms").rglob("*") if p.is_file()}
    deceased = {**ward_of(), "deceasedBoolean": True}
    write_bundle(census, deceased, encounter(), med("m1"))
    result = prepare(tmp_path, census)
    assert result.exit_code == 3
    assert "no patient to print for" in result.output
    assert "Patient/p1: left out (the patient is recorded as deceased)" in result.output
    after = {p.as_posix(): p.read_bytes() for p in (tmp_path / "forms").rglob("*") if p.is_file()}
    assert after == before and before


def test_an_old_census_is_warned_about(tmp_path: Path) -> None:
    census = write_bundle(
        tmp_path / "census.json", ward_of(), encounter(), med("m1"), timestamp="2026-11-24T07:00:00"
    )
    result = prepare(tmp_path, census, "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.output)["warnings"]
    assert (
        "the census was exported 96 h before the printed period starts (more than 12 h): "
        "orders may have changed since; export it again"
    ) in warnings
    fresh = write_bundle(tmp_path / "fresh.json", ward_of(), encounter(), med("m1"))
    result = prepare(tmp_path, fresh, "--json")
    assert not [w for w in json.loads(result.output)["warnings"] if "exported" in w]


def test_two_dosages_due_at_the_same_minute_are_refused(tmp_path: Path) -> None:
    twice = med(
        "m1",
        dosage({"timeOfDay": ["08:00:00"]}, dose(200)),
        dosage({"when": ["MORN"]}, dose(400)),
    )
    census = write_bundle(tmp_path / "census.json", ward_of(), encounter(), twice)
    result = prepare(tmp_path, census)
    assert result.exit_code == 3
    assert (
        "order m1: two of its dosages are due at 2026-11-28 08:00; send one dose per time "
        "(the total dose), or two orders"
    ) in result.output
    assert not (tmp_path / "forms").exists()
