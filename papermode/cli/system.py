"""Setting up the laptop: `doctor` checks the installation."""

from __future__ import annotations

import json
from pathlib import Path

import click

from papermode.cli.options import store_option
from papermode.core.doctor import run_checks
from papermode.core.errors import ExitCode


@click.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(store_path: Path, as_json: bool) -> ExitCode:
    """Check the installation (Tesseract and its languages, OpenCV, fonts, store)."""
    checks = run_checks(store_path)
    if as_json:
        click.echo(json.dumps([check.__dict__ for check in checks], indent=2))
    else:
        for check in checks:
            mark = "ok  " if check.ok else "FAIL"
            click.echo(f"[{mark}] {check.name}: {check.detail}")
            if check.fix:
                click.echo(f"       fix: {check.fix}")
    return ExitCode.OK if all(check.ok for check in checks) else ExitCode.FAILED
