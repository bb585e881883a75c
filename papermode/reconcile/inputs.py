"""What reconciliation reads: the printed pages, each field's current state, the orders.

The rules (`papermode.reconcile.rules`) work on these small typed values only. ONE adapter,
`load_input`, builds them from a store: the merged page state (`page_state`), with the
decisions of reviewers laid on top (`decisions`: by default the store's review queue,
`papermode.reconcile.reviewed`, wired in by `papermode.reconcile.service`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from papermode.core.model import Field, Order, Patient
from papermode.store.database import Store
from papermode.store.rows import field_from_row, from_iso, order_from_row, patient_from_row

# A value a person confirmed or corrected counts like an auto-accepted one; the rest waits.
SETTLED = frozenset({"auto", "confirmed", "corrected"})
EMPTY = frozenset({None, "", "empty"})
TEMPLATES = ("mar", "prn", "vitals", "new_orders")

DecisionKind = Literal["confirm", "correct", "unreadable", "not_on_page", "pending", "accepted"]


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on one field, as the review queue hands it over.

    `pending`: the field is in the queue and a person (first, second or third reviewer)
    is still due, whatever the machine read; `not_on_page`: the box belongs elsewhere;
    `accepted`: the machine's value stands as read (a person answered the only doubt, the
    page's identity: a photocopy's sheet confirmed as the printed page's).
    """

    kind: DecisionKind
    value: str | None = None  # the corrected value (correct); ignored for confirm
    reviewers: tuple[str, ...] = ()
    decided_at: datetime | None = None


@dataclass(frozen=True)
class FieldState:
    """One printed field and what the paper says it holds now."""

    page_id: str
    field: Field
    value: str | None
    status: str  # auto | confirmed | corrected | review | unreadable | not_on_page | unread
    flags: tuple[str, ...] = ()
    captures: tuple[str, ...] = ()
    decided_by: tuple[str, ...] = ()
    decided_at: datetime | None = None
    has_crop: bool = False
    first_seen: datetime | None = None  # the first capture that showed a mark here

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    @property
    def awaiting(self) -> bool:
        """Still in (or sent back to) the review queue; a field never captured is not."""
        return not self.settled and self.status != "unread"

    @property
    def marked(self) -> bool:
        """Ticked, written or inked (a scribbled-over box is a correction, not a mark)."""
        return self.value not in EMPTY and self.value != "filled"


@dataclass(frozen=True)
class CaptureInfo:
    """One capture (photo or scanned page) that read a page."""

    capture_id: str
    sha256: str
    file_name: str
    captured_at: datetime | None
    ingested_at: datetime | None


@dataclass(frozen=True)
class PageInput:
    """A printed page of one patient, with the state of its fields (empty: never captured)."""

    page_id: str
    template: str
    snapshot_id: str
    patient_id: str | None
    ward: str | None
    period_start: datetime | None
    period_end: datetime | None
    states: tuple[FieldState, ...]
    captures: tuple[str, ...] = ()

    @property
    def captured(self) -> bool:
        return bool(self.captures)


SheetOutcome = Literal["page_record", "separate", "pending"]


@dataclass(frozen=True)
class SheetInput:
    """One sheet of paper of a photocopied page id, as the review queue decided it.

    `page_record`: a person confirmed it is the printed page's record; `separate`: another
    patient's record (`record_of`: the temporary number or MRN typed by the reviewer);
    `pending`: nobody decided yet.
    """

    page_id: str
    sheet: str  # the sheet's first capture
    position: int  # 1: the oldest sheet, whose merged state is the page's
    captures: tuple[str, ...]
    outcome: SheetOutcome
    record_of: str | None = None
    reviewers: tuple[str, ...] = ()
    marked_fields: int = 0  # fields its captures read as ticked, written or inked


@dataclass(frozen=True)
class ReconcileInput:
    """Everything the rules need: pages, orders and patients (newest snapshot wins)."""

    pages: tuple[PageInput, ...]
    orders: Mapping[str, Order]
    patients: Mapping[str, Patient]
    captures: Mapping[str, CaptureInfo] = field(default_factory=dict)
    sheets: tuple[SheetInput, ...] = ()  # photocopied page ids, one entry per sheet


def load_input(
    store: Store,
    *,
    ward: str | None = None,
    mrn: str | None = None,
    decisions: Mapping[tuple[str, str], Decision] | None = None,
) -> ReconcileInput:
    """The store's printed pages and current field states, with `decisions` applied.

    `decisions` maps (page_id, field_id) to a reviewer's decision on that field.
    """
    decisions = decisions or {}
    pages = tuple(_page(store, row, decisions) for row in _page_rows(store, ward=ward, mrn=mrn))
    capture_ids = {capture for page in pages for capture in page.captures}
    return ReconcileInput(pages, _orders(store), _patients(store), _captures(store, capture_ids))


