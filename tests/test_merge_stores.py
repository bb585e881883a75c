"""`papermode merge` on synthetic stations: idempotent, order-independent (hypothesis),
every capture kept, chains kept per station, refusals that leave the store as it was."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papermode.cli.main import main
from papermode.ingest import stations as stations_module
from papermode.ingest.stations import merge_stations
from papermode.review.decisions import STATIONS_DISAGREE, NewDecision
from papermode.review.queue import build_queue
from papermode.review.records import append_decision, ensure_schema
from papermode.store.database import MIGRATIONS, open_existing_store, open_store
from papermode.store.stations import station_id
from tests.stationfactory import (
    Decided,
    Photo,
    add_decision,
    add_photo,
    build_station,
    content,
    copy_store,
)

photos = st.builds(
    Photo,
    photo=st.integers(0, 5),
    page=st.integers(0, 1),
    minute=st.integers(0, 30),
    ingested_minute=st.integers(0, 30),
    tick=st.sampled_from(["ticked", "empty", "filled"]),
    time=st.sampled_from(["0815", "0845", ""]),
    confidence=st.sampled_from([0.99, 0.5]),
)
decided = st.builds(
    Decided,
    page=st.integers(0, 1),
    field=st.sampled_from(["f1", "f2"]),
    kind=st.sampled_from(["confirm", "correct", "withdraw"]),
    value=st.sampled_from(["ticked", "0815"]),
    reviewer=st.sampled_from(["A. Dupont", "B. Martin"]),
)
station_parts = st.tuples(
    st.lists(photos, max_size=4, unique_by=lambda p: p.photo),
    st.lists(decided, max_size=3),
)


def merged(folder: Path, name: str, first: Path, *others: Path) -> dict[str, object]:
    """Copy `first`, merge `others` into the copy one by one; the copy's content."""
    target = copy_store(first, folder / f"{name}.db")
    with open_existing_store(target) as store:
        for other in others:
            merge_stations(store, [other])
        return content(store)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(a=station_parts, b=station_parts, c=station_parts)
def test_merge_is_idempotent_commutative_and_associative(a, b, c) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        path_a = build_station(folder, "ward-a", *a)
        path_b = build_station(folder, "ward-b", *b)
        path_c = build_station(folder, "ward-c", *c)
        with open_existing_store(path_a) as store:
            alone = content(store)
        # A+A = A (a copy of itself: same station, same chain)
        assert merged(folder, "aa", path_a, copy_store(path_a, folder / "a2.db")) == alone
        # A+B = B+A
        ab = merged(folder, "ab", path_a, path_b)
        assert merged(folder, "ba", path_b, path_a) == ab
        # (A+B)+B = A+B
        assert merged(folder, "abb", path_a, path_b, path_b) == ab
        # (A+B)+C = A+(B+C)
        left = merged(folder, "ab_c", path_a, path_b, path_c)
        copy_store(path_b, folder / "bc.db")
        with open_existing_store(folder / "bc.db") as store:
            merge_stations(store, [path_c])
        assert merged(folder, "a_bc", path_a, folder / "bc.db") == left
        # every capture of every station is kept
        captures = {row[0] for row in left["captures"]}  # type: ignore[index]
        for path in (path_a, path_b, path_c):
            with open_existing_store(path) as store:
                assert {
                    r["capture_id"] for r in store.db.query("SELECT * FROM captures")
                } <= captures


# ---------------------------------------------------------------------- refusals


MORNING = Photo(photo=1, page=0, minute=0, ingested_minute=0, tick="ticked", time="0815",
                confidence=0.99)  # fmt: skip
EVENING = Photo(photo=2, page=0, minute=20, ingested_minute=20, tick="empty", time="0815",
                confidence=0.99)  # fmt: skip


def _snapshot(path: Path) -> tuple[dict[str, object], int]:
    with open_existing_store(path) as store:
        entries = store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        return content(store), entries


def _merge_cli(store: Path, *others: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["merge", *map(str, others), "--store", str(store)])
    return result.exit_code, result.output


def test_a_contradicting_capture_of_another_station_becomes_a_review_item(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [])
    code, output = _merge_cli(a, b)
    assert code == 0, output
    assert "b.db (station ward-b): 1 new captures" in output
    with open_existing_store(a) as store:
        row = store.db.execute(
            "SELECT value, status, flags FROM page_state WHERE page_id = 'PAGE-ONE' "
            "AND field_id = 'f1'"
        ).fetchone()
        assert row[0] == "ticked" and row[1] == "review" and "disappeared" in row[2]
        assert {r[0] for r in store.db.execute("SELECT station FROM captures")} == {
            "ward-a",
            "ward-b",
        }
    code, output = _merge_cli(a, b)  # again: nothing new
    assert code == 0 and "0 new captures" in output and "0 audit entries" in output


