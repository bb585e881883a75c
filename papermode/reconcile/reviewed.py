"""The review queue's decisions as reconciliation sees them (`load_input(decisions=)`).

Every field the review queue holds is handed over: decided ones with the value the
reviewer(s) settled on and their names (first, second, third: the Provenance agents);
undecided ones as `pending`, so a value the machine read with confidence but that a person
must still see (a high-alert dose, a new order, the first decision of a two-person item)
is never exported. On a photocopied page whose first sheet a person confirmed as the
printed page's record, the boxes the merge rules accept are `accepted` (the page state
keeps them in review, flagged `copy_of_page`, for every reader that does not know this).
"""

from __future__ import annotations

import json

from papermode.reconcile.inputs import Decision, DecisionKind, SheetInput, SheetOutcome
from papermode.review.decisions import Outcome
from papermode.review.items import QueueItem
from papermode.review.queue import build_queue
from papermode.review.sheets import copied_pages, sheet_item_id
from papermode.store.database import Store
from papermode.store.rows import from_iso

_KIND_OF: dict[Outcome, DecisionKind] = {
    "confirmed": "confirm",
    "corrected": "correct",
    "unreadable": "unreadable",
    "not_on_page": "not_on_page",
    "review": "pending",
}


def review_decisions(store: Store) -> dict[tuple[str, str], Decision]:
    """(page_id, field_id) -> the decision on that field, for every field item of the queue."""
    return reviewed_store(store)[0]


def reviewed_store(
    store: Store,
) -> tuple[dict[tuple[str, str], Decision], tuple[SheetInput, ...]]:
    """The field decisions (`review_decisions`) and every photocopied page's sheets."""
    queue = build_queue(store, include_decided=True)
    return _field_decisions(store, queue), photocopy_sheets(store, queue)


def _field_decisions(store: Store, queue: list[QueueItem]) -> dict[tuple[str, str], Decision]:
    decisions: dict[tuple[str, str], Decision] = {}
    for item in queue:
        if item.kind == "field" and item.page_id and item.field_id:
            decisions[(item.page_id, item.field_id)] = field_decision(item)
    for page_id, reviewers in _released_sheets(store, queue).items():
        for row in store.db.query(
            "SELECT field_id FROM page_state WHERE page_id = ? AND merged_status = 'auto'",
            [page_id],
        ):
            decisions.setdefault((page_id, row["field_id"]), Decision("accepted", None, reviewers))
    return decisions


def _released_sheets(store: Store, queue: list[QueueItem]) -> dict[str, tuple[str, ...]]:
    """Copied pages whose first sheet a person confirmed, with who confirmed it."""
    pages = copied_pages(store, {}).released
    return {
        item.page_id: item.state.reviewers
        for item in queue
        if item.kind == "sheet" and item.page_id in pages and item.state
        and item.state.needed == "none" and item.state.outcome == "confirmed"
    }  # fmt: skip


def field_decision(item: QueueItem) -> Decision:
    """What the reviewers made of one field item (`pending` while a person is still due)."""
    state = item.state
    if state is None or state.needed != "none":
        return Decision("pending", reviewers=state.reviewers if state else ())
    deciding = state.third or state.second or state.first
    decided_at = from_iso(deciding.decided_at) if deciding and deciding.decided_at else None
    return Decision(_KIND_OF[state.outcome], state.value, state.reviewers, decided_at)


def photocopy_sheets(store: Store, queue: list[QueueItem]) -> tuple[SheetInput, ...]:
    """Every sheet of every photocopied page id, with what the reviewers made of it."""
    decided = {item.item_id: item.state for item in queue if item.kind == "sheet"}
    sheets = []
    for row in store.db.query("SELECT * FROM page_sheets ORDER BY page_id, position"):
        state = decided.get(sheet_item_id(row["page_id"], row["sheet"]))
        outcome: SheetOutcome = "pending"
        if state is not None and state.needed == "none":
            outcome = "page_record" if state.outcome == "confirmed" else "separate"
        captures = tuple(json.loads(row["captures"] or "[]"))
        sheets.append(
            SheetInput(
                page_id=row["page_id"],
                sheet=row["sheet"],
                position=row["position"],
                captures=captures,
                outcome=outcome,
                record_of=state.value if state is not None and outcome == "separate" else None,
                reviewers=state.reviewers if state is not None else (),
                marked_fields=_marked_fields(store, row["page_id"], captures),
            )
        )
    return tuple(sheets)


def _marked_fields(store: Store, page_id: str, captures: tuple[str, ...]) -> int:
    if not captures:
        return 0
    marks = ",".join("?" * len(captures))
    row = store.db.execute(
        "SELECT COUNT(DISTINCT field_id) FROM readings WHERE page_id = ? AND capture_id IN "
        f"({marks}) AND value NOT IN ('', 'empty', 'filled')",
        [page_id, *captures],
    ).fetchone()
    return int(row[0]) if row else 0
