"""Command-line interface: parses options, calls one library function, prints the result.

This is the one place that knows exit codes and prints. Every `PapermodeError` becomes its
message on standard error and its exit code; anything else is a bug and says so, without a
traceback (set PAPERMODE_DEBUG=1 to see it).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from papermode import __version__
from papermode.errors import PapermodeError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_STORE = "papermode.db"


def store_option(command: F) -> F:
    """`--store PATH`, default ./papermode.db or $PAPERMODE_STORE."""
    return click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("PAPERMODE_STORE", DEFAULT_STORE),
        show_default="./papermode.db or $PAPERMODE_STORE",
        help="The papermode store (one SQLite file; evidence files beside it).",
    )(command)


def reports_errors(command: F) -> F:
    """Turn library errors into a message and an exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PapermodeError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as error:  # a bug: say so plainly, keep the traceback for IT
            if os.environ.get("PAPERMODE_DEBUG"):
                raise
            click.echo(
                f"Internal error ({type(error).__name__}): papermode hit a bug. "
                "Your files are unchanged. Run again with PAPERMODE_DEBUG=1 and report "
                "the output to IT.",
                err=True,
            )
            sys.exit(70)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(__version__, prog_name="papermode")
def main() -> None:
    """papermode: downtime forms that turn back into data.

    Before an outage, `prepare` prints forms; during it, `ingest` reads photos and
    scans of the filled pages; after it, `review`, `reconcile` and `export`.
    """


# Commands are added below, one block each, in the order of the data flow.


# ---------------------------------------------------------------------- capture


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option("--workers", type=int, default=None,
              help="Worker processes reading pages (default: all cores, at most 2).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@reports_errors
def ingest(paths: tuple[Path, ...], store_path: Path, workers: int | None,
           as_json: bool) -> None:
    """Read photos and scans of filled pages (files, folders, zip archives).

    JPEG, PNG, TIFF, HEIC and PDF. Each original is kept byte for byte; a file seen
    before is not read twice. Photos that must be retaken are listed at once.
    """
    import json as json_module

    from papermode.ingest import expand_inputs, ingest_paths
    from papermode.store import open_store

    with open_store(store_path) as store:
        if as_json or not sys.stderr.isatty():
            summary = ingest_paths(list(paths), store, workers=workers)
        else:
            total = sum(1 for _ in expand_inputs(paths))
            with click.progressbar(length=total, label="Reading files", show_pos=True,
                                   file=sys.stderr) as bar:
                summary = ingest_paths(list(paths), store, workers=workers,
                                       progress=lambda _name: bar.update(1))
    if as_json:
        click.echo(json_module.dumps(summary.as_json(), indent=2))
        return
    for outcome in summary.outcomes:
        if outcome.status in ("retake", "quarantined"):
            label = "RETAKE" if outcome.status == "retake" else "QUARANTINED"
            frame = f" (page {outcome.frame + 1})" if outcome.frame else ""
            click.echo(f"{label}: {outcome.file}{frame}: {outcome.message}")
    counts = summary.as_json()["counts"]
    fields = summary.as_json()["fields"]
    assert isinstance(counts, dict) and isinstance(fields, dict)
    click.echo(
        f"{counts['read']} page(s) read, {counts['retake']} to retake, "
        f"{counts['free']} free photo(s), {counts['duplicate']} duplicate(s), "
        f"{counts['quarantined']} quarantined; fields: {fields['auto']} accepted, "
        f"{fields['review']} for review."
    )


@main.command()
@store_option
@click.option("--page", "page_id", help="Only this page id.")
@click.option("--patient", "mrn", help="Only this patient's pages (MRN).")
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
@reports_errors
def readings(store_path: Path, page_id: str | None, mrn: str | None, as_json: bool) -> None:
    """Show the current state of each read page and what became of every file."""
    import json as json_module

    from papermode.pageid import normalise
    from papermode.readings import readings_report
    from papermode.store import open_store

    if page_id:
        page_id = normalise(page_id)
    with open_store(store_path) as store:
        report = readings_report(store, page_id=page_id, mrn=mrn)
    if as_json:
        click.echo(json_module.dumps(report, indent=2, ensure_ascii=False))
        return
    for page in report["pages"]:
        review = sum(1 for f in page["fields"] if f["status"] == "review")
        click.echo(f"page {page['page_id']} ({page['template']}, ward {page['ward']}): "
                   f"{len(page['fields'])} fields, {review} for review, "
                   f"{len(page['captures'])} capture(s)")
        for f in page["fields"]:
            if f["value"] not in (None, "empty") or f["status"] == "review":
                flags = f" [{', '.join(f['flags'])}]" if f["flags"] else ""
                click.echo(f"  {f['field_id']}: {f['value']} ({f['confidence']:.2f}, "
                           f"{f['status']}){flags}")
    for entry in report["files"]:
        message = f": {entry['message']}" if entry["message"] else ""
        page = f" -> {entry['page_id']}" if entry["page_id"] else ""
        click.echo(f"{entry['file']}{page} [{entry['status']}]{message}")


# ---------------------------------------------------------------------- set-up


@main.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@reports_errors
def doctor(store_path: Path, as_json: bool) -> None:
    """Check the installation (Tesseract and its languages, OpenCV, fonts, store)."""
    import json as json_module

    from papermode.doctor import run_checks

    checks = run_checks(store_path)
    if as_json:
        click.echo(json_module.dumps([check.__dict__ for check in checks], indent=2))
    else:
        for check in checks:
            mark = "ok  " if check.ok else "FAIL"
            click.echo(f"[{mark}] {check.name}: {check.detail}")
            if check.fix:
                click.echo(f"       fix: {check.fix}")
    if not all(check.ok for check in checks):
        sys.exit(1)
