"""Print a `ReprintPlan`: the next period's forms, a cover sheet, the manifest, the store.

Like `prepare`: everything is rendered into a temporary folder beside `out_dir`, the new
snapshot and every page (new page ids) are registered in the same store so their photos are
read against their own layouts, and only then is the folder moved into place.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from papermode.census.schedule import days_period, doses_for_snapshot
from papermode.core.errors import UsageError
from papermode.core.model import PAPER_SIZES_MM, PageLayout, PrintedPage, Snapshot, Text
from papermode.core.pageframe import frame_for
from papermode.core.pageid import layout_digest, new_page_id
from papermode.core.private import FILE_MODE, private_dir
from papermode.core.settings import Settings
from papermode.printing.layout.kit import fit, wrap
from papermode.printing.layout.snapshot import layout_snapshot
from papermode.printing.manifest import MANIFEST_NAME, SnapshotInfo, write_manifest
from papermode.printing.prepare import PdfPlan, plan_pdfs, render_plans, swap_into_place
from papermode.printing.reprint import PaperChanges, ReprintPlan
from papermode.printing.templates import load_templates
from papermode.store.database import Store, open_store
from papermode.store.rows import from_iso

logger = logging.getLogger(__name__)

COVER_PDF = "cover.pdf"
COVER_TEMPLATE = "reprint_cover"
_OUTPUT_NAMES = re.compile(r"^(ward-.*\.pdf|patients|manifest\.json|cover\.pdf|\..*)$")


@dataclass(frozen=True)
class ReprintResult:
    """What `reprint` wrote and decided (ids only: no patient data)."""

    out_dir: Path
    snapshot_id: str
    base_snapshot_id: str
    period_start: datetime
    period_end: datetime
    pages: int
    patients: int
    confirmed: int
    awaiting: int
    added: tuple[str, ...]
    stopped: tuple[str, ...]
    ended: tuple[str, ...]
    left: tuple[str, ...]
    admitted: tuple[str, ...]
    confirmed_up_to: datetime | None

    @property
    def warnings(self) -> tuple[str, ...]:
        notes = []
        if not self.confirmed:
            notes.append(
                "nothing on paper is confirmed in review yet: these forms hold the last "
                "snapshot's orders only"
            )
        if self.awaiting:
            notes.append(
                f"{self.awaiting} change(s) on paper await confirmation: they are on the "
                f"cover sheet ({COVER_PDF}), not on the forms"
            )
        return tuple(notes)


@dataclass(frozen=True)
class PrintRun:
    """How the snapshot was last printed: its period's end, language and paper."""

    period_end: datetime | None
    lang: str
    paper: str


def last_run(store: Store, snapshot_id: str) -> PrintRun:
    row = store.db.execute(
        "SELECT period_end, lang, paper FROM snapshots WHERE snapshot_id = ?", [snapshot_id]
    ).fetchone()
    if row is None:
        return PrintRun(None, "en", "a4")
    return PrintRun(from_iso(row[0]), row[1] or "en", row[2] or "a4")


def next_period(
    store: Store, snapshot_id: str, *, start: datetime | None, hours: int
) -> tuple[datetime, datetime]:
    """[start, start + hours): by default the period right after the last one printed."""
    if hours <= 0:
        raise UsageError(f"--hours must be at least 1, not {hours}.")
    if start is None:
        start = last_run(store, snapshot_id).period_end
    if start is None:
        raise UsageError(
            "the store does not say when the last forms ended.",
            advice="Give --start (for example --start 2026-11-29T07:00).",
        )
    start = start.replace(tzinfo=None, second=0, microsecond=0)
    return start, start + timedelta(hours=hours)


def reprint_period(
    store: Store,
    snapshot_id: str,
    start: datetime | None,
    hours: int | None,
    days: int | None,
    settings: Settings,
) -> tuple[tuple[datetime, datetime], Settings]:
    """The reprint's period and the settings to lay it out with, like `prepare`'s
    (`printed_period`): --days N continues the dates from the end of the last forms printed,
    so a reprint after a 3-day MAR of days 1-3 prints days 4, 5, ..."""
    if hours is not None and days is not None:
        raise UsageError("give --hours or --days, not both.", advice="For two days: --days 2.")
    if hours is None and days is None and settings.mar_days:
        days = settings.mar_days
    if days is None:
        period = next_period(store, snapshot_id, start=start, hours=24 if hours is None else hours)
        return period, replace(settings, mar_days=0)
    begin = next_period(store, snapshot_id, start=start, hours=24)[0]
    return days_period(begin, days, begin), replace(settings, mar_days=days)