def test_another_print_run_is_refused_and_nothing_is_merged(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [])
    with open_existing_store(b) as store:
        store.db.execute("UPDATE fields SET x = x + 3 WHERE page_id = 'PAGE-ONE'")
    before = _snapshot(a)
    code, output = _merge_cli(a, b)
    assert code == 46
    assert "printed 1 page id(s) of this store with another layout (first: PAGE-ONE)" in output
    assert _snapshot(a) == before


def test_a_store_copied_after_its_first_ingest_is_a_station_clash(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    twin = copy_store(a, tmp_path / "twin.db")
    for path, photo in ((a, EVENING), (twin, Photo(3, 0, 30, 30, "ticked", "0845", 0.99))):
        with open_existing_store(path) as store:
            add_photo(store, photo)
    before = _snapshot(a)
    code, output = _merge_cli(a, twin)
    assert code == 47 and "both hold entries of station ward-a that differ" in output
    assert _snapshot(a) == before


def test_a_damaged_evidence_file_is_refused_and_nothing_is_merged(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [])
    evidence = next((tmp_path / "ward-b.db.evidence").glob("*/*.jpg"))
    evidence.chmod(0o600)
    evidence.write_bytes(b"changed")
    before = _snapshot(a)
    code, output = _merge_cli(a, b)
    assert code == 45 and "does not match its SHA-256" in output
    assert _snapshot(a) == before


def test_an_interrupted_merge_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [])
    before = _snapshot(a)

    def power_cut(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(stations_module, "update_page_state", power_cut)
    with open_existing_store(a) as store, pytest.raises(KeyboardInterrupt):
        merge_stations(store, [b])
    monkeypatch.undo()
    after = _snapshot(a)
    assert after[1] == before[1]
    assert {k: v for k, v in after[0].items() if k != "evidence"} == {
        k: v for k, v in before[0].items() if k != "evidence"
    }  # evidence files copied before the rollback stay, unreferenced (named by SHA-256)


@pytest.mark.parametrize("kind", ["itself", "not a store", "missing"])
def test_what_cannot_be_merged_says_so(tmp_path: Path, kind: str) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    other = {"itself": a, "not a store": tmp_path / "notes.db", "missing": tmp_path / "no.db"}[kind]
    if kind == "not a store":
        sqlite3.connect(other).execute("CREATE TABLE notes (text TEXT)").connection.commit()
    code, output = _merge_cli(a, other)
    assert code == 45, output
    assert "Traceback" not in output


def test_each_station_chain_is_kept_and_verifiable(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [])
    c = build_station(tmp_path, "ward-c", [], [])
    with open_existing_store(b) as store:
        merge_stations(store, [c])
        b_entries = store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    assert _merge_cli(a, b)[0] == 0
    result = CliRunner().invoke(main, ["station", "--store", str(a)])
    assert result.exit_code == 0, result.output
    assert "station: ward-a" in result.output
    assert f"ward-b (merged): {b_entries} audit entries, intact" in result.output
    assert "ward-c (merged): 1 audit entries, intact" in result.output  # its printed pages
    audit = CliRunner().invoke(main, ["audit", "verify", "--store", str(a)])
    assert audit.exit_code == 0, audit.output
    with open_existing_store(a) as store:
        last = store.db.execute("SELECT action, station FROM audit ORDER BY seq DESC").fetchone()
        assert last == ("merge", "ward-a")
        with pytest.raises(sqlite3.IntegrityError):
            store.db.execute("UPDATE station_audit SET detail = '{}'")
        store.db.execute("DROP TRIGGER station_audit_no_update")
        store.db.execute(
            "UPDATE station_audit SET detail = '{}' WHERE station = 'ward-b' AND station_seq = 2"
        )
    result = CliRunner().invoke(main, ["station", "--store", str(a)])
    assert result.exit_code == 32
    assert "station ward-b entry 2: its content was changed" in result.output


def test_a_store_whose_chain_was_changed_is_not_merged(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [])
    with open_existing_store(b) as store:
        store.db.execute("UPDATE audit SET detail = '{}' WHERE seq = 1")
    before = _snapshot(a)
    code, output = _merge_cli(a, b)
    assert code == 32 and "the audit chain of b.db is not intact" in output.replace(
        "ward-b.db", "b.db"
    )
    assert _snapshot(a) == before


# ---------------------------------------------------------------------- stations


def test_copies_of_a_prepared_store_become_different_stations(tmp_path: Path) -> None:
    with open_store(tmp_path / "prepared.db") as store:
        store.audit("pages", "prepare", {"count": 0})
        assert station_id(store.db) is None
    laptops = [copy_store(tmp_path / "prepared.db", tmp_path / f"laptop{n}.db") for n in (1, 2)]
    ids = []
    for path in laptops:
        with open_existing_store(path) as store:
            store.db.table("captures").insert({"capture_id": "c-0", "page_id": "PAGE-ONE"})
            ids.append(station_id(store.db))
            stations = {r[0] for r in store.db.execute("SELECT station FROM audit")}
            assert stations == {ids[-1]}
    assert None not in ids and ids[0] != ids[1]


def test_a_station_is_named_only_before_its_first_photo(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    result = CliRunner().invoke(main, ["station", "--set", "other", "--store", str(a)])
    assert result.exit_code == 2 and "holds photos: it keeps that id" in result.output
    fresh = tmp_path / "fresh.db"
    open_store(fresh).close()
    result = CliRunner().invoke(main, ["station", "--set", "Ward 3A", "--store", str(fresh)])
    assert result.exit_code == 2 and "cannot be a station name" in result.output
    result = CliRunner().invoke(main, ["station", "--set", "ward-3a", "--store", str(fresh)])
    assert result.exit_code == 0 and "station: ward-3a" in result.output


def test_a_schema_5_store_with_captures_is_given_a_station_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:5]:
        connection.executescript(script)
    connection.execute("PRAGMA user_version = 5")
    connection.execute("INSERT INTO captures (capture_id, page_id) VALUES ('c-0', 'PAGE-ONE')")
    connection.execute("INSERT INTO audit (at, actor, action) VALUES ('x', 'papermode', 'a')")
    connection.close()
    path.chmod(0o600)
    with open_store(path) as store:
        station = station_id(store.db)
        assert station is not None and len(station) == 12
        assert store.db.execute("SELECT station FROM captures").fetchone()[0] == station
        assert store.db.execute("SELECT station FROM audit").fetchone()[0] == station
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == 6


def test_two_laptops_deciding_one_item_differently_need_a_third_person(tmp_path: Path) -> None:
    doubtful = Photo(photo=1, page=0, minute=0, ingested_minute=0, tick="ticked", time="0815",
                     confidence=0.5)  # fmt: skip
    item = "PAGE-ONE:f2"
    a = build_station(tmp_path, "ward-a", [doubtful], [Decided(0, "f2", "confirm", "0815", "A")])
    b = build_station(tmp_path, "ward-b", [doubtful], [Decided(0, "f2", "correct", "0845", "B")])
    agree = build_station(
        tmp_path, "ward-c", [doubtful], [Decided(0, "f2", "confirm", "0815", "C")]
    )
    with open_existing_store(a) as store:
        assert item not in {i.item_id for i in build_queue(store)}
    assert _merge_cli(a, agree)[0] == 0
    with open_existing_store(a) as store:  # the same meaning on two laptops: decided
        assert item not in {i.item_id for i in build_queue(store)}
    assert _merge_cli(a, b)[0] == 0
    with open_existing_store(a) as store:
        queued = {i.item_id: i for i in build_queue(store)}
        assert queued[item].needed == "third"
        assert queued[item].state and STATIONS_DISAGREE in queued[item].state.flags
        add_decision(store, Decided(0, "f2", "correct", "0845", "A"))  # not a third person
        assert item in {i.item_id for i in build_queue(store)}
    with open_existing_store(a) as store:
        ensure_schema(store.db)
        with store.transaction() as db:
            append_decision(
                db, NewDecision(item, "correct", "0845", "D", 3, "0815"), page_id="PAGE-ONE",
                field_id="f2", crop_sha256=None, first_reviewer=None,
            )  # fmt: skip
        decided = {i.item_id: i for i in build_queue(store, include_decided=True)}[item]
        assert decided.needed == "none" and decided.state and decided.state.value == "0845"


def test_merge_json_summary(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [Decided(0, "f1", "confirm", "x", "B")])
    result = CliRunner().invoke(main, ["merge", str(b), "--store", str(a), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["station"] == "ward-a" and summary["pages_rebuilt"] == ["PAGE-ONE"]
    (merged,) = summary["stores"]
    assert (merged["station"], merged["captures"], merged["decisions"]) == ("ward-b", 1, 1)
    assert merged["evidence_files"] == 1 and merged["audit_entries"] == 3  # pages, ingest, review


def test_a_missing_evidence_file_is_refused(tmp_path: Path) -> None:
    a = build_station(tmp_path, "ward-a", [MORNING], [])
    b = build_station(tmp_path, "ward-b", [EVENING], [])
    next((tmp_path / "ward-b.db.evidence").glob("*/*.jpg")).unlink()
    before = _snapshot(a)
    code, output = _merge_cli(a, b)
    assert code == 45 and "is missing; nothing was merged" in output
    assert _snapshot(a) == before
