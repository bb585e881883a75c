"""Infusion rows of the MAR (start / rate change / bag change / stop): counted, not reconciled.

A continuous infusion has no scheduled dose, so none of its rows is ever "not documented".
Its charted events are not matched against the restored record or exported yet: the
reconciliation says how many rows carry a mark, so the team back-enters them from the paper
(the rows' crops are in `papermode readings`).
"""

from __future__ import annotations

from papermode.reconcile.inputs import ReconcileInput

INFUSION_ROLES = frozenset({"infusion_event", "infusion_time", "infusion_rate"})


def charted_infusion_rows(source: ReconcileInput) -> dict[str, int]:
    """Order id -> how many of its infusion rows carry a mark (an event, a time, a rate)."""
    rows: dict[str, set[tuple[str, str]]] = {}
    for page in source.pages:
        for state in page.states:
            printed = state.field
            if printed.role in INFUSION_ROLES and printed.order_id and state.marked:
                row = printed.field_id.rsplit(".", 1)[0]
                rows.setdefault(printed.order_id, set()).add((page.page_id, row))
    return {order_id: len(found) for order_id, found in sorted(rows.items())}
