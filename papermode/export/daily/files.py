"""Write the daily report: a folder `report-<day>` with the hospital summary (PDF, CSV,
JSON: no patient names) and one PDF per ward (names its patients), all complete or none.

The folder is built beside its final place and renamed into it in one step; a report made
again for the same day replaces the older one only once the new one is whole. Files are
owner-only (0600, folder 0700). The run is appended to the audit chain.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from papermode.core.errors import ExportError
from papermode.core.private import private_dir
from papermode.export.daily.figures import BACKLOG_GROUPS, DailyReport, WardFigures
from papermode.export.daily.pdf import hospital_pdf, ward_pdf
from papermode.store.audit import anchor_head
from papermode.store.database import Store

JSON_VERSION = 1
_COUNTS = (
    "patients_on_paper", "admissions_on_blank_packs", "pages_printed", "pages_photographed",
    "pages_never_photographed", "retakes_waiting", "files_quarantined", "doses_due",
    "doses_not_documented", "doses_pending_review", "high_alert_without_second_check",
    "new_orders_awaiting", "oldest_waiting_hours",
)  # fmt: skip


@dataclass(frozen=True)
class WrittenReport:
    """Where the report went, and what it holds."""

    folder: Path
    files: tuple[str, ...]
    wards: int


def write_daily_report(store: Store, report: DailyReport, out: Path) -> WrittenReport:
    """Write `report` under `out` as `report-<day>/`, then audit it."""
    contents = _contents(report)
    final = out / f"report-{report.day.isoformat()}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        building = out / f".{final.name}.{os.getpid()}.part"
        shutil.rmtree(building, ignore_errors=True)
        private_dir(building)
        for name, data in contents.items():
            _write(building / name, data)
        _swap_in(building, final)
    except OSError as error:
        raise ExportError(
            f"cannot write the daily report in {out}: {error.strerror}.",
            advice="Choose a folder this user may write to (--out), on a disk with room.",
        ) from error
    wards = len(report.wards)
    with store.transaction():
        detail = {"day": report.day.isoformat(), "files": len(contents), "wards": wards}
        store.audit("report", "daily", detail)
    anchor_head(store)
    return WrittenReport(final, tuple(sorted(contents)), wards)


def _contents(report: DailyReport) -> dict[str, bytes]:
    contents = {
        "hospital.pdf": hospital_pdf(report),
        "hospital.csv": summary_csv(report),
        "hospital.json": (json.dumps(summary_json(report), indent=1) + "\n").encode("utf-8"),
    }
    used: set[str] = set()
    for figures in report.wards:
        name = _ward_file(figures.ward, used)
        contents[name] = ward_pdf(report, figures)
    return contents


def summary_json(report: DailyReport) -> dict[str, Any]:
    """The figures as JSON (docs/report.md): counts only, never a patient."""
    return {
        "version": JSON_VERSION,
        "day": report.day.isoformat(),
        "as_of": report.as_of.isoformat(timespec="minutes"),
        "chain_head": report.chain_head,
        "hospital": _figures_json(report.hospital),
        "wards": {w.ward: _figures_json(w) for w in report.wards},
    }


def _figures_json(figures: WardFigures) -> dict[str, Any]:
    data = asdict(figures)
    data.pop("ward")
    data["backlog"] = {g: figures.backlog.get(g, 0) for g in BACKLOG_GROUPS}
    data["backlog_total"] = figures.backlog_total
    return data


def summary_csv(report: DailyReport) -> bytes:
    """One row per ward and one for the hospital; first lines (#) say what it holds."""
    buffer = io.StringIO()
    buffer.write(
        f"# papermode daily report, day {report.day.isoformat()}, figures as of "
        f"{report.as_of:%Y-%m-%d %H:%M}; counts only, no patient\n"
    )
    buffer.write(f"# audit head {report.chain_head}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    backlog = [f"backlog_{g}" for g in BACKLOG_GROUPS]
    writer.writerow(["ward", *_COUNTS, *backlog, "backlog_total"])
    for figures in (*report.wards, report.hospital):
        values = [getattr(figures, name) for name in _COUNTS]
        writer.writerow(
            [
                figures.ward,
                *["" if v is None else v for v in values],
                *[figures.backlog.get(g, 0) for g in BACKLOG_GROUPS],
                figures.backlog_total,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _ward_file(ward: str, used: set[str]) -> str:
    """ "ward-3-north.pdf": a file name from the ward's name, unique in the report."""
    slug = re.sub(r"[^a-z0-9]+", "-", ward.lower()).strip("-") or "ward"
    name, number = f"ward-{slug}.pdf", 2
    while name in used:
        name, number = f"ward-{slug}-{number}.pdf", number + 1
    used.add(name)
    return name


def _write(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _swap_in(building: Path, final: Path) -> None:
    """Rename the finished folder into place; an older report of the day goes after."""
    older = final.with_name(f".{final.name}.{os.getpid()}.old")
    if final.exists():
        os.replace(final, older)
    os.replace(building, final)
    shutil.rmtree(older, ignore_errors=True)
