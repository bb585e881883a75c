"""The store: one SQLite file (WAL) plus a folder of evidence files named by SHA-256.

Readable with `sqlite3` and `datasette`. Files are readable by their owner only. The
schema is created and migrated by `papermode.store.schema` when a store is opened; every
other module goes through `Store` methods or, for tables it owns, through `store.db` inside
`store.transaction()` (`papermode.store.transactions`). Evidence files: `store.evidence`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from papermode.core.errors import PageIdError, StoreError
from papermode.core.model import (
    PageLayout,
    Patient,
    PrintedPage,
    Snapshot,
)
from papermode.store.evidence import evidence_path, put_evidence
from papermode.store.rows import (
    field_from_row,
    field_row,
    from_iso,
    iso,
    now_text,
    order_from_row,
    order_row,
    page_row,
    patient_from_row,
    patient_row,
)
from papermode.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from papermode.store.transactions import transaction

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Store",
    "open_existing_store",
    "open_store",
    "transaction",
]


class Store:
    """An open store. Use `open_store()`; close it with `close()` or a `with` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.evidence_dir = path.with_name(path.name + ".evidence")
        self._connection = _connect(path)
        self.db = sqlite_utils.Database(self._connection)
        migrate(self.db, path)

    # ------------------------------------------------------------------ plumbing

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite_utils.Database]:
        """All or nothing: an interrupted block leaves the store as it was; a block inside
        another is a savepoint (`papermode.store.transactions`)."""
        return transaction(self.db)

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        action: str,
        subject: str,
        detail: dict[str, Any] | None = None,
        *,
        actor: str = "papermode",
    ) -> None:
        """Append to the audit chain: each entry hashes the one before it."""
        last = self._connection.execute(
            "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        prev_hash = last[0] if last else ""
        at = now_text()
        detail_text = json.dumps(detail or {}, sort_keys=True)
        digest = hashlib.sha256(
            "|".join([prev_hash, at, actor, action, subject, detail_text]).encode()
        ).hexdigest()
        self.db.table("audit").insert(
            {
                "at": at,
                "actor": actor,
                "action": action,
                "subject": subject,
                "detail": detail_text,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )

    def audit_intact(self) -> bool:
        """True when no audit entry was altered or removed from the middle of the chain."""
        prev_hash = ""
        for row in self.db.query("SELECT * FROM audit ORDER BY seq"):
            parts = [
                prev_hash,
                row["at"],
                row["actor"],
                row["action"],
                row["subject"],
                row["detail"],
            ]
            if (
                row["prev_hash"] != prev_hash
                or row["hash"] != hashlib.sha256("|".join(parts).encode()).hexdigest()
            ):
                return False
            prev_hash = row["hash"]
        return True

    # ------------------------------------------------------------------ prepare

    def register_snapshot(
        self, snapshot: Snapshot, *, period: tuple[datetime, datetime], lang: str, paper: str
    ) -> None:
        """Record the census as printed (idempotent by snapshot id)."""
        with self.transaction() as db:
            db.table("snapshots").upsert(
                {
                    "snapshot_id": snapshot.snapshot_id,
                    "taken_at": iso(snapshot.taken_at),
                    "source": snapshot.source,
                    "registered_at": now_text(),
                    "period_start": iso(period[0]),
                    "period_end": iso(period[1]),
                    "lang": lang,
                    "paper": paper,
                    "warnings": json.dumps(list(snapshot.warnings)),
                },
                pk="snapshot_id",
            )
            db.table("patients").upsert_all(
                [patient_row(snapshot.snapshot_id, p) for p in snapshot.patients],
                pk=("snapshot_id", "patient_id"),
            )
            db.table("orders").upsert_all(
                [order_row(snapshot.snapshot_id, o) for o in snapshot.orders],
                pk=("snapshot_id", "order_id"),
            )
            self.audit("snapshot", snapshot.snapshot_id, {"source": snapshot.source})

    def register_pages(self, printed_pages: Sequence[PrintedPage]) -> None:
        """Record printed pages and their fields (idempotent by page id)."""
        with self.transaction() as db:
            page_ids = [printed.layout.page_id for printed in printed_pages]
            db.execute("CREATE TEMP TABLE IF NOT EXISTS _new_pages (page_id TEXT)")
            db.execute("DELETE FROM _new_pages")
            db.conn.executemany("INSERT INTO _new_pages VALUES (?)", [(p,) for p in page_ids])
            db.execute("DELETE FROM fields WHERE page_id IN (SELECT page_id FROM _new_pages)")
            db.table("pages").upsert_all(
                [page_row(printed) for printed in printed_pages], pk="page_id"
            )
            db.table("fields").insert_all(
                (
                    field_row(printed.layout.page_id, n, f)
                    for printed in printed_pages
                    for n, f in enumerate(printed.layout.fields)
                ),
                batch_size=2000,
            )
            self.audit("pages", "prepare", {"count": len(printed_pages)})

    def printed_pages(
        self, page_id: str | None = None, mrn: str | None = None
    ) -> list[PrintedPage]:
        """Pages as printed, newest snapshot first, optionally for one page or patient."""
        where, params = [], []
        if page_id:
            where.append("page_id = ?")
            params.append(page_id)
        if mrn:
            where.append("mrn = ?")
            params.append(mrn)
        sql = "SELECT * FROM pages"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY registered_at DESC, pdf, pdf_page"
        return [self._printed(row) for row in self.db.query(sql, params)]

    def page_layout(self, page_id: str) -> PageLayout:
        """The layout of a printed page; PageIdError when this store never printed it."""
        rows = list(self.db.query("SELECT * FROM pages WHERE page_id = ?", [page_id]))
        if not rows:
            raise PageIdError(
                f"page {page_id} is not known to this store ({self.path.name}).",
                advice="Was it printed from another laptop's store? Ingest it there, or run "
                "`papermode merge` to bring that store's pages here.",
            )
        return self._printed(rows[0]).layout

    def has_page(self, page_id: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM pages WHERE page_id = ?", [page_id]).fetchone()
            is not None
        )

    def order_doses(self, snapshot_id: str) -> dict[str, float | None]:
        """Each order's dose value as printed, to compare with a written dose."""
        return {
            row["order_id"]: row["dose_value"]
            for row in self.db.query(
                "SELECT order_id, dose_value FROM orders WHERE snapshot_id = ?", [snapshot_id]
            )
        }

    def medicines(self, snapshot_id: str) -> tuple[str, ...]:
        """The snapshot's medicine names: the first words a handwritten drug is matched to."""
        return tuple(
            row["medication"]
            for row in self.db.query(
                "SELECT DISTINCT medication FROM orders WHERE snapshot_id = ?", [snapshot_id]
            )
        )

    def known_mrns(self) -> frozenset[str]:
        """Every MRN of every snapshot printed from this store."""
        return frozenset(
            row["mrn"] for row in self.db.query("SELECT DISTINCT mrn FROM patients") if row["mrn"]
        )

    def latest_snapshot(self) -> Snapshot | None:
        """The newest census registered here (by its own time), rebuilt from the tables."""
        rows = list(
            self.db.query("SELECT * FROM snapshots ORDER BY taken_at DESC, registered_at DESC")
        )
        if not rows:
            return None
        row = rows[0]
        snapshot_id = row["snapshot_id"]
        patients = tuple(
            patient_from_row(p)
            for p in self.db.query(
                "SELECT * FROM patients WHERE snapshot_id = ? ORDER BY ward, room, bed",
                [snapshot_id],
            )
        )
        orders = tuple(
            order_from_row(o)
            for o in self.db.query("SELECT * FROM orders WHERE snapshot_id = ?", [snapshot_id])
        )
        taken_at = from_iso(row["taken_at"]) or datetime.min
        return Snapshot(snapshot_id, taken_at, row["source"], patients, orders)

    def snapshot_patient(self, snapshot_id: str, patient_id: str) -> Patient | None:
        rows = list(
            self.db.query(
                "SELECT * FROM patients WHERE snapshot_id = ? AND patient_id = ?",
                [snapshot_id, patient_id],
            )
        )
        return patient_from_row(rows[0]) if rows else None

    def _printed(self, row: dict[str, Any]) -> PrintedPage:
        fields = tuple(
            field_from_row(f)
            for f in self.db.query(
                "SELECT * FROM fields WHERE page_id = ? ORDER BY position", [row["page_id"]]
            )
        )
        layout = PageLayout(
            page_id=row["page_id"],
            template=row["template"],
            template_version=row["template_version"],
            paper=row["paper"],
            size_mm=(row["width_mm"], row["height_mm"]),
            snapshot_id=row["snapshot_id"],
            patient_id=row["patient_id"],
            mrn=row["mrn"],
            ward=row["ward"],
            page_number=row["page_number"],
            page_count=row["page_count"],
            fields=fields,
            period_start=from_iso(row["period_start"]),
            period_end=from_iso(row["period_end"]),
            lang=row["lang"] or "en",
        )
        also_in = tuple((pdf, int(n)) for pdf, n in json.loads(row["also_in"] or "[]"))
        return PrintedPage(layout=layout, pdf=row["pdf"], pdf_page=row["pdf_page"], also_in=also_in)

    # ------------------------------------------------------------------ evidence

    def put_evidence(self, data: bytes, *, suffix: str = "") -> tuple[str, Path]:
        """Keep `data` byte for byte under its SHA-256; never overwrite. Returns (sha, path)."""
        return put_evidence(self.evidence_dir, data, suffix=suffix)

    def evidence_path(self, sha: str, suffix: str = "") -> Path:
        return evidence_path(self.evidence_dir, sha, suffix)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        if new:
            # Create it owner-only before SQLite writes a byte of patient data into it.
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        connection.row_factory = None
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
        os.chmod(path, 0o600)
    except (OSError, sqlite3.DatabaseError) as error:
        raise StoreError(
            f"cannot open the store {path}: {error}.",
            advice="Check the path and that this user may write there (or use --store).",
        ) from error
    return connection


def open_store(path: Path | str) -> Store:
    """Open (and create or migrate) the store at `path`."""
    return Store(Path(path))


def open_existing_store(path: Path | str) -> Store:
    """Open the store at `path` for reading what is in it; StoreError when there is none."""
    if not Path(path).exists():
        raise StoreError(
            f"there is no store at {path}.",
            advice="Point --store (or $PAPERMODE_STORE) at the store that `papermode prepare` "
            "and `papermode ingest` wrote.",
        )
    return open_store(path)
