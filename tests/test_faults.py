"""Faults are faults, not bugs: a full disk, a read-only store or folder, a store locked by
another command, a store of another user, a store from a newer papermode. Each says what to
do, exits 5 (docs/errors.md), leaves no partial file, and keeps what was committed before.

Real stores in tmp_path; the disk filling is an injected `OSError(ENOSPC)` at the evidence
write, or SQLite's own SQLITE_FULL through `PRAGMA max_page_count`.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from papermode.cli.main import main
from papermode.core.errors import StoreError
from papermode.ingest.pipeline import ingest_paths
from papermode.store import database, evidence
from papermode.store.database import open_existing_store, open_store


def _notes(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"note-{n}.jpg"
        path.write_text(f"not a photo {n}")  # quarantined: the original is kept as evidence
        paths.append(path)
    return paths


def _new_store(path: Path) -> Path:
    with open_store(path):
        pass
    return path


def _disk_fills_after(monkeypatch: pytest.MonkeyPatch, files: int) -> None:
    """The evidence write of file number `files` + 1 finds the disk full."""
    real = os.fdopen
    writes = {"count": 0}

    class Full:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])  # part of it reached the disk
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real(fd, *args, **kwargs)
        if ".evidence" in os.readlink(f"/proc/self/fd/{fd}"):
            writes["count"] += 1
            if writes["count"] > files:
                return Full(handle)
        return handle

    monkeypatch.setattr(evidence.os, "fdopen", fdopen)


def _parts(store: Path) -> list[Path]:
    return list(store.with_name(store.name + ".evidence").rglob("*.part"))


def test_a_full_disk_stops_with_advice_and_keeps_what_was_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _new_store(tmp_path / "papermode.db")
    notes = _notes(tmp_path / "shift", 5)
    _disk_fills_after(monkeypatch, files=2)
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "shift"), "--store", str(store)])
    assert result.exit_code == 5, result.output
    assert "is full" in result.output and "run the same command again" in result.output
    assert "Traceback" not in result.output and "bug" not in result.output
    assert _parts(store) == []
    with open_store(store) as opened:
        kept = [row[0] for row in opened.db.execute("SELECT name FROM ingests ORDER BY name")]
    assert kept == [str(notes[0]), str(notes[1])]
    monkeypatch.undo()  # space freed: the same command completes the work
    with open_store(store) as opened:
        again = ingest_paths([tmp_path / "shift"], opened, workers=1)
    assert [o.status for o in again.outcomes] == ["quarantined"] * 5


def test_sqlite_running_out_of_room_is_a_full_disk(tmp_path: Path) -> None:
    store = _new_store(tmp_path / "papermode.db")
    _notes(tmp_path / "shift", 40)
    with open_store(store) as opened:
        pages = opened.db.execute("PRAGMA page_count").fetchone()[0]
        opened.db.execute(f"PRAGMA max_page_count = {pages + 2}")
        with pytest.raises(StoreError, match="is full"):
            ingest_paths([tmp_path / "shift"], opened, workers=1)
        assert opened.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _parts(store) == []


def test_a_read_only_store_is_refused_and_its_mode_left_alone(tmp_path: Path) -> None:
    store = _new_store(tmp_path / "papermode.db")
    _notes(tmp_path / "shift", 1)
    os.chmod(store, 0o400)
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "shift"), "--store", str(store)])
    assert result.exit_code == 5, result.output
    assert "is read-only" in result.output and "chmod u+w" in result.output
    assert stat.S_IMODE(store.stat().st_mode) == 0o400


def test_readings_on_a_read_only_store_never_chmods_it(tmp_path: Path) -> None:
    store = _new_store(tmp_path / "papermode.db")
    os.chmod(store, 0o400)
    result = CliRunner().invoke(main, ["readings", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(store.stat().st_mode) == 0o400
    with open_existing_store(store) as opened:
        assert opened.readonly


def test_a_read_only_evidence_folder_stops_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _new_store(tmp_path / "papermode.db")
    _notes(tmp_path / "shift", 2)

    def read_only(*args: object, **kwargs: object) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(evidence.tempfile, "mkstemp", read_only)
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "shift"), "--store", str(store)])
    assert result.exit_code == 5, result.output
    assert "cannot be written (Read-only file system)" in result.output
    assert "bug" not in result.output


def test_a_store_locked_by_another_command_says_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _new_store(tmp_path / "papermode.db")
    _notes(tmp_path / "shift", 1)
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.1)
    other = sqlite3.connect(store, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another command is writing
    try:
        result = CliRunner().invoke(
            main, ["ingest", str(tmp_path / "shift"), "--store", str(store)]
        )
    finally:
        other.rollback()
        other.close()
    assert result.exit_code == 5, result.output
    assert "is busy: another papermode command is writing to it" in result.output


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_store_of_another_user_is_refused_not_opened(tmp_path: Path) -> None:
    store = _new_store(tmp_path / "papermode.db")
    os.chown(store, 65534, 65534)
    for command in (["readings"], ["ingest", str(store)]):
        result = CliRunner().invoke(main, [*command, "--store", str(store)])
        assert result.exit_code == 5, result.output
        assert "belongs to another user" in result.output
    assert store.stat().st_uid == 65534
    assert stat.S_IMODE(store.stat().st_mode) == 0o600


def test_a_store_from_a_newer_papermode_is_refused(tmp_path: Path) -> None:
    store = _new_store(tmp_path / "papermode.db")
    raw = sqlite3.connect(store)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    result = CliRunner().invoke(main, ["readings", "--store", str(store)])
    assert result.exit_code == 5, result.output
    assert "written by a newer papermode (schema 99)" in result.output


def test_part_files_of_a_killed_writer_are_removed_on_the_next_start(tmp_path: Path) -> None:
    store = _new_store(tmp_path / "papermode.db")
    folder = store.with_name(store.name + ".evidence") / "ab"
    folder.mkdir(parents=True)
    dead = folder / ".ab12.jpg.999999999.x1y2.part"
    alive = folder / f".ab34.jpg.{os.getpid()}.z9.part"
    dead.write_bytes(b"half")
    alive.write_bytes(b"being written")
    with open_store(store) as opened:
        ingest_paths(_notes(tmp_path / "shift", 1), opened, workers=1)
    assert not dead.exists() and alive.exists()


def test_evidence_temporary_names_are_unique(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers of the same evidence file never share (and truncate) one temporary."""
    names: list[str] = []
    real = evidence.tempfile.mkstemp

    def spy(*args: Any, **kwargs: Any) -> Any:
        fd, name = real(*args, **kwargs)
        names.append(name)
        return fd, name

    monkeypatch.setattr(evidence.tempfile, "mkstemp", spy)
    with open_store(tmp_path / "a.db") as first, open_store(tmp_path / "a.db") as second:
        first.put_evidence(b"same bytes", suffix=".jpg")
        os.unlink(first.evidence_path(first.put_evidence(b"same bytes", suffix=".jpg")[0], ".jpg"))
        second.put_evidence(b"same bytes", suffix=".jpg")
    assert len(names) == len(set(names)) == 2
    assert all(".part" in name and f".{os.getpid()}." in name for name in names)


