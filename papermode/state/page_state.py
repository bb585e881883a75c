"""The current state of a page, merged from all its captures and kept in `page_state`.

The rules are pure (`papermode.state.merge`); this module reads a page's readings from the
store, merges each field's history and writes the result, inside the caller's transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

from papermode.state.merge import CapturedReading, merge_field
from papermode.core.model import Reading
from papermode.store.database import Store
from papermode.store.rows import now_text


def update_page_state(store: Store, page_id: str) -> None:
    """Recompute the current state of a page from all its captures (merge rules)."""
    histories: dict[str, list[CapturedReading]] = {}
    rows = store.db.query(
        "SELECT r.*, c.captured_at FROM readings r JOIN captures c USING (capture_id) "
        "WHERE r.page_id = ? AND c.status = 'read'",
        [page_id],
    )
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
    store.db.execute("DELETE FROM page_state WHERE page_id = ?", [page_id])
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
                "crop": crops.get((merged.source, merged.field_id)),
                "suggestion": suggestions.get((merged.source, merged.field_id)),
                "updated_at": now_text(),
            }
            for merged in (merge_field(history) for history in histories.values())
        ],
    )
