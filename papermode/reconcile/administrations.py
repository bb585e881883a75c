"""Scheduled administrations (MAR cells): one item per order and scheduled time.

A cell is documented when an answer is ticked (given / held / refused). A cell with no
mark at all is "not documented", never "not given". The same order and time on two
pages (a reprint, a second print run) with different answers is "documented twice".
Anything of the cell still in review makes the item pending.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from papermode.census.drug_classes import is_controlled
from papermode.core.model import Order
from papermode.core.reasons import reason_of
from papermode.core.settings import Settings
from papermode.core.sites import site_of
from papermode.reading.plausibility import parse_hhmm
from papermode.reconcile.categories import Category
from papermode.reconcile.inputs import FieldState, PageInput, ReconcileInput
from papermode.reconcile.items import Evidence, Item, TimeSource
from papermode.reconcile.windows import timing_category, timing_window

OUTCOMES = ("given", "held", "refused")
_CELL_ROLES = frozenset(
    {*OUTCOMES, "time", "initials", "second_initials", "witness", "dose", "reason", "site"}
)
TIME_NOT_WRITTEN = "time not written: scheduled time used"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CellView:
    """What one page's cell says about one order and scheduled time."""

    page: PageInput
    states: dict[str, FieldState]  # by role

    @property
    def pending(self) -> list[FieldState]:
        return [s for s in self.states.values() if s.awaiting]

    @property
    def ticked(self) -> list[str]:
        return [r for r in OUTCOMES if r in self.states and self.states[r].value == "ticked"]

    @property
    def any_mark(self) -> bool:
        return any(state.marked for state in self.states.values())

    @property
    def written_reason(self) -> str | None:
        state = self.states.get("reason")
        return state.value if state is not None and state.marked else None

    @property
    def written_time(self) -> str | None:
        state = self.states.get("time")
        return state.value if state is not None and state.marked else None

    def answer(self) -> tuple[str | None, str | None, str | None]:
        ticked = self.ticked
        return (ticked[0] if len(ticked) == 1 else None, self.written_time, self.written_reason)


def cells(source: ReconcileInput) -> dict[tuple[str, datetime], list[CellView]]:
    """Every printed MAR cell, by (order, scheduled time), one view per page."""
    found: dict[tuple[str, datetime], dict[str, dict[str, FieldState]]] = defaultdict(dict)
    pages = {page.page_id: page for page in source.pages if page.template == "mar"}
    for page in pages.values():
        for state in page.states:
            printed = state.field
            if printed.order_id and printed.scheduled and printed.role in _CELL_ROLES:
                key = (printed.order_id, printed.scheduled)
                found[key].setdefault(page.page_id, {})[printed.role] = state
    return {
        key: [CellView(pages[page_id], roles) for page_id, roles in by_page.items()]
        for key, by_page in found.items()
    }


def administration_items(source: ReconcileInput, settings: Settings) -> list[Item]:
    """One item per scheduled dose printed on a MAR page."""
    items = []
    for (order_id, scheduled), views in cells(source).items():
        order = source.orders.get(order_id)
        if order is not None:
            items.append(administration_item(order, scheduled, views, settings))
    return items


def administration_item(
    order: Order, scheduled: datetime, views: Sequence[CellView], settings: Settings
) -> Item:
    """The category of one scheduled dose from every page that printed it."""
    page = views[0].page
    base = Item(
        item_id=f"mar:{order.order_id}:{scheduled:%Y%m%dT%H%M}",
        kind="administration",
        category=Category.NOT_DOCUMENTED,
        patient_id=order.patient_id,
        ward=page.ward,
        order_id=order.order_id,
        medication=order.medication,
        high_alert=order.high_alert,
        scheduled_at=scheduled,
        evidence=tuple(Evidence.of(s) for v in views for s in v.states.values()),
    )
    pending = [state for view in views for state in view.pending]
    if pending:
        fields = ", ".join(sorted({_queued(s) for s in pending}))
        return _with(base, Category.PENDING, f"in the review queue: {fields}")
    documented = [view for view in views if view.any_mark]
    if not documented:
        captured = any(view.page.captured for view in views)
        note = "no mark in the cell" if captured else "page never captured"
        return _with(base, Category.NOT_DOCUMENTED, note)
    if any(len(view.ticked) > 1 for view in documented):
        return _with(base, Category.DOCUMENTED_TWICE, "two answers ticked in one cell")
    answers = {view.answer() for view in documented}
    if len(answers) > 1:
        return _with(base, Category.DOCUMENTED_TWICE, "pages disagree for this order and time")
    outcome, written, reason = answers.pop()
    if outcome is None:
        return _with(base, Category.NOT_DOCUMENTED, "time or initials without an answer ticked")
    if outcome == "given" and reason is not None:
        return _with(
            base, Category.DOCUMENTED_TWICE, "given ticked, and a reason for not giving written"
        )
    item = _documented(base, order, documented[0], outcome, written, settings)
    return _with_reason(item, outcome, reason)


