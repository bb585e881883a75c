"""`papermode verify`: is the store sound? Its SQLite file, its evidence, its audit chain.

Evidence files are named by their SHA-256, so each is checked against its own name; the
`files` rows say which originals the captures rest on, so a row whose file is missing or
damaged is named with the photo's file name and the pages read from it, and what to do
(re-ingest that original: `papermode ingest PATH` restores it; or restore from a backup).
Files that no row refers to are listed, not counted as a fault: zip archives (their photos
are recorded one by one) and files written after a backup's snapshot. The straightened page
images (`*.rectified.jpg`) are derived: checked against their names, never referred to.

The same checks run on a backup's copy of the store (`papermode.store.backup_check`).
"""

from __future__ import annotations

import enum
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from papermode.core.errors import AuditChainError, ExitCode
from papermode.store.audit import ChainReport, head_path, read_head, verify_chain
from papermode.store.database import Store
from papermode.store.evidence import file_sha256

DERIVED_SUFFIX = ".rectified.jpg"
_EVIDENCE_NAME = re.compile(r"^([0-9a-f]{64})(\.[A-Za-z0-9.]+)?$")


class EvidenceState(enum.StrEnum):
    """What is wrong with one evidence file (or with the row that needs it)."""

    MISSING = "missing"
    DAMAGED = "damaged"
    UNREFERENCED = "unreferenced"  # kept, but no row refers to it: listed, not a fault


@dataclass(frozen=True)
class EvidenceProblem:
    """One evidence file missing, damaged or kept without a row; names no patient."""

    state: EvidenceState
    path: str  # relative to the evidence folder
    sha256: str
    name: str | None = None  # the original's file name when it was first ingested
    pages: tuple[str, ...] = ()
    captures: int = 0

    @property
    def derived(self) -> bool:
        return self.path.endswith(DERIVED_SUFFIX)

    def describe(self) -> str:
        """One line for IT: which file, which photo and pages, and what to do."""
        if self.state == EvidenceState.UNREFERENCED:
            return f"kept without a row: {self.path}"
        if self.derived:
            what = "a straightened page image (derived, not an original)"
            todo = "restore it from a backup"
        else:
            pages = f"pages {', '.join(self.pages)}" if self.pages else "no page read from it"
            what = f"the original of {self.name} ({pages}; {self.captures} capture(s))"
            todo = (
                "re-ingest the original: papermode ingest PATH restores it; "
                "or restore from a backup"
            )
        return f"evidence {self.state.value}: {self.path}, {what}: {todo}"


@dataclass(frozen=True)
class EvidenceReport:
    """Every evidence file checked: how many, and each one missing, damaged or unreferenced."""

    checked: int
    derived: int
    problems: tuple[EvidenceProblem, ...]

    @property
    def faults(self) -> tuple[EvidenceProblem, ...]:
        return tuple(p for p in self.problems if p.state != EvidenceState.UNREFERENCED)

    @property
    def unreferenced(self) -> tuple[EvidenceProblem, ...]:
        return tuple(p for p in self.problems if p.state == EvidenceState.UNREFERENCED)

    @property
    def sound(self) -> bool:
        return not self.faults


@dataclass(frozen=True)
class StoreCheck:
    """What `verify_store` found: SQLite's integrity check, the evidence, the audit chain."""

    integrity: tuple[str, ...]  # SQLite's complaints; empty when "ok"
    evidence: EvidenceReport
    chain: ChainReport

    @property
    def sound(self) -> bool:
        return not self.integrity and self.evidence.sound and self.chain.intact


def verdict(check: StoreCheck) -> ExitCode:
    """The exit code of `papermode verify`: the gravest fault found first."""
    if check.integrity:
        return ExitCode.STORE_DAMAGED
    if not check.chain.intact:
        return ExitCode.AUDIT_CHAIN
    if not check.evidence.sound:
        return ExitCode.EVIDENCE
    return ExitCode.OK


def verify_store(store: Store) -> StoreCheck:
    """Check the store's SQLite file, every evidence file, and the audit chain against the
    head file next to the store (what `papermode audit verify` does)."""
    integrity = integrity_problems(store.db.conn)
    try:
        evidence = check_evidence(store.db, store.evidence_dir)
        chain = check_chain(store)
    except sqlite3.DatabaseError as error:
        if not integrity:
            raise
        # A damaged file may fail any query: what was found so far is the answer.
        unread = f"not checked: the store cannot be read ({error})"
        return StoreCheck(
            integrity, EvidenceReport(0, 0, ()), ChainReport(0, None, None, (unread,))
        )
    return StoreCheck(integrity, evidence, chain)


