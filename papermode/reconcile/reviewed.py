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

from papermode.reconcile.inputs import Decision, DecisionKind
from papermode.review.decisions import Outcome
from papermode.review.items import QueueItem
from papermode.review.queue import build_queue
from papermode.review.sheets import copied_pages
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
    decisions: dict[tuple[str, str], Decision] = {}
    queue = build_queue(store, include_decided=True)
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
