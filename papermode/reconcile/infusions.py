"""Continuous infusions charted on the MAR band: one item per period the infusion ran at
one rate (from a start, a rate change or a new bag to the next event).

A continuous infusion has no scheduled dose, so none of its rows is ever "not documented".
A nurse writes a row per event: one tick of start / change / bag / stop, the day and time
(DD HHMM), the rate set then, initials. The rows of one order, in time order, make its
periods: each start, change or bag begins one at the rate written (a new bag keeps the
rate before it when none is written), and the next event ends it. A stop with no period
before it on paper (the infusion was running when the forms were printed) is a period
with an end only.

Safety first: while any row of an order is in the review queue, every period of that
order is pending (one row moves the ends of its neighbours); a row a person settled that
still cannot be placed (no event, two events, no time, a day outside the page's period, a
start or change with no rate) sends every period of that order to the by-hand list, with
why. Nothing about that infusion is exported until the paper says it plainly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from papermode.core.model import Order
from papermode.reconcile.categories import Category
from papermode.reconcile.inputs import FieldState, PageInput, ReconcileInput
from papermode.reconcile.items import Evidence, Item
from papermode.reconcile.observations import written_number

EVENTS = ("start", "change", "bag", "stop")  # the printed order of the ticks
INFUSION_ROLES = frozenset({"infusion_event", "infusion_time", "infusion_rate"})
_ROW_ROLES = INFUSION_ROLES | {"initials", "second_initials"}
_DAY_SLACK = timedelta(days=1)  # a row may be written just before or after the printed period


@dataclass(frozen=True)
class InfusionRow:
    """One charted entry row of one page."""

    page: PageInput
    row_id: str  # "mar.m-hep.inf03"
    states: tuple[FieldState, ...]

    def role(self, role: str) -> list[FieldState]:
        return [s for s in self.states if s.field.role == role]

    @property
    def marked(self) -> bool:
        return any(s.marked for s in self.states)

    @property
    def pending(self) -> bool:
        return any(s.awaiting for s in self.states)

    @property
    def events(self) -> list[str]:
        return [s.field.value or "" for s in self.role("infusion_event") if s.value == "ticked"]


@dataclass(frozen=True)
class Placed:
    """A row the paper states plainly: its event, when, and the rate written (if any)."""

    row: InfusionRow
    event: str
    at: datetime
    rate: float | None


def infusion_rows(source: ReconcileInput) -> dict[str, list[InfusionRow]]:
    """Order id -> its charted rows (rows carrying any mark), on every MAR page."""
    found: dict[tuple[str, str], dict[str, list[FieldState]]] = defaultdict(dict)
    pages = {page.page_id: page for page in source.pages if page.template == "mar"}
    for page in pages.values():
        for state in page.states:
            printed = state.field
            if printed.order_id and printed.role in _ROW_ROLES and ".inf" in printed.field_id:
                row_id = printed.field_id.rsplit(".", 1)[0]
                found[(printed.order_id, page.page_id)].setdefault(row_id, []).append(state)
    rows: dict[str, list[InfusionRow]] = defaultdict(list)
    for (order_id, page_id), by_row in sorted(found.items()):
        for row_id, states in sorted(by_row.items()):
            row = InfusionRow(pages[page_id], row_id, tuple(states))
            if row.marked:
                rows[order_id].append(row)
    return dict(rows)


def charted_infusion_rows(source: ReconcileInput) -> dict[str, int]:
    """Order id -> how many of its infusion rows carry a mark (an event, a time, a rate)."""
    return {order_id: len(rows) for order_id, rows in sorted(infusion_rows(source).items())}


def infusion_items(source: ReconcileInput) -> list[Item]:
    """The periods of every continuous infusion charted on paper."""
    items: list[Item] = []
    for order_id, rows in infusion_rows(source).items():
        order = source.orders.get(order_id)
        if order is not None:
            items += order_periods(order, rows)
    return items


def order_periods(order: Order, rows: Sequence[InfusionRow]) -> list[Item]:
    """One order's periods, or every row held back (pending, or by hand) with why."""
    if any(row.pending for row in rows):
        waiting = ", ".join(row.row_id for row in rows if row.pending)
        note = f"infusion rows in the review queue: {waiting}; its periods wait for them"
        return [_held_row(order, row, Category.PENDING, note) for row in rows]
    placed: list[Placed] = []
    problems: list[tuple[InfusionRow, str]] = []
    for row in rows:
        outcome = place_row(row, order)
        if isinstance(outcome, str):
            problems.append((row, outcome))
        else:
            placed.append(outcome)
    if problems:
        why = "; ".join(f"{row.row_id}: {problem}" for row, problem in problems)
        note = f"an infusion row cannot be placed ({why}): back-enter this infusion by hand"
        return [_held_row(order, row, Category.BY_HAND, note) for row in rows]
    return _periods(order, sorted(placed, key=lambda p: (p.at, EVENTS.index(p.event))))


