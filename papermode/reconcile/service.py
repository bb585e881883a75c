"""Reconcile a store: load its pages and field states, apply the rules, match the restored
record when given, and describe the result as JSON (`papermode reconcile --json`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from papermode.core.settings import Settings
from papermode.reconcile.inputs import Decision, ReconcileInput, load_input
from papermode.reconcile.items import Item, Reconciliation
from papermode.reconcile.restored import match_restored, read_restored
from papermode.reconcile.reviewed import reviewed_store
from papermode.reconcile.rules import reconcile
from papermode.store.audit import anchor_head
from papermode.store.database import Store

JSON_VERSION = 2  # 2: infusion periods and by-hand items are items (no `not_reconciled`)


def reconcile_store(
    store: Store,
    settings: Settings,
    *,
    ward: str | None = None,
    mrn: str | None = None,
    restored: Path | None = None,
    decisions: Mapping[tuple[str, str], Decision] | None = None,
) -> tuple[Reconciliation, ReconcileInput]:
    """The reconciliation of the store (optionally one ward or patient) and its input.

    The store's review queue (`papermode.reconcile.reviewed`) says which fields a person
    decided and which still wait; `decisions` given by the caller are laid over it.
    """
    reviewed, sheets = reviewed_store(store)
    decisions = {**reviewed, **(decisions or {})}
    source = replace(load_input(store, ward=ward, mrn=mrn, decisions=decisions), sheets=sheets)
    record = read_restored(restored) if restored is not None else None
    result = reconcile(source, settings, order_ends=record.order_ends() if record else None)
    if record is not None:
        window = timedelta(minutes=settings.reconcile_match_minutes)
        result = match_restored(result, record, window=window)
    filters = {key: value for key, value in (("ward", ward), ("mrn", mrn)) if value}
    return Reconciliation(result.items, result.restored, filters), source


def record_reconciliation(store: Store, result: Reconciliation) -> None:
    """Append the run to the audit chain (counts only) and anchor the chain's head."""
    counts = {name: n for name, n in result.counts().items() if n}
    detail = {"items": len(result.items), "restored": result.restored, "counts": counts}
    with store.transaction():
        store.audit("reconcile", "store", detail | {"filters": sorted(result.filters)})
    anchor_head(store)


def reconciliation_json(result: Reconciliation, source: ReconcileInput) -> dict[str, Any]:
    """The `reconcile --json` document (docs/reconcile.md): counts, then every item."""
    return {
        "version": JSON_VERSION,
        "restored": result.restored,
        "filters": result.filters,
        "counts": result.counts(),
        "record": result.record_counts() if result.restored else None,
        "exportable": len(result.exportable()),
        "pending": len(result.pending()),
        "by_hand": len(result.by_hand()),
        "items": [item_json(item, source) for item in result.items],
    }


def item_json(item: Item, source: ReconcileInput) -> dict[str, Any]:
    """One item with its provenance: captures, pages, fields, reviewers, times."""
    patient = source.patients.get(item.patient_id)
    captures = [source.captures[c] for c in item.captures if c in source.captures]
    return {
        "item_id": item.item_id,
        "kind": item.kind,
        "category": item.category.value,
        "concerns": [c.value for c in item.concerns],
        "patient_id": item.patient_id,
        "mrn": patient.mrn if patient else None,
        "ward": item.ward,
        "order_id": item.order_id,
        "medication": item.medication,
        "high_alert": item.high_alert,
        "scheduled": _iso(item.scheduled_at),
        "occurred": _iso(item.occurred_at),
        "ends": _iso(item.ends_at),
        "event": item.event,
        "time_source": item.time_source,
        "reason": item.reason,
        "recorded": _iso(item.recorded_at),
        "code": item.code,
        "value": item.quantity,
        "unit": item.unit,
        "components": [{"code": c, "value": v} for c, v in item.components],
        "new_order": item.new_order.__dict__ if item.new_order else None,
        "exportable": item.exportable,
        "record": item.record.value if item.record else None,
        "record_note": item.record_note,
        "notes": list(item.notes),
        "reviewers": list(item.reviewers),
        "performer": item.performer,
        "checked_by": list(item.checked_by),  # PRN: "verifier", "witness"
        "site": item.site,
        "evidence": [
            {
                "page_id": e.page_id,
                "field_id": e.field_id,
                "role": e.role,
                "value": e.value,
                "status": e.status,
                "captures": list(e.captures),
                "decided_by": list(e.decided_by),
                "crop": e.has_crop,
            }
            for e in item.evidence
        ],
        "captures": [
            {
                "capture_id": c.capture_id,
                "sha256": c.sha256,
                "file": c.file_name,
                "captured_at": _iso(c.captured_at),
                "ingested_at": _iso(c.ingested_at),
            }
            for c in captures
        ],
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat(timespec="minutes") if moment is not None else None
