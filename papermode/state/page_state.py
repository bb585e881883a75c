"""The current state of a page, merged from all its captures and kept in `page_state`.

The rules are pure (`papermode.state.merge`); this module reads a page's readings from the
store, merges each field's history and writes the result, inside the caller's transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from papermode.core.flags import Flag, ReadingStatus
from papermode.core.model import Reading
from papermode.state.handwriting import ink_mask
from papermode.state.merge import CapturedReading, MergedField, is_marked, merge_field
from papermode.state.sheets import (
    COPY_FLAG,
    HANDWRITTEN_ROLES,
    IDENTITY_ROLES,
    CaptureMarks,
    group_sheets,
)
from papermode.store.database import Store
from papermode.store.rows import now_text

logger = logging.getLogger(__name__)


def update_page_state(store: Store, page_id: str) -> None:
    """Recompute the current state of a page from all its captures (merge rules).

    Captures of different sheets of paper with the same page id (photocopies,
    `papermode.state.sheets`) are never merged: each sheet is merged on its own, the
    page's state is the oldest sheet's, and every field goes to review flagged
    `copy_of_page` until a person decides whose each sheet is (one review item per
    sheet, `papermode.review`); `merged_status` keeps the status the merge rules alone
    give, which the field follows once that is decided. The sheets are listed in
    `page_sheets` (none for a page on one sheet).
    """
    groups, sheets = _sheets(store, page_id)
    first = sheets[0] if sheets else []
    store.db.execute("DELETE FROM page_state WHERE page_id = ?", [page_id])
    store.db.execute("DELETE FROM page_sheets WHERE page_id = ?", [page_id])
    store.db.table("page_state").insert_all(
        [
            {
                "page_id": page_id,
                "field_id": merged.field_id,
                "value": merged.value,
                "confidence": merged.confidence,
                "status": merged.status,
                "flags": json.dumps(list(merged.flags)),
                "captures": json.dumps(list(merged.captures)),
                "crop": crop,
                "suggestion": suggestion,
                "updated_at": now_text(),
                "earlier_capture": merged.earlier_source,
                "merged_status": merged.merged_status or merged.status,
            }
            for merged, crop, suggestion in first
        ],
    )
    if len(groups) > 1:
        store.db.table("page_sheets").insert_all(
            {
                "page_id": page_id,
                "sheet": group[0],
                "position": position,
                "captures": json.dumps(list(group)),
                "first_at": first_at,
            }
            for position, (group, first_at) in enumerate(groups, start=1)
        )
        logger.info("page %s: %d sheets with this page id, sent to review", page_id, len(sheets))


SheetState = list[tuple[MergedField, bytes | None, str | None]]


def page_sheets(store: Store, page_id: str) -> list[SheetState]:
    """Each sheet of paper carrying `page_id`, oldest first: its fields merged on their own
    (with the crop and suggestion of the capture whose value stands)."""
    return _sheets(store, page_id)[1]


def _sheets(
    store: Store, page_id: str
) -> tuple[list[tuple[tuple[str, ...], str]], list[SheetState]]:
    """The sheets' capture ids (with their first capture time) and merged states."""
    rows = list(
        store.db.query(
            "SELECT r.*, c.captured_at, f.role, f.kind FROM readings r "
            "JOIN captures c USING (capture_id) "
            "LEFT JOIN fields f ON f.page_id = r.page_id AND f.field_id = r.field_id "
            "WHERE r.page_id = ? AND c.status = 'read'",
            [page_id],
        )
    )
    groups = group_sheets(_capture_marks(rows))
    copies = len(groups) > 1
    taken = {row["capture_id"]: row["captured_at"] for row in rows}
    return [(group, taken[group[0]]) for group in groups], [
        _merge_sheet([r for r in rows if r["capture_id"] in group], copies) for group in groups
    ]


def _capture_marks(rows: list[dict[str, Any]]) -> list[CaptureMarks]:
    by_capture: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_capture.setdefault(row["capture_id"], []).append(row)
    marks = []
    for capture_id, readings in by_capture.items():
        identity = {
            r["role"]: r["value"]
            for r in readings
            if r["role"] in IDENTITY_ROLES and r["value"] and str(r["value"]).isdigit()
        }
        marks.append(
            CaptureMarks(
                capture_id,
                datetime.fromisoformat(readings[0]["captured_at"]),
                {r["field_id"]: r["value"] for r in readings},
                frozenset(r["field_id"] for r in readings if _confident(r)),
                identity,
                {
                    r["field_id"]: str(r["value"])
                    for r in readings
                    if r["kind"] == "digits" and _confident(r) and is_marked(r["value"])
                },
                _handwriting(readings),
            )
        )
    return marks


def _handwriting(readings: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The ink masks of the handwritten identity boxes (name, birth date) with ink."""
    masks = {}
    for row in readings:
        if row["role"] in HANDWRITTEN_ROLES and row["value"] == "ink":
            mask = ink_mask(row["crop"])
            if mask is not None:
                masks[row["role"]] = mask
    return masks


# Sent to a person by policy, not by doubt: a new order is never accepted by a machine.
# Held back by policy, not by doubt about the reading: a new order, or an entry read well
# but incomplete (papermode.reading.completeness: a tick without its initials is a tick).
_POLICY_FLAGS = frozenset(
    {
        Flag.NEW_ORDER,
        Flag.MISSING_INITIALS,
        Flag.MISSING_TIME,
        Flag.MISSING_CHOICE,
        Flag.MISSING_DOSE,
        Flag.MISSING_IDENTITY,
    }
)
CONFIDENT = 0.9


def _confident(row: dict[str, Any]) -> bool:
    """A reading sure enough to tell sheets apart: accepted, or only held back by policy."""
    if row["status"] == "auto":
        return True
    flags = set(json.loads(row["flags"] or "[]"))
    return bool(flags) and flags <= _POLICY_FLAGS and (row["confidence"] or 0.0) >= CONFIDENT


def _merge_sheet(rows: list[dict[str, Any]], copies: bool) -> SheetState:
    histories: dict[str, list[CapturedReading]] = {}
    crops: dict[tuple[str, str], bytes] = {}
    suggestions: dict[tuple[str, str], str | None] = {}
    for row in rows:
        reading = Reading(
            row["field_id"],
            row["value"],
            row["confidence"],
            row["status"],
            tuple(json.loads(row["flags"] or "[]")),
        )
        histories.setdefault(row["field_id"], []).append(
            CapturedReading(row["capture_id"], datetime.fromisoformat(row["captured_at"]), reading)
        )
        crops[(row["capture_id"], row["field_id"])] = row["crop"]
        suggestions[(row["capture_id"], row["field_id"])] = row["suggestion"]
    state = []
    for history in histories.values():
        merged = merge_field(history)
        if copies:
            merged = replace(
                merged,
                merged_status=merged.status,
                status=ReadingStatus.REVIEW,
                flags=tuple(dict.fromkeys((*merged.flags, COPY_FLAG))),
            )
        key = (merged.source, merged.field_id)
        state.append((merged, crops.get(key), suggestions.get(key)))
    return state
