"""End to end: prepare the sample ward -> synthetic phone photos -> ingest -> review (a
simulated reviewer decides every queued field from the synthetic truth) -> reconcile, with
and without a restored record (one dose already entered, one in conflict) -> export FHIR,
CSV and PDF; every exported resource is checked against the synthetic truth."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
import test_export_checks as checks  # noqa: E402

from papermode.census.snapshot import sample_census_path  # noqa: E402
from papermode.cli.reconcile import export_command, reconcile_command  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.demo.synth.corpus import make_corpus, read_truth  # noqa: E402
from papermode.export.run import export_store  # noqa: E402
from papermode.ingest.pipeline import ingest_paths  # noqa: E402
from papermode.printing.prepare import prepare_forms  # noqa: E402
from papermode.reconcile.inputs import Decision  # noqa: E402
from papermode.reconcile.service import reconcile_store  # noqa: E402
from papermode.store.audit import head_path, read_head, verify_chain  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

START = datetime(2026, 11, 28, 8, 0)
SETTINGS = load_settings()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The sample ward printed, photographed (16 phone photos) and ingested, once."""
    folder = tmp_path_factory.mktemp("e2e")
    store_path = folder / "template.db"
    prepare_forms(
        sample_census_path(), folder / "forms", store_path, start=START, hours=24,
        lang="en", paper="a4", settings_path=None,
    )  # fmt: skip
    manifest = json.loads((folder / "forms" / "manifest.json").read_text(encoding="utf-8"))
    patients = [p for p in manifest["pages"] if p["patient_id"]]
    # a vitals page and three MAR pages of patients are always photographed (the tests
    # need an accepted dose and a vital sign whatever the seed draws after them)
    first = [next(p["page_id"] for p in patients if p["template"] == "vitals")]
    first += [p["page_id"] for p in patients if p["template"] == "mar"][:3]
    info = make_corpus(
        folder / "forms", folder / "captures", count=16, seed=5, mix={"phone_jpeg": 1.0},
        first=first,
    )  # fmt: skip
    with open_store(store_path) as store:
        ingest_paths([folder / "captures" / name for name in info.files], store, workers=1)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store_path, read_truth(folder / "captures")


