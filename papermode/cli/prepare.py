"""Before the outage: `prepare` prints the forms, `layout` shows what was printed."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from papermode.cli.options import existing_store_option, store_option
from papermode.core.errors import UsageError
from papermode.core.settings import load_settings
from papermode.printing.manifest import layout_table, stored_page_entries
from papermode.printing.prepare import prepare_forms, printed_period, result_summary
from papermode.printing.prepare_check import check_census, check_lines
from papermode.review.from_photos import prepare_from_photos


def _parse_start(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date and time (like 2026-11-28T14:00)."
        ) from None


def _print_check(
    census: Path,
    start: datetime | None,
    hours: int | None,
    days: int | None,
    settings_path: Path | None,
    as_json: bool,
) -> None:
    period, _ = printed_period(datetime.now(), start, hours, days, load_settings(settings_path))
    length = int((period[1] - period[0]).total_seconds() // 3600)
    check = check_census(census, start=period[0], hours=length, settings_path=settings_path)
    if as_json:
        click.echo(json.dumps(check.as_json(), indent=2, ensure_ascii=False))
        return
    for line in check_lines(check):
        click.echo(line)


def _render_progress(done: int, total: int) -> None:
    """One self-overwriting line on a terminal: the bulk of prepare is drawing pages."""
    click.echo(f"\rDrawing pages: {done}/{total}", nl=False, err=True)


@click.command()
@click.argument("census", type=click.Path(path_type=Path), required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PDFs and manifest.json (replaced as a whole). Needed unless --check.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: show every order as it would be printed, and every order left out.",
)
@store_option
@click.option(
    "--start",
    callback=_parse_start,
    metavar="ISO",
    help="First hour of the printed period (default: the next full hour).",
)
@click.option(
    "--hours",
    type=int,
    help="Length of the printed period in hours (default 24; the per-day MAR).",
)
@click.option(
    "--days",
    type=int,
    help="Print the multi-day MAR (days across, times down the side) over this many days "
    "(1-7) from --start (default: midnight today), instead of --hours.",
)
@click.option("--lang", type=click.Choice(["en", "fr", "nl"]), default="en", show_default=True)
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The hospital's settings TOML (standard times, high-alert words).",
)
@click.option(
    "--from-photos",
    is_flag=True,
    help="No census export: print the orders two reviewers confirmed on photos of screens "
    "(docs/screen-photos.md).",
)
@click.option(
    "--ward",
    default="",
    help="With --from-photos: the ward printed on the forms (the photos do not say).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def prepare(
    census: Path,
    out_dir: Path | None,
    check: bool,
    store_path: Path,
    start: datetime | None,
    hours: int | None,
    days: int | None,
    lang: str,
    paper: str,
    settings_path: Path | None,
    from_photos: bool,
    ward: str,
    as_json: bool,
) -> None:
    """Print the downtime forms of every patient in a census export (FHIR Bundle or CSV).

    Writes one PDF per ward (ready to print, blank packs at the end), one PDF per patient
    under patients/, and manifest.json; records every page in the store. With --check it
    writes nothing and shows, per patient, every order as papermode understood it (times in
    the period, dose, route, instructions) and every order left out with why.

    With --from-photos (no CENSUS) it prints the patients and orders two reviewers confirmed
    on photos of screens, every page saying so; what is not confirmed is listed, not printed.
    """
    if hours is not None and days is not None:
        raise UsageError("give --hours or --days, not both.", advice="For two days: --days 2.")
    if from_photos:
        if days is not None:
            raise UsageError("--from-photos prints the per-day MAR; --days is not available.")
        _prepare_from_photos(
            census, out_dir, store_path, check=check, ward=ward, start=start,
            hours=24 if hours is None else hours,
            lang=lang, paper=paper, settings_path=settings_path, as_json=as_json,
        )  # fmt: skip
        return
    if census is None:
        raise UsageError(
            "prepare needs the CENSUS export (a FHIR Bundle or CSV).",
            advice="Without an export, print from confirmed photos of screens: "
            "papermode prepare --from-photos --out FOLDER.",
        )
    if check:
        _print_check(census, start, hours, days, settings_path, as_json)
        return
    if out_dir is None:
        raise UsageError("prepare needs --out FOLDER for the PDFs (or --check to print nothing).")
    result = prepare_forms(
        census,
        out_dir,
        store_path,
        start=start,
        hours=hours,
        days=days,
        lang=lang,
        paper=paper,
        settings_path=settings_path,
        progress=_render_progress if sys.stderr.isatty() and not as_json else None,
    )
    if sys.stderr.isatty() and not as_json:
        click.echo(err=True)
    _print_summary(result_summary(result, store_path), store_path, as_json)


def _print_summary(summary: dict[str, Any], store_path: Path, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"Wrote {summary['pages']} page(s) for {summary['patients']} patient(s) "
        f"into {summary['out_dir']}:"
    )
    for ward_pdf in summary["ward_pdfs"]:
        click.echo(f"  {ward_pdf['pdf']}: {ward_pdf['pages']} page(s)")
    click.echo(f"  patients/: {len(summary['patient_pdfs'])} patient PDF(s)")
    click.echo(f"  {summary['manifest']}")
    click.echo(
        f"Period {summary['period_start']} to {summary['period_end']}; "
        f"{summary['blank_pages']} blank-pack page(s); store {store_path}."
    )
    for warning in summary["warnings"]:
        click.echo(f"Warning: {warning}")
    for line in summary.get("not_printed", []):
        click.echo(f"Not printed: {line}")


def _prepare_from_photos(
    census: Path | None,
    out_dir: Path | None,
    store_path: Path,
    *,
    check: bool,
    ward: str,
    start: datetime | None,
    hours: int,
    lang: str,
    paper: str,
    settings_path: Path | None,
    as_json: bool,
) -> None:
    if census is not None or check:
        raise UsageError(
            "--from-photos reads the store, not a CENSUS export, and has no --check.",
            advice="Run papermode prepare --from-photos --out FOLDER (and --store S).",
        )
    if out_dir is None:
        raise UsageError("prepare --from-photos needs --out FOLDER for the PDFs.")
    result, photos = prepare_from_photos(
        store_path, out_dir, ward=ward, start=start, hours=hours, lang=lang, paper=paper,
        settings_path=settings_path,
    )  # fmt: skip
    summary = result_summary(result, store_path)
    summary["source"] = photos.snapshot.source
    summary["reviewers"] = list(photos.reviewers)
    summary["not_printed"] = [item.line for item in photos.left_off]
    _print_summary(summary, store_path, as_json)


@click.command()
@existing_store_option
@click.option("--page", "page_id", help="Only this page id (as printed under the QR code).")
@click.option("--patient", "mrn", help="Only this patient's pages (MRN).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the pages as manifest entries (a JSON list)."
)
def layout(store_path: Path, page_id: str | None, mrn: str | None, as_json: bool) -> None:
    """Show printed pages and their fields (boxes in mm) from the store."""
    entries = stored_page_entries(store_path, page_id=page_id, mrn=mrn)
    if as_json:
        click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
        return
    for line in layout_table(entries, with_fields=bool(page_id or mrn)):
        click.echo(line)
