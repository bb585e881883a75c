"""The store's tables: created and migrated in order, each migration in one transaction.

The schema version is SQLite's `PRAGMA user_version`. Each migration's DDL and its new
`user_version` are applied in one transaction: a migration that fails half-way leaves the
tables and the version as they were, and the next `open_store` tries it again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from papermode.core.errors import StoreError
from papermode.store.transactions import transaction

SCHEMA_VERSION = 6

# 6: several laptops. A station id is made at a store's first capture (so a store prepared
#    once and copied to several laptops gives each laptop its own), or at once for a store
#    that has captures already; captures and audit entries carry it (triggers, so no writer
#    has to remember). Other stations' audit chains and decisions merged in are kept apart
#    (`papermode.store.stations`, `papermode.store.merge_stores`).
STATIONS_MIGRATION = """
    CREATE TABLE IF NOT EXISTS station (
        one INTEGER PRIMARY KEY CHECK (one = 1), station_id TEXT NOT NULL, created_at TEXT
    );
    INSERT OR IGNORE INTO station (one, station_id, created_at)
        SELECT 1, lower(hex(randomblob(6))), strftime('%Y-%m-%dT%H:%M:%S', 'now', 'localtime')
        WHERE EXISTS (SELECT 1 FROM captures);
    ALTER TABLE captures ADD COLUMN station TEXT;
    UPDATE captures SET station = (SELECT station_id FROM station);
    ALTER TABLE audit ADD COLUMN station TEXT;
    UPDATE audit SET station = (SELECT station_id FROM station);
    ALTER TABLE reviews ADD COLUMN station TEXT;
    ALTER TABLE reviews ADD COLUMN station_seq INTEGER;
    CREATE TRIGGER IF NOT EXISTS captures_station AFTER INSERT ON captures
    WHEN NEW.station IS NULL BEGIN
        INSERT OR IGNORE INTO station (one, station_id, created_at) VALUES
            (1, lower(hex(randomblob(6))), strftime('%Y-%m-%dT%H:%M:%S', 'now', 'localtime'));
        UPDATE captures SET station = (SELECT station_id FROM station) WHERE rowid = NEW.rowid;
        UPDATE audit SET station = (SELECT station_id FROM station) WHERE station IS NULL;
    END;
    CREATE TRIGGER IF NOT EXISTS audit_station AFTER INSERT ON audit
    WHEN NEW.station IS NULL BEGIN
        UPDATE audit SET station = (SELECT station_id FROM station) WHERE seq = NEW.seq;
    END;
    CREATE TABLE IF NOT EXISTS station_audit (
        station TEXT, station_seq INTEGER, at TEXT, actor TEXT, action TEXT, subject TEXT,
        detail TEXT, prev_hash TEXT, hash TEXT, merged_at TEXT,
        PRIMARY KEY (station, station_seq)
    );
    CREATE TRIGGER IF NOT EXISTS station_audit_no_update BEFORE UPDATE ON station_audit
    BEGIN SELECT RAISE(ABORT, 'audit entries of other stations are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS station_audit_no_delete BEFORE DELETE ON station_audit
    BEGIN SELECT RAISE(ABORT, 'audit entries of other stations are append-only'); END;
    CREATE TABLE IF NOT EXISTS decision_origins (
        decision_id INTEGER PRIMARY KEY, station TEXT NOT NULL, station_seq INTEGER NOT NULL,
        UNIQUE (station, station_seq)
    );
"""

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
    # 5: review: the earlier capture the reviewer compares with (its crop is in readings);
    #    photocopies: each sheet of paper of one page id, and the status a field of the
    #    first sheet has by the merge rules alone (once a person decided whose sheet it is).
    """
    ALTER TABLE page_state ADD COLUMN earlier_capture TEXT;
    ALTER TABLE page_state ADD COLUMN merged_status TEXT;
    CREATE TABLE IF NOT EXISTS page_sheets (
        page_id TEXT, sheet TEXT, position INTEGER, captures TEXT, first_at TEXT,
        PRIMARY KEY (page_id, sheet)
    );
    """,
    # 6: several laptops (`papermode.store.stations`, `papermode.store.merge_stores`).
    STATIONS_MIGRATION,
]


def migrate(db: sqlite_utils.Database, path: Path) -> None:
    """Bring the store at `path` to `SCHEMA_VERSION`, one migration per transaction.

    A store already up to date is only read (no write lock: reading a store while another
    process writes to it never waits). StoreError when the store is newer than this
    papermode, or a migration fails (the store is then left at the version it had).
    """
    version = _version(db, path)
    while version < SCHEMA_VERSION:
        with transaction(db):
            # Read again under the write lock: another process may have migrated meanwhile.
            version = _version(db, path)
            if version < SCHEMA_VERSION:
                _apply(db, path, version + 1)
                version += 1


def _version(db: sqlite_utils.Database, path: Path) -> int:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer papermode (schema {version}).",
            advice="Update papermode on this laptop, or use the laptop that made it.",
        )
    return version


def _apply(db: sqlite_utils.Database, path: Path, number: int) -> None:
    try:
        db.executescript(MIGRATIONS[number - 1])  # in a transaction: no implicit COMMIT
        db.execute(f"PRAGMA user_version = {number}")
    except sqlite3.Error as error:
        raise StoreError(
            f"cannot bring the store {path.name} to schema {number}: {error}.",
            advice=f"The store is unchanged (schema {number - 1}). Keep using the papermode "
            "that wrote it, and report this message to IT.",
        ) from error
