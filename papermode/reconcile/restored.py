"""The restored system's export for the outage window (a FHIR R4 Bundle), matched against
the paper: each item is already in the record, to back-enter, or a conflict.

Matching is by order id, patient and a time window (`reconcile.match_minutes`), or by
papermode's own identifier when an earlier export was uploaded; never by name alone.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from papermode.core.errors import RestoredBundleError
from papermode.reconcile.categories import GIVEN_CATEGORIES, Category, RecordMatch
from papermode.reconcile.identity import identifier_token
from papermode.reconcile.items import Item, Reconciliation, sort_items

logger = logging.getLogger(__name__)
ENDED = frozenset({"stopped", "completed", "cancelled", "entered-in-error"})


@dataclass(frozen=True)
class RecordEntry:
    """One resource of the restored record, reduced to what matching needs."""

    resource_type: str
    resource_id: str
    patient_id: str | None
    order_id: str | None = None
    at: datetime | None = None
    status: str | None = None
    code: str | None = None  # Observation: LOINC
    values: tuple[tuple[str, float], ...] = ()  # Observation: (LOINC, value)
    identifiers: tuple[str, ...] = ()  # "system|value"
    ends_at: datetime | None = None  # MedicationRequest: when it stopped; an infusion's end
    rate: float | None = None  # MedicationAdministration: dosage.rateQuantity.value


@dataclass(frozen=True)
class RestoredRecord:
    entries: tuple[RecordEntry, ...]

    def by_type(self, resource_type: str) -> list[RecordEntry]:
        return [e for e in self.entries if e.resource_type == resource_type]

    def order_ends(self) -> dict[str, datetime]:
        return {
            e.resource_id: e.ends_at
            for e in self.by_type("MedicationRequest")
            if e.ends_at is not None and e.status in ENDED
        }

    def stopped_orders(self) -> list[RecordEntry]:
        return [e for e in self.by_type("MedicationRequest") if e.status in ENDED]


def read_restored(path: Path) -> RestoredRecord:
    """Read the restored system's Bundle; RestoredBundleError when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RestoredBundleError(
            f"{path.name}: not a readable JSON file ({type(error).__name__}).",
            advice="Ask IT for the restored system's FHIR R4 Bundle export (JSON) of the "
            "outage window and pass it with --restored.",
        ) from error
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise RestoredBundleError(
            f"{path.name}: not a FHIR Bundle (resourceType is not 'Bundle').",
            advice="Export a Bundle of MedicationAdministration, Observation and "
            "MedicationRequest resources for the outage window and pass it with --restored.",
        )
    resources = [entry.get("resource") for entry in document.get("entry") or []]
    return RestoredRecord(
        tuple(entry for r in resources if isinstance(r, dict) for entry in _entries(r))
    )


def _entries(resource: dict[str, Any]) -> list[RecordEntry]:
    kind = resource.get("resourceType")
    base = RecordEntry(
        resource_type=str(kind),
        resource_id=str(resource.get("id") or ""),
        patient_id=_ref_id(resource.get("subject"), "Patient"),
        status=resource.get("status"),
        identifiers=tuple(
            f"{i.get('system', '')}|{i.get('value', '')}" for i in resource.get("identifier") or []
        ),
    )
    if kind == "MedicationAdministration":
        at = _moment(resource.get("effectiveDateTime")) or _moment(
            (resource.get("effectivePeriod") or {}).get("start")
        )
        order = _ref_id(resource.get("request"), "MedicationRequest")
        ends = _moment((resource.get("effectivePeriod") or {}).get("end"))
        return [replace(base, order_id=order, at=at, ends_at=ends, rate=_rate(resource))]
    if kind == "Observation":
        return [_observation(resource, base)]
    if kind == "MedicationRequest":
        return [replace(base, order_id=base.resource_id, ends_at=_order_end(resource))]
    return []


def _rate(resource: dict[str, Any]) -> float | None:
    dosage = resource.get("dosage")
    quantity = dosage.get("rateQuantity") if isinstance(dosage, dict) else None
    try:
        return float(quantity["value"]) if isinstance(quantity, dict) else None
    except (KeyError, TypeError, ValueError):
        return None


