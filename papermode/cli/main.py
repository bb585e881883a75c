"""Command-line interface: the `papermode` group, its logging options, and the one place that
turns errors into messages and exit codes.

Each command lives in the module of its moment (prepare, capture, system, demo) and is
imported only when it runs, so `papermode --help` starts without OpenCV and `papermode
ingest` without reportlab. Every `PapermodeError` becomes its message on standard error and
its `ExitCode`; anything else is a bug and says so, without a traceback (set
PAPERMODE_DEBUG=1 to see it).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from papermode import __version__
from papermode.core.errors import ExitCode, PapermodeError
from papermode.core.logs import start_logging, stop_logging

logger = logging.getLogger(__name__)


class Command:
    """Where a command lives, and its one-line summary for `papermode --help`.

    The summary is the first paragraph of the command's docstring; tests/test_cli.py keeps
    the two equal, so the group's help can be shown without importing every module.
    """

    def __init__(self, module: str, attribute: str, summary: str) -> None:
        self.module = module
        self.attribute = attribute
        self.summary = summary


COMMANDS: dict[str, Command] = {
    "audit": Command(
        "papermode.cli.reconcile",
        "audit_group",
        "The audit chain of the store.",
    ),
    "backup": Command(
        "papermode.cli.backup",
        "backup_command",
        "Copy the store, its evidence and its audit head into a new folder, while in use.",
    ),
    "bench": Command(
        "papermode.cli.demo",
        "bench",
        "Measure speed and accuracy on a generated corpus, against the project's goals.",
    ),
    "demo": Command(
        "papermode.cli.demo",
        "demo",
        "The whole story on the sample ward: print forms, photograph them filled, read them back.",
    ),
    "doctor": Command(
        "papermode.cli.system",
        "doctor",
        "Check the installation (Tesseract and its languages, OpenCV, fonts, store).",
    ),
    "export": Command(
        "papermode.cli.reconcile",
        "export_command",
        "Write the FHIR R4 transaction Bundle, the back-entry CSV or the PDF report.",
    ),
    "ingest": Command(
        "papermode.cli.capture",
        "ingest",
        "Read photos and scans of filled pages (files, folders, zip archives).",
    ),
    "layout": Command(
        "papermode.cli.prepare",
        "layout",
        "Show printed pages and their fields (boxes in mm) from the store.",
    ),
    "merge": Command(
        "papermode.cli.merge",
        "merge_command",
        "Bring other laptops' stores (captures, readings, decisions, evidence) into this store.",
    ),
    "prepare": Command(
        "papermode.cli.prepare",
        "prepare",
        "Print the downtime forms of every patient in a census export (FHIR Bundle or CSV).",
    ),
    "readings": Command(
        "papermode.cli.capture",
        "readings",
        "Show the current state of each read page and what became of every file.",
    ),
    "reconcile": Command(
        "papermode.cli.reconcile",
        "reconcile_command",
        "The paper record against the orders (and the restored record): per category.",
    ),
    "report": Command(
        "papermode.cli.report",
        "report_command",
        "The crisis cell's daily report: hospital summary and per-ward pages (PDF, CSV, JSON).",
    ),
    "reprint": Command(
        "papermode.cli.reprint",
        "reprint_command",
        "Print the next period's forms offline: last snapshot + paper confirmed in review.",
    ),
    "review": Command(
        "papermode.cli.review",
        "review",
        "List what a person must decide, or record one decision.",
    ),
    "search": Command(
        "papermode.cli.capture",
        "search_command",
        "Search the text of screen photos, paper notes and forms (accents ignored).",
    ),
    "station": Command(
        "papermode.cli.merge",
        "station_command",
        "Show this store's station id and check every station's audit chain it holds.",
    ),
    "serve": Command(
        "papermode.cli.review",
        "serve",
        "The local review web app: one item at a time, beside its image, by keyboard.",
    ),
    "verify": Command(
        "papermode.cli.backup",
        "verify_command",
        "Check the store: SQLite integrity, every evidence file, the audit chain.",
    ),
}


class LazyGroup(click.Group):
    """click's lazy-loading group: a command's module is imported when the command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command = getattr(importlib.import_module(entry.module), entry.attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries, as click would print it, importing nothing."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        # A bare Command with the same help text shortens it exactly as the real one would.
        rows = [
            (name, click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; the one place where errors and outcomes become exit codes.

        A command returns an `ExitCode` when its outcome is not plain success (files to
        retake, a failed check); a `PapermodeError` becomes its message and its code.
        """
        try:
            outcome = super().invoke(ctx)
            if isinstance(outcome, ExitCode) and outcome != ExitCode.OK:
                raise click.exceptions.Exit(outcome)
            return outcome
        except PapermodeError as error:
            logger.info(
                "%s stopped: %s, exit code %d",
                ctx.invoked_subcommand,
                type(error).__name__,
                error.exit_code,
            )
            click.echo(f"Error: {error}", err=True)
            raise click.exceptions.Exit(error.exit_code) from None
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo(
                "\nInterrupted. Files already stored are kept; run the same command again "
                "to finish the rest.",
                err=True,
            )
            raise click.exceptions.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:  # `papermode layout | head`: the reader went away
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(ExitCode.OK) from None
        except Exception as error:  # a bug: say so plainly; PAPERMODE_DEBUG=1 shows the traceback
            if os.environ.get("PAPERMODE_DEBUG"):
                raise
            # Where, not what: a bug's message may hold any value, patient data included.
            where = traceback.extract_tb(error.__traceback__)[-1]
            logger.info(
                "internal error in %s: %s at %s:%s",
                ctx.invoked_subcommand,
                type(error).__name__,
                Path(where.filename).name,
                where.lineno,
            )
            click.echo(
                f"Internal error ({type(error).__name__}): papermode hit a bug. "
                "Your files are unchanged. Run again with PAPERMODE_DEBUG=1 and report "
                "the output to IT.",
                err=True,
            )
            raise click.exceptions.Exit(ExitCode.INTERNAL) from None
        finally:
            stop_logging()


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="papermode")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Log every decision (retakes, review, thresholds) to standard error (DEBUG).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the log to this file (INFO and up; DEBUG with --verbose), created 0600. "
    "It names pages, fields and files, never a patient.",
)
def main(verbose: bool, log_file: Path | None) -> None:
    """papermode: downtime forms that turn back into data.

    Before an outage, `prepare` prints forms; during it, `ingest` reads photos and
    scans of the filled pages and `readings` shows what was read and what needs a
    person; `search` finds words in photos of screens and notes.
    """
    start_logging(verbose=verbose, log_file=log_file)
    logger.debug("papermode %s: %s", __version__, click.get_current_context().invoked_subcommand)