def _documented(
    base: Item,
    order: Order,
    view: CellView,
    outcome: str,
    written: str | None,
    settings: Settings,
) -> Item:
    assert base.scheduled_at is not None
    scheduled = base.scheduled_at
    if written is not None:
        moment = written_moment(written, scheduled)
        if moment is None:
            return _with(base, Category.PENDING, f"written time {written!r} is not a time")
        occurred, source = moment, "written"
    else:
        occurred, source = scheduled, "scheduled"
    time_source: TimeSource = "written" if source == "written" else "scheduled"
    if outcome == "given":
        window = timing_window(order, scheduled, settings) if source == "written" else None
        category = timing_category(scheduled, occurred, window)
    else:
        category = Category.HELD if outcome == "held" else Category.REFUSED
    notes = (TIME_NOT_WRITTEN,) if source == "scheduled" else ()
    item = replace(
        base,
        category=category,
        occurred_at=occurred,
        time_source=time_source,
        notes=notes,
        exportable=True,
    )
    if outcome == "given":
        item = _with_second_person(item, order, view)
    return _with_site(item, outcome, view.states.get("site"))


def _with_second_person(item: Item, order: Order, view: CellView) -> Item:
    """A given dose's second person (`printing.layout.mar_order.second_person`): the double
    check of a high-alert order (`verifier`), the witness of a controlled drug (`witness`),
    one box for both when the order is both. Missing, they are concerns, never a reason to
    drop the dose: it was given."""
    second = view.states.get("second_initials")
    witness = view.states.get("witness")
    checked = second is not None and second.marked
    if witness is None and order.high_alert and is_controlled(order):
        witness = second  # one "2nd / witness" box (`mar_order.second_person`)
    witnessed = witness is not None and witness.marked
    functions = (("verifier",) if checked else ()) + (("witness",) if witnessed else ())
    if functions:
        item = replace(item, checked_by=functions)
    if order.high_alert and not checked:
        item = item.with_concern(Category.NO_SECOND_INITIALS, "high-alert: no second initials")
    if witness is not None and not witnessed:
        item = item.with_concern(Category.NO_WITNESS, "controlled drug: no witness initials")
    return item


def _with_site(item: Item, outcome: str, state: FieldState | None) -> Item:
    """A given SC / IM dose with the injection site written beside it (`core.sites`); a
    number not in the legend never gets here (the reading sends it to review)."""
    site = site_of(state.value) if state is not None and state.marked else None
    if outcome != "given" or site is None:
        return item
    return replace(item, site=site.key, notes=(*item.notes, f"injection site: {site.label}"))


def _with_reason(item: Item, outcome: str, written: str | None) -> Item:
    """A held or refused dose with the legend's reason (`papermode.core.reasons`)."""
    if outcome == "given" or not item.exportable:
        return item
    reason = reason_of(written)
    if reason is not None:
        return replace(item, reason=reason.key, notes=(*item.notes, f"reason: {reason.label}"))
    if written is not None:  # a number not in the legend: the reading sends it to review
        pending = replace(item, exportable=False, occurred_at=None, time_source=None)
        return _with(pending, Category.PENDING, f"reason {written!r} is not a code of the legend")
    return replace(item, notes=(*item.notes, "no reason written"))


def written_moment(written: str, near: datetime) -> datetime | None:
    """A written HHMM as the moment nearest to `near` (the day before, of or after)."""
    clock = parse_hhmm(written)
    if clock is None:
        return None
    options = [datetime.combine(near.date() + timedelta(days=d), clock) for d in (-1, 0, 1)]
    return min(options, key=lambda moment: abs(moment - near))


def _queued(state: FieldState) -> str:
    """ "mar.o1.20261128T1400.time (changed)": why a field waits, e.g. captures disagree."""
    flags = ", ".join(state.flags)
    return f"{state.field.field_id} ({flags})" if flags else state.field.field_id


def _with(base: Item, category: Category, note: str) -> Item:
    if category is Category.DOCUMENTED_TWICE or note.startswith(("time or", "written time")):
        logger.info("%s: %s (%s)", base.item_id, category.value, note)
    return replace(base, category=category, notes=(*base.notes, note))