@pytest.fixture()
def store_path(ingested: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
    template, _ = ingested
    path = tmp_path / "papermode.db"
    shutil.copy(template, path)
    shutil.copytree(
        template.with_name(template.name + ".evidence"), path.with_name(path.name + ".evidence")
    )
    return path


def paper_truth(truth: dict[str, Any]) -> dict[tuple[str, str], str]:
    """What the paper says of each field by the end (a mark missing from a later photo is
    still there). A page id may be on several sheets (the corpus makes photocopies: a
    `later_of` chain per sheet): a field one sheet marks and the others leave empty is what
    the paper says; a field two sheets write differently has no single truth and is left
    out (the store keeps such sheets apart or sends them to a person)."""
    sheets: dict[tuple[str, str], dict[str, str]] = {}  # (page, field) -> sheet -> value
    roots: dict[tuple[str, str], str] = {}  # (file, page) -> the sheet's first file
    for entry in truth["files"]:
        for page in entry["pages"]:
            earlier = page.get("later_of")
            sheet = roots.get((earlier, page["page_id"]), entry["file"]) if earlier else None
            sheet = sheet or entry["file"]
            roots[(entry["file"], page["page_id"])] = sheet
            numbers = page["truth"].get("numbers", {})
            for field_id, value in page["truth"]["fields"].items():
                if field_id in page["vanished"]:
                    continue
                written = numbers.get(field_id, value) if field_id.startswith("vitals.") else value
                sheets.setdefault((page["page_id"], field_id), {})[sheet] = written
    values: dict[tuple[str, str], str] = {}
    for key, by_sheet in sheets.items():
        marked = {value for value in by_sheet.values() if value not in ("empty", "")}
        if len(marked) <= 1:
            values[key] = marked.pop() if marked else "empty"
    return values


def reviewer(
    store_path: Path, truth: dict[tuple[str, str], str]
) -> dict[tuple[str, str], Decision]:
    """A reviewer who decides every queued field as the paper says (the truth)."""
    decisions = {}
    with open_store(store_path) as store:
        for row in store.db.query(
            "SELECT page_id, field_id, value FROM page_state WHERE status = 'review'"
        ):
            key = (row["page_id"], row["field_id"])
            if key not in truth:
                continue
            right = truth[key]
            kind = "confirm" if right == row["value"] else "correct"
            decisions[key] = Decision(
                kind, right, ("clerk A", "nurse B"), START + timedelta(days=3)
            )
    return decisions


def _administration_truth(truth: dict[tuple[str, str], str], bundle: dict[str, Any]) -> list[str]:
    """Every exported MedicationAdministration against the paper; returns the mismatches."""
    wrong = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "MedicationAdministration":
            continue
        station, order_id, stamp = resource["identifier"][0]["value"].split("/")
        prefix = f"mar.{order_id}.{stamp}"
        cell = {f.rsplit(".", 1)[1]: v for (_, f), v in truth.items() if f.startswith(prefix + ".")}
        if not cell:  # a PRN dose: an entry of that order with that written time
            prn = [
                f
                for (_, f), v in truth.items()
                if f.startswith(f"prn.{order_id}.") and f.endswith(".time") and v == stamp[-4:]
            ]
            if len(prn) != 1:
                wrong.append(f"PRN {order_id} at {stamp}: {len(prn)} entries on paper")
            continue
        outcome = [role for role in ("given", "held", "refused") if cell.get(role) == "ticked"]
        expected = "completed" if outcome == ["given"] else "not-done"
        written = cell.get("time", "empty")
        when = datetime.fromisoformat(resource["effectiveDateTime"]).replace(tzinfo=None)
        scheduled = datetime.strptime(stamp, "%Y%m%dT%H%M")
        expected_when = (
            f"{written[:2]}:{written[2:]}" if written != "empty" else f"{scheduled:%H:%M}"
        )
        if resource["status"] != expected or f"{when:%H:%M}" != expected_when:
            wrong.append(
                f"{prefix}: {resource['status']} at {when:%H:%M}, paper {outcome} {written}"
            )
    return wrong


def _observation_truth(
    truth: dict[tuple[str, str], str], bundle: dict[str, Any], pages: dict[str, str]
) -> list[str]:
    names = {
        "8867-4": "hr",
        "8480-6": "sbp",
        "8462-4": "dbp",
        "8310-5": "temp",
        "59408-5": "spo2",
        "9279-1": "rr",
        "72514-3": "pain",
        "14743-9": "glucose",
        "3151-8": "o2_flow",
        "news2": "news2",
    }
    wrong = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Observation":
            continue
        _, patient_id, stamp, code = resource["identifier"][0]["value"].split("/")
        page_id = pages[patient_id]
        if "valueCodeableConcept" in resource:
            continue  # a tick group's answer (ACVPU, air or O2): tests/test_vitals_readback.py
        values = [(code, resource.get("valueQuantity"))]
        if "component" in resource:
            values = [
                (c["code"]["coding"][0]["code"], c["valueQuantity"]) for c in resource["component"]
            ]
        for loinc, quantity in values:
            paper = truth.get((page_id, f"vitals.{stamp}.{names[loinc]}"))
            if paper is None or float(paper) != quantity["value"]:
                wrong.append(f"{patient_id} {stamp} {loinc}: {quantity['value']} on paper {paper}")
    return wrong


def test_whole_story_exports_exactly_what_the_paper_says(
    store_path: Path, ingested: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    truth = paper_truth(ingested[1])
    decisions = reviewer(store_path, truth)
    assert decisions, "the corpus should leave something in the review queue"
    with open_store(store_path) as store:
        before, _ = reconcile_store(store, SETTINGS)
        after, source = reconcile_store(store, SETTINGS, decisions=decisions)
        ward, _ = reconcile_store(store, SETTINGS, ward="Chirurgie 2A")
        one = next(p for p in source.patients.values() if p.ward == "Chirurgie 2A")
        patient, _ = reconcile_store(store, SETTINGS, mrn=one.mrn)
        vitals_pages = {
            row["patient_id"]: row["page_id"]
            for row in store.db.query("SELECT * FROM pages WHERE template = 'vitals'")
        }
        written = export_store(
            store, SETTINGS, fmt="fhir", out=tmp_path / "out.json", decisions=decisions
        )
    assert len(before.pending()) > 0 and len(after.pending()) < len(before.pending())
    assert 0 < len(ward.items) < len(before.items)
    assert {i.ward for i in ward.items} == {"Chirurgie 2A"}
    assert patient.items and {i.patient_id for i in patient.items} == {one.patient_id}
    assert len(after.exportable()) > len(before.exportable())
    bundle = json.loads(written.path.read_text(encoding="utf-8"))
    mrns = tuple(p.mrn for p in source.patients.values())
    assert checks.validate_bundle(bundle, forbidden=mrns) == []
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"MedicationAdministration", "Observation", "Provenance", "DocumentReference"} <= kinds
    assert _administration_truth(truth, bundle) == []
    assert _observation_truth(truth, bundle, vitals_pages) == []
    # Doses still pending (a field no sheet's truth can decide) are never exported.
    exported = {
        e["resource"]["identifier"][0]["value"]
        for e in bundle["entry"]
        if "identifier" in e["resource"]
    }
    pending_doses = [i.item_id.split(":") for i in after.pending() if i.kind == "administration"]
    for _, order_id, stamp in pending_doses:  # that dose, not another time of its order
        assert not any(value.endswith(f"/{order_id}/{stamp}") for value in exported), stamp
    server = checks.FakeServer()
    assert server.transaction(bundle)["POST"] > 0
    assert server.transaction(bundle) == {"POST": 0, "PUT": 0}


def test_cli_reconcile_json_and_restored_record_with_a_conflict_and_an_entered_dose(
    store_path: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "bundle.json"
    exported = runner.invoke(
        export_command, ["--store", str(store_path), "--format", "fhir", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    given = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
        and e["resource"]["status"] == "completed"
    ]
    observed = [
        e["resource"] for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation" and "valueQuantity" in e["resource"]
    ]  # fmt: skip
    assert given and observed, "the corpus should give an accepted dose and a vital sign"
    entered, disputed = given[0], observed[0]
    changed = {**disputed["valueQuantity"], "value": disputed["valueQuantity"]["value"] + 5}
    restored = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {**entered, "id": "r-1", "identifier": []}},  # a clerk already typed it
            {"resource": {**disputed, "id": "r-2", "identifier": [], "valueQuantity": changed}},
        ],
    }
    restored_path = tmp_path / "restored.json"
    restored_path.write_text(json.dumps(restored), encoding="utf-8")
    result = runner.invoke(
        reconcile_command, ["--store", str(store_path), "--restored", str(restored_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["restored"] is True and document["version"] == 2
    items = {item["item_id"]: item for item in document["items"]}
    _, order_id, stamp = entered["identifier"][0]["value"].split("/")
    dose = items[f"mar:{order_id}:{stamp}"]
    assert (
        dose["record"] == "already_in_record"
        and dose["record_note"] == "MedicationAdministration/r-1"
    )
    _, patient_id, stamp, code = disputed["identifier"][0]["value"].split("/")
    vital = items[f"vital:{patient_id}:{stamp}:{code}"]
    assert vital["record"] == "conflict" and "Observation/r-2" in vital["record_note"]
    assert document["record"]["to_back_enter"] >= 1
    assert document["counts"]["not_documented"] > 0
    some = dose
    assert (
        some["captures"] and some["captures"][0]["sha256"] and some["evidence"][0]["crop"] is True
    )
    assert some["time_source"] in ("written", "scheduled") and some["recorded"]


def test_csv_worklist_and_pdf_report(
    store_path: Path, ingested: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    decisions = reviewer(store_path, paper_truth(ingested[1]))
    with open_store(store_path) as store:
        csv_out = export_store(
            store, SETTINGS, fmt="csv", out=tmp_path / "worklist.csv", decisions=decisions
        )
        pdf_out = export_store(
            store, SETTINGS, fmt="pdf", out=tmp_path / "report.pdf", decisions=decisions
        )
        report = verify_chain(store, read_head(head_path(store)))
    assert report.intact and report.head is not None
    lines = csv_out.path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# papermode back-entry worklist, ") and lines[2].startswith(
        "# order: high_alert"
    )
    assert f"audit head {csv_out.chain_head}" in lines[2]
    assert lines[3].startswith("# ") and "to back-enter by hand from the paper" in lines[3]
    assert lines[4].startswith("priority,ward,mrn,patient,order_id")
    rows = [line.split(",") for line in lines[5:]]
    ranks = [
        {"high_alert": 0, "anti_infectives": 1, "time_critical": 2, "other": 3}[row[0]]
        for row in rows
    ]
    assert rows and ranks == sorted(ranks)
    assert (
        csv_out.path.stat().st_mode & 0o777 == 0o600
        and pdf_out.path.stat().st_mode & 0o777 == 0o600
    )
    pdf = pypdfium2.PdfDocument(pdf_out.path)
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "papermode reconciliation report" in text and f"Audit head: {pdf_out.chain_head}" in text
    assert "Nurse in charge" in text and "Pharmacist" in text
    assert "Values corrected by a reviewer" in text
    assert "not documented" in text
    bitmap = pdf[1].render(scale=1).to_numpy()[..., :3].astype(int)
    assert (bitmap.max(axis=2) - bitmap.min(axis=2)).max() < 40  # black, white and greys only
    with open_store(store_path) as store:
        actions = [row["action"] for row in store.db.query("SELECT action FROM audit ORDER BY seq")]
    assert actions[-2:] == ["export", "export"]
