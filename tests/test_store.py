"""The store: schema, owner-only files, evidence by SHA-256, transactions, audit chain."""

from __future__ import annotations

import stat
from datetime import date, datetime
from pathlib import Path

import pytest

from papermode.core.errors import PageIdError
from papermode.core.model import Box, Field, PageLayout, Patient, PrintedPage, Snapshot, Weight
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
