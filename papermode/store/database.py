"""The store: one SQLite file (WAL) plus a folder of evidence files named by SHA-256.

Readable with `sqlite3` and `datasette`. Files are readable by their owner only. The
schema is created and migrated here (`MIGRATIONS`); every other module goes through
`Store` methods or, for tables it owns, through `store.db` inside `store.transaction()`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
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

SCHEMA_VERSION = 3

MIGRATIONS: list[str] = [
    # 1: prepare (snapshots, patients, orders, pages, fields) and capture (files, captures,
    #    readings, reviews) and the audit chain.
    """
    CREATE TABLE IF NOT EXISTS snapshots (
        snapshot_id TEXT PRIMARY KEY, taken_at TEXT, source TEXT, registered_at TEXT,
        period_start TEXT, period_end TEXT, lang TEXT, paper TEXT, warnings TEXT
    );
    CREATE TABLE IF NOT EXISTS patients (
        snapshot_id TEXT, patient_id TEXT, mrn TEXT, family TEXT, given TEXT,
        birth_date TEXT, sex TEXT, ward TEXT, room TEXT, bed TEXT, encounter TEXT,
        allergies TEXT, weight_kg REAL, weight_on TEXT,
        PRIMARY KEY (snapshot_id, patient_id)
    );
    CREATE INDEX IF NOT EXISTS patients_mrn ON patients (mrn);
    CREATE TABLE IF NOT EXISTS orders (
        snapshot_id TEXT, order_id TEXT, patient_id TEXT, medication TEXT,
        dose_value REAL, dose_unit TEXT, route TEXT, timing TEXT, timing_label TEXT,
        as_needed INTEGER, indication TEXT, max_per_period TEXT, authored_on TEXT,
        requester TEXT, high_alert INTEGER, note TEXT,
        PRIMARY KEY (snapshot_id, order_id)
    );
    CREATE TABLE IF NOT EXISTS pages (
        page_id TEXT PRIMARY KEY, snapshot_id TEXT, template TEXT, template_version TEXT,
        paper TEXT, width_mm REAL, height_mm REAL, patient_id TEXT, mrn TEXT, ward TEXT,
        page_number INTEGER, page_count INTEGER, pdf TEXT, pdf_page INTEGER, also_in TEXT,
        period_start TEXT, period_end TEXT, lang TEXT, registered_at TEXT
    );
    CREATE INDEX IF NOT EXISTS pages_mrn ON pages (mrn);
    CREATE TABLE IF NOT EXISTS fields (
        page_id TEXT, field_id TEXT, kind TEXT, x REAL, y REAL, w REAL, h REAL,
        role TEXT, cells INTEGER, decimals INTEGER, order_id TEXT, scheduled TEXT,
        code TEXT, grp TEXT, value TEXT, label TEXT, position INTEGER,
        PRIMARY KEY (page_id, field_id)
    );
    CREATE TABLE IF NOT EXISTS files (
        sha256 TEXT PRIMARY KEY, size INTEGER, media_kind TEXT, first_name TEXT,
        first_seen TEXT, evidence TEXT
    );
    CREATE TABLE IF NOT EXISTS ingests (
        ingest_id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT, name TEXT,
        ingested_at TEXT, status TEXT, message TEXT, pages TEXT, kind TEXT
    );
    CREATE TABLE IF NOT EXISTS captures (
        capture_id TEXT PRIMARY KEY, sha256 TEXT, frame INTEGER, name TEXT,
        page_id TEXT, status TEXT, message TEXT, captured_at TEXT, ingested_at TEXT,
        identity_source TEXT, mrn_check TEXT, homography TEXT, reprojection_mm REAL,
        quality TEXT, seconds REAL
    );
    CREATE INDEX IF NOT EXISTS captures_page ON captures (page_id);
    CREATE TABLE IF NOT EXISTS readings (
        capture_id TEXT, page_id TEXT, field_id TEXT, value TEXT, confidence REAL,
        status TEXT, flags TEXT, crop TEXT, detail TEXT,
        PRIMARY KEY (capture_id, field_id)
    );
    CREATE INDEX IF NOT EXISTS readings_page ON readings (page_id, field_id);
    CREATE TABLE IF NOT EXISTS page_state (
        page_id TEXT, field_id TEXT, value TEXT, confidence REAL, status TEXT,
        flags TEXT, captures TEXT, crop TEXT, updated_at TEXT,
        PRIMARY KEY (page_id, field_id)
    );
    CREATE TABLE IF NOT EXISTS reviews (
        review_id INTEGER PRIMARY KEY AUTOINCREMENT, page_id TEXT, field_id TEXT,
        value TEXT, status TEXT, reviewer TEXT, reviewed_at TEXT, note TEXT
    );
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, actor TEXT, action TEXT,
        subject TEXT, detail TEXT, prev_hash TEXT, hash TEXT
    );
    """,
    # 2: handwritten drug names get an OCR + lexicon suggestion for the reviewer.
    """
    ALTER TABLE readings ADD COLUMN suggestion TEXT;
    ALTER TABLE page_state ADD COLUMN suggestion TEXT;
    """,
    # 3: every file is looked up by its SHA-256 (is it a duplicate? which captures?).
    """
    CREATE INDEX IF NOT EXISTS ingests_sha ON ingests (sha256);
    CREATE INDEX IF NOT EXISTS captures_sha ON captures (sha256);
    """,
]


class Store:
    """An open store. Use `open_store()`; close it with `close()` or a `with` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.evidence_dir = path.with_name(path.name + ".evidence")
        self._connection = _connect(path)
        self.db = sqlite_utils.Database(self._connection)
        self._migrate()

    # ------------------------------------------------------------------ plumbing

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """All or nothing: an interrupted block leaves the store as it was."""
        connection = self._connection
        if connection.in_transaction:
            yield self.db
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            connection.rollback()
            raise
        connection.commit()

    def _migrate(self) -> None:
        version = self._connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer papermode (schema {version}).",
                advice="Update papermode on this laptop, or use the laptop that made it.",
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._connection.executescript(script)
            self._connection.execute(f"PRAGMA user_version = {number}")
            self._connection.commit()

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
        sha = hashlib.sha256(data).hexdigest()
        path = self.evidence_path(sha, suffix)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_name(path.name + ".part")
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, stat.S_IRUSR | stat.S_IWUSR)
            os.replace(temporary, path)
        return sha, path

    def evidence_path(self, sha: str, suffix: str = "") -> Path:
        return self.evidence_dir / sha[:2] / f"{sha}{suffix}"


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
