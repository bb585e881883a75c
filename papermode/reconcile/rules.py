"""Reconcile the paper record: every item, categorised, with its provenance. Pure: the
input comes from `papermode.reconcile.inputs.load_input` (or a test)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from papermode.core.settings import Settings
from papermode.reconcile.administrations import administration_items
from papermode.reconcile.by_hand import by_hand_items
from papermode.reconcile.categories import Category
from papermode.reconcile.infusions import infusion_items
from papermode.reconcile.inputs import ReconcileInput
from papermode.reconcile.items import Item, Reconciliation, sort_items
from papermode.reconcile.observations import new_order_items, vital_items
from papermode.reconcile.performer import with_performers
from papermode.reconcile.prn import prn_items


def reconcile(
    source: ReconcileInput,
    settings: Settings,
    *,
    order_ends: Mapping[str, datetime] | None = None,
) -> Reconciliation:
    """Every administration, infusion period, vital sign and new order on paper, and what
    must be entered by hand (blank packs, photocopies kept apart), in back-entry order.

    `order_ends` (from the restored record) marks doses given after their order ended.
    """
    items: list[Item] = administration_items(source, settings)
    items += prn_items(source, settings)
    items += vital_items(source)
    items += new_order_items(source)
    items += infusion_items(source)
    items += by_hand_items(source)
    items = with_performers(items, source)
    if order_ends:
        items = [_after_end(item, order_ends) for item in items]
    return Reconciliation(sort_items(items))


def _after_end(item: Item, order_ends: Mapping[str, datetime]) -> Item:
    end = order_ends.get(item.order_id or "")
    given = item.category in (
        Category.ON_TIME, Category.EARLY, Category.LATE, Category.GIVEN, Category.INFUSION
    )  # fmt: skip
    if end is None or not given or item.occurred_at is None or item.occurred_at <= end:
        return item
    return item.with_concern(
        Category.AFTER_ORDER_END, f"given after the order ended ({end:%Y-%m-%d %H:%M})"
    )
