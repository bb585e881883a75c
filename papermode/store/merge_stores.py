"""Bring another station's store into this one: captures, readings, decisions, evidence.

Everything is keyed by ids that do not depend on which laptop holds it, so merging is
idempotent (A+A = A) and order-independent (A+B = B+A, (A+B)+C = A+(B+C)):

- a capture's id is made from its file's SHA-256 and frame (`papermode.ingest.pipeline`):
  the same photo on two laptops is one capture. When both read it, the reading of the
  station that ingested it first is kept (earliest `ingested_at`, then station id), with
  its readings: a rule on the two rows, not on the order of the merges;
- a decision is keyed by (station, its id at that station) (`decision_origins`); a
  withdrawal names the decision it takes back by that key;
- an audit entry by (station, its sequence number there): each station's chain is kept
  entry for entry in `station_audit`, never mixed with this store's own chain;
- evidence files by their SHA-256, checked against their content before they are copied.

A store printed from another census or print run (a page id of this store with another
layout) is refused (`OtherPrintRunError`); two stores with one station id whose chains
have parted (a store copied to a second laptop after its first ingest) too
(`StationClashError`). `merge_store` writes inside the caller's transaction; the page
states of the pages it touched are rebuilt by the caller (`papermode.ingest.stations`).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from papermode.core.errors import AuditChainError, MergeError, OtherPrintRunError, StationClashError
from papermode.store.audit import head_path, read_head, verify_chain
from papermode.store.database import Store, open_existing_store
from papermode.store.rows import now_text
from papermode.store.stations import ensure_station, station_id

logger = logging.getLogger(__name__)

SHA_LENGTH = 64


@dataclass(frozen=True)
class StoreMerged:
    """What one other store brought in."""

    other: str  # the other store's file name
    station: str | None
    captures: int = 0
    captures_replaced: int = 0  # the same photo, read first at the other station
    decisions: int = 0
    reviews: int = 0
    evidence_files: int = 0
    audit_entries: int = 0
    pages_printed: int = 0  # printed pages this store did not know
    touched_pages: tuple[str, ...] = ()


def open_other_store(path: Path, this: Store) -> Store:
    """The other station's store, opened for reading; MergeError when it cannot be merged."""
    if not path.exists():
        raise MergeError(
            f"there is no store at {path}.",
            advice="Give the path of the other laptop's .db file (its .db.evidence folder "
            "beside it).",
        )
    if path.resolve() == this.path.resolve() or path.samefile(this.path):
        raise MergeError(
            f"{path.name} is this store itself: there is nothing to merge.",
            advice="Give the other laptops' stores, copied from them.",
        )
    _check_is_papermode_store(path)
    return open_existing_store(path)


def _check_is_papermode_store(path: Path) -> None:
    """Refuse a file that is not a papermode store before opening it (opening migrates)."""
    try:
        connection = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise MergeError(
            f"{path.name} is not a papermode store ({type(error).__name__}).",
            advice="Give the .db file that `papermode prepare` and `ingest` wrote on the "
            "other laptop.",
        ) from error
    if not {"pages", "captures", "readings", "audit"} <= tables:
        raise MergeError(
            f"{path.name} is not a papermode store (its tables are missing).",
            advice="Give the .db file that `papermode prepare` and `ingest` wrote on the "
            "other laptop.",
        )


def merge_store(store: Store, other: Store) -> StoreMerged:
    """Bring `other` into `store`, inside the caller's transaction (see the module doc)."""
    db, theirs = store.db, other.db
    own = ensure_station(db)
    station = _other_station(other)
    _check_other_chain(other)
    _check_print_run(db, theirs, other.path.name)
    audit_entries = _merge_chains(db, theirs, own, station, other.path.name)
    pages_printed = _merge_printed(db, theirs)
    evidence_files = _merge_evidence(store, other)
    _merge_files(db, theirs)
    captures, replaced, touched = _merge_captures(db, theirs)
    decisions = _merge_decisions(db, theirs, own, station)
    reviews = _merge_reviews(db, theirs, own, station)
    merged = StoreMerged(
        other=other.path.name,
        station=station,
        captures=captures,
        captures_replaced=replaced,
        decisions=decisions,
        reviews=reviews,
        evidence_files=evidence_files,
        audit_entries=audit_entries,
        pages_printed=pages_printed,
        touched_pages=tuple(sorted(touched)),
    )
    logger.info(
        "merged station %s: %d captures (%d replaced), %d decisions, %d audit entries",
        station,
        captures,
        replaced,
        decisions,
        audit_entries,
    )
    return merged