def place_row(row: InfusionRow, order: Order) -> Placed | str:
    """The row's event, moment and rate; or what is missing, in a clerk's words."""
    events = row.events
    if len(events) != 1:
        return "no event ticked" if not events else "two events ticked"
    written = [s.value for s in row.role("infusion_time") if s.marked]
    if not written:
        return "no day and time written"
    moment = row_moment(str(written[0]), row.page)
    if moment is None:
        return f"day and time {written[0]!r} not within the page's period"
    rates = [s for s in row.role("infusion_rate") if s.marked]
    rate = written_number(rates[0]) if rates else None
    if rates and rate is None:
        return f"rate {rates[0].value!r} is not a number"
    if rate is None and events[0] in ("start", "change"):
        return f"{events[0]} without the rate set"
    return Placed(row, events[0], moment, rate)


def row_moment(written: str, page: PageInput) -> datetime | None:
    """ "281015" (DD HHMM) as the moment of that day nearest the page's printed period."""
    digits = written.strip()
    if len(digits) != 6 or not digits.isdigit() or page.period_start is None:
        return None
    day, hours, minutes = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    if hours > 23 or minutes > 59:
        return None
    first = page.period_start - _DAY_SLACK
    last = (page.period_end or page.period_start) + _DAY_SLACK
    moment = first.replace(hour=0, minute=0, second=0, microsecond=0)
    while moment <= last:
        if moment.day == day:
            found = datetime.combine(moment.date(), time(hours, minutes))
            if first <= found <= last:
                return found
        moment += timedelta(days=1)
    return None


def _periods(order: Order, placed: list[Placed]) -> list[Item]:
    items = []
    rate: float | None = None
    for index, event in enumerate(placed):
        following = placed[index + 1] if index + 1 < len(placed) else None
        if event.event == "stop":
            previous = placed[index - 1] if index else None
            if previous is None or previous.event == "stop":
                items.append(_item(order, event, None, None, "stop"))
            rate = None
            continue
        carried = event.rate is None
        rate = event.rate if event.rate is not None else rate
        items.append(_item(order, event, following, rate, event.event, carried=carried))
    return items


def _item(
    order: Order,
    event: Placed,
    following: Placed | None,
    rate: float | None,
    kind: str,
    *,
    carried: bool = False,
) -> Item:
    notes = []
    if kind == "stop":
        notes.append("stopped; started before the paper record (no start on paper)")
    elif following is None:
        notes.append("still running at the end of the paper record")
    if carried and rate is not None:
        notes.append("new bag: the rate of the row before it")
    elif carried:
        notes.append("new bag: no rate written and none before it")
    evidence = [Evidence.of(s) for s in event.row.states]
    if following is not None and following.event == "stop":
        evidence += [Evidence.of(s) for s in following.row.states]
    item = Item(
        item_id=f"infusion:{order.order_id}:{event.at:%Y%m%dT%H%M}:{kind}",
        kind="infusion",
        category=Category.INFUSION,
        patient_id=order.patient_id,
        ward=event.row.page.ward,
        order_id=order.order_id,
        medication=order.medication,
        high_alert=order.high_alert,
        occurred_at=event.at,
        ends_at=following.at if following is not None else (event.at if kind == "stop" else None),
        time_source="written",
        event=kind,
        quantity=rate,
        unit=_printed_unit(event.row) or (order.rate.unit if order.rate is not None else None),
        notes=tuple(notes),
        evidence=tuple(evidence),
        exportable=kind == "stop" or rate is not None,
    )
    if not item.exportable:
        item = replace(item, category=Category.BY_HAND)
    second = [s for s in event.row.role("second_initials") if s.marked]
    if order.high_alert and kind != "stop" and not second:
        item = item.with_concern(Category.NO_SECOND_INITIALS, "high-alert: no second initials")
    return item


def _printed_unit(row: InfusionRow) -> str | None:
    """The rate unit printed after the row's comb: the unit of what the nurse wrote."""
    labels = [s.field.label for s in row.role("infusion_rate") if s.field.label]
    return labels[0] if labels else None


def _held_row(order: Order, row: InfusionRow, category: Category, note: str) -> Item:
    return Item(
        item_id=f"infusion:{order.order_id}:{row.page.page_id}:{row.row_id.rsplit('.', 1)[-1]}",
        kind="infusion",
        category=category,
        patient_id=order.patient_id,
        ward=row.page.ward,
        order_id=order.order_id,
        medication=order.medication,
        high_alert=order.high_alert,
        event=row.events[0] if len(row.events) == 1 else None,
        notes=(note,),
        evidence=tuple(Evidence.of(s) for s in row.states),
    )
