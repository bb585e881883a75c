"""`papermode review` and `papermode serve`: the review queue, decisions, the local web app.

Standalone click commands (registered on the main group by `papermode.cli.main`). They
parse options, call one library function and print its result; errors become their
message and exit code (docs/errors.md).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from papermode.cli.options import reports_errors
from papermode.core.errors import UsageError
from papermode.core.settings import load_settings
from papermode.review.decisions import DecisionKind
from papermode.review.items import QueueItem
from papermode.review.queue import build_queue, find_item, parse_order
from papermode.review.service import compare_crop_json, decide
from papermode.store.database import Store, open_existing_store
from papermode.web.app import ReviewApp

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_STORE = "papermode.db"


def _store_option(command: F) -> F:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("PAPERMODE_STORE", DEFAULT_STORE),
        show_default="./papermode.db or $PAPERMODE_STORE",
        help="The papermode store (one SQLite file; evidence files beside it).",
    )(command)


def _settings_option(command: F) -> F:
    return click.option(
        "--settings",
        "settings_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The hospital's settings TOML ([review] order: the queue's order).",
    )(command)


@click.command()
@_store_option
@click.option("--list", "list_items", is_flag=True, help="Print the open review queue.")
@click.option("--json", "as_json", is_flag=True, help="With --list: the queue as JSON.")
@click.option("--ward", default=None, help="With --list: only this ward's items.")
@click.option("--patient", "mrn", default=None, help="With --list: only this patient (MRN).")
@click.option("--all", "include_decided", is_flag=True, help="With --list: decided items too.")
@click.option(
    "--order",
    default=None,
    help="Queue order for this run: level names, most important first, comma-separated; "
    "the others follow (default: the [review] order setting).",
)
@_settings_option
@click.option("--decide", "item_id", default=None, metavar="ITEM", help="Decide one item.")
@click.option("--confirm", is_flag=True, help="The value read is right (a file: dealt with).")
@click.option("--value", default=None, help="The right value, keyed from the image.")
@click.option(
    "--page",
    "page_id",
    default=None,
    metavar="PAGE_ID",
    help="A page image the machine could not identify: the page id printed on the paper "
    "(two reviewers, the second keying it blind).",
)
@click.option("--unreadable", is_flag=True, help="Nobody can read this box.")
@click.option("--not-on-page", "not_on_page", is_flag=True, help="This box is not on this page.")
@click.option("--reviewer", default=None, help="Your name (recorded with the decision).")
@click.option("--edit", "edit_of", type=int, default=None, help="Replace your decision N.")
@reports_errors
def review(
    store_path: Path,
    list_items: bool,
    as_json: bool,
    ward: str | None,
    mrn: str | None,
    include_decided: bool,
    order: str | None,
    settings_path: Path | None,
    item_id: str | None,
    confirm: bool,
    value: str | None,
    page_id: str | None,
    unreadable: bool,
    not_on_page: bool,
    reviewer: str | None,
    edit_of: int | None,
) -> None:
    """List what a person must decide, or record one decision.

    \b
    papermode review --list [--json] [--ward W] [--patient MRN]
    papermode review --decide ITEM --confirm|--value V|--unreadable --reviewer NAME
    papermode review --decide file:CAPTURE --page PAGE_ID --reviewer NAME
    """
    if list_items == (item_id is not None):
        raise UsageError("give either --list or --decide ITEM.", advice="See --help.")
    with open_existing_store(store_path) as store:
        if list_items:
            items = build_queue(
                store,
                order=parse_order(order, load_settings(settings_path).review_order),
                ward=ward,
                mrn=mrn,
                include_decided=include_decided,
            )
            _print_queue(store, items, as_json)
            return
        assert item_id is not None
        if page_id is not None and value is not None:
            raise UsageError("give either --value V or --page PAGE_ID, not both.")
        value = page_id if page_id is not None else value
        kind = _kind(confirm, value, unreadable, not_on_page)
        if not reviewer:
            raise UsageError("a decision needs --reviewer NAME.")
        decision = decide(
            store, item_id, kind=kind, reviewer=reviewer, value=value, edit_of=edit_of
        )
        item = find_item(store, item_id)
    click.echo(
        f"decision {decision.decision_id}: {item_id} {decision.kind} by {decision.reviewer} "
        f"(review {decision.stage}); {_still_needed(item)}"
    )


def _kind(confirm: bool, value: str | None, unreadable: bool, not_on_page: bool) -> DecisionKind:
    options: tuple[tuple[DecisionKind, bool], ...] = (
        ("confirm", confirm),
        ("correct", value is not None),
        ("unreadable", unreadable),
        ("not_on_page", not_on_page),
    )
    chosen = [kind for kind, given in options if given]
    if len(chosen) != 1:
        raise UsageError(
            "--decide needs exactly one of --confirm, --value V (or --page PAGE_ID), "
            "--unreadable, --not-on-page."
        )
    return chosen[0]


def _still_needed(item: QueueItem) -> str:
    return {
        "none": "decided",
        "first": "open again",
        "second": "now needs a second, different reviewer",
        "third": "the two reviewers disagree: a third person decides",
    }[item.needed]


def _print_queue(store: Store, items: list[QueueItem], as_json: bool) -> None:
    if as_json:
        entries = [
            item.as_json(hide_first_value=item.blind and item.needed == "second")
            | {"compare_crop": compare_crop_json(store, item)}
            for item in items
        ]
        click.echo(json.dumps({"items": entries}, indent=2, ensure_ascii=False))
        return
    if not items:
        click.echo("nothing to review")
        return
    for item in items:
        entry = item.as_json(hide_first_value=item.blind and item.needed == "second")
        what = entry["field_id"] or entry["file"] or ""
        shown = entry["value"] if entry["value"] is not None else "-"
        flags = ",".join(entry["flags"]) or "-"
        click.echo(
            f"{entry['priority']:>4}  {item.item_id}  {item.level}  {what}  value {shown}  "
            f"flags {flags}  needs {item.needed} review"
        )
    click.echo(f"{len(items)} item(s) to review")


@click.command()
@_store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port to listen on.")
@click.option("--order", default=None, help="Queue order (see `papermode review --help`).")
@_settings_option
@reports_errors
def serve(
    store_path: Path, host: str, port: int, order: str | None, settings_path: Path | None
) -> None:
    """The local review web app: one item at a time, beside its image, by keyboard."""
    import uvicorn

    with open_existing_store(store_path):
        pass  # refuse a missing or unreadable store before listening
    if not _is_loopback(host):
        click.echo(
            f"Warning: listening on {host}: other machines on this network can reach the "
            "review app (the token still guards it). Use 127.0.0.1 unless you must.",
            err=True,
        )
    os.umask(0o077)  # anything the app writes (WAL files, evidence) stays owner-only
    levels = parse_order(order, load_settings(settings_path).review_order)
    app = ReviewApp(store_path, order=levels, allowed_hosts=_hosts(host, port))
    click.echo(f"papermode review: open {app.start_url(host, port)}")
    click.echo("Keep this address to yourself: it holds the key to the store. Ctrl+C stops.")
    uvicorn.run(app.asgi, host=host, port=port, log_level="warning", access_log=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hosts(host: str, port: int) -> tuple[str, ...]:
    """Host headers to accept (a DNS-rebinding page cannot reach 127.0.0.1); () for any."""
    if not _is_loopback(host):
        return ()
    return tuple(sorted(f"{name}:{port}" for name in {host, "127.0.0.1", "localhost"}))