_AS_ANOTHER_USER = r"""
import errno, json, os, sys
from pathlib import Path
from papermode.core.errors import StoreError
from papermode.ingest.pipeline import ingest_paths
from papermode.store.database import open_store

base = Path(sys.argv[1])
shift = base / "shift"
shift.mkdir()
(shift / "a.jpg").write_text("not a photo")
secret = shift / "b.jpg"
secret.write_text("not yours")
os.chmod(secret, 0)  # this user cannot read it: skipped, the others are read
report = {}
with open_store(base / "papermode.db") as store:
    summary = ingest_paths([shift], store, workers=1)
    report["statuses"] = sorted((Path(o.file).name, o.status) for o in summary.outcomes)
    os.chmod(store.evidence_dir, 0o500)  # the evidence folder is read-only now
    (shift / "c.jpg").write_text("another note")
    try:
        ingest_paths([shift], store, workers=1)
    except StoreError as error:
        report["error"] = str(error)
    os.chmod(store.evidence_dir, 0o700)
print(json.dumps(report))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as another user")
def test_real_permissions_as_an_ordinary_user() -> None:
    """Not injected: a file this user may not read, an evidence folder it may not write."""
    import json
    import shutil
    import subprocess
    import sys
    import tempfile

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    base = Path(tempfile.mkdtemp(prefix="papermode-perm-", dir="/tmp"))
    try:
        os.chown(base, 65534, 65534)
        done = subprocess.run(
            [
                "setpriv",
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                sys.executable,
                "-c",
                _AS_ANOTHER_USER,
                str(base),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "HOME": str(base), "PAPERMODE_SYSTEM_TMPDIR": str(base)},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert report["statuses"] == [["a.jpg", "quarantined"], ["b.jpg", "skipped"]]
    assert "cannot be written (Permission denied)" in report["error"]
