"""Ingest: photos and scans in, readings out. One file at a time, all or nothing.

For each input file (folders are walked, zip archives opened):
1. its bytes are kept as evidence under their SHA-256 (byte for byte, never overwritten);
2. a file seen before is recognised (`duplicate`) and not read twice;
3. each page image is read in a worker process (`capture.read_page_image`);
4. the outcome is written in one transaction: file, ingest record, captures, readings,
   crops, and the merged state of every page touched. An interrupted run leaves nothing
   half-written; running it again completes the work without duplicates.

Bad input never raises out of here: it is quarantined with its reason.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from papermode.core.errors import InputFileError
from papermode.ingest import workers as workers_module
from papermode.ingest.inputs import InputFile, expand_inputs, zip_members
from papermode.ingest.workers import FileRead, read_file
from papermode.reading import page as capture
from papermode.reading.imaging import sniff_kind
from papermode.state.page_state import update_page_state
from papermode.store.database import Store
from papermode.store.rows import now_text

FileStatus = Literal["read", "retake", "duplicate", "free", "quarantined"]
SUFFIXES = {
    "jpeg": ".jpg",
    "png": ".png",
    "tiff": ".tif",
    "heif": ".heic",
    "pdf": ".pdf",
    "zip": ".zip",
}


@dataclass(frozen=True)
class PageOutcome:
    """What became of one page image of an ingested file."""

    file: str
    sha256: str
    frame: int
    status: FileStatus
    page_id: str | None = None
    message: str | None = None
    fields_auto: int = 0
    fields_review: int = 0


@dataclass
class IngestSummary:
    outcomes: list[PageOutcome] = field(default_factory=list)
    seconds_by_stage: dict[str, float] = field(default_factory=dict)
    # Told of each outcome as soon as it is stored: a retake is said at once, not at the end.
    on_outcome: Callable[[PageOutcome], None] | None = field(default=None, repr=False)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def as_json(self) -> dict[str, object]:
        statuses = ["read", "retake", "duplicate", "free", "quarantined"]
        return {
            "files": [outcome.__dict__ for outcome in self.outcomes],
            "counts": {status: self.count(status) for status in statuses},
            "fields": {
                "auto": sum(o.fields_auto for o in self.outcomes),
                "review": sum(o.fields_review for o in self.outcomes),
            },
        }


# ---------------------------------------------------------------------- ingest


def ingest_paths(
    paths: Sequence[Path],
    store: Store,
    *,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    kind: str = "auto",
    thresholds: dict[str, float] | None = None,
    on_outcome: Callable[[PageOutcome], None] | None = None,
    ocr_seconds: float | None = None,
) -> IngestSummary:
    """Ingest files and folders into `store`; returns what became of every page image.

    `thresholds` are the confidence thresholds of the hospital's settings (`[reading]`);
    `ocr_seconds` Tesseract's budget per free photo (`ocr.free_photo_seconds`); None means
    the packaged defaults. `workers` defaults to every core of the machine.
    """
    if thresholds is None or ocr_seconds is None:
        from papermode.core.settings import load_settings

        defaults = load_settings()
        thresholds = dict(defaults.reading) if thresholds is None else thresholds
        ocr_seconds = defaults.ocr_free_photo_seconds if ocr_seconds is None else ocr_seconds
    summary = IngestSummary(on_outcome=on_outcome)
    workers_module.reset()  # a fresh view of the store, and no connection to fork
    inputs = list(expand_inputs(paths))
    files = _flatten(inputs, store, summary, progress)
    workers = workers or default_workers()
    if workers <= 1 or len(inputs) == 1:
        # One file: starting worker processes would cost more than it saves.
        for item, data, sha in files:
            _store_read(
                store,
                item,
                data,
                sha,
                read_file(data, item.name, str(store.path), kind, thresholds, ocr_seconds),
                summary,
                progress,
            )
        return summary
    # A bounded window of files in flight: photos are large, memory is not endless.
    window = 2 * workers
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[InputFile, bytes, str, Future[FileRead]]] = deque()
        for item, data, sha in files:
            pending.append(
                (
                    item,
                    data,
                    sha,
                    pool.submit(
                        read_file, data, item.name, str(store.path), kind, thresholds, ocr_seconds
                    ),
                )
            )
            while len(pending) >= window:
                _store_read(store, *_result(pending.popleft()), summary, progress)
        while pending:
            _store_read(store, *_result(pending.popleft()), summary, progress)
    return summary


def default_workers() -> int:
    """Every core of the machine (reading a photo is CPU-bound; the parent mostly waits)."""
    return max(1, os.cpu_count() or 1)


def _result(
    entry: tuple[InputFile, bytes, str, Future[FileRead]],
) -> tuple[InputFile, bytes, str, FileRead]:
    item, data, sha, future = entry
    return item, data, sha, future.result()


def _flatten(
    items: Iterable[InputFile],
    store: Store,
    summary: IngestSummary,
    progress: Callable[[str], None] | None,
) -> Iterator[tuple[InputFile, bytes, str]]:
    """Each file's bytes to read; duplicates, zips and unreadable files dealt with here."""
    seen: set[str] = set()
    for item in items:
        data = item.read()
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen or _already_ingested(store, sha):
            _record(
                store,
                summary,
                progress,
                item,
                data,
                sha,
                [
                    PageOutcome(
                        item.name, sha, 0, "duplicate", message="this file was ingested before"
                    )
                ],
                remember=False,
            )
            continue
        seen.add(sha)
        kind = sniff_kind(data)
        if kind == "zip":
            try:
                members = zip_members(item.name, data)
            except InputFileError as error:
                _quarantine(store, summary, progress, item, data, sha, str(error))
                continue
            # Keep the archive itself as evidence; each member is ingested (and recognised
            # when seen again) on its own, so an interrupted run loses nothing.
            store.put_evidence(data, suffix=".zip")
            yield from _flatten(members, store, summary, progress)
            continue
        yield item, data, sha


