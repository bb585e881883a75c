"""The prepare stage: census -> schedule -> layout -> ward and patient PDFs + manifest + store.

`prepare_forms` is what `papermode prepare` runs. It writes nothing at all when the census
is refused, renders everything into a temporary folder beside the output folder, records
the snapshot and pages in the store, and only then moves the files into place, so a
failure never leaves a half-written set of forms that someone might print.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from papermode.census.drug_classes import conflict_warnings
from papermode.census.schedule import days_period, default_period, doses_for_snapshot
from papermode.census.snapshot import load_census
from papermode.core.errors import UsageError
from papermode.core.model import (
    PAPER_SIZES_MM,
    LeftOut,
    PageLayout,
    PrintedPage,
    ScheduledDose,
    Snapshot,
)
from papermode.core.private import FILE_MODE, private_dir
from papermode.core.settings import Settings, load_settings
from papermode.printing.layout.snapshot import layout_snapshot
from papermode.printing.manifest import (
    MANIFEST_NAME,
    SnapshotInfo,
    iso_minutes,
    load_manifest_document,
    write_manifest,
)
from papermode.printing.pdf import copy_pages, render_pdf
from papermode.printing.printable import (
    census_age_warnings,
    check_dose_schedules_fit,
    check_one_dose_per_time,
    check_text_printable,
    long_instruction_warnings,
)
from papermode.printing.templates import load_templates
from papermode.store.database import open_store

logger = logging.getLogger(__name__)

PATIENTS_DIR = "patients"
LANGUAGES = ("en", "fr", "nl")
# What a folder that `prepare` wrote may contain: it can be replaced by a newer run.
_OUTPUT_NAMES = re.compile(r"^(ward-.*\.pdf|patients|manifest\.json|\..*)$")


@dataclass(frozen=True)
class PrepareResult:
    """What `prepare_forms` wrote. Paths are inside `out_dir`."""

    out_dir: Path
    ward_pdfs: tuple[Path, ...]
    patient_pdfs: tuple[Path, ...]
    manifest: Path
    page_count: int
    warnings: tuple[str, ...]
    seconds: float
    snapshot_id: str = ""
    period_start: datetime | None = None
    period_end: datetime | None = None
    patient_count: int = 0
    blank_pages: int = 0
    left_out: tuple[LeftOut, ...] = ()


@dataclass(frozen=True)
class PdfPlan:
    """One PDF to write: its name relative to the output folder and its pages in order."""

    name: str
    pages: tuple[PageLayout, ...]
    copy_of: str | None = None  # a patient PDF: copied from this ward PDF...
    copy_pages: tuple[int, ...] = ()  # ...these pages (1-based)


def slug(text: str) -> str:
    """A safe lower-case file-name part: accents dropped, anything odd becomes '-'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return cleaned or "x"


def prepare_forms(
    census: Path,
    out_dir: Path,
    store_path: Path,
    *,
    start: datetime | None,
    hours: int | None,
    lang: str,
    paper: str,
    settings_path: Path | None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    days: int | None = None,
) -> PrepareResult:
    """Print the downtime forms of every patient in `census` into `out_dir`.

    `progress(pages_rendered, pages_total)` is called after each ward PDF. `days` (1-7)
    prints the multi-day MAR over that many calendar days instead of `hours`; with neither,
    the settings' `mar_days` decides (0: the per-day MAR over 24 hours).

    Raises CensusError (nothing written) when the census is refused, UsageError for
    options that cannot work, TemplateError / StoreError from the stages below.
    """
    _check_options(out_dir, hours=hours, lang=lang, paper=paper)
    _check_store_outside(Path(store_path), Path(out_dir))
    settings = load_settings(settings_path)
    snapshot = load_census(Path(census), settings)
    return print_snapshot(
        snapshot, out_dir, store_path, start=start, hours=hours, lang=lang, paper=paper,
        settings=settings, now=now, progress=progress, days=days,
    )  # fmt: skip


