"""`papermode backup DEST` and `papermode verify --backup DEST`: a consistent, owner-only,
atomic copy of a store in use, with a manifest; what verify finds in a damaged backup; a
full backup disk leaves nothing behind.

A real store (the sample ward prepared, a photo read, a bad file quarantined); the disk
filling is an injected `OSError(ENOSPC)` at the write, as in tests/test_faults.py.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ingestedstore import Ingested, copy_ingested, make_ingested

from papermode.cli.main import main
from papermode.core.errors import ExitCode
from papermode.store import backup as backup_module
from papermode.store.audit import read_head, verify_chain
from papermode.store.backup import backup_store
from papermode.store.backup_check import verify_backup
from papermode.store.database import open_store


@pytest.fixture(scope="module")
def ingested_template(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return make_ingested(tmp_path_factory.mktemp("ingested"))


@pytest.fixture()
def ingested(ingested_template: Ingested, tmp_path: Path) -> Ingested:
    folder = tmp_path / "laptop"
    folder.mkdir()
    return copy_ingested(ingested_template, folder)


@pytest.fixture()
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _backup(store: Path, dest: Path, *extra: str) -> Any:
    return CliRunner().invoke(main, ["backup", str(dest), "--store", str(store), *extra])


def _verify_backup(dest: Path) -> Any:
    return CliRunner().invoke(main, ["verify", "--backup", str(dest), "--store", "none.db"])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_backup_holds_the_store_its_evidence_its_head_and_a_manifest(
    ingested: Ingested, tmp_path: Path, open_umask: None
) -> None:
    dest = tmp_path / "usb" / "papermode-backup"
    dest.parent.mkdir()
    result = _backup(ingested.store, dest)
    assert result.exit_code == 0, result.output
    assert f"backup written to {dest}" in result.stdout
    names = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    evidence = sorted(
        str(p.relative_to(ingested.store.parent))
        for p in ingested.store.with_name("papermode.db.evidence").rglob("*")
        if p.is_file()
    )
    assert names == sorted(["manifest.json", "papermode.db", "papermode.db.audit-head", *evidence])
    manifest = json.loads((dest / "manifest.json").read_text())
    for entry in manifest["files"]:
        data = (dest / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]
    assert {e["path"] for e in manifest["files"]} == set(names) - {"manifest.json"}
    for path in [dest, *dest.rglob("*")]:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert [p.name for p in dest.parent.iterdir()] == ["papermode-backup"]  # no temporary left
    copy = sqlite3.connect(f"file:{dest / 'papermode.db'}?mode=ro", uri=True)
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal
    copy.close()
    assert read_head(dest / "papermode.db.audit-head").text == manifest["audit_head"]


def test_the_backup_is_an_entry_in_the_audit_chain(ingested: Ingested, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    with open_store(ingested.store) as store:
        result = backup_store(store, dest)
        row = store.db.execute(
            "SELECT subject, detail FROM audit WHERE action = 'backup'"
        ).fetchone()
        assert verify_chain(store, read_head(ingested.store.with_name("papermode.db.audit-head")))
    manifest_sha = hashlib.sha256((dest / "manifest.json").read_bytes()).hexdigest()
    assert row[0] == "backup" and json.loads(row[1])["manifest_sha256"] == manifest_sha
    assert result.audited and result.manifest_sha256 == manifest_sha


def test_a_fresh_backup_verifies(ingested: Ingested, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    assert _backup(ingested.store, dest).exit_code == 0
    result = _verify_backup(dest)
    assert result.exit_code == 0, result.output
    assert "backup sound" in result.stdout and "audit chain intact" in result.stdout


def test_a_folder_papermode_did_not_write_is_refused_and_left_alone(
    ingested: Ingested, tmp_path: Path
) -> None:
    dest = tmp_path / "documents"
    dest.mkdir()
    (dest / "minutes.odt").write_text("the ward's minutes")
    result = _backup(ingested.store, dest)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "holds files papermode did not write" in result.stderr
    assert [p.name for p in dest.iterdir()] == ["minutes.odt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_missing_backup_disk_is_refused(ingested: Ingested, tmp_path: Path) -> None:
    result = _backup(ingested.store, tmp_path / "not-mounted" / "backup")
    assert result.exit_code == ExitCode.USAGE
    assert "Is the backup disk plugged in and mounted?" in result.stderr
    assert not (tmp_path / "not-mounted").exists()


def test_a_backup_inside_the_store_is_refused(ingested: Ingested) -> None:
    inside = ingested.store.with_name("papermode.db.evidence") / "backup"
    result = _backup(ingested.store, inside)
    assert result.exit_code == ExitCode.USAGE and "inside the store" in result.stderr


def test_an_earlier_papermode_backup_is_replaced_whole(ingested: Ingested, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    assert _backup(ingested.store, dest).exit_code == 0
    first = json.loads((dest / "manifest.json").read_text())["audit_head"]
    (dest / "papermode.db.evidence" / "stale.txt").write_text("from the first backup")
    assert _backup(ingested.store, dest).exit_code == 0
    second = json.loads((dest / "manifest.json").read_text())["audit_head"]
    assert int(second.split(":")[0]) > int(first.split(":")[0])  # the first backup's entry
    assert not (dest / "papermode.db.evidence" / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "laptop"]
    assert _verify_backup(dest).exit_code == 0


def _disk_fills_in(monkeypatch: pytest.MonkeyPatch, folder_part: str) -> None:
    """Every write into a path holding `folder_part` finds the disk full, half-way."""
    real = os.fdopen

    class Full:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real(fd, *args, **kwargs)
        if folder_part in os.readlink(f"/proc/self/fd/{fd}"):
            return Full(handle)
        return handle

    monkeypatch.setattr(backup_module.os, "fdopen", fdopen)


@pytest.mark.parametrize("where", ["papermode.db.evidence", "manifest.json"])
def test_a_full_backup_disk_leaves_no_partial_backup(
    ingested: Ingested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    _disk_fills_in(monkeypatch, f"/usb/.backup.{os.getpid()}")
    if where == "manifest.json":
        _disk_fills_in(monkeypatch, ".manifest.json.part")
    result = _backup(ingested.store, usb / "backup")
    assert result.exit_code == ExitCode.STORE == 5, result.output
    assert "the disk holding the backup" in result.stderr and "is full" in result.stderr
    assert "run papermode backup again" in result.stderr and "Traceback" not in result.output
    assert list(usb.iterdir()) == []
    monkeypatch.undo()
    with open_store(ingested.store) as store:
        assert "backup" not in [r[0] for r in store.db.execute("SELECT action FROM audit")]
    assert _backup(ingested.store, usb / "backup").exit_code == 0  # space freed


def test_an_interrupted_backup_never_looks_complete(
    ingested: Ingested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(backup_module, "_write_manifest", interrupted)
    with open_store(ingested.store) as store, pytest.raises(KeyboardInterrupt):
        backup_store(store, tmp_path / "backup")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["laptop"]


def test_a_killed_backups_temporary_folder_is_removed_by_the_next(
    ingested: Ingested, tmp_path: Path
) -> None:
    killed = tmp_path / ".backup.999999999.abcd1234.part"
    killed.mkdir()
    (killed / "papermode.db").write_text("half a copy")
    assert _backup(ingested.store, tmp_path / "backup").exit_code == 0
    assert not killed.exists()


BATCH = 25


def test_a_backup_taken_while_another_connection_writes_is_consistent(
    ingested: Ingested, tmp_path: Path
) -> None:
    """Another connection commits batches of audit entries (one transaction each) while the
    backup runs: the copy holds whole batches only, and its chain is intact."""
    started, stop = threading.Event(), threading.Event()

    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with open_store(ingested.store) as store:
                while not stop.is_set():
                    with store.transaction():
                        for n in range(BATCH):
                            store.audit("test write", f"entry {n}", {"n": n})
                    started.set()
                    stop.wait(0.001)  # let the backup take the write lock for its own entry
        except BaseException as error:  # said by the test, never a hang
            failures.append(error)
        finally:
            started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        started.wait()
        with open_store(ingested.store) as store:
            result = backup_store(store, tmp_path / "backup")
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert result.head is not None and result.audited
    check = verify_backup(tmp_path / "backup")
    assert check.sound, (check.problems, check.store)
    copy = sqlite3.connect(f"file:{tmp_path / 'backup' / 'papermode.db'}?mode=ro", uri=True)
    written = copy.execute("SELECT COUNT(*) FROM audit WHERE action = 'test write'").fetchone()[0]
    copy.close()
    assert written >= BATCH and written % BATCH == 0


def test_the_copy_does_not_wait_for_an_open_write_and_leaves_it_out(
    ingested: Ingested, tmp_path: Path
) -> None:
    """`ingest` holding its write transaction open: the copy is made at once, without it."""
    copy = tmp_path / "copy.db"
    with open_store(ingested.store) as holder, open_store(ingested.store) as store:
        holder.db.execute("BEGIN IMMEDIATE")
        holder.db.execute("INSERT INTO files (sha256, evidence) VALUES ('uncommitted', 'x')")
        backup_module._copy_database(store, copy)
        holder.db.execute("ROLLBACK")
    opened = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    assert (
        opened.execute("SELECT COUNT(*) FROM files WHERE sha256 = 'uncommitted'").fetchone()[0] == 0
    )
    assert opened.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 2
    assert opened.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    opened.close()


def test_verify_backup_finds_a_damaged_evidence_file(ingested: Ingested, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    assert _backup(ingested.store, dest).exit_code == 0
    copied = dest / ingested.evidence.relative_to(ingested.store.parent)
    copied.write_bytes(copied.read_bytes()[:-10])
    result = _verify_backup(dest)
    assert result.exit_code == ExitCode.BACKUP_DAMAGED == 42
    relative = str(copied.relative_to(dest))
    assert f"{relative}: damaged (does not match its SHA-256 in the manifest)" in result.stdout
    assert "evidence damaged" in result.stdout and ingested.page_id in result.stdout
    assert "do not restore from it" in result.stderr


def test_verify_backup_finds_a_missing_manifest_and_an_added_file(
    ingested: Ingested, tmp_path: Path
) -> None:
    dest = tmp_path / "backup"
    assert _backup(ingested.store, dest).exit_code == 0
    (dest / "extra.txt").write_text("added later")
    assert "extra.txt: not in the manifest" in _verify_backup(dest).stdout
    (dest / "manifest.json").unlink()
    result = _verify_backup(dest)
    assert result.exit_code == 42
    assert "manifest.json is missing: this is not a complete papermode backup" in result.stdout


def test_verify_backup_finds_a_chain_cut_short_behind_a_rewritten_manifest(
    ingested: Ingested, tmp_path: Path
) -> None:
    """Someone deletes the last audit entries of the copy and rewrites the manifest to
    match: the head kept in the backup still tells."""
    dest = tmp_path / "backup"
    assert _backup(ingested.store, dest).exit_code == 0
    copy = sqlite3.connect(dest / "papermode.db", isolation_level=None)
    copy.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    copy.close()
    manifest = json.loads((dest / "manifest.json").read_text())
    for entry in manifest["files"]:
        data = (dest / entry["path"]).read_bytes()
        entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)
    (dest / "manifest.json").write_text(json.dumps(manifest))
    result = _verify_backup(dest)
    assert result.exit_code == 42, result.output
    assert "truncated" in result.stdout
    assert "papermode.db:" not in result.stdout  # the files match the manifest now


def test_restoring_a_backup_as_documented_gives_a_sound_store(
    ingested: Ingested, tmp_path: Path
) -> None:
    """docs/operations.md#how-to-restore: copy the three entries back, verify, ingest again."""
    dest = tmp_path / "backup"
    summary = json.loads(_backup(ingested.store, dest, "--json").stdout)
    assert summary["audited"] is True and summary["evidence_files"] >= 2
    restored = tmp_path / "restored"
    restored.mkdir()
    for name in ("papermode.db", "papermode.db.evidence", "papermode.db.audit-head"):
        source = dest / name
        if source.is_dir():
            shutil.copytree(source, restored / name)
        else:
            shutil.copy(source, restored / name)
    store = restored / "papermode.db"
    result = CliRunner().invoke(main, ["verify", "--store", str(store)])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(
        main, ["ingest", str(ingested.photo), "--store", str(store), "--workers", "1"]
    )
    assert again.exit_code == 0 and "1 duplicate(s)" in again.stdout


