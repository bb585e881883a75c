"""The `free_photos` list of `papermode readings --json` (docs/readings.md): every photo of a
screen or note, its patient link and its medication candidates, as read (never orders)."""

from __future__ import annotations

import json
from typing import Any

from papermode.free.search import SEARCH_TABLES
from papermode.store.database import Store


def free_photo_entries(store: Store, *, mrn: str | None = None) -> list[dict[str, Any]]:
    """One entry per free photo, oldest first; only the photos linked to `mrn` when given."""
    if not set(store.db.table_names()) >= SEARCH_TABLES:
        return []  # no free photo was ever ingested; a report never writes (read-only stores)
    sql = "SELECT * FROM free_photos"
    params: list[str] = []
    if mrn:
        sql += " WHERE mrn = ?"
        params.append(mrn)
    rows = list(store.db.query(sql + " ORDER BY captured_at, capture_id", params))
    return [_entry(store, row) for row in rows]


def _entry(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    candidates = store.db.query(
        "SELECT * FROM free_medication_candidates WHERE capture_id = ? ORDER BY line_number",
        [row["capture_id"]],
    )
    return {
        "capture_id": row["capture_id"],
        "file": row["file_name"],
        "sha256": row["file_sha256"],
        "frame": row["page_index"],
        "captured_at": row["captured_at"],
        "kind": row["kind"],
        "mean_confidence": row["mean_confidence"],
        "link": {
            "patient_id": row["patient_id"],
            "mrn": row["mrn"],
            "evidence": json.loads(row["link_evidence"] or "[]"),
            "confidence": row["link_confidence"],
        },
        "comparison": row["comparison"],
        "candidates": [_candidate(c) for c in candidates],
    }


def _candidate(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidate_id": row["candidate_id"],
        "line_number": row["line_number"],
        "line_text": row["line_text"],
        "drug": row["drug"],
        "drug_text": row["drug_text"],
        "dose_value": row["dose_value"],
        "dose_unit": row["dose_unit"],
        "route": row["route"],
        "frequency": row["frequency"],
        "as_needed": bool(row["as_needed"]),
        "times": json.loads(row["times"] or "[]"),
        "confidence": row["confidence"],
        "status": row["status"],
    }
