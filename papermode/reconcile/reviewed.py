"""The review queue's decisions as reconciliation sees them (`load_input(decisions=)`).

Every field the review queue holds is handed over: decided ones with the value the
reviewer(s) settled on and their names (first, second, third: the Provenance agents);
undecided ones as `pending`, so a value the machine read with confidence but that a person
must still see (a high-alert dose, a new order, the first decision of a two-person item)
is never exported.
"""

from __future__ import annotations

from papermode.reconcile.inputs import Decision, DecisionKind
from papermode.review.decisions import Outcome
from papermode.review.items import QueueItem
from papermode.review.queue import build_queue
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
    for item in build_queue(store, include_decided=True):
        if item.kind == "field" and item.page_id and item.field_id:
            decisions[(item.page_id, item.field_id)] = field_decision(item)
    return decisions


def field_decision(item: QueueItem) -> Decision:
    """What the reviewers made of one field item (`pending` while a person is still due)."""
    state = item.state
    if state is None or state.needed != "none":
        return Decision("pending", reviewers=state.reviewers if state else ())
    deciding = state.third or state.second or state.first
    decided_at = from_iso(deciding.decided_at) if deciding and deciding.decided_at else None
    return Decision(_KIND_OF[state.outcome], state.value, state.reviewers, decided_at)
