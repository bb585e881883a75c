"""Corrections on tick boxes: "fill the wrong box in completely, tick the right one".

Read through the real reader (printed page, synthetic pen, photo, ingest): the filled box is
not ticked, the other is, and the whole group goes to a person, flagged `correction`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ep.prepare(tmp_path_factory.mktemp("corrections"))


def _first_group(page: dict) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    fields = ep.fields_by_id(page)
    given = next(f for f in page["fields"] if f["role"] == "given" and f.get("order_id"))
    prefix = given["field_id"].rsplit(".", 1)[0]
    return given, fields[f"{prefix}.held"], fields[f"{prefix}.refused"]


def test_filled_box_beside_a_tick_is_a_correction_for_review(
    prepared: Path, tmp_path: Path
) -> None:
    page = ep.pages(prepared, "mar")[0]
    given, held, refused = _first_group(page)
    image = ep.render(prepared, page)
    ep.fill_in(image, given, seed=1)  # "given" was wrong: filled in
    ep.tick(image, held, seed=2)  # "held" is the answer
    store = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store, ep.photo(image, tmp_path / "correction.jpg"))
    state = ep.state(store, page["page_id"])
    assert state[given["field_id"]]["value"] == "filled"
    assert state[held["field_id"]]["value"] == "ticked"
    assert state[refused["field_id"]]["value"] == "empty"
    for field in (given, held, refused):
        read = state[field["field_id"]]
        assert read["status"] == "review", (field["field_id"], read)
        assert "correction" in read["flags"], (field["field_id"], read)


def test_a_sure_tick_alone_in_its_group_stays_auto(prepared: Path, tmp_path: Path) -> None:
    page = ep.pages(prepared, "mar")[0]
    given, held, refused = _first_group(page)
    image = ep.render(prepared, page)
    ep.tick(image, given, seed=3)
    fields = ep.fields_by_id(page)
    prefix = given["field_id"].rsplit(".", 1)[0]
    ep.write_digits(image, fields[f"{prefix}.time"], "0800", seed=3)
    ep.initials(image, fields[f"{prefix}.initials"], seed=3)
    store = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store, ep.photo(image, tmp_path / "tick.jpg"))
    state = ep.state(store, page["page_id"])
    assert state[given["field_id"]]["value"] == "ticked"
    assert state[given["field_id"]]["status"] == "auto"
    assert state[held["field_id"]]["status"] == "auto"
