"""As-needed (PRN) administrations: one item per filled entry line of the PRN record.

An entry is a dose given at its ticked date and written time; an entry whose date is not
ticked (or ticked twice) is never exported: it waits for a person (`pending`). The second
check (high-alert) and the witness (controlled drug) are kept as FHIR performer functions
`verifier` and `witness`; a dose without the one its page asked for carries the concern
`no_second_initials` / `no_witness`. Doses of one order are checked against the
order's maximum per period ("6 doses / 24 h") and its minimum interval (q4h): a dose
beyond either is an extra dose.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta

from papermode.core.model import Order
from papermode.core.settings import Settings
from papermode.core.sites import site_of
from papermode.reading.plausibility import parse_hhmm
from papermode.reconcile.categories import Category
from papermode.reconcile.inputs import FieldState, PageInput, ReconcileInput
from papermode.reconcile.items import Evidence, Item
from papermode.reconcile.windows import dosing_interval

logger = logging.getLogger(__name__)
# The boxes of one PRN entry (printing/layout/prn.py); pages printed before the date ticks
# have only time, dose and initials.
ENTRY_ROLES = frozenset({"date", "time", "dose", "site", "initials", "second_initials",
                         "witness", "prn_reason", "effect_time", "effect"})  # fmt: skip
NO_DATE = "PRN dose without a ticked date: a person must find the date (never exported)"
_MAX = re.compile(r"^\s*(\d+)\s*(?:doses?|x)?\s*/\s*(\d+(?:\.\d+)?)\s*(h|d)\b", re.IGNORECASE)


def max_per_period(order: Order) -> tuple[int, timedelta] | None:
    """ "6 doses / 24 h" -> (6, 24 h); None when the order gives no maximum we can read."""
    match = _MAX.match(order.max_per_period or "")
    if not match:
        return None
    hours = float(match.group(2)) * (24 if match.group(3).lower() == "d" else 1)
    return int(match.group(1)), timedelta(hours=hours)


def prn_items(source: ReconcileInput, settings: Settings) -> list[Item]:
    """Every filled PRN entry, with extra doses marked per order."""
    items = []
    for page in source.pages:
        if page.template != "prn":
            continue
        for entry_id, states in _entries(page).items():
            order = source.orders.get(states[0].field.order_id or "")
            if order is not None and any(state.marked for state in states):
                items.append(_entry_item(page, order, entry_id, states))
    return _mark_extra_doses(items, source.orders, settings)


def _entries(page: PageInput) -> dict[str, list[FieldState]]:
    entries: dict[str, list[FieldState]] = defaultdict(list)
    for state in page.states:
        if state.field.order_id and state.field.role in ENTRY_ROLES:
            entries[state.field.field_id.rsplit(".", 1)[0]].append(state)
    return entries


def _entry_item(page: PageInput, order: Order, entry_id: str, states: list[FieldState]) -> Item:
    roles = {state.field.role: state for state in states if state.field.role != "date"}
    base = Item(
        item_id=f"prn:{page.page_id}:{entry_id}",
        kind="prn",
        category=Category.GIVEN,
        patient_id=order.patient_id,
        ward=page.ward,
        order_id=order.order_id,
        medication=order.medication,
        high_alert=order.high_alert,
        unit=order.dose_unit or ("units" if "insulin" in order.medication.lower() else None),
        evidence=tuple(Evidence.of(state) for state in states),
    )
    pending = [state for state in states if state.awaiting]
    if pending:
        fields = ", ".join(sorted(state.field.field_id for state in pending))
        return replace(base, category=Category.PENDING, notes=(f"in the review queue: {fields}",))
    time_state = roles.get("time")
    written = time_state.value if time_state is not None and time_state.marked else None
    dates = [state for state in states if state.field.role == "date"]
    ticked = [state for state in dates if state.marked]
    if dates and len(ticked) != 1:  # a date is never guessed from the time alone
        return replace(base, category=Category.PENDING, notes=(NO_DATE,))
    if not written:
        occurred = None
    elif ticked:
        occurred = _on_date(written, ticked[0].field.value or "", page)
    else:
        occurred = _in_period(written, page)  # a page printed before the date ticks
    if occurred is None:
        note = "PRN dose without a readable time in the page's period: a person must find it"
        return replace(base, category=Category.PENDING, notes=(note,))
    dose = roles.get("dose")
    quantity = _number(dose.value, dose.field.decimals) if dose and dose.marked else None
    item = replace(
        base,
        occurred_at=occurred,
        time_source="written",
        quantity=quantity if quantity is not None else order.dose_value,
        exportable=True,
        checked_by=tuple(
            function
            for role, function in (("second_initials", "verifier"), ("witness", "witness"))
            if role in roles and roles[role].marked
        ),
        site=_site(roles.get("site")),
    )
    return _with_checks(item, roles)


def _with_checks(item: Item, roles: Mapping[str | None, FieldState]) -> Item:
    """The concerns of a dose given without the second check or witness its page asked for
    (the box printed because the order is high-alert or a controlled drug)."""
    if "second_initials" in roles and "verifier" not in item.checked_by:
        item = item.with_concern(Category.NO_SECOND_INITIALS, "high-alert: no second initials")
    if "witness" in roles and "witness" not in item.checked_by:
        item = item.with_concern(Category.NO_WITNESS, "controlled drug: no witness initials")
    if item.site is not None:
        site = site_of(roles["site"].value)
        item = replace(item, notes=(*item.notes, f"injection site: {site.label if site else ''}"))
    return item


def _site(state: FieldState | None) -> str | None:
    site = site_of(state.value) if state is not None and state.marked else None
    return site.key if site is not None else None


def _on_date(written: str, day: str, page: PageInput) -> datetime | None:
    """The ticked date and the written time, when that moment is inside the page's period."""
    clock = parse_hhmm(written)
    try:
        moment = datetime.combine(date.fromisoformat(day), clock) if clock else None
    except ValueError:
        return None
    if moment is None or page.period_start is None or page.period_end is None:
        return None
    if written.replace(":", "").strip() == "2400":  # midnight at the end of the ticked date
        moment += timedelta(days=1)
    return moment if page.period_start <= moment < page.period_end else None


