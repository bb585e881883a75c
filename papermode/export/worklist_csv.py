"""The back-entry worklist (CSV): what a clerk must enter into the restored record, in the
order of the hospital's restore plan (`reconcile.priority`), then ward, patient, order and
time, with empty "entered by / when" columns to print and tick off."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from papermode.core.model import Order
from papermode.core.settings import Settings
from papermode.reconcile.categories import Category, RecordMatch
from papermode.reconcile.inputs import ReconcileInput
from papermode.reconcile.items import Item, Reconciliation
from papermode.reconcile.windows import has_word, is_time_critical

COLUMNS = (
    "priority",
    "ward",
    "mrn",
    "patient",
    "order_id",
    "medication",
    "scheduled",
    "occurred",
    "time_source",
    "category",
    "concerns",
    "record",
    "notes",
    "page_id",
    "fields",
    "captures",
    "entered_by",
    "entered_at",
)


def priority_group(order: Order | None, medication: str | None, settings: Settings) -> str:
    """The first group of `reconcile.priority` the item belongs to ("" when none)."""
    for group in settings.reconcile_priority:
        if group == "high_alert" and order is not None and order.high_alert:
            return group
        if group == "time_critical" and order is not None and is_time_critical(order, settings):
            return group
        words = settings.reconcile_priority_words.get(group, ())
        if words and has_word(medication or "", words):
            return group
    return ""


def worklist_items(result: Reconciliation) -> list[Item]:
    """What must be entered or resolved: exportable items not already in the record, and
    what only a person can enter from the paper (blank packs, photocopies kept apart, an
    infusion whose rows cannot be placed: `papermode.reconcile.by_hand`)."""
    return [
        item
        for item in result.items
        if (item.exportable and item.record is not RecordMatch.IN_RECORD)
        or item.category is Category.BY_HAND
    ]


def write_worklist(
    result: Reconciliation,
    source: ReconcileInput,
    settings: Settings,
    *,
    exported_at: datetime,
    chain_head: str,
) -> bytes:
    """The worklist CSV; its first lines (starting with #) say what it holds."""
    ranks = {name: index for index, name in enumerate(settings.reconcile_priority)}
    rows = []
    for item in worklist_items(result):
        group = priority_group(source.orders.get(item.order_id or ""), item.medication, settings)
        rows.append((ranks.get(group, len(ranks)), group, item))
    rows.sort(
        key=lambda row: (
            row[0],
            row[2].ward or "",
            row[2].patient_id,
            row[2].order_id or "~",
            _when(row[2]),
        )
    )
    buffer = io.StringIO()
    when = f"{exported_at:%Y-%m-%d %H:%M}"
    pending = len(result.pending())
    order = " > ".join(settings.reconcile_priority) or "none"
    buffer.write(f"# papermode back-entry worklist, {len(rows)} items, exported {when}\n")
    buffer.write(f"# filters: {_filters(result)}; {pending} items still in review are not listed\n")
    buffer.write(f"# order: {order} > other; audit head {chain_head}\n")
    buffer.write(
        f"# {len(result.by_hand())} items are to back-enter by hand from the paper "
        "(category 'back-enter by hand': blank packs, photocopies kept apart, infusions)\n"
    )
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for _, group, item in rows:
        writer.writerow(_row(item, group or "other", source))
    return buffer.getvalue().encode("utf-8")


def _row(item: Item, group: str, source: ReconcileInput) -> list[str]:
    patient = source.patients.get(item.patient_id)
    return [
        group,
        item.ward or "",
        patient.mrn if patient else "",
        patient.display_name if patient else item.patient_id,
        item.order_id or "",
        _what(item),
        _time(item.scheduled_at),
        _time(item.occurred_at),
        item.time_source or "",
        item.category.label,
        "; ".join(c.label for c in item.concerns),
        item.record.value if item.record else "",
        "; ".join(item.notes + ((item.record_note,) if item.record_note else ())),
        " ".join(sorted({e.page_id for e in item.evidence})),
        " ".join(e.field_id for e in item.evidence),
        " ".join(item.captures),
        "",
        "",
    ]


def _what(item: Item) -> str:
    if item.kind == "vital":
        if item.components:
            return "BP " + "/".join(f"{value:g}" for _, value in item.components) + " mmHg"
        if item.quantity is None:
            return f"{item.code} {item.value_text or ''}".strip()
        return f"{item.code} {item.quantity:g} {item.unit or ''}".strip()
    if item.kind == "infusion":
        return f"{item.medication or ''}: {item.infusion_text}"
    return item.medication or item.kind.replace("_", " ")


def _when(item: Item) -> str:
    moment = item.occurred_at or item.scheduled_at
    return moment.isoformat() if moment else ""


def _time(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def _filters(result: Reconciliation) -> str:
    return ", ".join(f"{k}={v}" for k, v in result.filters.items()) or "whole store"
