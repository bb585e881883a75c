"""`papermode report`: the crisis cell's daily report (click command, registered on the main
group by `papermode.cli.main`). Options in, one library call, the result out."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from papermode.cli.options import existing_store_option, reports_errors
from papermode.core.settings import load_settings
from papermode.export.daily.figures import daily_report
from papermode.export.daily.files import write_daily_report
from papermode.store.database import open_existing_store


@click.command("report")
@existing_store_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder to write report-<day>/ in (hospital summary and one PDF per ward).",
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the dose figures cover (default: today).",
)
@click.option("--ward", metavar="W", help="Only this ward.")
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The hospital's settings TOML (timing windows).",
)
@reports_errors
def report_command(
    store_path: Path,
    out: Path,
    day: datetime | None,
    ward: str | None,
    settings_path: Path | None,
) -> None:
    """The crisis cell's daily report: hospital summary and per-ward pages (PDF, CSV, JSON)."""
    settings = load_settings(settings_path)
    now = datetime.now()
    chosen: date = day.date() if day else now.date()
    with open_existing_store(store_path) as store:
        report = daily_report(store, settings, day=chosen, now=now, ward=ward)
        written = write_daily_report(store, report, out)
    total = report.hospital
    click.echo(f"Wrote {written.folder}: {', '.join(written.files)}")
    click.echo(
        f"{total.patients_on_paper} patients on paper; {total.pages_never_photographed} pages "
        f"never photographed; {total.retakes_waiting} photos to retake; review backlog "
        f"{total.backlog_total}; {total.doses_not_documented} doses not documented; "
        f"{total.high_alert_without_second_check} high-alert doses without a second check"
    )