def write_reprint(
    plan: ReprintPlan,
    changes: PaperChanges,
    store_path: Path,
    out_dir: Path,
    *,
    period: tuple[datetime, datetime],
    run: PrintRun,
    settings: Settings,
) -> ReprintResult:
    """Lay out, render and register the plan's forms and cover sheet into `out_dir`."""
    out_dir = Path(out_dir).absolute()
    _check_out(out_dir, Path(store_path))
    snapshot = plan.printed_snapshot
    doses = doses_for_snapshot(snapshot, period[0], period[1], settings)
    wards = layout_snapshot(snapshot, doses, period=period, paper=run.paper, lang=run.lang,
                            templates=load_templates(), settings=settings)  # fmt: skip
    wards = {ward: pages for ward, pages in wards.items() if ward in _wards(snapshot)}
    printed, plans = plan_pdfs(snapshot, wards)
    cover = cover_page(plan, snapshot, period, paper=run.paper)
    printed.insert(0, PrintedPage(cover, COVER_PDF, 1))
    plans.insert(0, PdfPlan(COVER_PDF, (cover,)))
    _write(out_dir, Path(store_path), plan.snapshot, printed, plans, period, run)
    logger.info(
        "reprint: %d page(s), snapshot %s, %d confirmed change(s), %d awaiting",
        len(printed), snapshot.snapshot_id, changes.confirmed, len(plan.awaiting),
    )  # fmt: skip
    return ReprintResult(
        out_dir=out_dir,
        snapshot_id=snapshot.snapshot_id,
        base_snapshot_id=plan.base_snapshot_id,
        period_start=period[0],
        period_end=period[1],
        pages=len(printed),
        patients=len(snapshot.patients),
        confirmed=changes.confirmed,
        awaiting=len(plan.awaiting),
        added=plan.added,
        stopped=plan.stopped,
        ended=plan.ended,
        left=plan.left,
        admitted=plan.admitted,
        confirmed_up_to=changes.confirmed_up_to,
    )


def _wards(snapshot: Snapshot) -> set[str]:
    return {patient.ward for patient in snapshot.patients}