def test_a_cut_chain_is_not_anchored_afresh_by_a_backup(ingested: Ingested, tmp_path: Path) -> None:
    with open_store(ingested.store) as store:
        store.db.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    anchored = read_head(ingested.store.with_name("papermode.db.audit-head"))
    dest = tmp_path / "backup"
    assert _backup(ingested.store, dest).exit_code == 0
    assert read_head(dest / "papermode.db.audit-head") == anchored
    result = _verify_backup(dest)
    assert result.exit_code == 42 and "truncated" in result.stdout


def test_an_earlier_backup_moved_aside_is_kept_until_a_complete_one_stands(
    ingested: Ingested, tmp_path: Path
) -> None:
    """Killed between its two renames, a backup leaves DEST absent and the earlier one
    aside: that one is the only complete copy, and is not removed while DEST is absent."""
    dest = tmp_path / "backup"
    assert _backup(ingested.store, dest).exit_code == 0
    aside = tmp_path / ".backup.999999999.abcd1234.old"
    dest.rename(aside)
    assert _backup(ingested.store, dest).exit_code == 0
    assert aside.exists()  # DEST was absent when this backup started
    assert _backup(ingested.store, dest).exit_code == 0
    assert not aside.exists()


def test_a_read_only_store_is_backed_up_and_said_not_audited(
    ingested: Ingested, tmp_path: Path
) -> None:
    ingested.store.chmod(0o400)
    dest = tmp_path / "backup"
    result = _backup(ingested.store, dest)
    assert result.exit_code == 0, result.output
    assert "not recorded in the audit chain" in result.stdout
    assert _mode(ingested.store) == 0o400
    assert _verify_backup(dest).exit_code == 0
