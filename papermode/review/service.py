"""Recording review decisions in the store: checked, in one transaction, audited.

`decide` re-reads the item and its decisions inside a write transaction (`BEGIN
IMMEDIATE`), so two reviewers on two browsers of one laptop cannot both make the same
decision: the second one finds the item decided and gets `AlreadyDecidedError`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import replace

from papermode.core import pageid
from papermode.core.errors import PageIdError, ReviewError
from papermode.ingest.attribute import attribute_capture, page_context
from papermode.review.decisions import (
    Decision,
    DecisionKind,
    normalise_value,
    plan_decision,
    review_state,
)
from papermode.review.files import attributable
from papermode.review.items import QueueItem
from papermode.review.photo_crops import photo_crop
from papermode.review.proposals import EDITABLE_KINDS
from papermode.review.queue import find_item
from papermode.review.records import (
    append_decision,
    ensure_schema,
    load_decisions,
    release_item,
)
from papermode.review.sheets import check_sheet_decision
from papermode.store.database import Store

log = logging.getLogger(__name__)


def crop_of(store: Store, item: QueueItem) -> bytes | None:
    """The image crop of a field item as it stands now (PNG bytes), or None; for a
    proposed order or photo identity, the line (the screen) cut from the original photo."""
    if item.kind in EDITABLE_KINDS:
        return photo_crop(store, item)
    if item.kind != "field":
        return None
    row = store.db.execute(
        "SELECT crop FROM page_state WHERE page_id = ? AND field_id = ?",
        [item.page_id, item.field_id],
    ).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


def compare_crop_of(store: Store, item: QueueItem) -> bytes | None:
    """The crop of the same box in the other capture the reviewer must compare with (the
    earlier reading a newer, doubtful one overrides; the photo where a mark is missing)."""
    if item.kind != "field" or not item.compare_capture:
        return None
    row = store.db.execute(
        "SELECT crop FROM readings WHERE capture_id = ? AND page_id = ? AND field_id = ?",
        [item.compare_capture, item.page_id, item.field_id],
    ).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


def compare_crop_json(store: Store, item: QueueItem) -> dict[str, str | None] | None:
    """`compare_crop` of `review --list --json` (docs/review-queue.md), or None."""
    crop = compare_crop_of(store, item)
    if crop is None:
        return None
    row = store.db.execute(
        "SELECT c.captured_at, r.value FROM captures c JOIN readings r USING (capture_id) "
        "WHERE c.capture_id = ? AND r.field_id = ?",
        [item.compare_capture, item.field_id],
    ).fetchone()
    return {
        "capture_id": item.compare_capture,
        "captured_at": row[0] if row else None,
        "value": None if item.blind and item.needed == "second" else (row[1] if row else None),
        "sha256": hashlib.sha256(crop).hexdigest(),
        "png_base64": base64.b64encode(crop).decode("ascii"),
    }


def crop_sha256(store: Store, item: QueueItem) -> str | None:
    crop = crop_of(store, item)
    return hashlib.sha256(crop).hexdigest() if crop is not None else None


# What a person may answer about an item that is not a box (fields take every kind).
KINDS_OF_ITEM: dict[str, tuple[str, ...]] = {"sheet": ("confirm", "correct", "withdraw")}
# Photos of screens (review/proposals.py): every part of an order or identity may be keyed.
KINDS_OF_ITEM.update(
    {kind: ("confirm", "correct", "unreadable", "withdraw") for kind in EDITABLE_KINDS}
)


def _check_kind(store: Store, item: QueueItem, kind: DecisionKind) -> None:
    if item.kind == "field":
        return
    allowed = KINDS_OF_ITEM.get(item.kind, ("confirm", "withdraw"))
    if attributable(item):
        allowed = ("confirm", "correct", "withdraw")
    if kind not in allowed:
        what = "confirmed or given a value (--confirm, --value V)"
        raise ReviewError(
            f"item {item.item_id} is a {item.kind.replace('_', ' ')} item: it can only be "
            + (what if "correct" in allowed else "marked as dealt with (--confirm).")
        )
    if item.kind == "sheet":
        check_sheet_decision(store, item, kind)


def _keyed(store: Store, item: QueueItem, value: str) -> str:
    """A keyed value as stored: a page id for an attribution, else as the box holds it."""
    if not attributable(item):
        return normalise_value(item.field_kind, value)
    try:
        page_id = pageid.normalise(value)
    except PageIdError as error:
        raise ReviewError(error.message, advice=error.advice) from error
    page_context(store, page_id)  # refuses a page this store never printed
    return page_id


def _attribute_when_agreed(store: Store, item: QueueItem, decisions: list[Decision]) -> None:
    """Two reviewers named the same page: read the kept original against it (same
    transaction: the decision and the reading stand or fall together)."""
    if not attributable(item) or not any(d.kind == "correct" for d in decisions):
        return
    facts = replace(item.facts, two_person=True, blind=True)
    state = review_state(facts, decisions)
    if state.needed == "none" and state.outcome == "corrected" and state.value:
        assert item.capture_id is not None
        attribute_capture(store, item.capture_id, state.value, reviewers=state.reviewers)


def decide(
    store: Store,
    item_id: str,
    *,
    kind: DecisionKind,
    reviewer: str,
    value: str | None = None,
    edit_of: int | None = None,
    seen_crop: str | None = None,
) -> Decision:
    """Append one reviewer's decision about one item; the rules' errors otherwise.

    `seen_crop` is the SHA-256 of the crop the reviewer was shown (the web app sends it):
    when a new capture changed the crop since, the decision is refused so that nobody
    decides on an image that is no longer the current one.
    """
    with store.transaction() as db:
        ensure_schema(db)
        item = find_item(store, item_id)
        decisions = load_decisions(db, [item_id]).get(item_id, [])
        _check_kind(store, item, kind)
        if kind == "correct" and value is not None and value.strip():
            value = _keyed(store, item, value)
        planned = plan_decision(
            item.facts, decisions, kind=kind, reviewer=reviewer, value=value, edit_of=edit_of
        )
        current_crop = crop_sha256(store, item)
        if seen_crop is not None and seen_crop != current_crop:
            raise ReviewError(
                f"item {item_id} was photographed again while you looked at it.",
                advice="Look at the new image and decide again.",
            )
        state = review_state(item.facts, decisions)
        first = state.first.reviewer if state.first and planned.stage > 1 else None
        decision = append_decision(
            db,
            planned,
            page_id=item.page_id,
            field_id=item.field_id,
            crop_sha256=current_crop,
            first_reviewer=first,
        )
        release_item(db, item_id)
        _attribute_when_agreed(store, item, [*decisions, decision])
        store.audit(
            "review",
            item_id,
            {"decision": decision.decision_id, "kind": kind, "stage": decision.stage},
            actor=decision.reviewer,
        )
    log.info(
        "review decision %s on %s: %s (stage %s)",
        decision.decision_id,
        item_id,
        kind,
        decision.stage,
    )
    return decision
