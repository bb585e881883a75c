"""The current state of read pages and the outcome of every ingested file.

This is the `papermode readings --json` contract (docs/readings.md): others build on it.
"""

from __future__ import annotations

import json
from typing import Any

from papermode.core.flags import FileStatus
from papermode.reading.page import PRINTED_ID_AGREES, identity_method
from papermode.state.free_photos import free_photo_entries
from papermode.state.page_state import SheetState, page_sheets
from papermode.state.sheets import COPY_FLAG
from papermode.store.database import Store


def readings_report(
    store: Store, *, page_id: str | None = None, mrn: str | None = None
) -> dict[str, Any]:
    """`{"pages": [...], "files": [...], "free_photos": [...]}` for the whole store or one
    page / patient (a page asked for: no free photo)."""
    pages = _pages(store, page_id=page_id, mrn=mrn)
    page_ids = {page["page_id"] for page in pages}
    files = _files(store)
    if page_id or mrn:
        files = [entry for entry in files if entry["page_id"] in page_ids]
    photos = [] if page_id else free_photo_entries(store, mrn=mrn)
    return {"pages": pages, "files": files, "free_photos": photos}


def _pages(store: Store, *, page_id: str | None, mrn: str | None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM pages WHERE page_id IN (SELECT DISTINCT page_id FROM page_state)"
    params: list[str] = []
    if page_id:
        sql += " AND page_id = ?"
        params.append(page_id)
    if mrn:
        sql += " AND mrn = ?"
        params.append(mrn)
    sql += " ORDER BY ward, pdf, pdf_page"
    return [_page_entry(store, row) for row in store.db.query(sql, params)]


def _page_entry(store: Store, page: dict[str, Any]) -> dict[str, Any]:
    sheets = page_sheets(store, page["page_id"])
    sheet_of = {
        capture: number
        for number, sheet in enumerate(sheets, start=1)
        for merged, _, _ in sheet
        for capture in merged.captures
    }
    captures = [
        {
            "capture_id": row["capture_id"],
            "file": row["name"],
            "sha256": row["sha256"],
            "frame": row["frame"],
            "captured_at": row["captured_at"],
            "ingested_at": row["ingested_at"],
            "identity_source": row["identity_source"],
            "mrn_check": row["mrn_check"],
            "identity": _identity(row),
            "sheet": sheet_of.get(row["capture_id"], 1),
            "scan_1bit": bool(json.loads(row["quality"] or "{}").get("scan_1bit")),
        }
        for row in store.db.query(
            "SELECT * FROM captures WHERE page_id = ? AND status = 'read' "
            "ORDER BY captured_at, capture_id",
            [page["page_id"]],
        )
    ]
    fields = [
        {
            "field_id": row["field_id"],
            "kind": row["kind"],
            "role": row["role"],
            "order_id": row["order_id"],
            "scheduled": row["scheduled"],
            "code": row["code"],
            "group": row["grp"],
            "option": row["option_value"],
            "value": row["value"],
            "confidence": row["confidence"],
            "status": row["status"],
            "flags": json.loads(row["flags"] or "[]"),
            "captures": json.loads(row["captures"] or "[]"),
            "suggestion": row["suggestion"],
        }
        for row in store.db.query(
            "SELECT s.*, f.kind, f.role, f.order_id, f.scheduled, f.code, f.grp, "
            "f.value AS option_value FROM page_state s JOIN fields f "
            "ON f.page_id = s.page_id AND f.field_id = s.field_id "
            "WHERE s.page_id = ? ORDER BY f.position",
            [page["page_id"]],
        )
    ]
    return {
        "page_id": page["page_id"],
        "template": page["template"],
        "patient_id": page["patient_id"],
        "mrn": page["mrn"],
        "ward": page["ward"],
        "page_number": page["page_number"],
        "page_count": page["page_count"],
        "captures": captures,
        # A 1-bit scan cannot prove an empty box whose border it lost: those are in review.
        "scan_1bit": any(capture["scan_1bit"] for capture in captures),
        "fields": fields,
        "copies": max(1, len(sheets)),
        "sheets": [
            _sheet_entry(n, sheet, [c["capture_id"] for c in captures if c["sheet"] == n])
            for n, sheet in enumerate(sheets, start=1)
        ],
    }


def _identity(capture: dict[str, Any]) -> str:
    quality = json.loads(capture["quality"] or "{}")
    agrees = quality.get(PRINTED_ID_AGREES)
    printed = None if agrees is None else ("match" if agrees == 1.0 else "unread")
    return identity_method(capture["identity_source"], capture["mrn_check"], printed)


def _sheet_entry(number: int, sheet: SheetState, captures: list[str]) -> dict[str, Any]:
    """One sheet of paper with this page id; its own fields only when there are copies."""
    entry: dict[str, Any] = {"sheet": number, "captures": captures}
    if any(COPY_FLAG in merged.flags for merged, _, _ in sheet):
        entry["fields"] = [
            {
                "field_id": merged.field_id,
                "value": merged.value,
                "confidence": merged.confidence,
                "status": merged.status,
                "flags": list(merged.flags),
            }
            for merged, _, _ in sheet
        ]
    return entry


def _files(store: Store) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for ingest in store.db.query("SELECT * FROM ingests ORDER BY ingest_id"):
        captures = list(
            store.db.query(
                "SELECT * FROM captures WHERE sha256 = ? ORDER BY frame", [ingest["sha256"]]
            )
        )
        if ingest["status"] == FileStatus.DUPLICATE or not captures:
            entries.append(
                _file_entry(
                    ingest, None, ingest["status"], ingest["message"], 0, _first_page(captures)
                )
            )
            continue
        for row in captures:
            status = (
                row["status"]
                if row["page_id"] or row["status"] != FileStatus.READ
                else FileStatus.QUARANTINED
            )
            entries.append(
                _file_entry(
                    ingest, row["frame"], status, row["message"], row["frame"], row["page_id"]
                )
            )
    return entries


def _first_page(captures: list[dict[str, Any]]) -> str | None:
    return next((row["page_id"] for row in captures if row["page_id"]), None)


def _file_entry(
    ingest: dict[str, Any],
    frame: int | None,
    status: str,
    message: str | None,
    default_frame: int,
    page_id: str | None,
) -> dict[str, Any]:
    return {
        "file": ingest["name"],
        "sha256": ingest["sha256"],
        "frame": frame if frame is not None else default_frame,
        "page_id": page_id,
        "status": status,
        "message": message,
        "ingested_at": ingest["ingested_at"],
    }