def _already_ingested(store: Store, sha: str) -> bool:
    """Read before, with an outcome that stands. A file that was only quarantined (a page
    unknown to this store until its pages are brought over, a bug fixed since) is read
    again when it is given again."""
    row = store.db.execute(
        "SELECT 1 FROM ingests WHERE sha256 = ? AND status NOT IN ('quarantined', 'duplicate')",
        [sha],
    ).fetchone()
    return row is not None


def _quarantine(
    store: Store,
    summary: IngestSummary,
    progress: Callable[[str], None] | None,
    item: InputFile,
    data: bytes,
    sha: str,
    reason: str,
) -> None:
    _record(
        store,
        summary,
        progress,
        item,
        data,
        sha,
        [PageOutcome(item.name, sha, 0, "quarantined", message=reason)],
        remember=True,
    )


def _store_read(
    store: Store,
    item: InputFile,
    data: bytes,
    sha: str,
    result: FileRead,
    summary: IngestSummary,
    progress: Callable[[str], None] | None,
) -> None:
    if result.error:
        _quarantine(store, summary, progress, item, data, sha, result.error)
        return
    captured_at = _captured_at(item, data)
    outcomes: list[PageOutcome] = []
    with store.transaction():
        for read in result.outcomes:
            outcomes.append(_store_capture(store, item, sha, read, captured_at))
            for stage, seconds in read.seconds.items():
                summary.seconds_by_stage[stage] = summary.seconds_by_stage.get(stage, 0.0) + seconds
        _record(store, summary, progress, item, data, sha, outcomes, remember=True)


def _record(
    store: Store,
    summary: IngestSummary,
    progress: Callable[[str], None] | None,
    item: InputFile,
    data: bytes,
    sha: str,
    outcomes: list[PageOutcome],
    *,
    remember: bool,
) -> None:
    """Keep the original and write the ingest record (inside the caller's transaction)."""
    with store.transaction() as db:
        if remember:
            suffix = SUFFIXES.get(sniff_kind(data), "")
            _, evidence = store.put_evidence(data, suffix=suffix)
            db.table("files").insert(
                {
                    "sha256": sha,
                    "size": len(data),
                    "media_kind": sniff_kind(data),
                    "first_name": item.name,
                    "first_seen": now_text(),
                    "evidence": str(evidence.relative_to(store.evidence_dir)),
                },
                ignore=True,
            )
        status = _file_status(outcomes)
        db.table("ingests").insert(
            {
                "sha256": sha,
                "name": item.name,
                "ingested_at": now_text(),
                "status": status,
                "message": "; ".join(o.message for o in outcomes if o.message) or None,
                "pages": json.dumps([o.page_id for o in outcomes if o.page_id]),
            },
        )
        store.audit("ingest", sha, {"status": status, "pages": len(outcomes)})
    summary.outcomes.extend(outcomes)
    if summary.on_outcome:
        for outcome in outcomes:
            summary.on_outcome(outcome)
    if progress:
        progress(item.name)


