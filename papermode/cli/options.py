"""Options shared by several commands: the store, given with `--store` or `$PAPERMODE_STORE`."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from papermode.core.errors import ExitCode, PapermodeError, StoreError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_STORE = "papermode.db"


def no_store_message(path: Path) -> str:
    """What a command that reads a store says when there is none at `path`."""
    return (
        f"there is no store at {path}: give the store `prepare` wrote with --store, "
        "or set $PAPERMODE_STORE."
    )


def _refuse_missing_store(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    # A mistyped path must not become a new, empty store that quarantines every photo.
    if not value.exists():
        raise StoreError(no_store_message(value))
    return value


def _store_option(command: F, *, must_exist: bool) -> F:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("PAPERMODE_STORE", DEFAULT_STORE),
        show_default="./papermode.db or $PAPERMODE_STORE",
        callback=_refuse_missing_store if must_exist else None,
        help="The papermode store (one SQLite file; evidence files beside it)."
        + (" It must exist: `prepare` creates it." if must_exist else ""),
    )(command)


def store_option(command: F) -> F:
    """`--store PATH` where the store need not exist yet (`prepare` creates it; `doctor` checks)."""
    return _store_option(command, must_exist=False)


def existing_store_option(command: F) -> F:
    """`--store PATH` for commands that read a store: a path with no store is refused."""
    return _store_option(command, must_exist=True)


def reports_errors(command: F) -> F:
    """Errors as `papermode` reports them, for a command invoked on its own (integrations and
    tests call the command objects directly): a library error becomes `Error: ...` on
    standard error and its exit code; a bug, "Internal error" and 70, with no traceback
    unless PAPERMODE_DEBUG is set. Through `papermode` the group does the same first."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PapermodeError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            raise
        except Exception as error:
            if os.environ.get("PAPERMODE_DEBUG"):
                raise
            click.echo(
                f"Internal error ({type(error).__name__}): papermode hit a bug. Your files "
                "are unchanged. Run again with PAPERMODE_DEBUG=1 and report the output to IT.",
                err=True,
            )
            sys.exit(ExitCode.INTERNAL)

    return wrapper  # type: ignore[return-value]
