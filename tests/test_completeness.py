"""Incomplete entries go to a person with a flag that names what is missing.

Through the real reader: the sample ward's MAR printed, filled with the synthetic pen,
photographed, ingested; then the pure rules on hand-made readings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402

from papermode.core.model import Reading  # noqa: E402
from papermode.printing.manifest import MANIFEST_NAME, read_manifest  # noqa: E402
from papermode.reading.completeness import check_completeness  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ep.prepare(tmp_path_factory.mktemp("completeness"))


def _cells(page: dict[str, Any]) -> list[dict[str, dict[str, Any]]]:
    """The MAR dose cells of a page, each as role -> field."""
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    for f in page["fields"]:
        if f.get("order_id") and f["role"] in ("given", "held", "refused", "time", "initials"):
            cells.setdefault(f["field_id"].rsplit(".", 1)[0], {})[f["role"]] = f
    return [cell for cell in cells.values() if len(cell) == 5]


def _flags(state: dict[str, dict[str, Any]], field: dict[str, Any]) -> list[str]:
    return list(state[field["field_id"]]["flags"])


def test_incomplete_mar_entries_are_flagged_by_what_is_missing(
    prepared: Path, tmp_path: Path
) -> None:
    page = ep.pages(prepared, "mar")[0]
    no_initials, no_choice, no_time, complete = _cells(page)[:4]
    image = ep.render(prepared, page)
    ep.tick(image, no_initials["given"], seed=1)
    ep.write_digits(image, no_initials["time"], "0815", seed=1)
    ep.write_digits(image, no_choice["time"], "1400", seed=2)
    ep.tick(image, no_time["held"], seed=3)
    ep.initials(image, no_time["initials"], seed=3)
    ep.tick(image, complete["given"], seed=4)
    ep.write_digits(image, complete["time"], "2000", seed=4)
    ep.initials(image, complete["initials"], seed=4)
    store = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store, ep.photo(image, tmp_path / "mar.jpg"))
    state = ep.state(store, page["page_id"])

    for field in (no_initials["given"], no_initials["initials"]):
        assert "missing_initials" in _flags(state, field)
        assert state[field["field_id"]]["status"] == "review"
    for field in (no_choice["time"], no_choice["given"], no_choice["held"]):
        assert "missing_choice" in _flags(state, field)
        assert state[field["field_id"]]["status"] == "review"
    for field in (no_time["held"], no_time["time"]):
        assert "missing_time" in _flags(state, field)
        assert state[field["field_id"]]["status"] == "review"
    for field in complete.values():
        assert not {f for f in _flags(state, field) if f.startswith("missing_")}


def test_blank_pack_entries_without_identity_go_to_review(prepared: Path, tmp_path: Path) -> None:
    page = next(p for p in ep.pages(prepared, "mar") if p["patient_id"] is None)
    fields = ep.fields_by_id(page)
    cell = _cells(page)[0] if _cells(page) else None
    given = cell["given"] if cell else next(f for f in page["fields"] if f["role"] == "given")
    prefix = given["field_id"].rsplit(".", 1)[0]
    image = ep.render(prepared, page)
    ep.tick(image, given, seed=5)
    ep.write_digits(image, fields[f"{prefix}.time"], "0900", seed=5)
    ep.initials(image, fields[f"{prefix}.initials"], seed=5)
    store = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store, ep.photo(image, tmp_path / "blank.jpg"))
    state = ep.state(store, page["page_id"])
    for field_id in ("blank.temp_number", "blank.birth_date", given["field_id"]):
        assert "missing_identity" in state[field_id]["flags"], (field_id, state[field_id])
        assert state[field_id]["status"] == "review"


def _reading(field_id: str, value: str) -> Reading:
    return Reading(field_id, value, 0.99, "auto")


def test_prn_entry_without_initials_or_dose(prepared: Path) -> None:
    page = ep.pages(prepared, "prn")[0]
    layout_fields = [f for f in page["fields"] if f["field_id"].endswith(".initials")]
    prefix = layout_fields[0]["field_id"].rsplit(".", 1)[0]
    layout = next(
        p.layout
        for p in read_manifest(prepared / "forms" / MANIFEST_NAME)
        if p.layout.page_id == page["page_id"]
    )
    readings = {f.field_id: _reading(f.field_id, "empty") for f in layout.fields}
    readings[f"{prefix}.time"] = _reading(f"{prefix}.time", "1030")
    checked = check_completeness(layout, readings)
    assert "missing_initials" in checked[f"{prefix}.time"].flags
    assert "missing_dose" in checked[f"{prefix}.time"].flags
    assert checked[f"{prefix}.time"].status == "review"
    others = [i for i in readings if not i.startswith(prefix + ".")]
    assert all(checked[i] == readings[i] for i in others)  # unused entries stay as read
