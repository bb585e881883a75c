"""`papermode verify --backup DEST`: is a backup complete and sound, without writing to it?

1. every file against the manifest (SHA-256 and size), and no file the manifest lacks;
2. the copy of the store opens (read-only) and SQLite's integrity check passes;
3. its evidence matches its rows, and its audit chain matches the head kept in the backup
   (the same checks as `papermode verify` on a store: `papermode.store.verify`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papermode.core.errors import StoreError
from papermode.store.backup import FORMAT, MANIFEST
from papermode.store.database import Store
from papermode.store.evidence import file_sha256
from papermode.store.verify import StoreCheck, verify_store


@dataclass(frozen=True)
class BackupCheck:
    """What `verify_backup` found: the manifest's problems and the store copy's check."""

    dest: Path
    files: int
    problems: tuple[str, ...]
    store: StoreCheck | None = field(default=None)

    @property
    def sound(self) -> bool:
        return not self.problems and self.store is not None and self.store.sound


def verify_backup(dest: Path) -> BackupCheck:
    """Check the backup folder `dest`: manifest, store copy, evidence, audit chain."""
    dest = Path(dest)
    manifest, problems = _read_manifest(dest)
    if manifest is None:
        return BackupCheck(dest, 0, tuple(problems))
    entries = manifest.get("files") or []
    problems += _against_manifest(dest, entries)
    store_name = str(manifest.get("store") or "papermode.db")
    copy = dest / store_name
    if not copy.is_file():
        problems.append(f"the store copy {store_name} is missing")
        return BackupCheck(dest, len(entries), tuple(problems))
    try:
        with Store(copy, readonly=True) as store:
            check = verify_store(store)
    except StoreError as error:
        problems.append(f"the store copy {store_name} cannot be opened: {error.message}")
        return BackupCheck(dest, len(entries), tuple(problems))
    return BackupCheck(dest, len(entries), tuple(problems), check)


def _read_manifest(dest: Path) -> tuple[dict[str, Any] | None, list[str]]:
    if not dest.is_dir():
        return None, [f"{dest} is not a folder"]
    try:
        manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{MANIFEST} is missing: this is not a complete papermode backup"]
    except (OSError, ValueError) as error:
        return None, [f"{MANIFEST} cannot be read ({type(error).__name__})"]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None, [f"{MANIFEST} is not a papermode backup manifest"]
    return manifest, []


def _against_manifest(dest: Path, entries: list[dict[str, Any]]) -> list[str]:
    """Each file listed against its SHA-256 and size; each file on disk against the list."""
    problems: list[str] = []
    listed = set()
    for entry in entries:
        relative = str(entry.get("path"))
        listed.add(relative)
        path = dest / relative
        if not path.is_file():
            problems.append(f"{relative}: missing from the backup")
        elif path.stat().st_size != entry.get("size") or file_sha256(path) != entry.get("sha256"):
            problems.append(f"{relative}: damaged (does not match its SHA-256 in the manifest)")
    for path in sorted(dest.rglob("*")):
        relative = str(path.relative_to(dest))
        if path.is_file() and relative != MANIFEST and relative not in listed:
            problems.append(f"{relative}: not in the manifest (added after the backup)")
    return problems
