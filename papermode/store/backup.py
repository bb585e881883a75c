"""`papermode backup DEST`: a consistent copy of the store while it is in use.

A backup folder holds, under the store's own names, so that it can be verified and copied
back as it is:

- `papermode.db`: the SQLite file, copied with SQLite's backup API in one step: one read
  snapshot, consistent while `ingest` or `serve` go on writing (WAL: they never wait);
- `papermode.db.evidence/`: every evidence file, copied after that snapshot (evidence is
  written before the row that names it is committed, and never deleted, so every file the
  copy's rows name is there);
- `papermode.db.audit-head`: the audit chain's head in the copy, which
  `papermode audit verify` and `papermode verify --backup` anchor against;
- `manifest.json`: the SHA-256 and size of every other file, written last, atomically.

Everything is written into a hidden temporary sibling folder, then renamed to DEST: an
interrupted backup never looks complete, and its folder is removed by the next backup.
Folders are 0700 and files 0600 whatever the umask. DEST must be new, an empty folder, or
an earlier papermode backup (replaced whole); anything else is refused. The backup is then
an entry in the store's audit chain, with the manifest's SHA-256.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from papermode.core.errors import AuditChainError, StoreError, UsageError
from papermode.core.private import FILE_MODE, private_dir
from papermode.store.audit import ChainHead, head_path, read_head, write_head
from papermode.store.claims import process_alive
from papermode.store.database import Store
from papermode.store.evidence import fsync_dir
from papermode.store.rows import now_text

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = "papermode-backup"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupResult:
    """A backup written: where, how many files (besides the manifest) and bytes (all), its
    audit head and manifest hash."""

    dest: Path
    files: int
    evidence_files: int
    size: int
    head: ChainHead | None
    manifest_sha256: str
    audited: bool


def backup_store(store: Store, dest: Path) -> BackupResult:
    """Copy `store` (SQLite file, evidence, audit head) into the new folder `dest`.

    UsageError when `dest` holds files papermode did not write or its parent folder does
    not exist; StoreError (exit 5) on a full or read-only backup disk, with no partial
    backup left behind.
    """
    dest = Path(dest).absolute()
    _check_destination(store, dest)
    _remove_stale_temporaries(dest)
    anchored = _anchored_head(store)  # read before the snapshot: it is in the copy's chain
    temporary = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        private_dir(temporary)
        copy = temporary / store.path.name
        _copy_database(store, copy)
        evidence = _copy_evidence(store.evidence_dir, copy.with_name(copy.name + ".evidence"))
        head = _write_head(copy, anchored)
        manifest_sha = _write_manifest(temporary, store.path.name, head)
        _move_into_place(temporary, dest)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        fault = _backup_fault(error, dest)
        if fault is not None:
            raise fault from error
        raise
    files = [p for p in dest.rglob("*") if p.is_file() and p != dest / MANIFEST]
    logger.info("backup written: %d files, %d evidence, audit head %s", len(files), evidence, head)
    size = sum(p.stat().st_size for p in files) + (dest / MANIFEST).stat().st_size
    result = BackupResult(dest, len(files), evidence, size, head, manifest_sha, False)
    return _audit(store, result)


def is_papermode_backup(folder: Path) -> bool:
    """Whether `folder` holds a backup papermode wrote (its manifest says so)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT


def _check_destination(store: Store, dest: Path) -> None:
    if not dest.parent.is_dir():
        raise UsageError(
            f"the folder {dest.parent} does not exist: no backup was written.",
            advice="Is the backup disk plugged in and mounted? Give DEST inside a folder "
            "that exists.",
        )
    inside = dest.resolve()
    for own in (store.evidence_dir.resolve(), store.path.resolve()):
        if inside == own or own in inside.parents:
            raise UsageError(
                f"{dest} is inside the store itself: a backup must be kept apart from it.",
                advice="Give DEST on another disk (a USB disk kept in the ward safe).",
            )
    if dest.exists() and not dest.is_dir():
        raise UsageError(
            f"{dest} is a file: a backup is a folder.", advice="Give a new folder as DEST."
        )
    if dest.is_dir() and any(dest.iterdir()) and not is_papermode_backup(dest):
        raise UsageError(
            f"{dest} holds files papermode did not write; nothing was written there.",
            advice="Give a new or empty folder as DEST (an earlier papermode backup there is "
            "replaced whole).",
        )


def _remove_stale_temporaries(dest: Path) -> None:
    """Temporary folders of a backup that was killed: never complete, removed. An earlier
    backup moved aside (`.old`) is removed only once a complete backup stands at `dest`:
    killed between the two renames, it is the one complete copy."""
    stale = list(dest.parent.glob(f".{dest.name}.*.part"))
    if is_papermode_backup(dest):
        stale += dest.parent.glob(f".{dest.name}.*.old")
    for folder in stale:
        pid = folder.name[len(dest.name) + 2 :].split(".")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            logger.info("removed the temporary folder of a killed backup: %s", folder.name)
            shutil.rmtree(folder, ignore_errors=True)