def _other_station(other: Store) -> str | None:
    """The other store's station id; given one now when it has decisions but none yet."""
    station = station_id(other.db)
    if station is None and _has_decisions(other.db):
        if other.readonly:
            raise MergeError(
                f"{other.path.name} has review decisions but no station id yet, and it is "
                "read-only.",
                advice="Make a writable copy of it (chmod u+w on the copy) and merge the copy.",
            )
        with other.transaction() as db:
            station = ensure_station(db)
    return station


def _has_decisions(db: sqlite_utils.Database) -> bool:
    return (
        db.table("review_decisions").exists()
        and db.execute("SELECT 1 FROM review_decisions LIMIT 1").fetchone() is not None
    )


# ---------------------------------------------------------------------- checks


def _check_other_chain(other: Store) -> None:
    """The other store's own chain must be intact (against its head file, when there is one)."""
    head_file = head_path(other)
    anchored = read_head(head_file) if head_file.exists() else None
    report = verify_chain(other, anchored)
    if not report.intact:
        raise AuditChainError(
            f"the audit chain of {other.path.name} is not intact: {report.problems[0]}; "
            "nothing was merged.",
            advice="Keep that store aside as it is and call IT: its entries may have been "
            "changed. Merge the other laptops' stores.",
        )


def _field_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        round(value, 2) if isinstance(value, float) else value
        for name, value in sorted(row.items())
        if name != "page_id"
    )


def _fields_by_page(db: sqlite_utils.Database) -> dict[str, list[tuple[Any, ...]]]:
    pages: dict[str, list[tuple[Any, ...]]] = {
        row["page_id"]: [] for row in db.query("SELECT page_id FROM pages")
    }
    for row in db.query("SELECT * FROM fields ORDER BY page_id, position"):
        pages.setdefault(row["page_id"], []).append(_field_key(row))
    return pages


def _check_print_run(db: sqlite_utils.Database, theirs: sqlite_utils.Database, name: str) -> None:
    """A page id names one layout forever: the same id with other boxes is another print run."""
    ours = _fields_by_page(db)
    other = _fields_by_page(theirs)
    different = sorted(p for p in other.keys() & ours.keys() if other[p] != ours[p])
    if different:
        raise OtherPrintRunError(
            f"{name} printed {len(different)} page id(s) of this store with another layout "
            f"(first: {different[0]}): it comes from another census or print run; nothing "
            "was merged.",
            advice="Merge only the stores of laptops prepared from the same print run. Keep "
            "this one aside and call IT.",
        )


# ---------------------------------------------------------------------- audit chains


def _merge_chains(
    db: sqlite_utils.Database,
    theirs: sqlite_utils.Database,
    own: str,
    station: str | None,
    name: str,
) -> int:
    """Copy every chain the other store holds (its own and those it merged) entry by entry."""
    entries: list[dict[str, Any]] = []
    if station is not None:
        entries += [
            {**row, "station": station, "station_seq": row["seq"]}
            for row in theirs.query("SELECT * FROM audit ORDER BY seq")
        ]
    if theirs.table("station_audit").exists():
        entries += list(theirs.query("SELECT * FROM station_audit ORDER BY station, station_seq"))
    mine = {int(r[0]): r[1] for r in db.execute("SELECT seq, hash FROM audit").fetchall()}
    kept = {
        (r[0], int(r[1])): r[2]
        for r in db.execute("SELECT station, station_seq, hash FROM station_audit").fetchall()
    }
    new_rows = []
    for entry in entries:
        key = (entry["station"], int(entry["station_seq"]))
        known = mine.get(key[1]) if key[0] == own else kept.get(key)
        if known is None and key[0] == own:
            _clash(name, own)
        if known is not None:
            if known != entry["hash"]:
                _clash(name, key[0])
            continue
        kept[key] = entry["hash"]
        new_rows.append(_chain_row(entry))
    db.table("station_audit").insert_all(new_rows)
    return len(new_rows)


