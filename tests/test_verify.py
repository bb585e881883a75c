"""`papermode verify`: every evidence file against its SHA-256, every row that needs one
against its file, SQLite's integrity check and the audit chain; and re-ingesting an
original restores its lost or damaged evidence.

A real store: the sample ward prepared, a real photo read, a bad file quarantined.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from ingestedstore import Ingested, copy_ingested, make_ingested

from papermode.cli.main import main
from papermode.core.errors import ExitCode
from papermode.store.audit import ChainReport
from papermode.store.database import open_store
from papermode.store.verify import (
    EvidenceProblem,
    EvidenceReport,
    EvidenceState,
    StoreCheck,
    verdict,
)

PATIENT_DATA = ("MRN", "DUPONT", "Dupont")


@pytest.fixture(scope="module")
def ingested_template(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return make_ingested(tmp_path_factory.mktemp("ingested"))


@pytest.fixture()
def ingested(ingested_template: Ingested, tmp_path: Path) -> Ingested:
    return copy_ingested(ingested_template, tmp_path)


def _verify(store: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["verify", "--store", str(store), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_a_sound_store_verifies(ingested: Ingested) -> None:
    code, out, err = _verify(ingested.store)
    assert code == 0, out + err
    assert out.splitlines()[0] == "SQLite integrity check: ok"
    assert "0 missing or damaged" in out
    assert "audit chain intact:" in out and "anchored head" in out
    assert err == ""


def test_missing_evidence_names_the_photo_and_page_and_says_what_to_do(
    ingested: Ingested,
) -> None:
    ingested.evidence.unlink()
    code, out, err = _verify(ingested.store)
    assert code == ExitCode.EVIDENCE == 40
    line = next(line for line in out.splitlines() if "evidence missing" in line)
    assert ingested.photo.name in line and ingested.page_id in line
    assert "re-ingest the original: papermode ingest PATH" in line
    assert "restore from a backup" in err and "Traceback" not in out + err
    assert not any(word in out + err for word in PATIENT_DATA)


def test_damaged_evidence_is_found_by_its_hash(ingested: Ingested) -> None:
    data = bytearray(ingested.evidence.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one bit of a photo: invisible, but no longer the original
    ingested.evidence.write_bytes(bytes(data))
    code, out, _ = _verify(ingested.store, "--json")
    assert code == 40
    report = json.loads(out)
    damaged = [p for p in report["evidence"]["problems"] if p["state"] == "damaged"]
    assert [p["pages"] for p in damaged] == [[ingested.page_id]]
    assert report["sound"] is False and report["exit_code"] == 40


def test_a_capture_whose_file_row_is_gone_is_missing_evidence(ingested: Ingested) -> None:
    with open_store(ingested.store) as store:
        store.db.execute("DELETE FROM files WHERE evidence = ?", [_relative(ingested)])
    code, out, _ = _verify(ingested.store)
    assert code == 40
    assert "evidence missing: (no file recorded)" in out and ingested.page_id in out


def test_evidence_no_row_refers_to_is_listed_not_a_fault(ingested: Ingested) -> None:
    data = b"an archive whose photos were recorded one by one"
    sha = hashlib.sha256(data).hexdigest()
    stray = ingested.store.with_name("papermode.db.evidence") / sha[:2] / f"{sha}.zip"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(data)
    code, out, _ = _verify(ingested.store)
    assert code == 0, out
    assert f"kept without a row: {sha[:2]}/{sha}.zip" in out
    assert "1 kept without a row" in out


def test_a_truncated_audit_chain_fails_verify(ingested: Ingested) -> None:
    with open_store(ingested.store) as store:
        store.db.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    code, out, err = _verify(ingested.store)
    assert code == ExitCode.AUDIT_CHAIN
    assert "audit chain NOT intact" in out and "truncated" in out
    assert "Keep this store aside" in err


def test_the_gravest_fault_decides_the_exit_code() -> None:
    sound_chain = ChainReport(3, None, None)
    broken_chain = ChainReport(3, None, None, ("entry 2: changed",))
    evidence_fault = EvidenceReport(1, 0, (_missing(),))
    sound_evidence = EvidenceReport(1, 0, ())
    assert verdict(StoreCheck((), sound_evidence, sound_chain)) == ExitCode.OK
    assert verdict(StoreCheck((), evidence_fault, sound_chain)) == ExitCode.EVIDENCE
    assert verdict(StoreCheck((), evidence_fault, broken_chain)) == ExitCode.AUDIT_CHAIN
    assert verdict(StoreCheck(("page 3",), evidence_fault, broken_chain)) == (
        ExitCode.STORE_DAMAGED
    )


def test_reingesting_the_original_restores_missing_evidence(ingested: Ingested) -> None:
    sha = hashlib.sha256(ingested.photo.read_bytes()).hexdigest()
    ingested.evidence.unlink()
    result = CliRunner().invoke(
        main, ["ingest", str(ingested.photo), "--store", str(ingested.store), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert f"RESTORED: {ingested.photo}: restored evidence for {ingested.photo.name}" in (
        result.stdout
    )
    assert "its stored copy was missing" in result.stdout
    assert hashlib.sha256(ingested.evidence.read_bytes()).hexdigest() == sha
    assert ingested.evidence.stat().st_mode & 0o777 == 0o600
    assert _verify(ingested.store)[0] == 0
    with open_store(ingested.store) as store:
        actions = [row[0] for row in store.db.execute("SELECT action FROM audit")]
        captures = store.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    assert actions.count("evidence restored") == 1
    assert captures == 1  # not read again: a duplicate


def test_reingesting_the_original_replaces_damaged_evidence(ingested: Ingested) -> None:
    original = ingested.photo.read_bytes()
    ingested.evidence.write_bytes(original[:-100])  # truncated by a disk fault
    result = CliRunner().invoke(
        main, ["ingest", str(ingested.photo), "--store", str(ingested.store), "--workers", "1"]
    )
    assert "its stored copy was damaged" in result.stdout
    assert ingested.evidence.read_bytes() == original
    assert _verify(ingested.store)[0] == 0


def test_a_duplicate_with_sound_evidence_says_nothing_more(ingested: Ingested) -> None:
    result = CliRunner().invoke(
        main, ["ingest", str(ingested.photo), "--store", str(ingested.store), "--workers", "1"]
    )
    assert "RESTORED" not in result.stdout and "1 duplicate(s)" in result.stdout
    with open_store(ingested.store) as store:
        actions = [row[0] for row in store.db.execute("SELECT action FROM audit")]
    assert "evidence restored" not in actions


def _relative(ingested: Ingested) -> str:
    return str(ingested.evidence.relative_to(ingested.store.with_name("papermode.db.evidence")))


def _missing() -> EvidenceProblem:
    return EvidenceProblem(EvidenceState.MISSING, "ab/ab.jpg", "ab")


def test_a_damaged_sqlite_file_fails_verify_with_its_own_code(ingested: Ingested) -> None:
    """An index page overwritten (a disk fault): the file opens, its integrity check fails."""
    with sqlite3.connect(ingested.store) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'pages_mrn'"
        ).fetchone()[0]
    connection.close()
    with ingested.store.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\x0a" + b"\xff" * (page_size - 1))
    code, out, err = _verify(ingested.store)
    assert code == ExitCode.STORE_DAMAGED == 41, out + err
    assert out.startswith("SQLite integrity check: FAILED")
    assert "restore the last backup" in err and "Traceback" not in out + err


def test_a_damaged_straightened_image_is_named_as_derived(ingested: Ingested) -> None:
    evidence = ingested.store.with_name("papermode.db.evidence")
    rectified = next(evidence.rglob("*.rectified.jpg"))
    rectified.write_bytes(b"not the straightened page")
    code, out, _ = _verify(ingested.store)
    assert code == 40
    line = next(line for line in out.splitlines() if "evidence damaged" in line)
    assert "straightened page image (derived, not an original)" in line
    assert "restore it from a backup" in line