def print_snapshot(
    snapshot: Snapshot,
    out_dir: Path,
    store_path: Path,
    *,
    start: datetime | None,
    hours: int | None,
    lang: str,
    paper: str,
    settings: Settings,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    days: int | None = None,
) -> PrepareResult:
    """`prepare_forms` once the census is a checked `Snapshot`; also the last step of
    `prepare --from-photos` (review/from_photos.py), whose snapshot no export made."""
    started = time.perf_counter()
    _check_options(out_dir, hours=hours, lang=lang, paper=paper)
    _check_store_outside(Path(store_path), Path(out_dir))
    period, settings = printed_period(now or datetime.now(), start, hours, days, settings)
    doses = doses_for_snapshot(snapshot, period[0], period[1], settings)
    check_one_dose_per_time(snapshot, doses)
    check_dose_schedules_fit(snapshot, lang)
    check_text_printable(snapshot)
    warnings = census_age_warnings(snapshot, period[0], settings)
    warnings += long_instruction_warnings(snapshot, lang)
    warnings += conflict_warnings(snapshot)  # allergy flags, by order id: census/drug_classes.py
    wards = _layout(snapshot, doses, period, paper=paper, lang=lang, settings=settings)
    printed, plans = plan_pdfs(snapshot, wards)
    _write_all(
        out_dir, store_path, snapshot, printed, plans, period,
        paper=paper, lang=lang, progress=progress,
    )  # fmt: skip
    logger.info(
        "prepare: %d page(s), %d PDF(s), snapshot %s",
        len(printed),
        len(plans),
        snapshot.snapshot_id,
    )
    result = _result(out_dir, snapshot, printed, plans, period, time.perf_counter() - started)
    return replace(result, warnings=result.warnings + tuple(warnings))


def printed_period(
    now: datetime,
    start: datetime | None,
    hours: int | None,
    days: int | None,
    settings: Settings,
) -> tuple[tuple[datetime, datetime], Settings]:
    """The period to print and the settings to lay it out with.

    --days N: the multi-day MAR over N calendar days (from midnight today by default);
    --hours N: the per-day MAR over N hours, whatever `mar_days` says; neither: the
    settings' `mar_days` when set, else 24 hours. Both at once is a usage error.
    """
    if hours is not None and days is not None:
        raise UsageError("give --hours or --days, not both.", advice="For two days: --days 2.")
    if hours is None and days is None and settings.mar_days:
        days = settings.mar_days
    if days is not None:
        return days_period(now, days, start), replace(settings, mar_days=days)
    hours = 24 if hours is None else hours
    if hours <= 0:
        raise UsageError(f"--hours must be at least 1, not {hours}.")
    if start is None:
        period = default_period(now, hours)
    else:
        period = (start.replace(tzinfo=None), start.replace(tzinfo=None) + timedelta(hours=hours))
    return period, replace(settings, mar_days=0)


def _check_options(out_dir: Path, *, hours: int | None, lang: str, paper: str) -> None:
    if hours is not None and hours <= 0:
        raise UsageError(f"--hours must be at least 1, not {hours}.")
    if lang not in LANGUAGES:
        raise UsageError(f"--lang {lang!r} is not available; use one of {', '.join(LANGUAGES)}.")
    if paper not in PAPER_SIZES_MM:
        raise UsageError(f"--paper {paper!r} is not available; use a4 or letter.")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file; give a folder for the forms.")
    if out_dir.is_dir():
        foreign = [p.name for p in out_dir.iterdir() if not _OUTPUT_NAMES.match(p.name)]
        if foreign:
            raise UsageError(
                f"--out {out_dir} holds other files ({', '.join(sorted(foreign)[:3])}); "
                "prepare replaces the whole folder.",
                advice="Choose an empty or new folder, or one an earlier prepare wrote.",
            )


def _check_store_outside(store_path: Path, out_dir: Path) -> None:
    """The output folder is replaced as a whole: a store inside it would be deleted."""
    if store_path.resolve().is_relative_to(out_dir.resolve()):
        raise UsageError(
            f"the store {store_path} is inside the output folder {out_dir}, which every "
            "prepare replaces.",
            advice="Keep the store outside --out (the default is ./papermode.db).",
        )


def _layout(
    snapshot: Snapshot,
    doses: dict[str, list[ScheduledDose]],
    period: tuple[datetime, datetime],
    *,
    paper: str,
    lang: str,
    settings: Settings,
) -> dict[str, list[PageLayout]]:
    return layout_snapshot(
        snapshot,
        doses,
        period=period,
        paper=paper,
        lang=lang,
        templates=load_templates(),
        settings=settings,
    )