def _chain_row(entry: dict[str, Any]) -> dict[str, Any]:
    names = ("station", "station_seq", "at", "actor", "action", "subject", "detail")
    row = {column: entry[column] for column in names}
    return {**row, "prev_hash": entry["prev_hash"], "hash": entry["hash"], "merged_at": now_text()}


def _clash(name: str, station: str) -> None:
    raise StationClashError(
        f"{name} and this store both hold entries of station {station} that differ: one "
        "laptop's store was copied to another after its first ingest (or restored from an "
        "older backup and used again); nothing was merged.",
        advice="Keep both stores as they are and call IT: papermode cannot tell which "
        "laptop recorded what. Give every laptop a store copied before its first ingest.",
    )


# ---------------------------------------------------------------------- printed pages


def _merge_printed(db: sqlite_utils.Database, theirs: sqlite_utils.Database) -> int:
    """Pages (and their census) the other store printed and this one did not know."""
    known = {row[0] for row in db.execute("SELECT page_id FROM pages").fetchall()}
    new_pages = [r for r in theirs.query("SELECT * FROM pages") if r["page_id"] not in known]
    if not new_pages:
        return 0
    for table in ("snapshots", "patients", "orders"):
        db.table(table).insert_all(theirs.query(f"SELECT * FROM {table}"), ignore=True)
    db.table("pages").insert_all(new_pages, ignore=True)
    wanted = {page["page_id"] for page in new_pages}
    db.table("fields").insert_all(
        (r for r in theirs.query("SELECT * FROM fields") if r["page_id"] in wanted),
        ignore=True,
        batch_size=2000,
    )
    return len(new_pages)


# ---------------------------------------------------------------------- evidence and files


def _merge_evidence(store: Store, other: Store) -> int:
    """Copy every evidence file this store lacks, each checked against its SHA-256."""
    copied = 0
    folder = other.evidence_dir
    for row in other.db.query("SELECT sha256, evidence FROM files WHERE evidence IS NOT NULL"):
        if not (folder / row["evidence"]).is_file():
            raise MergeError(
                f"{other.path.name}: the evidence file {row['evidence']} is missing; nothing "
                "was merged.",
                advice="Copy the other laptop's .db.evidence folder again, whole, beside its "
                ".db file, and merge again.",
            )
    paths = sorted(folder.glob("*/*")) if folder.is_dir() else []
    for path in paths:
        if path.name.startswith(".") or not path.is_file():
            continue  # a temporary file of a writer that was killed
        sha, suffix = path.name[:SHA_LENGTH], path.name[SHA_LENGTH:]
        if store.evidence_path(sha, suffix).exists():
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            raise MergeError(
                f"{other.path.name}: the evidence file {path.parent.name}/{path.name} does "
                "not match its SHA-256 (damaged or changed); nothing was merged.",
                advice="Copy the other laptop's .db.evidence folder again and merge again; "
                "if it happens again, keep that store aside and call IT.",
            )
        store.put_evidence(data, suffix=suffix)
        copied += 1
    return copied


def _first(row: dict[str, Any], *columns: str) -> tuple[str, ...]:
    """The order that decides which of two rows of one thing is kept: the earlier."""
    return tuple(str(row.get(column) or "") for column in columns)


def _merge_files(db: sqlite_utils.Database, theirs: sqlite_utils.Database) -> None:
    mine = {row["sha256"]: row for row in db.query("SELECT * FROM files")}
    for row in theirs.query("SELECT * FROM files"):
        local = mine.get(row["sha256"])
        if local is None or _first(row, "first_seen", "first_name") < _first(
            local, "first_seen", "first_name"
        ):
            db.table("files").upsert(row, pk="sha256")


# ---------------------------------------------------------------------- captures


_CAPTURE_ORDER = ("ingested_at", "station", "captured_at", "name")


