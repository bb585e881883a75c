"""The store: one SQLite file (WAL) plus a folder of evidence files named by SHA-256.

Readable with `sqlite3` and `datasette`. Files are readable by their owner only. The
schema is created and migrated here (`MIGRATIONS`); every other module goes through
`Store` methods or, for tables it owns, through `store.db` inside `store.transaction()`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
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

SCHEMA_VERSION = 4
# How long a command waits for another one writing to the same store before it says so.
BUSY_TIMEOUT_S = 30.0
# A claim on a file left by a run that was killed on another machine is taken over after this.
CLAIM_STALE_AFTER = timedelta(hours=1)

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
    # 4: a file being read is claimed by its SHA-256, so two ingests at once read it once.
    """
    CREATE TABLE IF NOT EXISTS file_claims (
        sha256 TEXT PRIMARY KEY, owner TEXT, claimed_at TEXT
    );
    """,
]


class Store:
    """An open store. Use `open_store()`; close it with `close()` or a `with` block."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.evidence_dir = path.with_name(path.name + ".evidence")
        self._connection = _connect(path, readonly=readonly)
        self.db = sqlite_utils.Database(self._connection)
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
        """All or nothing: an interrupted block leaves the store as it was."""
        connection = self._connection
        if connection.in_transaction:
            yield self.db
            return
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        except (sqlite3.OperationalError, OSError) as error:
            fault = store_fault(error, self.path)
            if fault is None:
                raise
            raise fault from error

    def _migrate(self) -> None:
        version = self._connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer papermode (schema {version}).",
                advice="Update papermode on this laptop, or use the laptop that made it.",
            )
        if version < SCHEMA_VERSION and self.readonly:
            raise StoreError(
                f"{self.path} is read-only and was written by an older papermode "
                f"(schema {version}); it must be updated before it can be read.",
                advice="Make it writable for its owner (chmod u+w), or read a copy of it.",
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
        """Keep `data` byte for byte under its SHA-256; never overwrite. Returns (sha, path).

        Written under a unique temporary name, synced, renamed into place, and the folder
        synced, so a power cut leaves either the whole file or nothing under its name.
        A full disk or a read-only folder raises StoreError and leaves no partial file.
        """
        sha = hashlib.sha256(data).hexdigest()
        path = self.evidence_path(sha, suffix)
        if path.exists():
            return sha, path
        try:
            new_folder = not path.parent.exists()
            private_dir(path.parent)
            fd, temporary = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".part"
            )
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            _fsync_dir(path.parent)
            if new_folder:
                _fsync_dir(self.evidence_dir)
        except OSError as error:
            fault = store_fault(error, self.path)
            if fault is None:
                raise
            raise fault from error
        return sha, path

    def remove_stale_parts(self) -> int:
        """Delete temporary evidence files left by a process that was killed while writing
        (their name holds the writer's process id); returns how many were removed."""
        removed = 0
        if not self.evidence_dir.is_dir():
            return 0
        for part in self.evidence_dir.glob("*/.*.part"):
            pid = part.name.rsplit(".part", 1)[0].split(".")[-2]
            if pid.isdigit() and not _process_alive(int(pid)):
                with contextlib.suppress(OSError):
                    part.unlink()
                    removed += 1
        return removed

    # ------------------------------------------------------------------ claims

    def claim_file(self, sha: str, owner: str) -> bool:
        """Claim the file `sha` for one ingest run before it is read; False when another
        run that is still alive holds it. A claim of a run that died is taken over."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT owner, claimed_at FROM file_claims WHERE sha256 = ?", [sha]
            ).fetchone()
            if row and row[0] != owner and not _claim_is_stale(row[0], row[1], owner):
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

    def evidence_path(self, sha: str, suffix: str = "") -> Path:
        return self.evidence_dir / sha[:2] / f"{sha}{suffix}"


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


def store_fault(error: BaseException, path: Path) -> StoreError | None:
    """The StoreError for a fault of the disk or the store (full, read-only, locked), with
    what to do; None when `error` is something else."""
    code = getattr(error, "errno", None)
    text = str(error).lower()
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "disk full" in text:
        return StoreError(
            f"the disk holding the store {path} is full; papermode stopped before writing a "
            "partial file. Everything reported before this message is stored.",
            advice="Free space on that disk (or move the store to a larger one) and run the "
            "same command again: files already stored are recognised, the rest are read.",
        )
    if (
        code in (errno.EROFS, errno.EACCES, errno.EPERM)
        or "readonly" in text
        or "read-only" in text
    ):
        return StoreError(
            f"the store {path} or its folder cannot be written ({_plain(error)}).",
            advice="Check that the disk is not read-only and that this user may write in the "
            "store's folder, then run the same command again.",
        )
    if "database is locked" in text or "database is busy" in text:
        return StoreError(
            f"the store {path} is busy: another papermode command is writing to it.",
            advice="Wait for the other command to finish (another clerk, or a scheduled "
            "prepare), then run this one again.",
        )
    return None


def _plain(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_is_stale(holder: str, claimed_at: str | None, owner: str) -> bool:
    """A claim is stale when its run is gone: same machine and its process is dead (or it is
    this process, from an earlier run), or it is older than CLAIM_STALE_AFTER."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":")[0]
    if host == owner.partition(":")[0] and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid() or not _process_alive(pid):
            return True
    when = from_iso(claimed_at)
    return when is None or datetime.now() - when > CLAIM_STALE_AFTER


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
