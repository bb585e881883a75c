"""The committed samples in scans/forms/ are read as their expected.json says.

They were made by scans/forms/make_samples.py (see its docstring): real printed pages of
the sample ward, filled with known truth, photographed (perspective, light, blur, JPEG,
EXIF rotation) or scanned, one deliberately bad. Here they are read through the whole
pipeline into a real store.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from papermode.census.snapshot import sample_census_path
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.store.database import open_store

SAMPLES = Path(__file__).resolve().parents[1] / "scans" / "forms"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def read_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("samples")
    prepared = EXPECTED["prepared"]
    prepare_forms(
        sample_census_path(),
        folder / "forms",
        folder / "papermode.db",
        start=datetime.fromisoformat(prepared["start"]),
        hours=prepared["hours"],
        lang=prepared["lang"],
        paper=prepared["paper"],
        settings_path=None,
    )
    files = [SAMPLES / entry["file"] for entry in EXPECTED["files"]]
    with open_store(folder / "papermode.db") as store:
        ingest_paths(files, store, workers=1)
    return folder / "papermode.db"


def _captures(store_path: Path, name: str) -> list[dict[str, Any]]:
    with open_store(store_path) as store:
        return list(
            store.db.query(
                "SELECT * FROM captures WHERE name = ? ORDER BY frame", [str(SAMPLES / name)]
            )
        )


def _readings(store_path: Path, capture_id: str) -> dict[str, dict[str, Any]]:
    with open_store(store_path) as store:
        return {
            row["field_id"]: row
            for row in store.db.query(
                "SELECT field_id, value, status FROM readings WHERE capture_id = ?", [capture_id]
            )
        }


@pytest.mark.parametrize("entry", EXPECTED["files"], ids=lambda e: e["file"])
def test_sample_outcome_and_identity(read_store: Path, entry: dict[str, Any]) -> None:
    captures = _captures(read_store, entry["file"])
    expected = entry["expected"].split(":")[0]
    assert [c["status"] for c in captures] == [expected] * len(captures)
    if expected == "read":
        assert [c["page_id"] for c in captures] == [p["page_id"] for p in entry["pages"]]


def _read_pages(read_store: Path) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    pairs = []
    for entry in EXPECTED["files"]:
        if entry["expected"] != "read":
            continue
        for capture, page in zip(_captures(read_store, entry["file"]), entry["pages"], strict=True):
            pairs.append((page, _readings(read_store, capture["capture_id"])))
    return pairs


def test_every_tick_box_is_right_or_sent_to_a_person(read_store: Path) -> None:
    right = total = 0
    for page, readings in _read_pages(read_store):
        for field_id, truth in page["fields"].items():
            reading = readings.get(field_id)
            if reading is None or truth not in ("ticked", "empty", "filled"):
                continue
            total += 1
            if reading["value"] == truth:
                right += 1
            else:
                assert reading["status"] == "review", (field_id, truth, reading["value"])
    assert total > 100 and right / total >= 0.99


def test_no_wrong_digit_value_is_accepted(read_store: Path) -> None:
    accepted = 0
    for page, readings in _read_pages(read_store):
        for field_id, number in page["numbers"].items():
            reading = readings.get(field_id)
            if reading is None or reading["status"] != "auto" or reading["value"] == "empty":
                continue
            accepted += 1
            assert reading["value"].replace(":", "") == number.replace(":", ""), field_id
    assert accepted >= 5  # the committed set (seed 2043) accepts 7 written numbers