def _merge_captures(
    db: sqlite_utils.Database, theirs: sqlite_utils.Database
) -> tuple[int, int, set[str]]:
    """New captures with their readings; a capture both read: the first station's reading."""
    mine = {row["capture_id"]: row for row in db.query("SELECT * FROM captures")}
    added, replaced, touched = 0, 0, set()
    for row in theirs.query("SELECT * FROM captures ORDER BY capture_id"):
        local = mine.get(row["capture_id"])
        if local is not None:
            if _first(row, *_CAPTURE_ORDER) >= _first(local, *_CAPTURE_ORDER):
                continue
            db.execute("DELETE FROM readings WHERE capture_id = ?", [row["capture_id"]])
            db.execute("DELETE FROM captures WHERE capture_id = ?", [row["capture_id"]])
            touched.add(local["page_id"])
            replaced += 1
        else:
            added += 1
        db.table("captures").insert(row)
        db.table("readings").insert_all(
            theirs.query("SELECT * FROM readings WHERE capture_id = ?", [row["capture_id"]])
        )
        touched.add(row["page_id"])
    return added, replaced, {page for page in touched if page}


# ---------------------------------------------------------------------- decisions


def _merge_decisions(
    db: sqlite_utils.Database, theirs: sqlite_utils.Database, own: str, station: str | None
) -> int:
    """Decisions this store lacks, appended in their station's order, keyed by origin."""
    if station is None or not theirs.table("review_decisions").exists():
        return 0
    _copy_table_definition(db, theirs, "review_decisions")
    local_ids = {key: local_id for local_id, key in _decision_keys(db, own)}
    their_keys = dict(_decision_keys(theirs, station))
    added = 0
    for row in theirs.query("SELECT * FROM review_decisions ORDER BY decision_id"):
        key = their_keys[row["decision_id"]]
        if key in local_ids:
            continue
        target = their_keys.get(row["withdraws"]) if row["withdraws"] is not None else None
        values = {name: value for name, value in row.items() if name != "decision_id"}
        values["withdraws"] = local_ids.get(target) if target else None
        table = db.table("review_decisions")
        table.insert(values)
        new_id = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
        local_ids[key] = new_id
        db.table("decision_origins").insert(
            {"decision_id": new_id, "station": key[0], "station_seq": key[1]}
        )
        added += 1
    return added


def decision_keys(db: sqlite_utils.Database) -> dict[int, tuple[str, int]]:
    """Each decision's id here -> (station, its id at that station), the key merges use."""
    if not db.table("review_decisions").exists():
        return {}
    return dict(_decision_keys(db, station_id(db) or ""))


def _decision_keys(
    db: sqlite_utils.Database, station: str
) -> Iterable[tuple[int, tuple[str, int]]]:
    if not db.table("review_decisions").exists():
        return []
    origins = db.table("decision_origins").exists()
    sql = (
        "SELECT d.decision_id, o.station, o.station_seq FROM review_decisions d "
        "LEFT JOIN decision_origins o USING (decision_id)"
        if origins
        else "SELECT decision_id, NULL, NULL FROM review_decisions"
    )
    return [
        (int(local_id), (origin or station, int(seq if seq is not None else local_id)))
        for local_id, origin, seq in db.execute(sql).fetchall()
    ]


def _copy_table_definition(
    db: sqlite_utils.Database, theirs: sqlite_utils.Database, table: str
) -> None:
    """Create `table` (its indexes and triggers) here as the other store has it, if missing."""
    if db.table(table).exists():
        return
    rows = theirs.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type = 'table' DESC",
        [table],
    ).fetchall()
    for (sql,) in rows:
        db.execute(sql)


def _merge_reviews(
    db: sqlite_utils.Database, theirs: sqlite_utils.Database, own: str, station: str | None
) -> int:
    """The older `reviews` table, keyed like decisions by (station, its id there)."""
    if station is None:
        return 0
    sql = "SELECT * FROM reviews ORDER BY review_id"
    mine = {
        (row["station"] or own, int(row["station_seq"] or row["review_id"]))
        for row in db.query(sql)
    }
    new_rows = []
    for row in theirs.query(sql):
        key = (row["station"] or station, int(row["station_seq"] or row["review_id"]))
        if key not in mine:
            mine.add(key)
            values = {name: value for name, value in row.items() if name != "review_id"}
            new_rows.append({**values, "station": key[0], "station_seq": key[1]})
    db.table("reviews").insert_all(new_rows)
    return len(new_rows)
