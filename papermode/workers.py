"""What a worker process does with one file: load its pages and read each of them.

Workers open the store read-only in spirit (they only look up printed pages, orders and
the latest census) and return plain results; the parent process writes everything.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from papermode import capture
from papermode.errors import InputFileError, PapermodeError
from papermode.imaging import load_images_from_bytes
from papermode.model import Snapshot
from papermode.store import Store, open_store

_WORKER_STORE: Store | None = None
_WORKER_SNAPSHOT: dict[str, Snapshot | None] = {}


def _worker_store(store_path: str) -> Store:
    global _WORKER_STORE
    if _WORKER_STORE is None or str(_WORKER_STORE.path) != store_path:
        _WORKER_STORE = open_store(store_path)
        _WORKER_SNAPSHOT.clear()
    return _WORKER_STORE


def _context_lookup(store_path: str) -> Callable[[str], capture.PageContext]:
    store = _worker_store(store_path)

    def context_of(page_id: str) -> capture.PageContext:
        layout = store.page_layout(page_id)
        return capture.PageContext(
            layout,
            store.order_doses(layout.snapshot_id),
            store.medicines(layout.snapshot_id),
            store.known_mrns(),
        )

    return context_of


def _snapshot_lookup(store_path: str) -> Callable[[], Snapshot | None]:
    store = _worker_store(store_path)

    def snapshot_of() -> Snapshot | None:
        if "latest" not in _WORKER_SNAPSHOT:
            _WORKER_SNAPSHOT["latest"] = store.latest_snapshot()
        return _WORKER_SNAPSHOT["latest"]

    return snapshot_of


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
) -> FileRead:
    """Read every page image of one file (runs in a worker process)."""
    try:
        images = load_images_from_bytes(data, name)
    except InputFileError as error:
        return FileRead(error=str(error))
    context_of = _context_lookup(store_path)
    snapshot_of = _snapshot_lookup(store_path)
    outcomes = []
    for image in images:
        try:
            outcomes.append(
                capture.read_page_image(
                    image, context_of, kind=kind, snapshot_of=snapshot_of, thresholds=thresholds
                )
            )
        except PapermodeError as error:
            outcomes.append(capture.CaptureOutcome(image.index, "quarantined", str(error)))
        except Exception as error:  # a bug must cost one page, never the batch or the file
            if os.environ.get("PAPERMODE_DEBUG"):
                raise
            outcomes.append(
                capture.CaptureOutcome(
                    image.index,
                    "quarantined",
                    f"papermode could not read this page ({type(error).__name__}): the "
                    "original is kept; try another photo, and report the file to IT",
                )
            )
    return FileRead(outcomes=tuple(outcomes))
