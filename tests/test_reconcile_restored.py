"""Paper against the restored record: already in the record, to back-enter, conflict;
matched by order, patient and time, never by name alone."""

from __future__ import annotations

import json
import sys
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import test_reconcile_fixtures as fx  # noqa: E402

from papermode.core.errors import RestoredBundleError  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.reconcile.categories import Category, RecordMatch  # noqa: E402
from papermode.reconcile.restored import match_restored, read_restored  # noqa: E402
from papermode.reconcile.rules import reconcile  # noqa: E402

SETTINGS = load_settings()
WINDOW = timedelta(minutes=60)
T06, T14, T22 = (fx.DAY.replace(hour=h) for h in (6, 14, 22))


def administration(rid: str, order_id: str, when: str, status: str, patient: str = "p1") -> dict:
    return {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": status,
        "medicationCodeableConcept": {"text": "Cefazolin 2 g"},
        "subject": {"reference": f"Patient/{patient}"},
        "request": {"reference": f"MedicationRequest/{order_id}"},
        "effectiveDateTime": when,
    }


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "restored.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def paper() -> Any:
    cells = [
        fx.mar_cell("PAGE-1", "o1", T06, answer="given", time="0610"),
        fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400"),
        fx.mar_cell("PAGE-1", "o1", T22, answer="given", time="2200"),
    ]
    moment = fx.DAY.replace(hour=12)
    vitals = [
        fx.vital("VIT-1", moment, "sbp", "8480-6", "132"),
        fx.vital("VIT-1", moment, "dbp", "8462-4", "81"),
        fx.vital("VIT-1", moment, "temp", "8310-5", "37.8"),
    ]
    pages = [
        fx.page("PAGE-1", "mar", [s for c in cells for s in c]),
        fx.page("VIT-1", "vitals", vitals),
    ]
    return fx.source(pages, [fx.order(), fx.order("o5")])


def test_in_record_to_back_enter_and_conflict(tmp_path: Path) -> None:
    record = read_restored(
        write(
            tmp_path,
            bundle(
                administration("ma-1", "o1", "2026-11-28T14:05:00", "completed"),
                administration("ma-2", "o1", "2026-11-28T22:10:00", "not-done"),
                # Same drug name, same patient, same time, but another order: never a match.
                administration("ma-3", "o5", "2026-11-28T06:10:00", "completed"),
                # The right order, at the right time, but another patient: never a match.
                administration("ma-4", "o1", "2026-11-28T06:10:00", "completed", "p2"),
                {
                    "resourceType": "Observation",
                    "id": "obs-1",
                    "status": "final",
                    "subject": {"reference": "Patient/p1"},
                    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                    "effectiveDateTime": "2026-11-28T12:20:00",
                    "component": [
                        {
                            "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                            "valueQuantity": {"value": 142},
                        },
                        {
                            "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                            "valueQuantity": {"value": 81},
                        },
                    ],
                },
            ),
        )
    )
    result = match_restored(reconcile(paper(), SETTINGS), record, window=WINDOW)
    by_id = {item.item_id: item for item in result.items}
    assert by_id["mar:o1:20261128T0600"].record is RecordMatch.TO_BACK_ENTER
    assert by_id["mar:o1:20261128T1400"].record is RecordMatch.IN_RECORD
    assert by_id["mar:o1:20261128T1400"].record_note == "MedicationAdministration/ma-1"
    conflict = by_id["mar:o1:20261128T2200"]
    assert conflict.record is RecordMatch.CONFLICT and "not-done" in (conflict.record_note or "")
    bp = next(i for i in result.items if i.code == "85354-9")
    assert bp.record is RecordMatch.CONFLICT  # the record has 142/81, the paper 132/81
    temperature = next(i for i in result.items if i.code == "8310-5")
    assert temperature.record is RecordMatch.TO_BACK_ENTER
    assert result.record_counts() == {"already_in_record": 1, "to_back_enter": 2, "conflict": 2}


def test_times_with_an_offset_are_compared_in_local_time(tmp_path: Path) -> None:
    local = (T14 + timedelta(minutes=5)).astimezone()
    in_utc = local.astimezone(UTC).isoformat()
    record = read_restored(
        write(tmp_path, bundle(administration("ma-1", "o1", in_utc, "completed")))
    )
    (entry,) = record.entries
    assert entry.at == T14 + timedelta(minutes=5)


def test_a_record_beyond_the_match_window_is_not_the_same_dose(tmp_path: Path) -> None:
    record = read_restored(
        write(tmp_path, bundle(administration("ma-1", "o1", "2026-11-28T15:30:00", "completed")))
    )
    result = match_restored(reconcile(paper(), SETTINGS), record, window=WINDOW)
    item = next(i for i in result.items if i.item_id == "mar:o1:20261128T1400")
    assert item.record is RecordMatch.TO_BACK_ENTER


def test_stopped_orders_and_doses_after_their_end(tmp_path: Path) -> None:
    stopped = {
        "resourceType": "MedicationRequest",
        "id": "o1",
        "status": "stopped",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [
            {"timing": {"repeat": {"boundsPeriod": {"end": "2026-11-28T18:00:00"}}}}
        ],
    }
    record = read_restored(write(tmp_path, bundle(stopped)))
    result = reconcile(paper(), SETTINGS, order_ends=record.order_ends())
    result = match_restored(result, record, window=WINDOW)
    (order_item,) = [i for i in result.items if i.category is Category.STOPPED_ORDER]
    assert order_item.order_id == "o1" and not order_item.exportable
    after = {
        i.item_id: Category.AFTER_ORDER_END in i.concerns
        for i in result.items
        if i.kind == "administration"
    }
    assert after == {
        "mar:o1:20261128T0600": False,
        "mar:o1:20261128T1400": False,
        "mar:o1:20261128T2200": True,
    }


def test_a_file_that_is_not_a_bundle_says_what_to_do(tmp_path: Path) -> None:
    path = write(tmp_path, {"resourceType": "Patient"})
    with pytest.raises(RestoredBundleError) as caught:
        read_restored(path)
    assert caught.value.exit_code == 30
    assert "not a FHIR Bundle" in str(caught.value) and "--restored" in str(caught.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(RestoredBundleError, match="not a readable JSON file"):
        read_restored(broken)


def test_a_dose_uploaded_by_an_earlier_export_is_found_by_its_identifier(tmp_path: Path) -> None:
    # The restored system kept papermode's identifier but stored the time it was uploaded.
    uploaded = administration("ma-9", "o1", "2026-12-01T09:00:00", "completed")
    uploaded["identifier"] = [
        {"system": "urn:papermode:administration", "value": "ward-3b/o1/20261128T1400"}
    ]
    record = read_restored(write(tmp_path, bundle(uploaded)))
    result = match_restored(reconcile(paper(), SETTINGS), record, window=WINDOW)
    matched = {i.item_id: i.record for i in result.items if i.kind == "administration"}
    assert matched["mar:o1:20261128T1400"] is RecordMatch.IN_RECORD
    assert matched["mar:o1:20261128T0600"] is RecordMatch.TO_BACK_ENTER
