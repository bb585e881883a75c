"""The store: schema, owner-only files, evidence by SHA-256, transactions, audit chain."""

from __future__ import annotations

import sqlite3
import stat
from datetime import date, datetime
from pathlib import Path

import pytest

from papermode.core.errors import PageIdError, StoreError
from papermode.core.model import Box, Field, PageLayout, Patient, PrintedPage, Snapshot, Weight
from papermode.store import schema
from papermode.store.database import open_store


def _layout(page_id: str = "K3QX-9M2A-7C") -> PageLayout:
    fields = (
        Field(
            "mar.o1.20261128T0800.given",
            "checkbox",
            Box(20, 50, 5, 5),
            role="given",
            order_id="o1",
            scheduled=datetime(2026, 11, 28, 8, 0),
            group="mar.o1.0800",
            value="given",
        ),
        Field(
            "mar.o1.20261128T0800.time",
            "digits",
            Box(40, 50, 24, 7),
            role="time",
            cells=4,
            order_id="o1",
            scheduled=datetime(2026, 11, 28, 8, 0),
        ),
    )
    return PageLayout(
        page_id=page_id,
        template="mar",
        template_version="1",
        paper="a4",
        size_mm=(210.0, 297.0),
        snapshot_id="s1",
        patient_id="p1",
        mrn="123456",
        ward="3B",
        page_number=1,
        page_count=1,
        fields=fields,
        period_start=datetime(2026, 11, 28, 7),
        period_end=datetime(2026, 11, 29, 7),
    )


def _snapshot() -> Snapshot:
    patient = Patient(
        "p1",
        "123456",
        "Dubois",
        "Hélène",
        date(1950, 1, 2),
        "female",
        "3B",
        "12",
        "A",
        "enc1",
        None,
        Weight(61.5, date(2026, 11, 20)),
    )
    return Snapshot("s1", datetime(2026, 11, 28, 6), "census.json", (patient,), ())


def test_store_files_are_owner_only_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "papermode.db"
    with open_store(path) as store:
        store.register_snapshot(
            _snapshot(),
            period=(datetime(2026, 11, 28, 7), datetime(2026, 11, 29, 7)),
            lang="en",
            paper="a4",
        )
        _, evidence = store.put_evidence(b"photo bytes", suffix=".jpg")
        mode = store.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o600
    assert evidence.read_bytes() == b"photo bytes"


def test_pages_round_trip_exactly(tmp_path: Path) -> None:
    layout = _layout()
    with open_store(tmp_path / "s.db") as store:
        store.register_pages([PrintedPage(layout, "ward-3b.pdf", 3, (("patients/x.pdf", 1),))])
        store.register_pages([PrintedPage(layout, "ward-3b.pdf", 3, (("patients/x.pdf", 1),))])
        back = store.page_layout(layout.page_id)
        printed = store.printed_pages(mrn="123456")
    assert back.fields == layout.fields
    assert back.size_mm == layout.size_mm and back.period_start == layout.period_start
    assert len(printed) == 1 and printed[0].also_in == (("patients/x.pdf", 1),)


