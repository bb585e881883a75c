"""`papermode reconcile`, `papermode export` and `papermode audit verify` (click commands,
registered on the main group by `papermode.cli.main`). Options in, one library call, the
result out; errors become their message and exit code."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from papermode.cli.options import reports_errors
from papermode.core.errors import AuditChainError
from papermode.core.settings import load_settings
from papermode.export.run import FORMATS, export_store
from papermode.reconcile.service import (
    reconcile_store,
    reconciliation_json,
    record_reconciliation,
)
from papermode.store.audit import (
    head_path,
    parse_head,
    read_head,
    verify_chain,
)
from papermode.store.database import Store, open_existing_store

F = TypeVar("F", bound=Callable[..., Any])


def _store_option(command: F) -> F:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("PAPERMODE_STORE", "papermode.db"),
        show_default="./papermode.db or $PAPERMODE_STORE",
        help="The papermode store (one SQLite file; evidence files beside it).",
    )(command)


def _filters(command: F) -> F:
    command = click.option("--patient", "mrn", metavar="MRN", help="Only this patient.")(command)
    command = click.option("--ward", metavar="W", help="Only this ward.")(command)
    return click.option(
        "--settings",
        "settings_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The hospital's settings TOML (timing windows, back-entry priority).",
    )(command)


_RESTORED = click.option(
    "--restored",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The restored system's FHIR R4 Bundle for the outage window.",
)


@click.command("reconcile")
@_store_option
@_filters
@_RESTORED
@click.option("--json", "as_json", is_flag=True, help="Every item, as JSON (docs/reconcile.md).")
@reports_errors
def reconcile_command(
    store_path: Path,
    settings_path: Path | None,
    ward: str | None,
    mrn: str | None,
    restored: Path | None,
    as_json: bool,
) -> None:
    """The paper record against the orders (and the restored record): per category."""
    settings = load_settings(settings_path)
    with open_existing_store(store_path) as store:
        result, source = reconcile_store(store, settings, ward=ward, mrn=mrn, restored=restored)
        record_reconciliation(store, result)
    if as_json:
        click.echo(json.dumps(reconciliation_json(result, source), indent=1, ensure_ascii=False))
        return
    click.echo(
        f"{len(result.items)} items ({len(result.exportable())} to export, "
        f"{len(result.pending())} still in review)"
    )
    for name, count in result.counts().items():
        if count:
            click.echo(f"  {name.replace('_', ' ')}: {count}")
    if result.restored:
        for name, count in result.record_counts().items():
            click.echo(f"  {name.replace('_', ' ')}: {count}")


@click.command("export")
@_store_option
@_filters
@_RESTORED
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--with-images", is_flag=True, help="FHIR: embed the evidence images' bytes.")
@reports_errors
def export_command(
    store_path: Path,
    settings_path: Path | None,
    ward: str | None,
    mrn: str | None,
    restored: Path | None,
    fmt: str,
    out: Path,
    with_images: bool,
) -> None:
    """Write the FHIR R4 transaction Bundle, the back-entry CSV or the PDF report."""
    settings = load_settings(settings_path)
    with open_existing_store(store_path) as store:
        written = export_store(
            store,
            settings,
            fmt=fmt,  # type: ignore[arg-type]
            out=out,
            ward=ward,
            mrn=mrn,
            restored=restored,
            with_images=with_images,
        )
    click.echo(
        f"{written.path}: {written.items} items ({written.pending} still in review, "
        f"not exported); audit head {written.chain_head}"
    )


@click.group("audit")
def audit_group() -> None:
    """The audit chain of the store."""


@audit_group.command("verify")
@_store_option
@click.option(
    "--head",
    "head_text",
    metavar="SEQ:HASH",
    help="The head printed in an export or report (default: the head file next to the store).",
)
@click.option(
    "--head-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A head file kept with the backups.",
)
@reports_errors
def audit_verify_command(store_path: Path, head_text: str | None, head_file: Path | None) -> None:
    """Detect an edited, deleted, reordered or truncated audit chain."""
    with open_existing_store(store_path) as store:
        anchored = _anchored(store, head_text, head_file)
        report = verify_chain(store, anchored)
    if not report.intact:
        raise AuditChainError(
            "the audit chain is not intact:\n" + "\n".join(f"  - {p}" for p in report.problems),
            advice="Keep this store aside as evidence; restore the last backup and tell IT.",
        )
    against = (
        f", anchored head {report.anchored.text} found"
        if report.anchored
        else ("; no anchored head to check against (deletions at the end cannot be seen)")
    )
    click.echo(f"audit chain intact: {report.entries} entries{against}")


def _anchored(store: Store, head_text: str | None, head_file: Path | None) -> Any:
    if head_text:
        return parse_head(head_text)
    path = head_file or head_path(store)
    return read_head(path) if path.exists() else None


COMMANDS = (reconcile_command, export_command, audit_group)
