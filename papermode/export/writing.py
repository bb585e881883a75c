"""Exports are written atomically (a temporary file, then one rename) and owner-only."""

from __future__ import annotations

import os
from pathlib import Path

from papermode.core.errors import ExportError


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` all at once, readable by its owner only; returns `path`."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{path.name}.{os.getpid()}.part"
        descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as error:
        raise ExportError(
            f"cannot write the export {path.name}: {error.strerror}.",
            advice="Choose a folder this user may write to (--out), on a disk with room.",
        ) from error
    return path
