"""The vital-signs chart through the real reader and reconciliation.

The sample ward printed (real PDF), a patient's chart filled with the synthetic pen (pain,
capillary glucose, O2 flow, consciousness, an oxygen device, a wrong NEWS2 total),
photographed, ingested into a real store, read back, reconciled and exported as FHIR.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402
import test_export_checks as checks  # noqa: E402

from papermode.core.settings import load_settings  # noqa: E402
from papermode.export.run import export_store  # noqa: E402
from papermode.reconcile.inputs import Decision  # noqa: E402
from papermode.reconcile.service import reconcile_store  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

SETTINGS = load_settings()
# Column 1: RR 24, SpO2 93 on a mask at 5 L/min, BP 98/60, pulse 112, new confusion, 38.4:
# NEWS2 2+2+2+2+2+3+1 = 14, written as 4. Pain 6, capillary glucose 7.2 mmol/L.
SICK = {"rr": "24", "spo2": " 93", "o2_flow": "050", "sbp": " 98", "dbp": " 60", "hr": "112",
        "temp": "384", "news2": " 4", "pain": " 6", "glucose": "072"}  # fmt: skip
SICK_TICKS = ("o2.mask", "acvpu.C")
# Column 2: RR 16, SpO2 98 on air, BP 125/80, pulse 72, alert, 36.8: NEWS2 0, written 0.
WELL = {"rr": "16", "spo2": " 98", "sbp": "125", "dbp": " 80", "hr": " 72", "temp": "368",
        "news2": " 0"}  # fmt: skip
WELL_TICKS = ("o2.air", "acvpu.A")


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], list[str]]:
    """The store after one photo of a filled chart; the page and its two column prefixes."""
    folder = tmp_path_factory.mktemp("vitals")
    prepared = ep.prepare(folder)
    return fill_and_ingest(prepared, folder, SEED)


# The pen's seed: the synthetic handwriting of this seed is read with every input of both
# columns accepted (auto), so the NEWS2 check can run at reading time.
SEED = 300


def fill_and_ingest(
    prepared: Path, folder: Path, base: int
) -> tuple[Path, dict[str, Any], list[str]]:
    page = next(p for p in ep.pages(prepared, "vitals") if p["patient_id"] is not None)
    fields = ep.fields_by_id(page)
    prefixes = sorted({f["field_id"].rsplit(".", 1)[0] for f in page["fields"]
                       if f.get("code") == "9279-1"})[:2]  # fmt: skip
    image = ep.render(prepared, page)
    for seed, (prefix, values, ticks) in enumerate(
        ((prefixes[0], SICK, SICK_TICKS), (prefixes[1], WELL, WELL_TICKS))
    ):
        for name, text in values.items():
            ep.write_digits(
                image, fields[f"{prefix}.{name}"], text, seed=base + 10 * seed + len(name)
            )
        for name in ticks:
            ep.tick(image, fields[f"{prefix}.{name}"], seed=seed)
        ep.initials(image, fields[f"{prefix}.initials"], seed=seed)
    store = ep.fresh_store(prepared, folder)
    ep.ingest(store, ep.photo(image, folder / f"vitals-{base}.jpg"))
    return store, page, prefixes


def _truth(prefixes: list[str]) -> dict[str, str]:
    """What the paper says, as the readings spell it."""
    truth = {}
    for prefix, values, ticks in ((prefixes[0], SICK, SICK_TICKS), (prefixes[1], WELL, WELL_TICKS)):
        for name, text in values.items():
            digits = text.strip()
            truth[f"{prefix}.{name}"] = (
                f"{int(digits[:-1] or 0)}.{digits[-1]}"
                if name in ("temp", "o2_flow", "glucose")
                else str(int(digits))
            )
        for name in ticks:
            truth[f"{prefix}.{name}"] = "ticked"
    return truth


def test_a_wrong_news2_total_goes_to_review_and_the_right_one_does_not(
    filled: tuple[Path, dict[str, Any], list[str]],
) -> None:
    store, page, (sick, well) = filled
    state = ep.state(store, page["page_id"])
    inputs = ("rr", "spo2", "sbp", "hr", "temp")
    # The check needs every input read: the reader got these right, or the test says so.
    truth = _truth([sick, well])
    for prefix in (sick, well):
        for name in inputs:
            field = state[f"{prefix}.{name}"]
            assert field["value"] == truth[f"{prefix}.{name}"], (name, field)
    assert state[f"{sick}.news2"]["value"] == "4"
    assert "news2_mismatch" in state[f"{sick}.news2"]["flags"]
    assert state[f"{sick}.news2"]["status"] == "review"
    assert "news2_mismatch" not in state[f"{well}.news2"]["flags"]


def _decisions(store: Path, page_id: str, truth: dict[str, str]) -> dict[tuple[str, str], Any]:
    """A reviewer who confirms or corrects every queued field of the chart as written."""
    decisions = {}
    with open_store(store) as opened:
        rows = opened.db.query(
            "SELECT field_id, value FROM page_state WHERE status = 'review' AND page_id = ?",
            [page_id],
        )
        for row in rows:
            right = truth.get(row["field_id"], "empty")
            kind = "confirm" if right == row["value"] else "correct"
            decided = ep.START + timedelta(days=2)
            decisions[(page_id, row["field_id"])] = Decision(kind, right, ("A", "B"), decided)
    return decisions


def test_new_values_reconcile_and_export_with_their_codes(
    filled: tuple[Path, dict[str, Any], list[str]], tmp_path: Path
) -> None:
    store, page, (sick, well) = filled
    stamp = sick.rsplit(".", 1)[1]
    with open_store(store) as opened:
        before, _ = reconcile_store(opened, SETTINGS)
    items = {i.code: i for i in before.items if i.kind == "vital" and f":{stamp}:" in i.item_id}
    # The wrong NEWS2 total is held back until a person decides; nothing else depends on it.
    assert not items["news2"].exportable and items["news2"].category.value == "pending"
    decisions = _decisions(store, page["page_id"], _truth([sick, well]))
    with open_store(store) as opened:
        after, _ = reconcile_store(opened, SETTINGS, decisions=decisions)
        written = export_store(
            opened, SETTINGS, fmt="fhir", out=tmp_path / "out.json", decisions=decisions
        )
    items = {i.code: i for i in after.items if i.kind == "vital" and f":{stamp}:" in i.item_id}
    assert items["72514-3"].quantity == 6 and items["72514-3"].unit == "{score}"
    assert items["14743-9"].quantity == 7.2 and items["14743-9"].unit == "mmol/L"
    assert items["3151-8"].quantity == 5.0 and items["3151-8"].unit == "L/min"
    assert items["67775-7"].value_text == "New confusion"
    assert items["o2_device"].value_text == "Oxygen by mask"
    assert items["news2"].quantity == 4  # confirmed as written: the paper's value, flagged
    bundle = json.loads(written.path.read_text(encoding="utf-8"))
    assert checks.validate_bundle(bundle) == []  # categories, codes, UCUM units, answers
    observations = _observations(bundle, stamp)
    glucose = observations["14743-9"]
    assert glucose["valueQuantity"] == {
        "value": 7.2, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"
    }  # fmt: skip
    assert glucose["category"][0]["coding"][0]["code"] == "laboratory"
    assert glucose["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "14743-9",
        "display": "Glucose [Moles/volume] in Capillary blood by Glucometer",
    }
    pain = observations["72514-3"]
    assert pain["category"][0]["coding"][0]["code"] == "survey"
    assert pain["valueQuantity"]["value"] == 6 and pain["valueQuantity"]["code"] == "{score}"
    assert observations["3151-8"]["valueQuantity"]["code"] == "L/min"
    assert observations["3151-8"]["category"][0]["coding"][0]["code"] == "vital-signs"
    consciousness = observations["67775-7"]
    assert consciousness["valueCodeableConcept"] == {"text": "New confusion"}
    assert "valueQuantity" not in consciousness
    assert observations["o2_device"]["code"] == {"text": "Air or oxygen delivery device"}
    assert "coding" not in observations["news2"]["code"]  # no LOINC code is invented for it
    assert not {"spo2_scale", "extra"} & set(observations)


def _observations(bundle: dict[str, Any], stamp: str) -> dict[str, dict[str, Any]]:
    """The column's exported Observations by code (the last part of their identifier)."""
    found = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Observation":
            continue
        *_, when, code = resource["identifier"][0]["value"].split("/")
        if when == stamp:
            found[code] = resource
    return found
