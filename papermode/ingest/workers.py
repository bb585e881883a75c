"""What a worker process does with one file: load its pages and read each of them.

Workers open the store read-only in spirit (they only look up printed pages, orders and
the latest census) and return plain results; the parent process writes everything.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papermode.core.errors import PapermodeError, StoreError
from papermode.core.flags import FileStatus
from papermode.core.model import Snapshot
from papermode.core.settings import PlausibilityLimits
from papermode.reading import page as capture
from papermode.reading.imaging import load_images_from_bytes
from papermode.store.database import Store, open_store

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1

# One store connection and the census facts read through it, per process. They live for
# one ingest run: `reset()` forgets them before the next (a new census may have been
# printed since) and before worker processes are forked (a connection must not be shared).
_WORKER_STORE: Store | None = None
_CACHE: dict[tuple[str, str], object] = {}


def reset() -> None:
    """Close the process's store connection and forget what was looked up through it."""
    global _WORKER_STORE
    if _WORKER_STORE is not None:
        _WORKER_STORE.close()
    _WORKER_STORE = None
    _CACHE.clear()


def start_worker(parent_pid: int) -> None:
    """Run first in every worker process: it ends when its parent ends, however the parent
    ends (`kill -9` included), instead of living on holding photos in memory.

    OpenCV's thread count is left alone here: `cv2.setNumThreads` in a process forked
    after the parent's OpenCV threads started hangs for ever (pthread_cond_destroy on a
    condition the fork copied locked; seen in tests/test_ingest.py), and one thread per
    worker measured no faster (bench/ingest_profile.py).
    """
    try:  # Linux: the kernel kills this process when the parent dies
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before this line
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    """Where prctl is not available: look each second whether the parent is still there."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def _worker_store(store_path: str) -> Store:
    global _WORKER_STORE
    if _WORKER_STORE is None or str(_WORKER_STORE.path) != store_path:
        reset()
        _WORKER_STORE = open_store(store_path)
    return _WORKER_STORE


def _cached(kind: str, key: str, compute: Callable[[], object]) -> Any:
    """`compute()` once per run for each (kind, key): the census does not change mid-run."""
    if (kind, key) not in _CACHE:
        _CACHE[(kind, key)] = compute()
    return _CACHE[(kind, key)]


def _context_lookup(store_path: str) -> Callable[[str], capture.PageContext]:
    store = _worker_store(store_path)

    def context_of(page_id: str) -> capture.PageContext:
        layout = store.page_layout(page_id)
        snapshot = layout.snapshot_id
        return capture.PageContext(
            layout,
            _cached("doses", snapshot, lambda: store.order_doses(snapshot)),
            _cached("medicines", snapshot, lambda: store.medicines(snapshot)),
            _cached("mrns", "", store.known_mrns),
        )

    return context_of


def _snapshot_lookup(store_path: str) -> Callable[[], Snapshot | None]:
    store = _worker_store(store_path)
    return lambda: _cached("snapshot", "latest", store.latest_snapshot)


@dataclass(frozen=True)
class FileRead:
    outcomes: tuple[capture.CaptureOutcome, ...] = ()
    error: str | None = None


def read_file(
    data: bytes,
    name: str,
    store_path: str,
    kind: str = "auto",
    thresholds: dict[str, float] | None = None,
    plausibility_limits: PlausibilityLimits | None = None,
    ocr_seconds: float = capture.FREE_PHOTO_SECONDS,
) -> FileRead:
    """Read every page image of one file (runs in a worker process).

    Whatever goes wrong opening the file (a damaged TIFF that makes Pillow raise
    TypeError, memory running out) is this file's quarantine, never the batch's end.
    """
    logger.debug("reading %s (%d bytes)", name, len(data))
    try:
        images = load_images_from_bytes(data, name)
    except PapermodeError as error:
        return FileRead(error=str(error))
    except MemoryError:
        return FileRead(
            error=f"{Path(name).name} needs more memory to open than this laptop has: the "
            "original is kept; photograph or scan the page at normal resolution"
        )
    except Exception as error:  # a bug in an image library on a damaged file
        if os.environ.get("PAPERMODE_DEBUG"):
            raise
        return FileRead(
            error=f"{Path(name).name} is damaged and cannot be opened ({type(error).__name__}): "
            "the original is kept; copy the file again from the phone or scanner"
        )
    context_of = _context_lookup(store_path)
    snapshot_of = _snapshot_lookup(store_path)
    outcomes = []
    for image in images:
        try:
            outcomes.append(
                capture.read_page_image(
                    image,
                    context_of,
                    kind=kind,
                    snapshot_of=snapshot_of,
                    thresholds=thresholds,
                    plausibility_limits=plausibility_limits,
                    ocr_seconds=ocr_seconds,
                )
            )
        except StoreError:
            raise
        except PapermodeError as error:
            outcomes.append(capture.CaptureOutcome(image.index, FileStatus.QUARANTINED, str(error)))
        except Exception as error:  # a bug must cost one page, never the batch or the file
            if os.environ.get("PAPERMODE_DEBUG"):
                raise
            outcomes.append(
                capture.CaptureOutcome(
                    image.index,
                    FileStatus.QUARANTINED,
                    f"papermode could not read this page ({type(error).__name__}): the "
                    "original is kept; try another photo, and report the file to IT",
                )
            )
    return FileRead(outcomes=tuple(outcomes))