def integrity_problems(connection: sqlite3.Connection) -> tuple[str, ...]:
    """SQLite's `PRAGMA integrity_check`: empty when the file is sound."""
    try:
        rows = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return (f"the SQLite file cannot be checked: {error}",)
    return () if rows == ["ok"] else tuple(rows)


def check_chain(store: Store) -> ChainReport:
    """`verify_chain` against the head file next to the store, when there is one."""
    path = head_path(store)
    try:
        anchored = read_head(path) if path.exists() else None
    except AuditChainError as error:
        report = verify_chain(store)
        return ChainReport(report.entries, report.head, None, (*report.problems, error.message))
    return verify_chain(store, anchored)


def check_evidence(db: sqlite_utils.Database, evidence_dir: Path) -> EvidenceReport:
    """Every `files` row against its evidence file, every evidence file against its name."""
    on_disk = _evidence_files(evidence_dir)
    problems: list[EvidenceProblem] = []
    referenced: set[str] = set()
    pages = _pages_by_file(db)
    for row in db.query("SELECT sha256, first_name, evidence FROM files ORDER BY first_seen"):
        relative = str(row["evidence"])
        referenced.add(relative)
        state = _state(evidence_dir / relative, str(row["sha256"]))
        if state is not None:
            page_ids, captures = pages.get(str(row["sha256"]), ((), 0))
            problems.append(
                EvidenceProblem(
                    state, relative, row["sha256"], row["first_name"], page_ids, captures
                )
            )
    problems += _captures_without_file(db)
    derived = 0
    for relative, sha in on_disk.items():
        if relative in referenced:
            continue
        if relative.endswith(DERIVED_SUFFIX):
            derived += 1
        state = (_state(evidence_dir / relative, sha) if sha else None) or (
            EvidenceState.UNREFERENCED
        )
        if state == EvidenceState.UNREFERENCED and relative.endswith(DERIVED_SUFFIX):
            continue
        problems.append(EvidenceProblem(state, relative, sha))
    return EvidenceReport(len(referenced | set(on_disk)), derived, tuple(problems))


def _state(path: Path, sha: str) -> EvidenceState | None:
    if not path.is_file():
        return EvidenceState.MISSING
    try:
        return None if file_sha256(path) == sha else EvidenceState.DAMAGED
    except OSError:
        return EvidenceState.DAMAGED


def _evidence_files(evidence_dir: Path) -> dict[str, str]:
    """Evidence files on disk (relative path -> the SHA-256 their name claims); temporary
    `.part` files of a writer are not evidence yet."""
    found: dict[str, str] = {}
    if not evidence_dir.is_dir():
        return found
    for path in sorted(evidence_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        match = _EVIDENCE_NAME.match(path.name)
        found[str(path.relative_to(evidence_dir))] = match.group(1) if match else ""
    return found


def _pages_by_file(db: sqlite_utils.Database) -> dict[str, tuple[tuple[str, ...], int]]:
    """For each original (by SHA-256): the page ids read from it, and how many captures."""
    by_file: dict[str, tuple[tuple[str, ...], int]] = {}
    for row in db.query(
        "SELECT sha256, group_concat(DISTINCT page_id) AS pages, COUNT(*) AS captures "
        "FROM captures GROUP BY sha256"
    ):
        page_ids = tuple(sorted(str(row["pages"]).split(","))) if row["pages"] else ()
        by_file[str(row["sha256"])] = (page_ids, int(row["captures"]))
    return by_file


def _captures_without_file(db: sqlite_utils.Database) -> list[EvidenceProblem]:
    """Captures whose original has no `files` row at all: its evidence is not even named."""
    return [
        EvidenceProblem(
            EvidenceState.MISSING,
            "(no file recorded)",
            str(row["sha256"]),
            row["name"],
            tuple(sorted(str(row["pages"]).split(","))) if row["pages"] else (),
            int(row["captures"]),
        )
        for row in db.query(
            "SELECT sha256, min(name) AS name, group_concat(DISTINCT page_id) AS pages, "
            "COUNT(*) AS captures FROM captures "
            "WHERE sha256 NOT IN (SELECT sha256 FROM files) GROUP BY sha256"
        )
    ]