def _anchored_head(store: Store) -> ChainHead | None:
    path = head_path(store)
    try:
        return read_head(path) if path.exists() else None
    except AuditChainError:
        return None


def _copy_database(store: Store, copy: Path) -> None:
    """SQLite's backup API in one step: one consistent snapshot, writers never wait."""
    fd = os.open(copy, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    target = sqlite3.connect(copy, isolation_level=None)
    try:
        store.db.conn.backup(target)
        # One self-contained file: no -wal beside it; papermode turns WAL on when it opens it.
        target.execute("PRAGMA journal_mode = DELETE")
        check = target.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StoreError(
                f"the copy of the store failed SQLite's check ({check}); no backup was written.",
                advice="Run papermode verify on the store, and call IT.",
            )
    finally:
        target.close()
    with copy.open("rb+") as handle:
        os.fsync(handle.fileno())


def _copy_evidence(source: Path, target: Path) -> int:
    """Copy every evidence file (not the `.part` files of a writer); returns how many."""
    private_dir(target)
    count = 0
    if not source.is_dir():
        return 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        relative = path.relative_to(source)
        private_dir(target / relative.parent)
        _copy_file(path, target / relative)
        count += 1
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        fsync_dir(folder)
    return count


def _copy_file(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with source.open("rb") as reading, os.fdopen(fd, "wb") as writing:
        while chunk := reading.read(_CHUNK):
            writing.write(chunk)
        writing.flush()
        os.fsync(writing.fileno())


def _write_head(copy: Path, anchored: ChainHead | None) -> ChainHead | None:
    """The copy's chain head, when the store's anchored head is still in it; else the
    anchored head as it was, so that `verify --backup` reports what happened to the chain."""
    connection = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        at_anchor = (
            connection.execute("SELECT hash FROM audit WHERE seq = ?", [anchored.seq]).fetchone()
            if anchored
            else None
        )
    finally:
        connection.close()
    head = ChainHead(int(row[0]), str(row[1])) if row else None
    if anchored is not None and (at_anchor is None or at_anchor[0] != anchored.hash):
        head = anchored  # a truncated or rewritten chain is never anchored afresh
    if head is not None:
        write_head(copy.with_name(copy.name + ".audit-head"), head)
    return head


def _write_manifest(folder: Path, store_name: str, head: ChainHead | None) -> str:
    """Every file's SHA-256 and size, written last and atomically; returns its own SHA-256."""
    files = [
        {"path": str(p.relative_to(folder)), "sha256": _sha256(p), "size": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": now_text(),
        "store": store_name,
        "audit_head": head.text if head else None,
        "files": files,
    }
    text = json.dumps(manifest, indent=2) + "\n"
    temporary = folder / f".{MANIFEST}.part"
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(folder / MANIFEST)
    fsync_dir(folder)
    return hashlib.sha256(text.encode()).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _move_into_place(temporary: Path, dest: Path) -> None:
    """Rename the complete backup to `dest`; an earlier backup there is moved aside first
    and removed only once the new one is in place."""
    earlier = None
    if dest.is_dir() and any(dest.iterdir()):
        earlier = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.old")
        dest.rename(earlier)
    elif dest.is_dir():
        dest.rmdir()
    temporary.rename(dest)
    fsync_dir(dest.parent)
    if earlier is not None:
        shutil.rmtree(earlier, ignore_errors=True)


def _backup_fault(error: BaseException, dest: Path) -> StoreError | None:
    """A full or read-only backup disk, said as what to do; None for anything else."""
    code = getattr(error, "errno", None)
    text = str(error).lower()
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text:
        return StoreError(
            f"the disk holding the backup {dest} is full: no backup was written (the partial "
            "copy was removed). The store itself is unchanged.",
            advice="Free space on that disk or use a larger one, then run papermode backup again.",
        )
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreError(
            f"the backup folder {dest.parent} cannot be written "
            f"({getattr(error, 'strerror', None) or type(error).__name__}): no backup was "
            "written.",
            advice="Check that the backup disk is not read-only and that this user may write "
            "there, then run papermode backup again.",
        )
    return None


def _audit(store: Store, result: BackupResult) -> BackupResult:
    """The backup as an entry in the store's chain (not for a read-only store, nor when the
    store stays busy or cannot be written: the backup is complete all the same)."""
    if store.readonly:
        return result
    try:
        with store.transaction():
            store.audit(
                "backup",
                result.dest.name,
                {
                    "dest": str(result.dest),
                    "files": result.files,
                    "manifest_sha256": result.manifest_sha256,
                    "head": result.head.text if result.head else None,
                },
            )
    except StoreError as error:  # the backup stands; only its entry is missing (said, logged)
        logger.warning("backup not recorded in the audit chain: %s", error.message)
        return result
    return BackupResult(**{**result.__dict__, "audited": True})


__all__ = ["MANIFEST", "BackupResult", "backup_store", "is_papermode_backup"]