def plan_pdfs(
    snapshot: Snapshot, wards: dict[str, list[PageLayout]]
) -> tuple[list[PrintedPage], list[PdfPlan]]:
    """Where every page goes: one PDF per ward (print order), one per patient (a copy).

    Patient PDFs are named by ward, bed and census patient id only: never a name or MRN.
    """
    printed: list[PrintedPage] = []
    plans: list[PdfPlan] = []
    used: set[str] = set()
    for ward, pages in wards.items():
        if not pages:
            continue
        ward_name = _unique(f"ward-{slug(ward or 'no-ward')}.pdf", used)
        plans.append(PdfPlan(ward_name, tuple(pages)))
        patient_pages: dict[str, list[int]] = {}
        for index, layout in enumerate(pages):
            if layout.patient_id is not None:
                patient_pages.setdefault(layout.patient_id, []).append(index)
        copies: dict[int, tuple[str, int]] = {}
        for patient_id, indexes in patient_pages.items():
            name = _unique(_patient_pdf_name(snapshot, ward, patient_id), used)
            numbers = tuple(i + 1 for i in indexes)
            plans.append(PdfPlan(name, tuple(pages[i] for i in indexes), ward_name, numbers))
            copies.update({i: (name, n) for n, i in enumerate(indexes, start=1)})
        for index, layout in enumerate(pages):
            also_in = (copies[index],) if index in copies else ()
            printed.append(PrintedPage(layout, ward_name, index + 1, also_in))
    return printed, plans


def _patient_pdf_name(snapshot: Snapshot, ward: str, patient_id: str) -> str:
    """patients/<ward>-<room>-<bed>-<patient id>.pdf: sorts by bed, names no one."""
    try:
        patient = snapshot.patient(patient_id)
        place = "-".join(slug(part) for part in (patient.room, patient.bed) if part)
    except KeyError:
        place = ""
    return f"{PATIENTS_DIR}/{slug(ward or 'no-ward')}-{place or 'no-bed'}-{slug(patient_id)}.pdf"


def _unique(name: str, used: set[str]) -> str:
    stem, suffix = name.rsplit(".", 1)
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{stem}-{number}.{suffix}", number + 1
    used.add(candidate)
    return candidate


def _write_all(
    out_dir: Path,
    store_path: Path,
    snapshot: Snapshot,
    printed: Sequence[PrintedPage],
    plans: Sequence[PdfPlan],
    period: tuple[datetime, datetime],
    *,
    paper: str,
    lang: str,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Render into a temp folder, register in the store, then swap the folder into place."""
    out_dir = Path(out_dir).absolute()
    private_dir(out_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-prepare-", dir=out_dir.parent))
    try:
        info = SnapshotInfo(
            snapshot.snapshot_id, snapshot.taken_at, snapshot.source, period[0], period[1]
        )
        generated = datetime.now().replace(microsecond=0)

        def manifest() -> None:
            write_manifest(
                staging / MANIFEST_NAME, printed, info, paper=paper, lang=lang,
                generated_at=generated,
            )  # fmt: skip
            os.chmod(staging / MANIFEST_NAME, FILE_MODE)  # names every patient: owner-only

        # The manifest is written while the workers draw; the store learns of the pages
        # only once every PDF exists, so a failed run registers nothing.
        render_plans(staging, plans, progress, meanwhile=manifest)
        with open_store(store_path) as store:
            store.register_snapshot(snapshot, period=period, lang=lang, paper=paper)
            store.register_pages(printed)
        swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# Below this many pages the worker processes cost more than they save.
_PARALLEL_FROM_PAGES = 200


def render_plans(
    folder: Path,
    plans: Sequence[PdfPlan],
    progress: Callable[[int, int], None] | None = None,
    *,
    workers: int | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Write every planned PDF under `folder`: ward PDFs drawn, patient PDFs copied.

    Each ward is one job (its PDF drawn, then its patients' copies cut from it). A large
    run spreads the wards over `workers` processes (default: every core), because drawing
    is pure Python and CPU-bound; a worker that fails fails the whole run, before anything
    is switched into place. `meanwhile` runs here while the workers draw.
    """
    private_dir(folder / PATIENTS_DIR)
    jobs = _ward_jobs(plans)
    total = sum(len(ward.pages) for ward, _ in jobs)
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    done = 0
    if workers <= 1 or total < _PARALLEL_FROM_PAGES:
        for ward, copies in jobs:
            done += _render_ward(folder, ward, copies)
            if progress is not None:
                progress(done, total)
        if meanwhile is not None:
            meanwhile()
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_render_ward, folder, ward, copies) for ward, copies in jobs]
        if meanwhile is not None:
            meanwhile()
        for future in as_completed(futures):
            done += future.result()
            if progress is not None:
                progress(done, total)


