"""Faults of the disk or of the store (full, read-only, locked) as errors that say what to do."""

from __future__ import annotations

import errno
from pathlib import Path

from papermode.core.errors import StoreError


def store_fault(error: BaseException, path: Path) -> StoreError | None:
    """The StoreError for a fault of the disk or the store (full, read-only, locked), with
    what to do; None when `error` is something else."""
    code = getattr(error, "errno", None)
    text = str(error).lower()
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "disk full" in text:
        return StoreError(
            f"the disk holding the store {path} is full; papermode stopped before writing a "
            "partial file. Everything reported before this message is stored.",
            advice="Free space on that disk (or move the store to a larger one) and run the "
            "same command again: files already stored are recognised, the rest are read.",
        )
    if (
        code in (errno.EROFS, errno.EACCES, errno.EPERM)
        or "readonly" in text
        or "read-only" in text
    ):
        return StoreError(
            f"the store {path} or its folder cannot be written ({_plain(error)}).",
            advice="Check that the disk is not read-only and that this user may write in the "
            "store's folder, then run the same command again.",
        )
    if "database is locked" in text or "database is busy" in text:
        return StoreError(
            f"the store {path} is busy: another papermode command is writing to it.",
            advice="Wait for the other command to finish (another clerk, or a scheduled "
            "prepare), then run this one again.",
        )
    return None


def _plain(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