def _check_out(out_dir: Path, store_path: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file; give a folder for the forms.")
    if out_dir.is_dir():
        foreign = [p.name for p in out_dir.iterdir() if not _OUTPUT_NAMES.match(p.name)]
        if foreign:
            raise UsageError(
                f"--out {out_dir} holds other files ({', '.join(sorted(foreign)[:3])}); "
                "reprint replaces the whole folder.",
                advice="Choose an empty or new folder, or one an earlier reprint wrote.",
            )
    if store_path.resolve().is_relative_to(out_dir.resolve()):
        raise UsageError(
            f"the store {store_path} is inside the output folder {out_dir}, which reprint "
            "replaces.",
            advice="Keep the store outside --out.",
        )


def _write(
    out_dir: Path,
    store_path: Path,
    snapshot: Snapshot,
    printed: list[PrintedPage],
    plans: list[PdfPlan],
    period: tuple[datetime, datetime],
    run: PrintRun,
) -> None:
    """Render into a temp folder, register snapshot and pages, then swap into place."""
    private_dir(out_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-reprint-", dir=out_dir.parent))
    try:
        render_plans(staging, plans)
        info = SnapshotInfo(snapshot.snapshot_id, snapshot.taken_at, snapshot.source, *period)
        generated = datetime.now().replace(microsecond=0)
        write_manifest(staging / MANIFEST_NAME, printed, info, paper=run.paper, lang=run.lang,
                       generated_at=generated)  # fmt: skip
        os.chmod(staging / MANIFEST_NAME, FILE_MODE)  # names every patient: owner-only
        with open_store(store_path) as store:
            store.register_snapshot(snapshot, period=period, lang=run.lang, paper=run.paper)
            store.register_pages(printed)
        swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------- cover sheet

_TITLE_PT = 13.0
_LINE_PT = 8.5
_PT_MM = 25.4 / 72


def cover_lines(plan: ReprintPlan) -> list[str]:
    """What the cover sheet says, in order: what the forms were built from, what is still
    awaiting confirmation (NOT printed as orders), then what changed since the last forms."""
    snapshot = plan.snapshot
    confirmed = snapshot.paper_confirmed_to
    lines = [
        f"Built from: orders as of {snapshot.taken_at:%Y-%m-%d %H:%M} + paper orders confirmed "
        f"up to {confirmed:%Y-%m-%d %H:%M}" if confirmed else
        f"Built from: orders as of {snapshot.taken_at:%Y-%m-%d %H:%M} (no paper change "
        "confirmed in review yet)",
        "",
        f"AWAITING CONFIRMATION ({len(plan.awaiting)}): NOT printed as orders. Review them "
        "(papermode review), then reprint.",
    ]  # fmt: skip
    where = {p.patient_id: _where(p.ward, p.room, p.bed, p.display_name) for p in
             snapshot.patients}  # fmt: skip
    for item in plan.awaiting:
        place = where.get(item.patient_id or "", item.ward or "")
        lines.append(f"- {place}: {item.what}" if place else f"- {item.what}")
    if not plan.awaiting:
        lines.append("- nothing")
    lines += ["", "Changes since the last forms (confirmed by two people):"]
    orders = {o.order_id: o for o in snapshot.orders}
    lines += [f"- new order printed: {orders[i].medication} ({where.get(orders[i].patient_id, '')})"
              for i in plan.added if i in orders]  # fmt: skip
    lines += list(plan.changed)  # doses changed on paper, both parts confirmed
    lines += [f"- order stopped on paper, not printed: {i}" for i in plan.stopped]
    lines += [f"- order reached its end, not printed: {i}" for i in plan.ended]
    lines += [f"- patient discharged or transferred, no forms: {i}" for i in plan.left]
    lines += [f"- admitted on a blank pack, full pack printed: {where.get(i, i)}"
              for i in plan.admitted]  # fmt: skip
    return lines


def _where(ward: str, room: str | None, bed: str | None, name: str) -> str:
    return " / ".join(part for part in (ward, room or "", bed or "", name) if part)


def cover_page(
    plan: ReprintPlan, snapshot: Snapshot, period: tuple[datetime, datetime], *, paper: str
) -> PageLayout:
    """The cover sheet: one page of text, no boxes to fill (registered, never read)."""
    size = PAPER_SIZES_MM[paper]
    frame = frame_for(size)
    left, width = frame.content.x, frame.content.w
    y = frame.content.y + _TITLE_PT * _PT_MM + 0.5
    drawings: list[Text] = [Text(left, y, "REPRINT: AWAITING CONFIRMATION", _TITLE_PT, bold=True)]
    y += 7.0
    drawings.append(Text(left, y, fit(f"Period {period[0]:%Y-%m-%d %H:%M} to "
                                      f"{period[1]:%Y-%m-%d %H:%M}", width, 9.0), 9.0))  # fmt: skip
    y += 6.0
    for line in cover_lines(plan):
        for part in wrap(line, width, _LINE_PT, lines=3) if line else [""]:
            if y > frame.content.y + frame.content.h - 4.0:
                break
            bold = part.startswith(("AWAITING", "Built from"))
            drawings.append(Text(left, y, part, _LINE_PT, bold=bold))
            y += _LINE_PT * _PT_MM * 1.35
    digest = layout_digest(COVER_TEMPLATE, "1", size, (), drawings)
    return PageLayout(
        page_id=new_page_id(f"{snapshot.snapshot_id}:cover:{digest}"),
        template=COVER_TEMPLATE,
        template_version="1",
        paper=paper,
        size_mm=size,
        snapshot_id=snapshot.snapshot_id,
        patient_id=None,
        mrn=None,
        ward=None,
        page_number=1,
        page_count=1,
        fields=(),
        drawings=tuple(drawings),
        period_start=period[0],
        period_end=period[1],
    )
