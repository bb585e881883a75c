"""Evidence files: every original kept byte for byte under its SHA-256, owner-only.

A file is written once and never overwritten: under a unique temporary name (two processes
writing the same file never truncate each other), synced, renamed into place, and its
folder synced, so a power cut leaves either the whole file or nothing under its name. Its
name is its SHA-256 (`ab/ab12…ef.jpg`) under the store's evidence folder. A file that no
longer matches its name (a disk fault, a hand edit) is replaced whole when the original's
bytes are given again (`papermode.store.restore`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from papermode.core.private import private_dir
from papermode.store.claims import process_alive


def put_evidence(evidence_dir: Path, data: bytes, *, suffix: str = "") -> tuple[str, Path]:
    """Keep `data` byte for byte under its SHA-256; never overwrite. Returns (sha, path).

    Raises OSError (a full disk, a read-only folder) and leaves no partial file.
    """
    sha = hashlib.sha256(data).hexdigest()
    path = evidence_path(evidence_dir, sha, suffix)
    if path.exists() and _holds(path, sha):
        return sha, path
    # Missing or damaged (a disk fault, a hand edit): the original's bytes replace it whole.
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
    fsync_dir(path.parent)
    if new_folder:
        fsync_dir(evidence_dir)
    return sha, path


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (a 200-page scan is large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _holds(path: Path, sha: str) -> bool:
    try:
        return file_sha256(path) == sha
    except OSError:
        return False


def evidence_path(evidence_dir: Path, sha: str, suffix: str = "") -> Path:
    """Where the evidence file of `sha` is (or would be) kept."""
    return evidence_dir / sha[:2] / f"{sha}{suffix}"


def remove_stale_parts(evidence_dir: Path) -> int:
    """Delete temporary evidence files left by a process that was killed while writing
    (their name holds the writer's process id); returns how many were removed."""
    removed = 0
    if not evidence_dir.is_dir():
        return 0
    for part in evidence_dir.glob("*/.*.part"):
        pid = part.name.rsplit(".part", 1)[0].split(".")[-2]
        if pid.isdigit() and not process_alive(int(pid)):
            with contextlib.suppress(OSError):
                part.unlink()
                removed += 1
    return removed


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