def _observation(resource: dict[str, Any], base: RecordEntry) -> RecordEntry:
    code = _loinc(resource.get("code"))
    values = []
    if code and "valueQuantity" in resource:
        values.append((code, float(resource["valueQuantity"].get("value", "nan"))))
    for component in resource.get("component") or []:
        component_code = _loinc(component.get("code"))
        if component_code and "valueQuantity" in component:
            values.append((component_code, float(component["valueQuantity"].get("value", "nan"))))
    at = _moment(resource.get("effectiveDateTime"))
    return replace(base, at=at, code=code, values=tuple(values))


def _loinc(concept: Any) -> str | None:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") == "http://loinc.org":
            return str(coding.get("code"))
    return None


def _order_end(resource: dict[str, Any]) -> datetime | None:
    for dosage in resource.get("dosageInstruction") or []:
        bounds = ((dosage.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
        if bounds.get("end"):
            return _moment(bounds["end"])
    validity = (resource.get("dispenseRequest") or {}).get("validityPeriod") or {}
    return _moment(validity.get("end"))


def _ref_id(reference: Any, kind: str) -> str | None:
    text = (reference or {}).get("reference") if isinstance(reference, dict) else None
    if not isinstance(text, str) or not text.startswith(kind + "/"):
        return None
    return text.split("/", 1)[1]


def _moment(text: Any) -> datetime | None:
    """A FHIR dateTime as the hospital's naive local wall-clock time (as on the paper):
    a time with an offset is converted to this machine's local time first."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


# --------------------------------------------------------------------------- matching


def match_restored(
    reconciliation: Reconciliation, record: RestoredRecord, *, window: timedelta
) -> Reconciliation:
    """Each settled paper item against the record; stopped orders added as items."""
    administrations = defaultdict(list)
    for entry in record.by_type("MedicationAdministration"):
        administrations[(entry.order_id, entry.patient_id)].append(entry)
    observations = defaultdict(list)
    for entry in record.by_type("Observation"):
        observations[entry.patient_id].append(entry)
    items = []
    for item in reconciliation.items:
        if item.category is Category.PENDING:
            items.append(item)
        elif item.kind in ("administration", "prn"):
            candidates = administrations.get((item.order_id, item.patient_id), [])
            items.append(_match_dose(item, candidates, window, identifier_token(item)))
        elif item.kind == "infusion" and item.category is Category.INFUSION:
            candidates = administrations.get((item.order_id, item.patient_id), [])
            items.append(_match_infusion(item, candidates, window, identifier_token(item)))
        elif item.kind == "vital":
            items.append(_match_vital(item, observations.get(item.patient_id, []), window))
        elif item.kind == "new_order":
            note = "the new-order sheet has no time to match on: look the order up"
            items.append(replace(item, record=RecordMatch.TO_BACK_ENTER, record_note=note))
        else:
            items.append(item)
    items += _stopped_items(reconciliation, record)
    return Reconciliation(sort_items(items), restored=True, filters=reconciliation.filters)


def _match_dose(
    item: Item, candidates: list[RecordEntry], window: timedelta, identifier: str
) -> Item:
    same = [c for c in candidates if identifier in c.identifiers]
    moment = item.occurred_at or item.scheduled_at
    near = [c for c in candidates if c.at and moment and abs(c.at - moment) <= window]
    found = same or sorted(near, key=lambda c: abs((c.at or moment) - moment) if moment else 0)
    if not found:
        if item.category is Category.NOT_DOCUMENTED:
            return item
        return replace(item, record=RecordMatch.TO_BACK_ENTER)
    entry = found[0]
    reference = f"MedicationAdministration/{entry.resource_id}"
    if item.category is Category.NOT_DOCUMENTED:
        note = f"not on paper, but the record has {reference} ({entry.status})"
        return replace(item, record=RecordMatch.IN_RECORD, record_note=note)
    if item.category is Category.DOCUMENTED_TWICE:
        return replace(item, record=RecordMatch.CONFLICT, record_note=f"record: {reference}")
    given = item.category in GIVEN_CATEGORIES
    agrees = (entry.status == "completed") == given and entry.status != "entered-in-error"
    if agrees:
        return replace(item, record=RecordMatch.IN_RECORD, record_note=reference)
    note = f"the record says {entry.status} ({reference}); the paper says {item.category.label}"
    logger.info("%s: conflict with %s", item.item_id, reference)
    return replace(item, record=RecordMatch.CONFLICT, record_note=note)


def _match_infusion(
    item: Item, candidates: list[RecordEntry], window: timedelta, identifier: str
) -> Item:
    """A period of an infusion against the record's administrations of its order: by our
    identifier, else by its start (a stop alone: by its end) within the window."""

    def moment(entry: RecordEntry) -> datetime | None:
        return entry.ends_at if item.event == "stop" else entry.at

    wanted = item.ends_at if item.event == "stop" else item.occurred_at
    near = [
        c
        for c in candidates
        if wanted is not None and (at := moment(c)) is not None and abs(at - wanted) <= window
    ]
    near.sort(key=lambda c: abs((moment(c) or wanted) - wanted) if wanted else timedelta(0))
    found = [c for c in candidates if identifier in c.identifiers] or near
    if not found:
        return replace(item, record=RecordMatch.TO_BACK_ENTER)
    entry = found[0]
    reference = f"MedicationAdministration/{entry.resource_id}"
    if entry.status in ("not-done", "entered-in-error"):
        note = f"the record says {entry.status} ({reference}); the paper charts it running"
        return replace(item, record=RecordMatch.CONFLICT, record_note=note)
    if (
        entry.rate is not None
        and item.quantity is not None
        and abs(entry.rate - item.quantity) > 1e-6
    ):
        note = (
            f"the record has {entry.rate:g} {item.unit or ''} ({reference}); the paper "
            f"{item.quantity:g}"
        )
        return replace(item, record=RecordMatch.CONFLICT, record_note=note)
    return replace(item, record=RecordMatch.IN_RECORD, record_note=reference)


def _match_vital(item: Item, candidates: list[RecordEntry], window: timedelta) -> Item:
    wanted = dict(item.components) if item.components else {item.code or "": item.quantity}
    moment = item.occurred_at
    near = [
        c
        for c in candidates
        if c.at and moment and abs(c.at - moment) <= window and set(dict(c.values)) & set(wanted)
    ]
    if not near:
        return replace(item, record=RecordMatch.TO_BACK_ENTER)
    entry = min(near, key=lambda c: abs((c.at or moment) - moment) if moment else 0)
    recorded = dict(entry.values)
    differs = [
        code
        for code, value in wanted.items()
        if code in recorded and value is not None and abs(recorded[code] - value) > 1e-6
    ]
    reference = f"Observation/{entry.resource_id}"
    if differs:
        note = f"the record has other values ({reference})"
        return replace(item, record=RecordMatch.CONFLICT, record_note=note)
    return replace(item, record=RecordMatch.IN_RECORD, record_note=reference)


def _stopped_items(reconciliation: Reconciliation, record: RestoredRecord) -> list[Item]:
    on_paper = {item.order_id: item for item in reconciliation.items if item.order_id}
    items = []
    for entry in record.stopped_orders():
        paper = on_paper.get(entry.resource_id)
        if paper is None:
            continue
        end = f" at {entry.ends_at:%Y-%m-%d %H:%M}" if entry.ends_at else " (no end time given)"
        items.append(
            Item(
                item_id=f"order:{entry.resource_id}",
                kind="order",
                category=Category.STOPPED_ORDER,
                patient_id=paper.patient_id,
                ward=paper.ward,
                order_id=entry.resource_id,
                medication=paper.medication,
                high_alert=paper.high_alert,
                occurred_at=entry.ends_at,
                notes=(f"the record says {entry.status}{end}",),
                record=RecordMatch.IN_RECORD,
                record_note=f"MedicationRequest/{entry.resource_id}",
            )
        )
    return items
