"""Stations: each downtime laptop's store has its own id, and keeps other stations' chains.

A station id is made once per store, at its first capture (schema 6, a trigger): a store
prepared once and copied to several laptops before the outage gives each laptop its own id
as soon as it ingests its first photo. `papermode station --set NAME` names a laptop's
store before that first photo. Every capture and every audit entry of a store carries the
station that made it; decisions made here are this station's, decisions merged from
another laptop keep their station and id there (`decision_origins`).

Audit chains: the `audit` table is this station's own chain, untouched by merges. The
chains of other stations brought in by `papermode merge` are kept, entry for entry with
their hashes, in `station_audit` (append-only), one chain per station, each verifiable on
its own (`verify_station_chains`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from papermode.core.errors import UsageError
from papermode.store.audit import entry_hash

STATION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class StationChain:
    """One station's audit chain as kept in a store, and what checking it found."""

    station: str
    entries: int
    head_seq: int
    own: bool  # this store's own chain (the `audit` table)
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        return not self.problems


def station_id(db: sqlite_utils.Database) -> str | None:
    """This store's station id; None before its first capture."""
    row = db.execute("SELECT station_id FROM station WHERE one = 1").fetchone()
    return str(row[0]) if row else None


def ensure_station(db: sqlite_utils.Database) -> str:
    """This store's station id, made now when it has none (inside the caller's transaction)."""
    db.execute(
        "INSERT OR IGNORE INTO station (one, station_id, created_at) VALUES "
        "(1, lower(hex(randomblob(6))), strftime('%Y-%m-%dT%H:%M:%S', 'now', 'localtime'))"
    )
    db.execute("UPDATE audit SET station = (SELECT station_id FROM station) WHERE station IS NULL")
    made = station_id(db)
    assert made is not None
    return made


def check_station_name(name: str) -> str:
    """A station name as typed -> the name kept; UsageError for one that cannot be."""
    cleaned = name.strip().lower()
    if not STATION_NAME.match(cleaned):
        raise UsageError(
            f"{name!r} cannot be a station name.",
            advice="Use 1 to 32 lower-case letters, digits and dashes, starting with a letter "
            "or digit (for example ward-3a-laptop1). No patient data.",
        )
    return cleaned


def name_station(db: sqlite_utils.Database, name: str) -> str:
    """Give this store the station name `name` (inside the caller's transaction).

    Refused once the store holds a capture: its captures, decisions and audit entries
    already say which station made them, and other stores may have merged them.
    """
    cleaned = check_station_name(name)
    current = station_id(db)
    if current == cleaned:
        return cleaned
    if db.execute("SELECT 1 FROM captures LIMIT 1").fetchone() is not None:
        raise UsageError(
            f"this store is station {current} already and holds photos: it keeps that id.",
            advice="Name a laptop's store before its first ingest (right after copying the "
            "prepared store to it). `papermode station` shows the id it has.",
        )
    db.execute(
        "INSERT OR REPLACE INTO station (one, station_id, created_at) VALUES "
        "(1, ?, strftime('%Y-%m-%dT%H:%M:%S', 'now', 'localtime'))",
        [cleaned],
    )
    db.execute("UPDATE audit SET station = ?", [cleaned])
    return cleaned


def verify_station_chains(db: sqlite_utils.Database) -> list[StationChain]:
    """Every chain this store holds, own first, each checked link by link on its own.

    The own chain's anchored head is checked by `papermode audit verify`
    (`papermode.store.audit.verify_chain`); the other stations' heads are theirs.
    """
    own = station_id(db) or "(not yet a station)"
    chains = [_check(own, True, db.query("SELECT *, seq AS station_seq FROM audit ORDER BY seq"))]
    others = [
        row[0] for row in db.execute("SELECT DISTINCT station FROM station_audit ORDER BY station")
    ]
    for station in others:
        rows = db.query(
            "SELECT * FROM station_audit WHERE station = ? ORDER BY station_seq", [station]
        )
        chains.append(_check(station, False, rows))
    return chains


def _check(station: str, own: bool, rows: Iterable[dict[str, Any]]) -> StationChain:
    problems: list[str] = []
    prev_hash, previous, count = "", 0, 0
    for row in rows:
        count += 1
        seq = int(row["station_seq"])
        # Another station's entries are copied one by one: none may be missing between two.
        if (not own and seq != previous + 1) or row["prev_hash"] != prev_hash:
            problems.append(f"station {station} entry {seq}: does not follow entry {previous}")
        if row["hash"] != entry_hash(row["prev_hash"] or "", row):
            problems.append(f"station {station} entry {seq}: its content was changed")
        prev_hash, previous = row["hash"], seq
    return StationChain(station, count, previous, own, tuple(problems))
