"""Several laptops: `papermode merge` brings other stations' stores into this one, and
`papermode station` shows (or, before the first photo, sets) this store's station id and
checks every station's audit chain it holds. Options in, one library call, the result out."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from papermode.cli.options import existing_store_option, reports_errors
from papermode.core.errors import AuditChainError
from papermode.ingest.stations import merge_stations
from papermode.store.database import open_existing_store
from papermode.store.stations import name_station, station_id, verify_station_chains


@click.command("merge")
@click.argument("others", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@existing_store_option
@click.option("--json", "as_json", is_flag=True, help="Print what was merged as JSON.")
@reports_errors
def merge_command(others: tuple[Path, ...], store_path: Path, as_json: bool) -> None:
    """Bring other laptops' stores (captures, readings, decisions, evidence) into this store.

    Give each OTHER.db with its OTHER.db.evidence folder beside it. Idempotent, in any
    order; all or nothing. A store from another print run is refused (exit 46).
    """
    with open_existing_store(store_path) as store:
        report = merge_stations(store, others)
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2))
        return
    for merged in report.stores:
        click.echo(
            f"{merged.other} (station {merged.station}): {merged.captures} new captures, "
            f"{merged.captures_replaced} read there first, {merged.decisions} decisions, "
            f"{merged.evidence_files} evidence files, {merged.audit_entries} audit entries"
        )
    click.echo(
        f"station {report.station}: {len(report.pages_rebuilt)} pages rebuilt; "
        "`papermode review --list` shows what now needs a person"
    )


@click.command("station")
@existing_store_option
@click.option(
    "--set",
    "name",
    metavar="NAME",
    help="Name this laptop's store (before its first ingest), e.g. ward-3a-laptop1.",
)
@reports_errors
def station_command(store_path: Path, name: str | None) -> None:
    """Show this store's station id and check every station's audit chain it holds."""
    with open_existing_store(store_path) as store:
        if name is not None:
            with store.transaction() as db:
                name_station(db, name)
        station = station_id(store.db)
        chains = verify_station_chains(store.db)
    click.echo(f"station: {station or 'none yet (made at the first ingest)'}")
    for chain in chains:
        whose = "this store" if chain.own else "merged"
        verdict = "intact" if chain.intact else "; ".join(chain.problems)
        click.echo(f"  {chain.station} ({whose}): {chain.entries} audit entries, {verdict}")
    broken = [chain.station for chain in chains if not chain.intact]
    if broken:
        raise AuditChainError(
            f"the audit chain of station(s) {', '.join(broken)} is not intact.",
            advice="Do not export: keep the store and its backups as they are and call IT.",
        )
