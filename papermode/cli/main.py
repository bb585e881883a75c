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
from papermode.core.errors import PapermodeError

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
        except BrokenPipeError:  # `papermode layout | head`: the reader went away
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
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
    scans of the filled pages and `readings` shows what was read and what needs a
    person; `search` finds words in photos of screens and notes.
    """


# Commands are added below, one block each, in the order of the data flow.


# ---------------------------------------------------------------------- capture


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes reading pages (default: every core).",
)
@click.option(
    "--kind",
    type=click.Choice(["auto", "screen", "note"]),
    default="auto",
    show_default=True,
    help="auto: forms are recognised by their markers, anything else is a free photo; "
    "screen / note: photos of a screen or of a paper note, OCRed and searchable.",
)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The hospital's settings file (TOML); its [reading] thresholds decide what "
    "goes to review.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@reports_errors
def ingest(
    paths: tuple[Path, ...],
    store_path: Path,
    workers: int | None,
    kind: str,
    settings_path: Path | None,
    as_json: bool,
) -> None:
    """Read photos and scans of filled pages (files, folders, zip archives).

    JPEG, PNG, TIFF, HEIC and PDF. Each original is kept byte for byte; a file seen
    before is not read twice. Photos that must be retaken are listed at once.
    """
    import json as json_module

    from papermode.ingest.pipeline import PageOutcome, expand_inputs, ingest_paths
    from papermode.core.settings import load_settings
    from papermode.store.database import open_store

    thresholds = dict(load_settings(settings_path).reading)

    def say_at_once(outcome: PageOutcome) -> None:
        if outcome.status in ("retake", "quarantined") and not as_json:
            label = "RETAKE" if outcome.status == "retake" else "QUARANTINED"
            frame = f" (page {outcome.frame + 1})" if outcome.frame else ""
            # On a terminal the progress bar holds the line: start a fresh one.
            fresh = "\n" if sys.stderr.isatty() else ""
            click.echo(f"{fresh}{label}: {outcome.file}{frame}: {outcome.message}")

    with open_store(store_path) as store:
        if as_json or not sys.stderr.isatty():
            summary = ingest_paths(
                list(paths),
                store,
                workers=workers,
                kind=kind,
                thresholds=thresholds,
                on_outcome=say_at_once,
            )
        else:
            total = sum(1 for _ in expand_inputs(paths))
            with click.progressbar(
                length=total, label="Reading files", show_pos=True, file=sys.stderr
            ) as bar:
                summary = ingest_paths(
                    list(paths),
                    store,
                    workers=workers,
                    kind=kind,
                    thresholds=thresholds,
                    on_outcome=say_at_once,
                    progress=lambda _name: bar.update(1),
                )
    if as_json:
        click.echo(json_module.dumps(summary.as_json(), indent=2))
        return
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

    from papermode.core.pageid import normalise
    from papermode.state.readings import readings_report
    from papermode.store.database import open_existing_store

    if page_id:
        page_id = normalise(page_id)
    with open_existing_store(store_path) as store:
        report = readings_report(store, page_id=page_id, mrn=mrn)
    if as_json:
        click.echo(json_module.dumps(report, indent=2, ensure_ascii=False))
        return
    for page in report["pages"]:
        review = sum(1 for f in page["fields"] if f["status"] == "review")
        click.echo(
            f"page {page['page_id']} ({page['template']}, ward {page['ward']}): "
            f"{len(page['fields'])} fields, {review} for review, "
            f"{len(page['captures'])} capture(s)"
        )
        for f in page["fields"]:
            if f["value"] not in (None, "empty") or f["status"] == "review":
                flags = f" [{', '.join(f['flags'])}]" if f["flags"] else ""
                click.echo(
                    f"  {f['field_id']}: {f['value']} ({f['confidence']:.2f}, {f['status']}){flags}"
                )
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

    from papermode.core.doctor import run_checks

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


# ---------------------------------------------------------------------- prepare


def _parse_start(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    from datetime import datetime

    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date and time (like 2026-11-28T14:00)."
        ) from None


def _render_progress(done: int, total: int) -> None:
    """One self-overwriting line on a terminal: the bulk of prepare is drawing pages."""
    click.echo(f"\rDrawing pages: {done}/{total}", nl=False, err=True)


@main.command()
@click.argument("census", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PDFs and manifest.json (replaced as a whole).",
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
    default=24,
    show_default=True,
    help="Length of the printed period in hours.",
)
@click.option("--lang", type=click.Choice(["en", "fr", "nl"]), default="en", show_default=True)
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The hospital's settings TOML (standard times, high-alert words).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@reports_errors
def prepare(
    census: Path,
    out_dir: Path,
    store_path: Path,
    start: Any,
    hours: int,
    lang: str,
    paper: str,
    settings_path: Path | None,
    as_json: bool,
) -> None:
    """Print the downtime forms of every patient in a census export (FHIR Bundle or CSV).

    Writes one PDF per ward (ready to print, blank packs at the end), one PDF per patient
    under patients/, and manifest.json; records every page in the store.
    """
    import json as json_module

    from papermode.printing.prepare import prepare_forms, result_summary

    result = prepare_forms(
        census,
        out_dir,
        store_path,
        start=start,
        hours=hours,
        lang=lang,
        paper=paper,
        settings_path=settings_path,
        progress=_render_progress if sys.stderr.isatty() and not as_json else None,
    )
    if sys.stderr.isatty() and not as_json:
        click.echo(err=True)
    summary = result_summary(result, store_path)
    if as_json:
        click.echo(json_module.dumps(summary, indent=2, ensure_ascii=False))
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


@main.command()
@store_option
@click.option("--page", "page_id", help="Only this page id (as printed under the QR code).")
@click.option("--patient", "mrn", help="Only this patient's pages (MRN).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the pages as manifest entries (a JSON list)."
)
@reports_errors
def layout(store_path: Path, page_id: str | None, mrn: str | None, as_json: bool) -> None:
    """Show printed pages and their fields (boxes in mm) from the store."""
    import json as json_module

    from papermode.printing.manifest import layout_table, stored_page_entries

    entries = stored_page_entries(store_path, page_id=page_id, mrn=mrn)
    if as_json:
        click.echo(json_module.dumps(entries, indent=2, ensure_ascii=False))
        return
    for line in layout_table(entries, with_fields=bool(page_id or mrn)):
        click.echo(line)


# ---------------------------------------------------------------------- search


@main.command("search")
@click.argument("query")
@store_option
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="At most this many hits.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@reports_errors
def search_command(query: str, store_path: Path, limit: int, as_json: bool) -> None:
    """Search the text of screen photos, paper notes and forms (accents ignored).

    Every word must appear; a word also matches longer words starting with it.
    """
    import json as json_module

    from papermode.core.errors import StoreError
    from papermode.free.search import search
    from papermode.store.database import open_store

    if not store_path.exists():
        raise StoreError(
            f"There is no store at {store_path}.",
            advice="Give the right file with --store, or ingest photos first.",
        )
    with open_store(store_path) as store:
        hits = search(store.db, query, limit=limit)
    if as_json:
        rows = [
            {
                **hit.__dict__,
                "captured_at": hit.captured_at.isoformat() if hit.captured_at else None,
            }
            for hit in hits
        ]
        click.echo(json_module.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo("No text matches this search.")
        return
    for hit in hits:
        patient = f"MRN {hit.mrn}" if hit.mrn else ("linked" if hit.patient_id else "unlinked")
        when = hit.captured_at.strftime("%Y-%m-%d %H:%M") if hit.captured_at else "?"
        click.echo(
            f"{when}  {patient}  {hit.file_name} (page {hit.page_index + 1}, "
            f"{hit.kind})  {hit.snippet.replace(chr(10), ' / ')}"
        )


# ---------------------------------------------------------------------- demo and bench


class _EchoReporter:
    """Tells the demo's story on the terminal; a progress bar only on a real terminal."""

    def __init__(self, *, err: bool = False) -> None:
        self._bar: Any = None
        self._err = err  # with --json, stdout carries only the JSON

    def step(self, text: str) -> None:
        click.echo(f"- {text} ...", err=self._err)

    def progress(self, label: str, total: int) -> Callable[[str], None]:
        if not sys.stderr.isatty():
            return lambda _name: None
        self._bar = click.progressbar(length=total, label=label, show_pos=True, file=sys.stderr)
        self._bar.__enter__()
        return lambda _name: self._bar.update(1)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for everything the demo writes (replaced when an earlier demo wrote it).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the photos.")
