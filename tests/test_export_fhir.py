"""The FHIR R4 transaction Bundle from hand-built pages: valid R4 4.0.1, the right codes and
references, only settled values, and an upload twice that creates nothing twice."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import test_export_checks as checks  # noqa: E402
import test_reconcile_fixtures as fx  # noqa: E402

from papermode.core.model import Timing  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.export.fhir import RECORDED_R5, build_bundle  # noqa: E402
from papermode.reconcile.rules import reconcile  # noqa: E402

SETTINGS = load_settings()
T06, T14, T22 = (fx.DAY.replace(hour=h) for h in (6, 14, 22))


def export(pages: list, orders: list) -> dict[str, Any]:
    source = fx.source(pages, orders)
    result = reconcile(source, SETTINGS)
    return build_bundle(result, source, exported_at=datetime(2026, 12, 1, 9, 0), chain_head="7:ab")


def sample_pages() -> list:
    cells = [
        fx.mar_cell("PAGE-1", "o1", T06, answer="given", time="0610"),
        fx.mar_cell("PAGE-1", "o1", T14, answer="refused", time="1400"),
        fx.mar_cell("PAGE-1", "o1", T22, answer="held"),
        fx.mar_cell("PAGE-1", "o2", T14, answer="given"),  # no time written
        fx.mar_cell("PAGE-1", "o2", T22, answer="given", time="2200", status={"time": "review"}),
        fx.mar_cell("PAGE-1", "o3", T14),  # not documented
    ]
    moment = fx.DAY.replace(hour=12)
    vitals = [
        fx.vital("VIT-1", moment, "sbp", "8480-6", "132"),
        fx.vital("VIT-1", moment, "dbp", "8462-4", "81"),
        fx.vital("VIT-1", moment, "temp", "8310-5", "37.8"),
        fx.vital("VIT-1", moment, "hr", "8867-4", "72"),
        fx.vital("VIT-1", moment, "spo2", "59408-5", "97"),
        fx.vital("VIT-1", moment, "rr", "9279-1", "16"),
    ]
    return [
        fx.page("PAGE-1", "mar", [s for c in cells for s in c]),
        fx.page("VIT-1", "vitals", vitals),
    ]


def orders() -> list:
    return [
        fx.order("o1"),
        fx.order("o2", medication="Paracetamol 1 g", timing=Timing(code="q6h")),
        fx.order("o3", medication="Pantoprazole", timing=Timing(code="q8h")),
    ]


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_is_valid_r4_with_our_codes_and_references() -> None:
    bundle = export(sample_pages(), orders())
    assert checks.validate_bundle(bundle, forbidden=("MRN0001", "DUPONT", "Hélène")) == []
    administrations = resources(bundle, "MedicationAdministration")
    assert len(administrations) == 4  # the dose in review and the undocumented one are not
    statuses = sorted((a["request"]["reference"], a["status"]) for a in administrations)
    assert statuses == [
        ("MedicationRequest/o1", "completed"),
        ("MedicationRequest/o1", "not-done"),
        ("MedicationRequest/o1", "not-done"),
        ("MedicationRequest/o2", "completed"),
    ]
    refused = next(
        a for a in administrations if a["effectiveDateTime"].startswith("2026-11-28T14:00")
    )
    assert refused["statusReason"][0]["coding"][0]["code"] == "182895007"
    untimed = next(a for a in administrations if a["request"]["reference"].endswith("o2"))
    assert untimed["note"] == [{"text": "time not written: scheduled time used"}]
    assert untimed["context"] == {"reference": "Encounter/enc-1"}
    assert untimed["extension"][0]["url"] == RECORDED_R5


def test_vitals_with_the_blood_pressure_panel() -> None:
    bundle = export(sample_pages(), orders())
    observations = {o["code"]["coding"][0]["code"]: o for o in resources(bundle, "Observation")}
    assert set(observations) == {"85354-9", "8310-5", "8867-4", "59408-5", "9279-1"}
    panel = observations["85354-9"]
    values = {
        c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in panel["component"]
    }
    assert values == {"8480-6": 132.0, "8462-4": 81.0}
    assert observations["8310-5"]["valueQuantity"] == {
        "value": 37.8,
        "unit": "Cel",
        "system": "http://unitsofmeasure.org",
        "code": "Cel",
    }


def test_every_resource_has_a_provenance_pointing_at_its_evidence() -> None:
    bundle = export(sample_pages(), orders())
    targets = {p["target"][0]["reference"] for p in resources(bundle, "Provenance")}
    created = {
        e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in ("MedicationAdministration", "Observation")
    }
    assert targets == created
    (document,) = resources(bundle, "DocumentReference")  # one capture, shared
    assert document["identifier"][0]["value"] == "ab" * 32
    assert "data" not in document["content"][0]["attachment"]  # no image bytes by default
    provenance = resources(bundle, "Provenance")[0]
    assert provenance["occurredDateTime"] != provenance["recorded"]


def test_an_upload_twice_creates_nothing_twice() -> None:
    server = checks.FakeServer()
    first = server.transaction(export(sample_pages(), orders()))
    assert first["POST"] == 4 + 5 + 1 and first["PUT"] == 9
    again = server.transaction(export(sample_pages(), orders()))  # a fresh export, same paper
    assert again == {"POST": 0, "PUT": 0}
    assert server.count("MedicationAdministration") == 4 and server.count("Provenance") == 9


def test_a_later_export_adds_only_what_is_new() -> None:
    server = checks.FakeServer()
    server.transaction(export(sample_pages(), orders()))
    pages = sample_pages()
    later = fx.mar_cell("PAGE-2", "o3", T22, answer="given", time="2200")
    pages.append(fx.page("PAGE-2", "mar", later))
    created = server.transaction(export(pages, orders()))
    assert created == {"POST": 1, "PUT": 1}
    assert server.count("MedicationAdministration") == 5


def test_with_images_the_evidence_bytes_travel_in_the_document_reference() -> None:
    source = fx.source(sample_pages(), orders())
    result = reconcile(source, SETTINGS)
    seen: list[str] = []

    def image(sha: str) -> bytes:
        seen.append(sha)
        return b"\xff\xd8 photo bytes"

    bundle = build_bundle(result, source, exported_at=datetime(2026, 12, 1, 9), images=image)
    (document,) = resources(bundle, "DocumentReference")
    attachment = document["content"][0]["attachment"]
    assert (
        attachment["data"] == "/9ggcGhvdG8gYnl0ZXM=" and attachment["contentType"] == "image/jpeg"
    )
    assert seen == ["ab" * 32]  # one capture, read once however many resources cite it
    assert checks.validate_bundle(bundle) == []


def test_the_written_reason_becomes_the_status_reason() -> None:
    cells = [
        fx.mar_cell("PAGE-1", "o1", T06, answer="held", reason="3"),  # not available
        fx.mar_cell("PAGE-1", "o1", T14, answer="held", reason="1"),  # nil by mouth
        fx.mar_cell("PAGE-1", "o1", T22, answer="refused", reason="6"),
    ]
    bundle = export([fx.page("PAGE-1", "mar", [s for c in cells for s in c])], orders())
    assert checks.validate_bundle(bundle) == []
    reasons = {
        a["effectiveDateTime"][11:16]: a["statusReason"][0]
        for a in resources(bundle, "MedicationAdministration")
    }
    assert reasons["06:00"]["coding"][0]["code"] == "242990004"
    assert reasons["14:00"] == {"text": "Held: nil by mouth (fasting)"}  # no code it can vouch for
    assert reasons["22:00"]["coding"][0]["code"] == "182895007"
    assert reasons["22:00"]["text"] == "Refused: declined by the patient"
