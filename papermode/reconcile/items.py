"""The items a reconciliation reports: one per administration, vital sign or new order,
each with its category and its provenance (which captures, page, fields, reviewers)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from papermode.reconcile.categories import ADMINISTRATION_CATEGORIES, Category, RecordMatch
from papermode.reconcile.inputs import FieldState

ItemKind = Literal[
    "administration", "prn", "vital", "new_order", "order", "infusion", "blank_pack", "sheet",
    "write_in",  # a multi-day MAR's write-in order (by_hand.py)
]  # fmt: skip
TimeSource = Literal["written", "scheduled"]


@dataclass(frozen=True)
class Evidence:
    """One field an item rests on, as the store holds it now."""

    page_id: str
    field_id: str
    role: str | None
    value: str | None
    status: str
    captures: tuple[str, ...]
    decided_by: tuple[str, ...]
    has_crop: bool
    first_seen: datetime | None

    @classmethod
    def of(cls, state: FieldState) -> Evidence:
        return cls(
            state.page_id,
            state.field.field_id,
            state.field.role,
            state.value,
            state.status,
            state.captures,
            state.decided_by,
            state.has_crop,
            state.first_seen,
        )


@dataclass(frozen=True)
class NewOrder:
    """An order written on the new-order sheet, as a reviewer confirmed it."""

    drug: str
    dose: float | None
    unit: str | None
    route: str | None
    frequency: str | None
    prescriber: str | None  # the printed name, else the name read from the signature
    read_back: bool
    written_at: datetime | None = None  # the date and time written on the sheet


@dataclass(frozen=True)
class Item:
    """One thing the paper says (or should say), and what reconciliation makes of it."""

    item_id: str
    kind: ItemKind
    category: Category
    patient_id: str
    ward: str | None
    order_id: str | None = None
    medication: str | None = None
    high_alert: bool = False
    scheduled_at: datetime | None = None
    occurred_at: datetime | None = None
    time_source: TimeSource | None = None
    concerns: tuple[Category, ...] = ()
    notes: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    code: str | None = None  # vital signs: LOINC
    quantity: float | None = None  # vital value or PRN dose
    unit: str | None = None
    components: tuple[tuple[str, float], ...] = ()  # blood pressure: (LOINC, value)
    value_text: str | None = None  # vital signs: an answer ticked (ACVPU, air or O2 device)
    new_order: NewOrder | None = None
    exportable: bool = False
    record: RecordMatch | None = None
    record_note: str | None = None
    performer: str | None = None  # from the page's signature legend (reconcile.performer)
    reason: str | None = None  # held / refused: the legend's reason (core/reasons.py key)
    event: str | None = None  # infusions: start, change, bag or stop (reconcile.infusions)
    ends_at: datetime | None = None  # infusions: when the period ended (the next event)
    # PRN: the second people whose initials are on the entry, as FHIR performer functions
    # ("verifier": the high-alert second check, "witness": a controlled drug's witness)
    checked_by: tuple[str, ...] = ()
    site: str | None = None  # PRN SC / IM: the injection site (papermode.core.sites key)

    @property
    def infusion_text(self) -> str:
        """ "change to 20 mL/h, until 28/11 22:00": an infusion period, for the worklist."""
        rate = f" {self.quantity:g} {self.unit or ''}".rstrip() if self.quantity is not None else ""
        words = {"start": "start at", "change": "change to", "bag": "new bag at"}
        text = f"{words.get(self.event or '', self.event or 'row')}{rate}"
        if self.event == "stop" and self.ends_at is not None:
            return f"stop at {self.ends_at:%d/%m %H:%M}"
        if self.ends_at is not None:
            return f"{text}, until {self.ends_at:%d/%m %H:%M}"
        return text

    @property
    def categories(self) -> tuple[Category, ...]:
        return (self.category, *self.concerns)

    @property
    def captures(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for e in self.evidence for c in e.captures))

    @property
    def reviewers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for e in self.evidence for r in e.decided_by))

    @property
    def recorded_at(self) -> datetime | None:
        """When papermode first saw this on paper (the first capture showing a mark)."""
        seen = [e.first_seen for e in self.evidence if e.first_seen is not None]
        return min(seen) if seen else None

    @property
    def is_administration(self) -> bool:
        return self.kind in ("administration", "prn") and self.category in (
            ADMINISTRATION_CATEGORIES
        )

    def with_concern(self, concern: Category, note: str | None = None) -> Item:
        if concern in self.concerns:
            return self
        notes = self.notes + ((note,) if note else ())
        return replace(self, concerns=self.concerns + (concern,), notes=notes)


@dataclass(frozen=True)
class Reconciliation:
    """Every item of the paper record, in the order a clerk enters it."""

    items: tuple[Item, ...]
    restored: bool = False  # matched against a restored record (`--restored`)
    filters: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Items per category (outcomes and concerns), every category listed."""
        counted = Counter(c.value for item in self.items for c in item.categories)
        return {c.value: counted.get(c.value, 0) for c in Category}

    def record_counts(self) -> dict[str, int]:
        counted = Counter(item.record.value for item in self.items if item.record is not None)
        return {m.value: counted.get(m.value, 0) for m in RecordMatch}

    def exportable(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.exportable)

    def pending(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.category is Category.PENDING)

    def by_hand(self) -> tuple[Item, ...]:
        """On paper but not exportable: a clerk back-enters them from the paper (worklist)."""
        return tuple(item for item in self.items if item.category is Category.BY_HAND)


def sort_items(items: Sequence[Item]) -> tuple[Item, ...]:
    """Patient, then order, then time: the order a clerk enters them in."""

    def key(item: Item) -> tuple[str, str, str, str]:
        moment = item.occurred_at or item.scheduled_at
        return (
            item.ward or "",
            item.patient_id,
            item.order_id or f"~{item.kind}",
            moment.isoformat() if moment else "",
        )

    return tuple(sorted(items, key=lambda item: (*key(item), item.item_id)))
