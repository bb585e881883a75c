"""The review queue: everything a person must look at, most clinically important first.

Levels, in the default order (the `[review] order` setting changes it, `--order` for one
run; docs/review-queue.md):

1. `identity`: a page whose identity is in doubt (an unknown page id, copies of one page,
   QR and banner MRN that disagree);
2. `new_order`: every field written on a new-order sheet (two-person rule);
3. `high_alert`: a field of a high-alert medicine's order that holds something or is in
   doubt (two-person rule);
4. `conflict`: captures that disagree (a mark that disappeared, a value that changed, two
   answers in one group);
5. `implausible`: a value outside what is plausible (a time outside the page's period...);
6. `other`: every other value below its threshold or with a flag;
7. `retake`: a photo to retake that was never retaken;
8. `quarantined`: a file that could not be read at all;
9. `never_photographed`: a printed page of the newest print run never photographed, per ward,
   so the clerk can chase the missing paper.

Within a level: by ward, patient, page (as printed) and scheduled time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

from papermode.core.errors import ReviewError, UnknownItemError, UsageError
from papermode.core.settings import REVIEW_LEVELS
from papermode.review.decisions import Decision, review_state
from papermode.review.files import (
    attributable,
    capture_items,
    ingest_items,
    unphotographed_items,
)
from papermode.review.items import QueueItem
from papermode.review.proposals import is_photo_item, proposal_items
from papermode.review.records import ensure_schema, load_decisions
from papermode.review.sheets import SHEET_PREFIX, CopiedPages, copied_pages, sheet_items
from papermode.state.merge import is_marked
from papermode.store.database import Store

LEVELS: tuple[str, ...] = REVIEW_LEVELS
OLD_LEVEL_NAMES = {"unphotographed": "never_photographed"}  # before the [review] setting
IDENTITY_FLAGS = frozenset({"copy", "copies", "possible_copy", "identity", "mrn_mismatch"})
CONFLICT_FLAGS = frozenset({"disappeared", "changed", "contradiction", "reviewers_disagree"})
QUIET_FLAGS = frozenset({"empty"})  # says what was read, not a doubt
BLIND_ROLES = frozenset({"dose", "time", "infusion_time", "infusion_rate"})  # numbers keyed
NEW_ORDER_TEMPLATE = "new_orders"


def parse_order(
    text: str | Sequence[str] | None, default: Sequence[str] = LEVELS
) -> tuple[str, ...]:
    """`--order`: level names, most important first; the levels not named follow in the
    `default` order (the `[review] order` setting)."""
    if text is None:
        return tuple(default)
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [OLD_LEVEL_NAMES.get(n, n) for n in names if n]
    unknown = [n for n in names if n not in LEVELS]
    if unknown:
        raise UsageError(
            f"unknown review level(s) in the queue order: {', '.join(unknown)}.",
            advice=f"Use names from: {', '.join(LEVELS)}.",
        )
    return tuple(dict.fromkeys(names)) + tuple(n for n in default if n not in names)


def build_queue(
    store: Store,
    *,
    order: Sequence[str] = LEVELS,
    ward: str | None = None,
    mrn: str | None = None,
    include_decided: bool = False,
) -> list[QueueItem]:
    """Every item for a person, sorted by priority (decided ones only when asked)."""
    ensure_schema(store.db)
    decisions = load_decisions(store.db)
    items = [
        *_field_items(store, decisions),
        *sheet_items(store),
        *capture_items(store),
        *ingest_items(store),
        *unphotographed_items(store),
        *proposal_items(store),
    ]
    items = [_with_state(item, decisions.get(item.item_id, ())) for item in items]
    if ward:
        items = [item for item in items if item.ward == ward]
    if mrn:
        pages = _pages_of(store, mrn)
        items = [item for item in items if item.page_id in pages]
    rank = {name: number for number, name in enumerate(order)}
    items.sort(key=lambda item: (rank.get(item.level, len(rank)), *item.sort_key))
    items = [replace(item, priority=n) for n, item in enumerate(items, start=1)]
    if not include_decided:
        items = [item for item in items if item.needed != "none"]
    return items


def find_item(store: Store, item_id: str) -> QueueItem:
    """One item of the queue (decided or not); UnknownItemError when there is none.

    A field item is looked up by itself (its `priority` is then 0); file and page items
    through the whole queue.
    """
    ensure_schema(store.db)
    photo = is_photo_item(item_id)
    if not photo and not item_id.startswith(("file:", "page:", SHEET_PREFIX)) and ":" in item_id:
        page_id, field_id = item_id.split(":", 1)
        decisions = load_decisions(store.db, [item_id])
        for item in _field_items(store, decisions, only=(page_id, field_id)):
            return _with_state(item, decisions.get(item_id, ()))
        if copied_pages(store, decisions).covers(page_id):
            raise ReviewError(
                f"box {field_id} is on a page found on several sheets of paper (photocopies).",
                advice="Decide first whose record each sheet is: its `sheet:` items in "
                "`papermode review --list`.",
            )
    else:
        for item in build_queue(store, include_decided=True):
            if item.item_id == item_id:
                return item
    raise UnknownItemError(
        f"there is no review item {item_id} in this store.",
        advice="List the open items with `papermode review --list` and copy the item id.",
    )


def ward_progress(items: Iterable[QueueItem]) -> dict[str, dict[str, int]]:
    """Per ward: items decided, open, and waiting for a second or third reviewer."""
    progress: dict[str, dict[str, int]] = {}
    for item in items:
        counts = progress.setdefault(
            item.ward or "no ward", {"decided": 0, "open": 0, "waiting": 0, "unphotographed": 0}
        )
        if item.kind == "unphotographed" and item.needed != "none":
            counts["unphotographed"] += 1
        elif item.needed == "none":
            counts["decided"] += 1
        elif item.needed == "first":
            counts["open"] += 1
        else:
            counts["waiting"] += 1
    return dict(sorted(progress.items()))


# ---------------------------------------------------------------------- field items

_FIELDS_SQL = """
SELECT s.page_id, s.field_id, s.value, s.confidence, s.status, s.flags, s.suggestion,
       s.merged_status, s.earlier_capture,
       f.kind, f.role, f.order_id, f.scheduled, f.position, f.value AS option_value, f.label,
       p.template, p.ward, p.patient_id, p.pdf, p.pdf_page, o.high_alert