@click.option(
    "--photos", type=int, default=40, show_default=True, help="How many capture files to make."
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON at the end.")
@reports_errors
def demo(out_dir: Path, seed: int, photos: int, as_json: bool) -> None:
    """The whole story on the sample ward: print forms, photograph them filled, read them back.

    Ends with what was produced (forms, an overlay picture, a one-page PDF summary, the
    store) and how many values were read right, compared with the synthetic truth.
    """
    from papermode.demo.story import figure_lines, figures_json, run_demo

    result = run_demo(out_dir, seed=seed, photos=photos, reporter=_EchoReporter(err=as_json))
    if as_json:
        click.echo(figures_json(result))
        return
    click.echo("")
    for item in result.figures["attention"]:
        click.echo(f"  {item['status'].upper()}: {item['file']}: {item['message']}")
    click.echo("")
    for label, value in figure_lines(result.figures):
        click.echo(f"  {label:<34} {value}")
    click.echo("")
    for line in result.produced():
        click.echo(line)


@main.command()
@click.option(
    "--pages",
    type=click.IntRange(1, 5000),
    default=200,
    show_default=True,
    help="How many capture files (phone photos) to generate and read.",
)
@click.option("--seed", type=int, default=11, show_default=True, help="Seed of the corpus.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench/out"),
    show_default=True,
    help="Folder for bench.json, bench.md and the corpus.",
)
@click.option(
    "--baseline-fields",
    type=click.IntRange(0, 10000),
    default=150,
    show_default=True,
    help="Field crops read by the naive one-Tesseract-call-per-field baseline (0: skip it).",
)
@click.option(
    "--free-photos",
    type=click.IntRange(0, 500),
    default=6,
    show_default=True,
    help="Screen and note photos read by bench/freephoto_bench.py (0: skip them).",
)
@click.option("--json", "as_json", is_flag=True, help="Print bench.json instead of the table.")
@reports_errors
def bench(
    pages: int, seed: int, out_dir: Path, baseline_fields: int, free_photos: int, as_json: bool
) -> None:
    """Measure speed and accuracy on a generated corpus, against the project's goals.

    Writes OUT/bench.json and OUT/bench.md (see bench/README.md for each figure).
    """
    from papermode.demo.bench import markdown_table, run_bench

    results = run_bench(
        out_dir,
        pages=pages,
        seed=seed,
        baseline_fields=baseline_fields,
        free_photos=free_photos,
        progress=(lambda text: click.echo(f"- {text}", err=True)) if not as_json else None,
    )
    if as_json:
        click.echo(_bench_json(results))
        return
    click.echo(markdown_table(results))
    click.echo(f"\nWrote {out_dir / 'bench.json'} and {out_dir / 'bench.md'}.")


def _bench_json(value: Any) -> str:
    """JSON for the terminal (bench)."""
    import json as json_module

    return json_module.dumps(value, indent=2, default=str)
