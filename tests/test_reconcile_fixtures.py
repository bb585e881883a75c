"""Hand-built reconcile inputs for the pure rule tests: printed fields with states."""

from __future__ import annotations

from datetime import datetime, timedelta

from papermode.core.model import Box, Field, Order, Patient, Timing
from papermode.reconcile.inputs import CaptureInfo, FieldState, PageInput, ReconcileInput

DAY = datetime(2026, 11, 28, 8, 0)
WARD = "Ward 3B"
BOX = Box(0, 0, 5, 5)
PATIENT = Patient("p1", "MRN0001", "DUPONT", "Hélène", ward=WARD, encounter="enc-1")


def order(order_id: str = "o1", **changes: object) -> Order:
    fields: dict[str, object] = {
        "order_id": order_id,
        "patient_id": "p1",
        "medication": "Cefazolin 2 g",
        "dose_value": 2.0,
        "dose_unit": "g",
        "route": "IV",
        "timing": Timing(code="q8h"),
        "authored_on": DAY - timedelta(days=2),
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


def state(
    page_id: str,
    field: Field,
    value: str | None,
    status: str = "auto",
    *,
    decided_by: tuple[str, ...] = (),
    capture: str = "cap-1",
) -> FieldState:
    seen = DAY + timedelta(hours=10) if value not in (None, "empty") else None
    return FieldState(
        page_id,
        field,
        value,
        status,
        captures=(capture,),
        decided_by=decided_by,
        has_crop=True,
        first_seen=seen,
    )


def mar_cell(
    page_id: str,
    order_id: str,
    scheduled: datetime,
    *,
    answer: str | None = None,
    time: str | None = None,
    initials: bool | None = None,
    second: bool | None = None,
    status: dict[str, str] | None = None,
    extra_ticks: tuple[str, ...] = (),
    reason: str | None = None,
) -> list[FieldState]:
    """The fields of one MAR cell: given/held/refused, time, initials, the reason's number
    (+ second initials)."""
    status = status or {}
    prefix = f"mar.{order_id}.{scheduled:%Y%m%dT%H%M}"
    common = {"order_id": order_id, "scheduled": scheduled}
    states = []
    for role in ("given", "held", "refused"):
        printed = Field(
            f"{prefix}.{role}", "checkbox", BOX, role, group=prefix, value=role, **common
        )
        value = "ticked" if role == answer or role in extra_ticks else "empty"
        states.append(state(page_id, printed, value, status.get(role, "auto")))
    printed = Field(f"{prefix}.time", "digits", BOX, "time", cells=4, **common)
    states.append(state(page_id, printed, time or "empty", status.get("time", "auto")))
    inked = initials if initials is not None else answer is not None
    printed = Field(f"{prefix}.initials", "signature", BOX, "initials", **common)
    states.append(state(page_id, printed, "ink" if inked else "empty"))
    printed = Field(f"{prefix}.reason", "digits", BOX, "reason", cells=1, **common)
    states.append(state(page_id, printed, reason or "empty", status.get("reason", "auto")))
    if second is not None:
        printed = Field(f"{prefix}.second_initials", "signature", BOX, "second_initials", **common)
        states.append(state(page_id, printed, "ink" if second else "empty"))
    return states


def page(
    page_id: str,
    template: str,
    states: list[FieldState],
    *,
    captured: bool = True,
) -> PageInput:
    return PageInput(
        page_id=page_id,
        template=template,
        snapshot_id="snap-1",
        patient_id="p1",
        ward=WARD,
        period_start=DAY,
        period_end=DAY + timedelta(hours=24),
        states=tuple(states),
        captures=("cap-1",) if captured else (),
    )


def source(pages: list[PageInput], orders: list[Order]) -> ReconcileInput:
    capture = CaptureInfo("cap-1", "ab" * 32, "capture-0001.jpg", DAY + timedelta(hours=10), None)
    return ReconcileInput(
        tuple(pages),
        {o.order_id: o for o in orders},
        {"p1": PATIENT},
        {"cap-1": capture},
    )


def prn_entry(
    page_id: str, order_id: str, number: int, time: str, dose: str, status: str = "auto"
) -> list[FieldState]:
    prefix = f"prn.{order_id}.{number}"
    return [
        state(
            page_id,
            Field(f"{prefix}.time", "digits", BOX, "time", cells=4, order_id=order_id),
            time,
        ),
        state(
            page_id,
            Field(f"{prefix}.dose", "digits", BOX, "dose", cells=3, order_id=order_id),
            dose,
            status,
        ),
        state(
            page_id,
            Field(f"{prefix}.initials", "signature", BOX, "initials", order_id=order_id),
            "ink",
        ),
    ]


def vital(
    page_id: str, moment: datetime, name: str, code: str, value: str, status: str = "auto"
) -> FieldState:
    printed = Field(
        f"vitals.{moment:%Y%m%dT%H%M}.{name}",
        "digits",
        BOX,
        "vital",
        cells=3,
        code=code,
        scheduled=moment,
    )
    return state(page_id, printed, value, status)