FROM page_state s
JOIN fields f ON f.page_id = s.page_id AND f.field_id = s.field_id
JOIN pages p ON p.page_id = s.page_id
LEFT JOIN orders o ON o.snapshot_id = p.snapshot_id AND o.order_id = f.order_id
"""


def field_item_id(page_id: str, field_id: str) -> str:
    return f"{page_id}:{field_id}"


def _field_items(
    store: Store,
    decisions: dict[str, list[Decision]],
    *,
    only: tuple[str, str] | None = None,
) -> Iterable[QueueItem]:
    sql, params = _FIELDS_SQL, []
    if only:
        sql += " WHERE s.page_id = ? AND s.field_id = ?"
        params = list(only)
    copies = copied_pages(store, decisions)
    for row in store.db.query(sql, params):
        if copies.covers(row["page_id"]):
            continue  # one identity item per sheet stands for all of the page's boxes
        status, flags = _copy_lifted(row, copies)
        item_id = field_item_id(row["page_id"], row["field_id"])
        level = field_level(
            value=row["value"],
            status=status,
            flags=flags,
            template=row["template"],
            high_alert=bool(row["high_alert"]),
        )
        if level is None and item_id not in decisions:
            continue
        two_person = row["template"] == NEW_ORDER_TEMPLATE or bool(row["high_alert"])
        yield QueueItem(
            item_id=item_id,
            kind="field",
            level=level or "other",
            ward=row["ward"],
            patient_id=row["patient_id"],
            page_id=row["page_id"],
            template=row["template"],
            field_id=row["field_id"],
            field_kind=row["kind"],
            role=row["role"],
            order_id=row["order_id"],
            scheduled=row["scheduled"],
            label=row["label"],
            option=row["option_value"],
            value=row["value"],
            suggestion=row["suggestion"],
            confidence=row["confidence"],
            machine_status=status,
            flags=flags,
            two_person=two_person,
            blind=two_person and row["role"] in BLIND_ROLES,
            compare_capture=row["earlier_capture"],
            sort_key=(
                row["ward"] or "",
                row["patient_id"] or "",
                row["pdf"] or "",
                row["pdf_page"] or 0,
                row["scheduled"] or "",
                row["position"] or 0,
            ),
        )


def field_level(
    *,
    value: str | None,
    status: str,
    flags: Sequence[str],
    template: str | None,
    high_alert: bool,
) -> str | None:
    """The queue level of a field's merged state; None when the machine may accept it."""
    doubts = set(flags) - QUIET_FLAGS
    if doubts & IDENTITY_FLAGS or any(f.startswith(("copy", "identity")) for f in doubts):
        return "identity"
    if template == NEW_ORDER_TEMPLATE and (is_marked(value) or status != "auto" or doubts):
        return "new_order"
    if high_alert and (is_marked(value) or status != "auto" or doubts):
        return "high_alert"
    if doubts & CONFLICT_FLAGS:
        return "conflict"
    if "implausible" in doubts:
        return "implausible"
    if status != "auto" or doubts:
        return "other"
    return None


def _copy_lifted(row: dict[str, object], copies: CopiedPages) -> tuple[str, tuple[str, ...]]:
    """A field's status and flags; on a copied page whose first sheet a person confirmed,
    those of the merge rules alone (the `copy_of_page` doubt is answered)."""
    flags = tuple(json.loads(str(row["flags"] or "[]")))
    if row["page_id"] not in copies.released:
        return str(row["status"]), flags
    status = str(row["merged_status"] or row["status"])
    return status, tuple(f for f in flags if f != "copy_of_page")


def _with_state(item: QueueItem, decisions: Sequence[Decision]) -> QueueItem:
    """The item with its review state. Naming the page of an unidentified page image is
    the highest risk: it needs two reviewers, the second keying the page id blind."""
    if attributable(item) and any(d.kind == "correct" for d in decisions):
        item = replace(item, two_person=True, blind=True)
    return replace(item, state=review_state(item.facts, decisions))


def _pages_of(store: Store, mrn: str) -> set[str]:
    return {
        row["page_id"] for row in store.db.query("SELECT page_id FROM pages WHERE mrn = ?", [mrn])
    }
