"""ISMP timing windows for scheduled doses: pure functions of the order and the settings.

After ISMP's Acute Care Guidelines for Timely Administration of Scheduled Medications:
time-critical medicines +/- 30 min; more often than daily but not more often than every
4 h +/- 1 h; daily or less often +/- 2 h; more often than every 4 h, a share (25%) of the
interval. No window for STAT, first and one-time doses (nor PRN): those are "given".
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from papermode.census.schedule import dose_rule, scheduled_doses
from papermode.census.snapshot import plain
from papermode.core.model import Order
from papermode.core.settings import Settings
from papermode.reconcile.categories import Category


def has_word(text: str, words: tuple[str, ...]) -> bool:
    """True when one of `words` is a whole word (or words) of `text`, accents ignored."""
    folded = plain(text)
    return any(
        re.search(rf"(?<![a-z0-9]){re.escape(plain(word))}(?![a-z0-9])", folded) for word in words
    )


def is_time_critical(order: Order, settings: Settings) -> bool:
    return has_word(order.medication, settings.reconcile_time_critical_words)


def dosing_interval(order: Order, settings: Settings) -> timedelta | None:
    """The order's interval between doses (fixed times: a day over their count); None if
    its timing cannot be scheduled."""
    rule = dose_rule(order.timing, settings, order.authored_on)
    if rule is None:
        return None
    if rule.every is not None:
        return rule.every
    return timedelta(hours=24 / len(rule.times)) if rule.times else None


def is_one_time(order: Order, settings: Settings) -> bool:
    code = (order.timing.code or "") if order.timing else ""
    return " ".join(code.lower().split()) in settings.reconcile_one_time_codes


def is_first_dose(order: Order, scheduled_at: datetime, settings: Settings) -> bool:
    """The first dose after the order was written: no earlier scheduled time since then."""
    if order.authored_on is None or order.authored_on > scheduled_at:
        return False
    earlier = scheduled_doses(order, order.authored_on, scheduled_at, settings)
    return not earlier


def timing_window(order: Order, scheduled_at: datetime, settings: Settings) -> timedelta | None:
    """The window either side of `scheduled_at`; None when no window applies."""
    if order.as_needed or is_one_time(order, settings):
        return None
    interval = dosing_interval(order, settings)
    if interval is None or is_first_dose(order, scheduled_at, settings):
        return None
    if is_time_critical(order, settings):
        return timedelta(minutes=settings.reconcile_time_critical_minutes)
    return window_for_interval(interval, settings)


def window_for_interval(interval: timedelta, settings: Settings) -> timedelta:
    """ISMP's non-time-critical windows, by how often the dose is due."""
    if interval < timedelta(hours=4):
        return interval * settings.reconcile_very_frequent_share
    if interval < timedelta(hours=24):
        return timedelta(minutes=settings.reconcile_frequent_minutes)
    return timedelta(minutes=settings.reconcile_daily_minutes)


def timing_category(
    scheduled_at: datetime, given_at: datetime, window: timedelta | None
) -> Category:
    """On time within the window (its edges included), else early or late."""
    if window is None:
        return Category.GIVEN
    if given_at < scheduled_at - window:
        return Category.EARLY
    if given_at > scheduled_at + window:
        return Category.LATE
    return Category.ON_TIME
