"""`prepare` and census fidelity: what is left out is said, instructions print, old forms stay."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pypdfium2
from click.testing import CliRunner
from test_census_fidelity import dosage, dose, encounter, med, patient
from test_pdf import pdf_text

from papermode.cli.main import main
from papermode.printing.prepare_check import check_census

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
    assert "200 mg 08:00" in text and "400 mg 20:00" in text  # one line per dose
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


# --------------------------------------------------------------------------- prepare --check


def check_run(*args: str):
    return CliRunner().invoke(main, ["prepare", "--check", *args], catch_exceptions=False)


def test_check_shows_every_order_as_understood_and_writes_nothing(tmp_path: Path) -> None:
    held = dosage(
        {"when": ["ACM", "ACV"]},
        dose(10, "U"),
        additionalInstruction=[{"text": "hold if glucose < 4 mmol/L"}],
    )
    census = write_bundle(
        tmp_path / "census.json",
        ward_of(),
        encounter(),
        med("m-insulin", held, medicationCodeableConcept={"text": "Insulin aspart"}),
        med("m-stopped", status="stopped"),
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    now = datetime(2026, 11, 28, 6, 30)
    check = check_census(census, start=None, hours=24, settings_path=None, now=now)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    order = check.patients[0].orders[0]
    assert (order.order_id, order.dose, order.high_alert) == ("m-insulin", "10 units", True)
    assert [(d.scheduled_at.strftime("%H:%M"), d.dose) for d in order.due] == [
        ("07:30", "10 units"),
        ("17:30", "10 units"),
    ]
    assert order.instructions == ("hold if glucose < 4 mmol/L",)
    result = check_run(str(census), "--start", START)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:] == [
        "Patient p1 (Ward 1 / Bed 1): 1 order(s)",
        "  m-insulin: Insulin aspart | 10 units | - | ACM ACV HIGH ALERT",
        "      instructions: hold if glucose < 4 mmol/L",
        "      due: 28 07:30 10 units, 28 17:30 10 units",
        "",
        "Left out: 1",
        "  MedicationRequest/m-stopped: left out (status is stopped, not active)",
        "Warning: Patient/p1: no body weight recorded; the forms leave it blank",
        "Warning: Patient/p1: allergy information not recorded; the forms print "
        "'allergies: NOT RECORDED'",
    ]
    assert "Martin" not in result.output and "MRN-p1" not in result.output
    data = json.loads(check_run(str(census), "--start", START, "--json").output)
    assert data["patients"][0]["orders"][0]["due"] == [
        {"scheduled_at": "2026-11-28T07:30", "dose": "10 units"},
        {"scheduled_at": "2026-11-28T17:30", "dose": "10 units"},
    ]
    assert data["left_out"] == [
        {"resource": "MedicationRequest/m-stopped", "reason": "status is stopped, not active",
         "kind": "order"}
    ]  # fmt: skip
    assert not (tmp_path / "forms").exists() and not (tmp_path / "pm.db").exists()


def test_check_of_a_refused_census_exits_3_with_the_problems(tmp_path: Path) -> None:
    infusion = dosage(None, {**dose(25000, "U"), "rateQuantity": {"value": 18, "unit": "mL/h"}})
    census = write_bundle(tmp_path / "census.json", ward_of(), encounter(), med("m1", infusion))
    result = CliRunner().invoke(main, ["prepare", "--check", str(census), "--start", START])
    assert result.exit_code == 3
    assert (
        "MedicationRequest/m1 dosageInstruction[0]: an infusion given on a schedule needs "
        "timing.repeat.duration"
    ) in result.output


def test_long_instructions_print_in_full_with_a_warning_a_long_sig_without_one(
    tmp_path: Path,
) -> None:
    """A long instruction never stops a ward's forms from printing (it did: exit 3 for the
    whole census); it prints in full and pharmacy is told which order to shorten."""
    long_rule = "hold if the systolic blood pressure is below 90 mmHg or the heart rate " * 2
    census = write_bundle(
        tmp_path / "census.json",
        ward_of(),
        encounter(),
        med("m1", dosage(None, dose(25), additionalInstruction=[{"text": long_rule}])),
    )
    result = prepare(tmp_path, census, "--json")
    assert result.exit_code == 0, result.output
    warnings = [w for w in json.loads(result.output)["warnings"] if "m1" in w]
    assert len(warnings) == 1 and "printed in full" in warnings[0], warnings
    assert "lines of the MAR's order column" in warnings[0]
    document = pypdfium2.PdfDocument(str(tmp_path / "forms" / "ward-ward-1.pdf"))
    text = " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in document)
    document.close()
    assert "heart rate hold if the systolic" in text and "heart rate …" not in text  # not cut
    census = write_bundle(
        tmp_path / "census.json",
        ward_of(),
        encounter(),
        med("m1", dosage(None, dose(25), text=long_rule)),
    )
    result = prepare(tmp_path, census, "--json")
    assert result.exit_code == 0, result.output
    # The SIG wraps onto as many lines as it needs (tests/test_mar_days_cli.py): no warning.
    assert not [w for w in json.loads(result.output)["warnings"] if "m1" in w]