def _ward_jobs(plans: Sequence[PdfPlan]) -> list[tuple[PdfPlan, tuple[PdfPlan, ...]]]:
    """Each drawn PDF with the copies cut from it (their pages left out: not needed)."""
    copies: dict[str, list[PdfPlan]] = {}
    for plan in plans:
        if plan.copy_of is not None:
            stripped = PdfPlan(plan.name, (), plan.copy_of, plan.copy_pages)
            copies.setdefault(plan.copy_of, []).append(stripped)
    return [(plan, tuple(copies.get(plan.name, ()))) for plan in plans if plan.copy_of is None]


def _render_ward(folder: Path, ward: PdfPlan, copies: Sequence[PdfPlan]) -> int:
    """Draw one ward PDF and cut its patient copies; the number of pages drawn."""
    render_pdf(ward.pages, folder / ward.name)
    for plan in copies:
        copy_pages(folder / ward.name, plan.copy_pages, folder / plan.name)
    return len(ward.pages)


def swap_into_place(staging: Path, out_dir: Path) -> None:
    """Replace `out_dir` (if an earlier prepare wrote it) by the staged folder."""
    previous: Path | None = None
    if out_dir.exists():
        previous = out_dir.with_name(f".{out_dir.name}-previous-{time.time_ns()}")
        out_dir.rename(previous)
    try:
        staging.rename(out_dir)
    except OSError:
        if previous is not None:
            previous.rename(out_dir)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def _result(
    out_dir: Path,
    snapshot: Snapshot,
    printed: Sequence[PrintedPage],
    plans: Sequence[PdfPlan],
    period: tuple[datetime, datetime],
    seconds: float,
) -> PrepareResult:
    names = [plan.name for plan in plans]
    out_dir = Path(out_dir).absolute()
    return PrepareResult(
        out_dir=Path(out_dir),
        ward_pdfs=tuple(Path(out_dir) / n for n in names if not n.startswith(PATIENTS_DIR)),
        patient_pdfs=tuple(Path(out_dir) / n for n in names if n.startswith(PATIENTS_DIR)),
        manifest=Path(out_dir) / MANIFEST_NAME,
        page_count=len(printed),
        warnings=snapshot.warnings + tuple(item.line for item in snapshot.left_out),
        seconds=seconds,
        snapshot_id=snapshot.snapshot_id,
        period_start=period[0],
        period_end=period[1],
        patient_count=len(snapshot.patients),
        blank_pages=sum(1 for p in printed if p.layout.patient_id is None),
        left_out=snapshot.left_out,
    )


def result_summary(result: PrepareResult, store_path: Path) -> dict[str, Any]:
    """The JSON summary `papermode prepare --json` prints (file names relative to out_dir)."""
    manifest = read_manifest_counts(result.manifest)
    return {
        "out_dir": str(result.out_dir),
        "store": str(store_path),
        "snapshot_id": result.snapshot_id,
        "period_start": iso_minutes(result.period_start),
        "period_end": iso_minutes(result.period_end),
        "pages": result.page_count,
        "patients": result.patient_count,
        "blank_pages": result.blank_pages,
        "ward_pdfs": [
            {
                "pdf": _relative(p, result.out_dir),
                "pages": manifest.get(_relative(p, result.out_dir), 0),
            }
            for p in result.ward_pdfs
        ],
        "patient_pdfs": [_relative(p, result.out_dir) for p in result.patient_pdfs],
        "manifest": _relative(result.manifest, result.out_dir),
        "warnings": list(result.warnings),
        "left_out": [
            {"resource": item.resource, "kind": item.kind, "reason": item.reason}
            for item in result.left_out
        ],
        "seconds": round(result.seconds, 3),
    }


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def read_manifest_counts(path: Path) -> dict[str, int]:
    """Pages per ward PDF, as the manifest records them."""
    counts: dict[str, int] = {}
    for entry in load_manifest_document(path)["pages"]:
        counts[entry["pdf"]] = counts.get(entry["pdf"], 0) + 1
    return counts
