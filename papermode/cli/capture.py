"""During the outage: `ingest` reads photos and scans, `readings` shows what was read,
`search` finds words in photos of screens and notes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from papermode.cli.options import existing_store_option, no_store_message, store_option
from papermode.core.errors import ExitCode, StoreError
from papermode.core.flags import FileStatus
from papermode.core.pageid import normalise
from papermode.core.settings import Settings, load_settings
from papermode.free.search import search
from papermode.ingest.inputs import expand_inputs
from papermode.ingest.pipeline import RESTORED, IngestSummary, PageOutcome, ingest_paths
from papermode.state.readings import readings_report
from papermode.store.database import Store, open_existing_store, open_store


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option(
    "--new-store",
    is_flag=True,
    help="Create the store if there is none: only when no census export exists and the "
    "photos of screens are all there is (docs/screen-photos.md). Without it the store must "
    "exist: `prepare` creates it.",
)
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
def ingest(
    paths: tuple[Path, ...],
    store_path: Path,
    new_store: bool,
    workers: int | None,
    kind: str,
    settings_path: Path | None,
    as_json: bool,
) -> ExitCode:
    """Read photos and scans of filled pages (files, folders, zip archives).

    JPEG, PNG, TIFF, HEIC and PDF. Each original is kept byte for byte; a file seen
    before is not read twice. Photos that must be retaken are listed at once. Exit code 7
    when a file must be retaken, was quarantined or was skipped (after reading the others).
    """
    if not new_store and not Path(store_path).exists():
        # A mistyped path must not become a new, empty store that quarantines every photo.
        raise StoreError(no_store_message(store_path))
    settings = load_settings(settings_path)

    def say_at_once(outcome: PageOutcome) -> None:
        restored = (outcome.message or "").startswith(RESTORED)
        if (outcome.status in _SAID_AT_ONCE or restored) and not as_json:
            label = "RESTORED" if restored else _SAID_AT_ONCE[outcome.status]
            frame = f" (page {outcome.frame + 1})" if outcome.frame else ""
            # On a terminal the progress bar holds the line: start a fresh one.
            fresh = "\n" if sys.stderr.isatty() else ""
            click.echo(f"{fresh}{label}: {outcome.file}{frame}: {outcome.message}")

    with open_store(store_path) as store:
        summary = _ingest(store, paths, workers, kind, settings, say_at_once, as_json)
    counts = summary.as_json()["counts"]
    assert isinstance(counts, dict)
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        fields = summary.as_json()["fields"]
        assert isinstance(fields, dict)
        click.echo(
            f"{counts['read']} page(s) read, {counts['retake']} to retake, "
            f"{counts['free']} free photo(s), {counts['duplicate']} duplicate(s), "
            f"{counts['quarantined']} quarantined, {counts['skipped']} skipped; "
            f"fields: {fields['auto']} accepted, "
            f"{fields['review']} for review."
        )
    return summary.exit_code


_SAID_AT_ONCE = {
    FileStatus.RETAKE: "RETAKE",
    FileStatus.QUARANTINED: "QUARANTINED",
    FileStatus.SKIPPED: "SKIPPED",
}


def _ingest(
    store: Store,
    paths: tuple[Path, ...],
    workers: int | None,
    kind: str,
    settings: Settings,
    say_at_once: Callable[[PageOutcome], None],
    as_json: bool,
) -> IngestSummary:
    """Ingest, with a progress bar when a person watches a terminal."""
    if as_json or not sys.stderr.isatty():
        return ingest_paths(
            list(paths),
            store,
            workers=workers,
            kind=kind,
            thresholds=dict(settings.reading),
            plausibility_limits=settings.plausibility,
            ocr_seconds=settings.ocr_free_photo_seconds,
            on_outcome=say_at_once,
        )
    total = sum(1 for _ in expand_inputs(paths))
    with click.progressbar(
        length=total, label="Reading files", show_pos=True, file=sys.stderr
    ) as bar:
        return ingest_paths(
            list(paths),
            store,
            workers=workers,
            kind=kind,
            thresholds=dict(settings.reading),
            plausibility_limits=settings.plausibility,
            ocr_seconds=settings.ocr_free_photo_seconds,
            on_outcome=say_at_once,
            progress=lambda _name: bar.update(1),
        )


@click.command()
@existing_store_option
@click.option("--page", "page_id", help="Only this page id.")
@click.option("--patient", "mrn", help="Only this patient's pages (MRN).")
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
def readings(store_path: Path, page_id: str | None, mrn: str | None, as_json: bool) -> None:
    """Show the current state of each read page and what became of every file."""
    if page_id:
        page_id = normalise(page_id)
    with open_existing_store(store_path) as store:
        report = readings_report(store, page_id=page_id, mrn=mrn)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
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


@click.command("search")
@click.argument("query")
@existing_store_option
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="At most this many hits.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
def search_command(query: str, store_path: Path, limit: int, as_json: bool) -> None:
    """Search the text of screen photos, paper notes and forms (accents ignored).

    Every word must appear; a word also matches longer words starting with it.
    """
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
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
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
