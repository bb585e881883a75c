"""A review queue item: one thing a person must decide (`as_json`: docs/review-queue.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from papermode.review.decisions import ItemFacts, Needed, ReviewState


@dataclass(frozen=True)
class QueueItem:
    """One thing a person must decide; `as_json` is the docs/review-queue.md contract."""

    item_id: str
    kind: str  # field, identity, retake, quarantined, unphotographed
    level: str
    ward: str | None = None
    patient_id: str | None = None
    page_id: str | None = None
    template: str | None = None
    field_id: str | None = None
    field_kind: str | None = None
    role: str | None = None
    order_id: str | None = None
    scheduled: str | None = None
    label: str | None = None
    option: str | None = None
    value: str | None = None
    suggestion: str | None = None
    confidence: float | None = None
    machine_status: str | None = None
    flags: tuple[str, ...] = ()
    two_person: bool = False
    blind: bool = False
    capture_id: str | None = None
    compare_capture: str | None = None  # the other capture the reviewer compares with
    file: str | None = None
    message: str | None = None
    sort_key: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    state: ReviewState | None = field(default=None, compare=False)
    priority: int = 0

    @property
    def facts(self) -> ItemFacts:
        return ItemFacts(self.item_id, self.value, self.two_person, self.blind)

    @property
    def needed(self) -> Needed:
        return self.state.needed if self.state else "first"

    def as_json(self, *, hide_first_value: bool = False) -> dict[str, Any]:
        state = self.state
        flags = list(dict.fromkeys(self.flags + (state.flags if state else ())))
        decided = state is not None and state.needed == "none"
        return {
            "item_id": self.item_id,
            "priority": self.priority,
            "level": self.level,
            "kind": self.kind,
            "ward": self.ward,
            "patient_id": self.patient_id,
            "page_id": self.page_id,
            "template": self.template,
            "field_id": self.field_id,
            "field_kind": self.field_kind,
            "role": self.role,
            "order_id": self.order_id,
            "scheduled": self.scheduled,
            "option": self.option,
            "value": None if hide_first_value else self.value,
            "suggestion": None if hide_first_value else self.suggestion,
            "confidence": self.confidence,
            "machine_status": self.machine_status,
            "flags": flags,
            "two_person": self.two_person,
            "blind": self.blind,
            "needed": self.needed,
            "outcome": state.outcome if state else "review",
            "decided_value": state.value if decided and state else None,
            "reviewers": list(state.reviewers) if state else [],
            "capture_id": self.capture_id,
            "compare_capture": self.compare_capture,
            "file": self.file,
            "message": self.message,
        }