def apply_decision(state: FieldState, decision: Decision | None) -> FieldState:
    """The field's state once a person decided on it (unreadable stays out of exports)."""
    if decision is None:
        return state
    if decision.kind == "pending":
        return replace(state, status="review", decided_by=decision.reviewers)
    if decision.kind == "accepted":
        return replace(state, status="auto", decided_by=decision.reviewers)
    if decision.kind in ("unreadable", "not_on_page"):
        status, value = str(decision.kind), state.value
    elif decision.kind == "correct":
        status, value = "corrected", decision.value
    else:
        status, value = "confirmed", state.value
    return replace(
        state,
        value=value,
        status=status,
        decided_by=decision.reviewers,
        decided_at=decision.decided_at,
    )


def _page_rows(store: Store, *, ward: str | None, mrn: str | None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM pages WHERE template IN ({})".format(",".join("?" * len(TEMPLATES)))
    params: list[str] = list(TEMPLATES)
    if ward:
        sql += " AND ward = ?"
        params.append(ward)
    if mrn:
        sql += " AND mrn = ?"
        params.append(mrn)
    return list(store.db.query(sql + " ORDER BY ward, pdf, pdf_page, page_id", params))


def _page(
    store: Store, row: dict[str, Any], decisions: Mapping[tuple[str, str], Decision]
) -> PageInput:
    page_id = row["page_id"]
    current = {
        state["field_id"]: state
        for state in store.db.query(
            "SELECT page_id, field_id, value, status, flags, captures, crop IS NOT NULL AS "
            "has_crop FROM page_state WHERE page_id = ?",
            [page_id],
        )
    }
    first_seen = {
        row["field_id"]: from_iso(row["first"])
        for row in store.db.query(
            "SELECT r.field_id, MIN(c.captured_at) AS first FROM readings r JOIN captures c "
            "USING (capture_id) WHERE r.page_id = ? AND c.status = 'read' "
            "AND r.value NOT IN ('', 'empty') GROUP BY r.field_id",
            [page_id],
        )
    }
    states = []
    for field_row in store.db.query(
        "SELECT * FROM fields WHERE page_id = ? ORDER BY position", [page_id]
    ):
        printed = field_from_row(field_row)
        state = _state(page_id, printed, current.get(printed.field_id))
        state = replace(state, first_seen=first_seen.get(printed.field_id))
        states.append(apply_decision(state, decisions.get((page_id, printed.field_id))))
    captures = tuple(
        capture["capture_id"]
        for capture in store.db.query(
            "SELECT capture_id FROM captures WHERE page_id = ? AND status = 'read' "
            "ORDER BY captured_at, capture_id",
            [page_id],
        )
    )
    return PageInput(
        page_id=page_id,
        template=row["template"],
        snapshot_id=row["snapshot_id"],
        patient_id=row["patient_id"],
        ward=row["ward"],
        period_start=from_iso(row["period_start"]),
        period_end=from_iso(row["period_end"]),
        states=tuple(states),
        captures=captures,
    )


def _state(page_id: str, printed: Field, row: dict[str, Any] | None) -> FieldState:
    if row is None:
        return FieldState(page_id, printed, None, "unread")
    return FieldState(
        page_id,
        printed,
        row["value"],
        row["status"] or "review",
        tuple(json.loads(row["flags"] or "[]")),
        tuple(json.loads(row["captures"] or "[]")),
        has_crop=bool(row["has_crop"]),
    )


def _orders(store: Store) -> dict[str, Order]:
    rows = store.db.query(
        "SELECT o.* FROM orders o JOIN snapshots s USING (snapshot_id) "
        "ORDER BY s.taken_at, s.registered_at"
    )
    return {row["order_id"]: order_from_row(row) for row in rows}


def _patients(store: Store) -> dict[str, Patient]:
    rows = store.db.query(
        "SELECT p.* FROM patients p JOIN snapshots s USING (snapshot_id) "
        "ORDER BY s.taken_at, s.registered_at"
    )
    return {row["patient_id"]: patient_from_row(row) for row in rows}


def _captures(store: Store, capture_ids: set[str]) -> dict[str, CaptureInfo]:
    found: dict[str, CaptureInfo] = {}
    for row in store.db.query(
        "SELECT capture_id, sha256, name, captured_at, ingested_at FROM captures"
    ):
        if row["capture_id"] in capture_ids:
            found[row["capture_id"]] = CaptureInfo(
                row["capture_id"],
                row["sha256"] or "",
                (row["name"] or "").rsplit("/", 1)[-1],
                from_iso(row["captured_at"]),
                from_iso(row["ingested_at"]),
            )
    return found