def _file_status(outcomes: Sequence[PageOutcome]) -> str:
    order = ["quarantined", "retake", "read", "free", "duplicate"]
    statuses = {o.status for o in outcomes}
    return next((s for s in order if s in statuses), "read")


def _store_capture(
    store: Store, item: InputFile, sha: str, read: capture.CaptureOutcome, captured_at: datetime
) -> PageOutcome:
    capture_id = f"{sha[:16]}-{read.frame}"
    db = store.db
    db.table("captures").upsert(
        {
            "capture_id": capture_id,
            "sha256": sha,
            "frame": read.frame,
            "name": item.name,
            "page_id": read.page_id,
            "status": read.status,
            "message": read.message,
            "captured_at": captured_at.isoformat(timespec="seconds"),
            "ingested_at": now_text(),
            "identity_source": read.identity_source,
            "mrn_check": read.mrn_check,
            "homography": json.dumps(read.homography) if read.homography else None,
            "reprojection_mm": read.reprojection_mm,
            "quality": json.dumps(read.quality),
            "seconds": round(sum(read.seconds.values()), 4),
        },
        pk="capture_id",
    )
    if read.rectified_jpeg:
        store.put_evidence(read.rectified_jpeg, suffix=".rectified.jpg")
    if read.free is not None and read.free.free_text is not None:
        _store_free(store, item, sha, capture_id, read, captured_at)
    if read.status != "read" or read.page_id is None:
        status = read.status if read.status != "read" else "quarantined"
        return PageOutcome(item.name, sha, read.frame, status, None, read.message)
    db.table("readings").upsert_all(
        [
            {
                "capture_id": capture_id,
                "page_id": read.page_id,
                "field_id": r.reading.field_id,
                "value": r.reading.value,
                "confidence": r.reading.confidence,
                "status": r.reading.status,
                "flags": json.dumps(list(r.reading.flags)),
                "crop": r.crop_png,
                "suggestion": r.suggestion,
            }
            for r in read.fields
        ],
        pk=("capture_id", "field_id"),
    )
    update_page_state(store, read.page_id)
    auto = sum(1 for r in read.fields if r.reading.status == "auto")
    return PageOutcome(
        item.name, sha, read.frame, "read", read.page_id, None, auto, len(read.fields) - auto
    )


def _store_free(
    store: Store,
    item: InputFile,
    sha: str,
    capture_id: str,
    read: capture.CaptureOutcome,
    captured_at: datetime,
) -> None:
    """A free photo's text, patient link and medication candidates: searchable at once."""
    from papermode.free.patientlink import PatientLink
    from papermode.free.search import record_free_text

    free = read.free
    assert free is not None and free.free_text is not None
    record_free_text(
        store.db,
        capture_id=capture_id,
        file_sha256=sha,
        file_name=item.name,
        page_index=read.frame,
        captured_at=captured_at,
        kind=free.kind,
        free_text=free.free_text,
        link=free.link or PatientLink(None, (), 0.0),
        candidates=free.candidates,
        differences=free.differences,
    )


def _captured_at(item: InputFile, data: bytes) -> datetime:
    """When the photo was taken: EXIF DateTimeOriginal, else the file's time, else now."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            text = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
        if text:
            return datetime.strptime(str(text).strip(), "%Y:%m:%d %H:%M:%S")
    except Exception:  # no EXIF, not an image Pillow opens, a malformed date: fall back
        pass
    if item.mtime:
        return datetime.fromtimestamp(item.mtime).replace(microsecond=0)
    return datetime.now().replace(microsecond=0)