def test_unknown_page_says_what_to_do(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store, pytest.raises(PageIdError) as caught:
        store.page_layout("ZZZZ-ZZZZ-ZZ")
    assert "not known to this store" in str(caught.value)


def test_transaction_rolls_back_everything(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        with pytest.raises(RuntimeError), store.transaction() as db:
            db["files"].insert({"sha256": "abc", "size": 1})
            store.register_pages([PrintedPage(_layout(), "w.pdf", 1)])
            raise RuntimeError("power cut")
        assert store.db["files"].count == 0
        assert store.db["pages"].count == 0


def test_audit_chain_detects_tampering(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        store.audit("ingest", "file-a")
        store.audit("review", "field-b", {"value": "ticked"})
        assert store.audit_intact()
        store.db.execute("UPDATE audit SET detail = '{}' WHERE seq = 2")
        assert not store.audit_intact()


def test_an_older_store_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    from papermode.store.database import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript(MIGRATIONS[0])
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()
    with open_store(path) as store:
        version = store.db.execute("PRAGMA user_version").fetchone()[0]
        columns = {c.name for c in store.db.table("readings").columns}
    assert version == SCHEMA_VERSION and "suggestion" in columns


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from papermode.core.errors import StoreError

    path = tmp_path / "new.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError) as caught:
        open_store(path)
    assert "newer papermode" in str(caught.value)


def test_a_failed_inner_block_undoes_only_its_own_writes(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        with store.transaction() as db:
            db["files"].insert({"sha256": "kept", "size": 1})
            with pytest.raises(RuntimeError), store.transaction():
                db["files"].insert({"sha256": "undone", "size": 2})
                raise RuntimeError("this page could not be stored")
            db["files"].insert({"sha256": "after", "size": 3})
        assert [r["sha256"] for r in store.db.query("SELECT sha256 FROM files ORDER BY size")] == [
            "kept",
            "after",
        ]


def test_a_commit_that_fails_is_rolled_back(tmp_path: Path) -> None:
    # A deferred foreign key is checked at COMMIT: the COMMIT itself fails.
    with open_store(tmp_path / "s.db") as store:
        store.db.execute("CREATE TABLE parent (id TEXT PRIMARY KEY)")
        store.db.execute(
            "CREATE TABLE child (parent_id TEXT REFERENCES parent (id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
            db["files"].insert({"sha256": "abc", "size": 1})
            db.execute("INSERT INTO child VALUES ('no such parent')")
        assert not store.db.conn.in_transaction  # not left open to swallow later writes
        assert store.db["files"].count == 0 and store.db["child"].count == 0
        store.db["files"].insert({"sha256": "next", "size": 1})
    with open_store(tmp_path / "s.db") as store:
        assert [r["sha256"] for r in store.db.query("SELECT sha256 FROM files")] == ["next"]


def test_enable_fts_inside_a_transaction_does_not_commit_it(tmp_path: Path) -> None:
    # sqlite-utils 3.x committed in enable_fts (executescript): setup.cfg pins >= 4.0.
    with open_store(tmp_path / "s.db") as store:
        with pytest.raises(RuntimeError), store.transaction() as db:
            db["files"].insert({"sha256": "abc", "size": 1})
            db["notes"].insert({"id": 1, "text": "amoxicilline"}, pk="id")
            db["notes"].enable_fts(["text"], create_triggers=True)
            db["notes"].insert({"id": 2, "text": "paracétamol"}, pk="id")
            raise RuntimeError("power cut")
        assert store.db["files"].count == 0
        assert not {"notes", "notes_fts"} & set(store.db.table_names())


def _store_at_schema(path: Path, version: int) -> None:
    connection = sqlite3.connect(path)
    for script in schema.MIGRATIONS[:version]:
        connection.executescript(script)
    connection.execute(f"PRAGMA user_version = {version}")
    connection.commit()
    connection.close()


def test_a_migration_that_fails_half_way_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    _store_at_schema(path, 1)
    broken = [
        *schema.MIGRATIONS,
        "CREATE TABLE half_way (x TEXT); ALTER TABLE no_such_table ADD COLUMN y TEXT;",
    ]
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError) as caught:
        open_store(path)
    last = len(broken) - 1  # the last migration that works
    assert f"schema {last + 1}" in str(caught.value)
    assert f"unchanged (schema {last})" in str(caught.value)
    connection = sqlite3.connect(path)
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    readings = {row[1] for row in connection.execute("PRAGMA table_info(readings)")}
    connection.close()
    # Migrations 2.. each committed with their version; the broken last one left nothing.
    assert version == last and "half_way" not in tables and "suggestion" in readings
    assert "captures_sha" in tables


def test_each_migration_sets_its_version_with_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    _store_at_schema(path, 2)
    # A migration that fails on its last statement: its index must not stay behind.
    broken = [*schema.MIGRATIONS[:2], schema.MIGRATIONS[2] + "SELECT no_such_function();"]
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    with pytest.raises(StoreError):
        open_store(path)
    connection = sqlite3.connect(path)
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert version == 2 and "ingests_sha" not in indexes
    monkeypatch.undo()
    with open_store(path) as store:  # the real migration, tried again, succeeds
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION


def test_opening_a_store_another_process_is_writing_to_does_not_wait(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_store(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # an ingest holding the write lock
    writer.execute("INSERT INTO files (sha256, size) VALUES ('being-written', 1)")
    try:
        with open_store(path) as reader:  # `papermode readings` meanwhile
            assert reader.db["files"].count == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_the_census_registered_last_is_the_latest_even_within_one_second(
    tmp_path: Path,
) -> None:
    """A prepare and a reprint of the same orders (the same census time) registered within
    one second: the reprint, registered last, is the latest, so the next reprint continues
    from its period. Registration times in whole seconds tied and chose either."""
    first = _snapshot()
    again = Snapshot("s2", first.taken_at, "reprint", first.patients, ())
    with open_store(tmp_path / "s.db") as store:
        for snapshot, end in ((first, 29), (again, 30), (first, 27), (again, 28)):
            store.register_snapshot(
                snapshot,
                period=(datetime(2026, 11, 26, 7), datetime(2026, 11, end, 7)),
                lang="en",
                paper="a4",
            )
            latest = store.latest_snapshot()
            assert latest is not None and latest.snapshot_id == snapshot.snapshot_id
