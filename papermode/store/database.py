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
import logging
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
from papermode.core.private import private_dir
from papermode.store.audit import keep_head
from papermode.store.claims import claim_is_stale
from papermode.store.evidence import evidence_path, put_evidence, remove_stale_parts
from papermode.store.faults import store_fault
from papermode.store.rows import (
    field_from_row,
    field_row,
    from_iso,
    iso,
    now_ordered_text,
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

logger = logging.getLogger(__name__)

# How long a command waits for another one writing to the same store before it says so.
BUSY_TIMEOUT_S = 30.0


class Store:
    """An open store. Use `open_store()`; close it with `close()` or a `with` block."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.evidence_dir = path.with_name(path.name + ".evidence")
        self._connection = _connect(path, readonly=readonly)
        self.db = sqlite_utils.Database(self._connection)
        self._head_due = False  # an audit entry was appended since the head file was kept
        try:
            self._migrate()
        except BaseException:
            self._connection.close()
            raise

    # ------------------------------------------------------------------ plumbing

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """All or nothing: an interrupted block leaves the store as it was; a block inside
        another is a savepoint (`papermode.store.transactions`). A fault of the disk or the
        store (full, read-only, locked) becomes a StoreError that says what to do."""
        outermost = not self.db.conn.in_transaction
        try:
            with transaction(self.db) as db:
                yield db
        except (sqlite3.OperationalError, OSError) as error:
            fault = store_fault(error, self.path)
            if fault is None:
                raise
            raise fault from error
        finally:
            if outermost and self._head_due:
                self._keep_head()

    def _migrate(self) -> None:
        version = int(self._connection.execute("PRAGMA user_version").fetchone()[0])
        if version < SCHEMA_VERSION and self.readonly:
            raise StoreError(
                f"{self.path} is read-only and was written by an older papermode "
                f"(schema {version}); it must be updated before it can be read.",
                advice="Make it writable for its owner (chmod u+w), or read a copy of it.",
            )
        migrate(self.db, self.path)

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
        self._head_due = True
        if not self._connection.in_transaction:
            self._keep_head()

    def _keep_head(self) -> None:
        """Once the entries are committed (or rolled back): the head file follows the chain."""
        self._head_due = False
        try:
            keep_head(self)
        except (OSError, sqlite3.Error) as error:  # the entry is stored; only its anchor lags
            logger.warning("audit head file not written (%s)", type(error).__name__)

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
                    "registered_at": now_ordered_text(),
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
        """Record printed pages and their fields (idempotent by page id).

        A page id names one layout forever: the fields of a page already registered are
        never replaced. Registering it again with the same fields only updates where it
        sits in the PDFs; with other fields it raises PageIdError and records nothing.
        """
        with self.transaction() as db:
            known = self._registered_fields(db, [p.layout.page_id for p in printed_pages])
            new_rows = []
            for printed in printed_pages:
                page_id = printed.layout.page_id
                rows = [field_row(page_id, n, f) for n, f in enumerate(printed.layout.fields)]
                if page_id not in known:
                    new_rows += rows
                    known[page_id] = rows
                elif not _same_fields(known[page_id], rows):
                    raise PageIdError(
                        f"page id {page_id} was printed before with another layout; this "
                        "print run would change what old paper means.",
                        advice="Nothing was recorded. Report this to IT: a print run must "
                        "give every changed page a new id.",
                    )
            db.table("pages").upsert_all(
                [page_row(printed) for printed in printed_pages], pk="page_id"
            )
            _insert_fields(db, new_rows)
            self.audit("pages", "prepare", {"count": len(printed_pages)})

    @staticmethod
    def _registered_fields(
        db: sqlite_utils.Database, page_ids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The stored field rows of those of `page_ids` already registered, by position."""
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _new_pages (page_id TEXT)")
        db.execute("DELETE FROM _new_pages")
        db.conn.executemany("INSERT INTO _new_pages VALUES (?)", [(p,) for p in page_ids])
        known: dict[str, list[dict[str, Any]]] = {}
        for row in db.query(
            "SELECT * FROM fields WHERE page_id IN (SELECT page_id FROM _new_pages) "
            "ORDER BY page_id, position"
        ):
            known.setdefault(row["page_id"], []).append(row)
        for row in db.query(
            "SELECT page_id FROM pages WHERE page_id IN (SELECT page_id FROM _new_pages)"
        ):
            known.setdefault(row["page_id"], [])  # a page printed without fields
        return known

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
        """Keep `data` byte for byte under its SHA-256; never overwrite. Returns (sha, path).

        A full disk or a read-only folder raises StoreError and leaves no partial file
        (`papermode.store.evidence`).
        """
        try:
            return put_evidence(self.evidence_dir, data, suffix=suffix)
        except OSError as error:
            fault = store_fault(error, self.path)
            if fault is None:
                raise
            raise fault from error

    def remove_stale_parts(self) -> int:
        """Delete temporary evidence files of processes killed while writing them."""
        return remove_stale_parts(self.evidence_dir)

    def evidence_path(self, sha: str, suffix: str = "") -> Path:
        return evidence_path(self.evidence_dir, sha, suffix)

    # ------------------------------------------------------------------ claims

    def claim_file(self, sha: str, owner: str) -> bool:
        """Claim the file `sha` for one ingest run before it is read; False when another
        run that is still alive holds it. A claim of a run that died is taken over."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT owner, claimed_at FROM file_claims WHERE sha256 = ?", [sha]
            ).fetchone()
            if row and row[0] != owner and not claim_is_stale(row[0], row[1], owner):
                return False
            db.execute(
                "INSERT OR REPLACE INTO file_claims (sha256, owner, claimed_at) VALUES (?, ?, ?)",
                [sha, owner, now_text()],
            )
        return True

    def release_claim(self, sha: str, owner: str) -> None:
        """Give up the claim on `sha` (inside the transaction that records the file)."""
        self.db.execute("DELETE FROM file_claims WHERE sha256 = ? AND owner = ?", [sha, owner])

    def release_claims(self, owner: str) -> None:
        """Give up every claim of a run that ends (a store fault may prevent it: then the
        next run takes them over, as it does those of a killed run)."""
        with contextlib.suppress(StoreError, sqlite3.Error), self.transaction() as db:
            db.execute("DELETE FROM file_claims WHERE owner = ?", [owner])


def _insert_fields(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> None:
    """Insert printed field rows with one prepared statement.

    sqlite-utils' `insert_all` checks every value for JSON (a million calls for a
    1,000-patient print run); field rows hold only text and numbers, so the standard
    library's `executemany` takes them as they are, in the same transaction.
    """
    if not rows:
        return
    columns = list(rows[0])
    sql = (
        f"INSERT INTO fields ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + column for column in columns)})"
    )
    db.conn.executemany(sql, rows)


def _same_fields(stored: list[dict[str, Any]], printed: list[dict[str, Any]]) -> bool:
    """Whether two pages' field rows mean the same (floats rounded to 0.01 mm)."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            round(value, 2) if isinstance(value, float) else value
            for name, value in sorted(row.items())
            if name in names
        )

    names = set(printed[0]) - {"page_id"} if printed else set()
    return len(stored) == len(printed) and [key(r) for r in stored] == [key(r) for r in printed]


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the SQLite file. Never changes the mode of a store that exists: a store made
    read-only (0400) by its owner stays so; one of another user is refused, not opened."""
    try:
        new = not path.exists()
        if new:
            if readonly:
                raise StoreError(f"there is no store at {path}.", advice=_NO_STORE_ADVICE)
            private_dir(path.parent)
            # Create it owner-only before SQLite writes a byte of patient data into it.
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        else:
            _check_existing(path, readonly=readonly)
        if readonly:
            uri = f"file:{path.resolve()}?mode=ro"
            connection = sqlite3.connect(
                uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S
            )
        else:
            connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        connection.row_factory = None
        if not readonly:
            connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
        # FULL: a commit is on the disk (WAL synced) before the clerk is told "read".
        connection.execute("PRAGMA synchronous = FULL")
    except (OSError, sqlite3.DatabaseError) as error:
        fault = store_fault(error, path)
        raise fault or StoreError(
            f"cannot open the store {path}: {error}.",
            advice="Check the path and that this user may write there (or use --store).",
        ) from error
    return connection


_NO_STORE_ADVICE = (
    "Point --store (or $PAPERMODE_STORE) at the store that `papermode prepare` "
    "and `papermode ingest` wrote."
)


def _check_existing(path: Path, *, readonly: bool) -> None:
    info = path.stat()
    if info.st_uid != os.geteuid():
        raise StoreError(
            f"the store {path} belongs to another user (uid {info.st_uid}); papermode opens "
            "only its own user's stores, so their files stay owner-only.",
            advice="Run papermode as the user who owns the store, or give --store a store of "
            "your own.",
        )
    if not readonly and not info.st_mode & stat.S_IWUSR:
        raise StoreError(
            f"the store {path} is read-only (mode {stat.S_IMODE(info.st_mode):04o}); papermode "
            "never changes a store's permissions behind your back.",
            advice="If it should take new files, make it writable: chmod u+w on it; otherwise "
            "use another store with --store.",
        )


def open_store(path: Path | str, *, readonly: bool = False) -> Store:
    """Open (and create or migrate) the store at `path`; `readonly` never writes to it."""
    return Store(Path(path), readonly=readonly)


def open_existing_store(path: Path | str) -> Store:
    """Open the store at `path` for reading what is in it; StoreError when there is none.

    A store its owner made read-only is opened read-only, its mode left as it is."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"there is no store at {path}.", advice=_NO_STORE_ADVICE)
    writable = bool(path.stat().st_mode & stat.S_IWUSR)
    return Store(path, readonly=not writable)
