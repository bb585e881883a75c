"""`papermode prepare --check`: print every order as papermode understood it; write nothing.

A click command ready to be registered (for example `main.add_command(prepare_check)`, or
called from `prepare` when `--check` is given). It imports nothing from `cli.main`, so
registering it there makes no import cycle. The library does the work
(`papermode.printing.prepare_check.check_census`); this module parses options and prints.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from papermode.core.errors import PapermodeError
from papermode.printing.prepare_check import check_census, check_lines


def _parse_start(_ctx: click.Context, _param: click.Parameter, value: str | None) -> object:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date and time (like 2026-11-28T14:00)."
        ) from None


@click.command("prepare-check")
@click.argument("census", type=click.Path(path_type=Path))
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
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The hospital's settings TOML.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the check as JSON.")
def prepare_check(
    census: Path, start: datetime | None, hours: int, settings_path: Path | None, as_json: bool
) -> None:  # fmt: skip
    """Show every order of a census as it would be printed, and every order left out."""
    try:
        check = check_census(census, start=start, hours=hours, settings_path=settings_path)
    except PapermodeError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
    if as_json:
        click.echo(json.dumps(check.as_json(), indent=2, ensure_ascii=False))
        return
    for line in check_lines(check):
        click.echo(line)
