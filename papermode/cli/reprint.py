"""`papermode reprint`: the next period's forms from the store alone (click command,
registered on the main group by `papermode.cli.main`). Options in, one library call, the
result out."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from papermode.cli.options import existing_store_option, reports_errors
from papermode.core.errors import UsageError
from papermode.printing.reprint_run import COVER_PDF, ReprintResult
from papermode.reconcile.paper_changes import reprint_forms


@click.command("reprint")
@existing_store_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder for the new forms (replaced as a whole; keep the store outside it).",
)
@click.option("--ward", metavar="W", help="Only this ward (as printed on the census sheet).")
@click.option("--patient", "mrn", metavar="MRN", help="Only this patient (MRN or temporary no.).")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Start of the new period (default: the end of the last forms printed).",
)
@click.option("--hours", type=int, help="Length of the period in hours (default 24).")
@click.option(
    "--days",
    type=int,
    help="Print the multi-day MAR over this many days (1-7), its dates continuing from "
    "--start (instead of --hours).",
)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The hospital's settings TOML (dose times, timing windows).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@reports_errors
def reprint_command(
    store_path: Path,
    out: Path,
    ward: str | None,
    mrn: str | None,
    start: datetime | None,
    hours: int | None,
    days: int | None,
    settings_path: Path | None,
    as_json: bool,
) -> None:
    """Print the next period's forms offline: last snapshot + paper confirmed in review."""
    if hours is not None and days is not None:
        raise UsageError("give --hours or --days, not both.", advice="For two days: --days 2.")
    result = reprint_forms(store_path, out, start=start, hours=hours, days=days, ward=ward,
                           mrn=mrn, settings_path=settings_path)  # fmt: skip
    if as_json:
        click.echo(json.dumps(summary(result), indent=2))
        return
    click.echo(
        f"Wrote {result.pages} page(s) for {result.patients} patient(s) into {result.out_dir}, "
        f"{result.period_start:%Y-%m-%d %H:%M} to {result.period_end:%Y-%m-%d %H:%M}."
    )
    click.echo(
        f"From the paper, confirmed in review: {len(result.added)} new order(s), "
        f"{len(result.stopped)} stopped, {len(result.left)} patient(s) discharged or "
        f"transferred, {len(result.admitted)} blank-pack admission(s); "
        f"{len(result.ended)} order(s) reached their end."
    )
    click.echo(f"Print {COVER_PDF} first: it lists what awaits confirmation.")
    for warning in result.warnings:
        click.echo(f"Note: {warning}.", err=True)


def summary(result: ReprintResult) -> dict[str, object]:
    """The `--json` summary: ids and counts, never a patient's name."""
    return {
        "out_dir": str(result.out_dir),
        "snapshot_id": result.snapshot_id,
        "base_snapshot_id": result.base_snapshot_id,
        "period_start": result.period_start.isoformat(timespec="minutes"),
        "period_end": result.period_end.isoformat(timespec="minutes"),
        "pages": result.pages,
        "patients": result.patients,
        "confirmed": result.confirmed,
        "awaiting": result.awaiting,
        "added_orders": list(result.added),
        "stopped_orders": list(result.stopped),
        "ended_orders": list(result.ended),
        "left_patients": list(result.left),
        "admitted_patients": list(result.admitted),
        "paper_confirmed_up_to": (
            result.confirmed_up_to.isoformat(timespec="minutes") if result.confirmed_up_to else None
        ),
        "warnings": list(result.warnings),
    }
