"""Command-line interface: parses options, calls one library function, prints the result."""

from __future__ import annotations

import click

from papermode import __version__


@click.group()
@click.version_option(__version__, prog_name="papermode")
def main() -> None:
    """papermode: downtime forms that turn back into data."""