def _in_period(written: str, page: PageInput) -> datetime | None:
    """The written time as the one moment of the page's period that has it."""
    clock = parse_hhmm(written)
    if clock is None or page.period_start is None or page.period_end is None:
        return None
    start, end = page.period_start, page.period_end
    days = (end.date() - start.date()).days
    options = [datetime.combine(start.date() + timedelta(days=d), clock) for d in range(days + 1)]
    inside = [moment for moment in options if start <= moment < end]
    return inside[0] if len(inside) == 1 else None


def _number(value: str | None, decimals: int) -> float | None:
    text = (value or "").strip()
    try:
        if "." in text or not decimals:
            return float(text)
        return int(text) / 10**decimals
    except ValueError:
        return None


def _mark_extra_doses(
    items: list[Item], orders: Mapping[str, Order], settings: Settings
) -> list[Item]:
    by_order: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        if item.exportable and item.occurred_at is not None and item.order_id:
            by_order[item.order_id].append(index)
    result = list(items)
    for order_id, indexes in by_order.items():
        order = orders.get(order_id)
        if order is None:
            continue
        indexes.sort(key=lambda i: (str(result[i].occurred_at), result[i].item_id))
        for position, index in enumerate(indexes):
            note = _extra_reason(order, [result[i] for i in indexes[: position + 1]], settings)
            if note:
                logger.info("%s: extra dose of %s (%s)", result[index].item_id, order_id, note)
                result[index] = result[index].with_concern(Category.EXTRA_DOSE, note)
    return result


def _extra_reason(order: Order, doses_so_far: list[Item], settings: Settings) -> str | None:
    """Why the last of `doses_so_far` (in time order) is an extra dose; None when it is not."""
    current = doses_so_far[-1].occurred_at
    assert current is not None
    earlier = [item.occurred_at for item in doses_so_far[:-1] if item.occurred_at is not None]
    interval = dosing_interval(order, settings)
    if interval is not None and earlier and current - earlier[-1] < interval:
        gap = (current - earlier[-1]).total_seconds() / 3600
        return (
            f"{gap:.1f} h after the previous dose (minimum {interval.total_seconds() / 3600:g} h)"
        )
    limit = max_per_period(order)
    if limit is not None:
        count, period = limit
        within = [moment for moment in earlier if current - moment < period]
        if len(within) + 1 > count:
            hours = period.total_seconds() / 3600
            return f"dose {len(within) + 1} within {hours:g} h (maximum {count})"
    return None
