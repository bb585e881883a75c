"""Evidence files: every original kept byte for byte under its SHA-256, owner-only.

A file is written once, through a temporary name, fsync and an atomic rename, and never
overwritten; its name is its SHA-256 (`ab/ab12…ef.jpg`) under the store's evidence folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def put_evidence(evidence_dir: Path, data: bytes, *, suffix: str = "") -> tuple[str, Path]:
    """Keep `data` byte for byte under its SHA-256; never overwrite. Returns (sha, path)."""
    sha = hashlib.sha256(data).hexdigest()
    path = evidence_path(evidence_dir, sha, suffix)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(path.name + ".part")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IRUSR | stat.S_IWUSR)
        os.replace(temporary, path)
    return sha, path


def evidence_path(evidence_dir: Path, sha: str, suffix: str = "") -> Path:
    """Where the evidence file of `sha` is (or would be) kept."""
    return evidence_dir / sha[:2] / f"{sha}{suffix}"
