"""Ingest: photos and scans in, readings out. One file at a time, all or nothing.

For each input file (folders are walked, zip archives opened member by member):
1. its SHA-256 is claimed in the store, so two runs at once never read one file twice;
2. a file seen before is recognised (`duplicate`) and not read twice; when its evidence
   file was lost or damaged since, these bytes (the same SHA-256) restore it;
3. each page image is read in a worker process (`capture.read_page_image`); a worker that
   dies (out of memory, a native crash) is replaced and only its file is quarantined;
4. the outcome is written in one transaction: file, ingest record, captures, readings,
   crops, and the merged state of every page touched. The clerk is told the outcome only
   once that transaction is committed. An interrupted run leaves nothing half-written;
   running it again completes the work without duplicates.

Bad input never raises out of here: anything that goes wrong with one file is that file's
quarantine, with its name and reason, its original kept. What stops a run is a fault of
the store itself (disk full, read-only, locked, another user's): a `StoreError` that says
what to do; everything committed before it stays.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from papermode.core.errors import ExitCode, PapermodeError, StoreError
from papermode.core.flags import FileStatus
from papermode.core.settings import PlausibilityLimits, load_settings
from papermode.free.ocr import use_private_tempdir
from papermode.free.patientlink import PatientLink
from papermode.free.search import record_free_text
from papermode.ingest import workers as workers_module
from papermode.ingest.inputs import (
    MAX_ZIP_DEPTH,
    InputFile,
    Refused,
    Skipped,
    expand_inputs,
    zip_members,
)
from papermode.ingest.workers import FileRead, read_file
from papermode.reading import page as capture
from papermode.reading.imaging import sniff_kind
from papermode.state.page_state import update_page_state
from papermode.store.database import Store
from papermode.store.restore import restore_evidence
from papermode.store.rows import now_text

__all__ = ["IngestSummary", "PageOutcome", "expand_inputs", "ingest_paths"]

logger = logging.getLogger(__name__)

STATUSES = tuple(FileStatus)
SUFFIXES = {
    "jpeg": ".jpg",
    "png": ".png",
    "tiff": ".tif",
    "heif": ".heic",
    "pdf": ".pdf",
    "zip": ".zip",
}
# docs/errors.md: a run that leaves a photo to retake exits 7; one that quarantined or
# skipped a file (and has nothing to retake) exits 6; otherwise 0.
# A file whose reading takes longer than this (a 200-page scan takes minutes; a damaged file
# that makes an image library loop forever, never ends) is quarantined.
FILE_LIMIT_S = 1800.0
# How a duplicate whose evidence was written again says so (`papermode ingest` shows it).
RESTORED = "restored evidence for"
_TOO_LONG = (
    "reading this file took too long and was stopped: the original is kept; split a very "
    "long scan into smaller files, or report the file to IT"
)
_DIED = (
    "papermode's reader stopped while reading this file (out of memory, or a crash in an "
    "image library): the original is kept; try another photo, and report the file to IT"
)


@dataclass(frozen=True)
class PageOutcome:
    """What became of one page image of an ingested file (or of a path not ingested)."""

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
    # Told of each outcome as soon as it is committed: a retake is said at once, not at the end.
    on_outcome: Callable[[PageOutcome], None] | None = field(default=None, repr=False)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def exit_code(self) -> ExitCode:
        """The documented exit code of the run (docs/errors.md): 7 when a photo must be
        retaken, a file was quarantined or a path was skipped; else 0."""
        needs_a_person = (FileStatus.RETAKE, FileStatus.QUARANTINED, FileStatus.SKIPPED)
        if any(self.count(status) for status in needs_a_person):
            return ExitCode.RETAKE_OR_QUARANTINE
        return ExitCode.OK

    def as_json(self) -> dict[str, object]:
        return {
            "files": [outcome.__dict__ for outcome in self.outcomes],
            "counts": {status: self.count(status) for status in STATUSES},
            "fields": {
                "auto": sum(o.fields_auto for o in self.outcomes),
                "review": sum(o.fields_review for o in self.outcomes),
            },
        }


@dataclass
class _Run:
    """One ingest run: where it writes, whom it tells, which files it has claimed."""

    store: Store
    summary: IngestSummary
    progress: Callable[[str], None] | None
    owner: str
    seen: set[str] = field(default_factory=set)

    def tell(self, item_name: str | None, outcomes: list[PageOutcome]) -> None:
        """Report outcomes that are committed (never before)."""
        self.summary.outcomes.extend(outcomes)
        for o in outcomes:  # for IT: what became of each file and why (file and page ids only)
            logger.info(
                "%s %s: page %s frame %d: %s",
                o.file,
                o.status,
                o.page_id,
                o.frame,
                (o.message or "").replace("\n", " "),
            )
        if self.summary.on_outcome:
            for outcome in outcomes:
                self.summary.on_outcome(outcome)
        if self.progress and item_name is not None:
            self.progress(item_name)

    def skip(self, skipped: Skipped) -> None:
        logger.info("skipped a path: %s", skipped.reason)
        self.tell(
            None, [PageOutcome(skipped.name, "", 0, FileStatus.SKIPPED, message=skipped.reason)]
        )


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
    plausibility_limits: PlausibilityLimits | None = None,
    ocr_seconds: float | None = None,
) -> IngestSummary:
    """Ingest files and folders into `store`; returns what became of every page image.

    `thresholds` are the confidence thresholds of the hospital's settings (`[reading]`),
    `plausibility_limits` its `[plausibility]` (`Settings.plausibility`), `ocr_seconds`
    Tesseract's budget per free photo (`ocr.free_photo_seconds`); None means the packaged
    defaults. `workers` defaults to every core of the machine. Raises StoreError when the
    store cannot be written (what was committed before stays), InputFileError when a path
    given does not exist.
    """
    if thresholds is None or ocr_seconds is None:
        defaults = load_settings()
        thresholds = dict(defaults.reading) if thresholds is None else thresholds
        ocr_seconds = defaults.ocr_free_photo_seconds if ocr_seconds is None else ocr_seconds
    if plausibility_limits is None:
        plausibility_limits = PlausibilityLimits()
    summary = IngestSummary(on_outcome=on_outcome)
    workers_module.reset()  # a fresh view of the store, and no connection to fork
    use_private_tempdir()  # Tesseract's temporary images: owner-only, removed on exit
    store.remove_stale_parts()
    owner = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"
    run = _Run(store, summary, progress, owner)
    inputs = list(expand_inputs(paths, on_skip=run.skip))
    files = _flatten(inputs, run)
    args = (str(store.path), kind, thresholds, plausibility_limits, ocr_seconds)
    workers = workers or default_workers()
    try:
        if workers <= 1 or len(inputs) == 1:
            # One file: starting worker processes would cost more than it saves.
            for item, data, sha in files:
                _store_read(run, item, data, sha, _read_here(data, item.name, args))
        else:
            _read_in_workers(run, files, workers, args)
    finally:
        store.release_claims(owner)
    return summary


def default_workers() -> int:
    """Every core of the machine (reading a photo is CPU-bound; the parent mostly waits)."""
    return max(1, os.cpu_count() or 1)


def _read_here(data: bytes, name: str, args: tuple[Any, ...]) -> FileRead:
    """`read_file` in this process; a bug costs the file, never the run."""
    try:
        return read_file(data, name, *args)
    except StoreError:
        raise
    except Exception as error:
        if os.environ.get("PAPERMODE_DEBUG"):
            raise
        return FileRead(error=_bug_message(name, error))


def _read_in_workers(
    run: _Run,
    files: Iterator[tuple[InputFile, bytes, str]],
    workers: int,
    args: tuple[Any, ...],
) -> None:
    # A bounded window of files in flight: photos are large, memory is not endless.
    window = 2 * workers
    readers = _Readers(workers)
    try:
        pending: deque[tuple[InputFile, bytes, str, int, Future[FileRead]]] = deque()
        for item, data, sha in files:
            pending.append((item, data, sha, *readers.submit(data, item.name, args)))
            while len(pending) >= window:
                _take(run, readers, pending.popleft(), args)
        while pending:
            _take(run, readers, pending.popleft(), args)
    finally:
        readers.close()


def _take(
    run: _Run,
    readers: _Readers,
    entry: tuple[InputFile, bytes, str, int, Future[FileRead]],
    args: tuple[Any, ...],
) -> None:
    item, data, sha, generation, future = entry
    _store_read(run, item, data, sha, readers.result(generation, future, data, item.name, args))


class _Readers:
    """The worker processes. A worker that dies breaks the whole pool: the pool is replaced,
    and each file that was in flight is read again alone, in a process of its own, so that
    only the file that kills a reader is quarantined."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.generation = 0
        self.pool = self._new(workers)

    @staticmethod
    def _new(workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers,
            initializer=workers_module.start_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, data: bytes, name: str, args: tuple[Any, ...]) -> tuple[int, Future[FileRead]]:
        try:
            return self.generation, self.pool.submit(read_file, data, name, *args)
        except BrokenProcessPool:
            # A reader died on a file still in flight: the pool refuses new work. Replace
            # it; the files in flight on the broken one are read again alone by `result`.
            self._replace()
            return self.generation, self.pool.submit(read_file, data, name, *args)

    def _replace(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.generation += 1
        self.pool = self._new(self.workers)

    def result(
        self,
        generation: int,
        future: Future[FileRead],
        data: bytes,
        name: str,
        args: tuple[Any, ...],
    ) -> FileRead:
        try:
            return _outcome_of(future, name, self.pool)
        except (BrokenProcessPool, _TookTooLong):
            pass
        if generation == self.generation:
            self._replace()
        alone = self._new(1)
        try:
            return _outcome_of(alone.submit(read_file, data, name, *args), name, alone)
        except BrokenProcessPool:
            logger.warning("a reader process died reading one file; the file is quarantined")
            return FileRead(error=f"{Path(name).name}: {_DIED}")
        except _TookTooLong:
            logger.warning(
                "one file took longer than %s s to read; it is quarantined", FILE_LIMIT_S
            )
            return FileRead(error=f"{Path(name).name}: {_TOO_LONG}")
        finally:
            alone.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _TookTooLong(Exception):
    """A reader spent longer than FILE_LIMIT_S on one file; its processes were killed."""


def _outcome_of(future: Future[FileRead], name: str, pool: ProcessPoolExecutor) -> FileRead:
    try:
        return future.result(timeout=FILE_LIMIT_S)
    except TimeoutError as error:
        # A reader cannot be stopped alone: stop them all (the pool is replaced) and read
        # the files that were in flight again, each alone, to find the one that hangs.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        raise _TookTooLong from error
    except (BrokenProcessPool, StoreError):
        raise
    except Exception as error:  # escaped the worker (a bug, a result that cannot be sent)
        if os.environ.get("PAPERMODE_DEBUG"):
            raise
        return FileRead(error=_bug_message(name, error))


def _bug_message(name: str, error: BaseException) -> str:
    return (
        f"{Path(name).name}: papermode could not read this file ({type(error).__name__}): "
        "the original is kept; try another photo, and report the file to IT"
    )


# ---------------------------------------------------------------------- files to read


def _flatten(items: Iterable[InputFile], run: _Run) -> Iterator[tuple[InputFile, bytes, str]]:
    """Each file's bytes to read; duplicates, zips and unreadable files dealt with here."""
    for item in items:
        try:
            data = item.read()
        except PapermodeError as error:
            run.skip(Skipped(item.name, error.message))
            continue
        except OSError as error:
            run.skip(
                Skipped(
                    item.name,
                    f"cannot be read ({error.strerror or type(error).__name__}): check the "
                    "file's permissions, or copy it again, and add it again",
                )
            )
            continue
        sha = hashlib.sha256(data).hexdigest()
        try:
            yield from _one_file(item, data, sha, run)
        except StoreError:
            raise
        except Exception as error:  # one file's problem, never the run's end
            if os.environ.get("PAPERMODE_DEBUG") and not isinstance(error, PapermodeError):
                raise
            reason = (
                str(error) if isinstance(error, PapermodeError) else _bug_message(item.name, error)
            )
            _quarantine(run, item, data, sha, reason)


def _one_file(
    item: InputFile, data: bytes, sha: str, run: _Run
) -> Iterator[tuple[InputFile, bytes, str]]:
    store = run.store
    if sha in run.seen or _already_ingested(store, sha):
        with store.transaction():
            # The original given again: its evidence, lost or damaged since, is written again.
            restored = restore_evidence(store, sha, data)
            message = "this file was ingested before"
            if restored:
                message = f"{RESTORED} {Path(item.name).name}: its stored copy was {restored}"
            outcomes = [PageOutcome(item.name, sha, 0, FileStatus.DUPLICATE, message=message)]
            _record(store, item, data, sha, outcomes, remember=False)
        run.tell(item.name, outcomes)
        return
    run.seen.add(sha)
    if sniff_kind(data) == "zip":
        yield from _archive(item, data, sha, run)
        return
    if not store.claim_file(sha, run.owner):
        busy = "another papermode run is reading this file right now; it is recorded once, there"
        run.tell(item.name, [PageOutcome(item.name, sha, 0, FileStatus.DUPLICATE, message=busy)])
        return
    yield item, data, sha


def _archive(
    item: InputFile, data: bytes, sha: str, run: _Run
) -> Iterator[tuple[InputFile, bytes, str]]:
    if item.depth >= MAX_ZIP_DEPTH:
        _quarantine(
            run,
            item,
            data,
            sha,
            f"{item.name} is an archive inside {item.depth} archives; papermode opens "
            f"{MAX_ZIP_DEPTH} levels at most. Unpack it and ingest the photos themselves.",
        )
        return
    members = zip_members(item.name, data, mtime=item.mtime, depth=item.depth)
    # Keep the archive itself as evidence; each member is ingested (and recognised when
    # seen again) on its own, so an interrupted run loses nothing.
    run.store.put_evidence(data, suffix=".zip")
    for member in members:
        if isinstance(member, Skipped):
            run.skip(member)
        elif isinstance(member, Refused):
            _quarantine(run, InputFile(member.name), data, sha, member.reason)
        else:
            yield from _flatten([member], run)


def _already_ingested(store: Store, sha: str) -> bool:
    """Read before, with an outcome that stands. A file that was only quarantined (a page
    unknown to this store until its pages are brought over, a bug fixed since) is read
    again when it is given again."""
    row = store.db.execute(
        "SELECT 1 FROM ingests WHERE sha256 = ? AND status NOT IN ('quarantined', 'duplicate')",
        [sha],
    ).fetchone()
    return row is not None


# ---------------------------------------------------------------------- outcomes stored


def _quarantine(run: _Run, item: InputFile, data: bytes, sha: str, reason: str) -> None:
    outcomes = [PageOutcome(item.name, sha, 0, FileStatus.QUARANTINED, message=reason)]
    with run.store.transaction():
        _record(run.store, item, data, sha, outcomes, remember=True)
        run.store.release_claim(sha, run.owner)
    run.tell(item.name, outcomes)


def _store_read(run: _Run, item: InputFile, data: bytes, sha: str, result: FileRead) -> None:
    if result.error:
        _quarantine(run, item, data, sha, result.error)
        return
    store = run.store
    captured_at = _captured_at(item, data)
    outcomes: list[PageOutcome] = []
    seconds: dict[str, float] = {}
    try:
        with store.transaction():
            if _already_ingested(store, sha):  # another run recorded it while we read it
                outcomes = [
                    PageOutcome(
                        item.name,
                        sha,
                        0,
                        FileStatus.DUPLICATE,
                        message="this file was ingested before",
                    )
                ]
                _record(store, item, data, sha, outcomes, remember=False)
            else:
                for read in result.outcomes:
                    outcomes.append(_store_capture(store, item, sha, read, captured_at))
                    for stage, spent in read.seconds.items():
                        seconds[stage] = seconds.get(stage, 0.0) + spent
                _record(store, item, data, sha, outcomes, remember=True)
            store.release_claim(sha, run.owner)
    except StoreError:
        raise
    except Exception as error:  # a bug storing one file: its transaction is rolled back
        if os.environ.get("PAPERMODE_DEBUG"):
            raise
        _quarantine(run, item, data, sha, _bug_message(item.name, error))
        return
    for stage, spent in seconds.items():
        run.summary.seconds_by_stage[stage] = run.summary.seconds_by_stage.get(stage, 0.0) + spent
    run.tell(item.name, outcomes)


def _record(
    store: Store,
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


def _file_status(outcomes: Sequence[PageOutcome]) -> FileStatus:
    order = [
        FileStatus.QUARANTINED,
        FileStatus.RETAKE,
        FileStatus.READ,
        FileStatus.FREE,
        FileStatus.DUPLICATE,
    ]
    statuses = {o.status for o in outcomes}
    return next((s for s in order if s in statuses), FileStatus.READ)


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
    if read.status != FileStatus.READ or read.page_id is None:
        status = (
            FileStatus(read.status) if read.status != FileStatus.READ else FileStatus.QUARANTINED
        )
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
        item.name,
        sha,
        read.frame,
        FileStatus.READ,
        read.page_id,
        None,
        auto,
        len(read.fields) - auto,
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
    kind = sniff_kind(data)
    if kind == "pdf" or (kind == "png" and b"eXIf" not in data and b"exif" not in data):
        # In the one process that stores every file: Pillow opens no PDF (it tries every
        # format first, 30 ms), and it decodes a whole PNG to look for EXIF after its
        # pixels (80 ms for a phone screenshot). It finds a PNG's EXIF in an eXIf chunk or
        # a text chunk keyed "exif" / "Raw profile type exif" (keys are never compressed):
        # bytes with neither word hold no EXIF date.
        return _file_time(item)
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            text = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
        if text:
            return datetime.strptime(str(text).strip(), "%Y:%m:%d %H:%M:%S")
    except Exception:  # no EXIF, not an image Pillow opens, a malformed date: fall back
        pass
    return _file_time(item)


def _file_time(item: InputFile) -> datetime:
    if item.mtime:
        return datetime.fromtimestamp(item.mtime).replace(microsecond=0)
    return datetime.now().replace(microsecond=0)
