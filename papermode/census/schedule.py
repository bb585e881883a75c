"""Order timing -> scheduled administration times, by the hospital's standard times.

Resolution, first match wins: explicit times of day on the order; the timing code (or one
of its aliases) in `settings.standard_times`; a code that spells a regular frequency
("q3h", "every 6 hours", "5x/d", "q2d", "weekly"); the FHIR frequency/period. A daily
count without standard times (every 3 h, 6x/day) is spread from `settings.day_start`.
Longer intervals (every 2 days, weekly) fall on the first "daily" time, counted from the
day the order was written. `describes` answers "can this timing be scheduled?" with the
very same resolution, so the census check and the MAR never disagree.

All times are naive local wall-clock times: on a daylight-saving day 02:30 is printed as
02:30, the way nurses read the clock.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from papermode.core.errors import UsageError
from papermode.core.model import Order, ScheduledDose, Snapshot, Timing
from papermode.core.settings import Settings

_UNIT_HOURS = {"min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0}
_DAILY_CODES = {1: "daily", 2: "bid", 3: "tid", 4: "qid"}
# Day counted from here when an interval of several days has no order date: stable reprints.
_EPOCH = date(2000, 1, 3)
_LONGEST_HOURS = 24 * 366  # an interval beyond a year is not a MAR schedule
_MAX_DOSES = 10_000  # guards against a period of years with an every-minute order


@dataclass(frozen=True)
class DoseRule:
    """When an order falls due: at fixed `times` every day, or `every` interval from `anchor`."""

    times: tuple[time, ...] = ()
    every: timedelta | None = None
    anchor: datetime | None = None


def _normal(code: str) -> str:
    return " ".join(code.strip().lower().replace("every ", "q ").split())


_EVERY_HOURS = re.compile(r"^q\s*(\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hour|hours|heures|uur)$")
_EVERY_MINUTES = re.compile(r"^q\s*(\d+)\s*(?:min|mins|minutes)$")
_EVERY_DAYS = re.compile(r"^q\s*(\d+)\s*(?:d|day|days|j|jours|dagen)$")
_PER_DAY = re.compile(r"^(\d+)\s*x?\s*(?:/|per|par)\s*(?:d|day|j|jour|dag|24\s*h)$")
_TOUTES = re.compile(r"^(?:toutes les|elke|om de)\s+(\d+)\s*(?:h|heures|uur)$")
_NAMED_DAYS = {"qod": 2, "every other day": 2, "q2d": 2, "weekly": 7, "qw": 7, "q1w": 7,
               "qwk": 7, "wk": 7, "once weekly": 7, "1x/wk": 7, "1x/sem": 7}  # fmt: skip


def _code_to_timing(code: str) -> Timing | None:
    """A code that spells a regular frequency, as frequency/period; None if it does not."""
    text = _normal(code)
    if text in _NAMED_DAYS:
        return Timing(frequency=1, period=_NAMED_DAYS[text], period_unit="d")
    for pattern, unit in ((_EVERY_HOURS, "h"), (_TOUTES, "h"), (_EVERY_MINUTES, "min")):
        match = pattern.match(text)
        if match:
            return Timing(frequency=1, period=float(match.group(1).replace(",", ".")),
                          period_unit=unit)  # fmt: skip
    match = _EVERY_DAYS.match(text)
    if match:
        return Timing(frequency=1, period=float(match.group(1)), period_unit="d")
    match = _PER_DAY.match(text)
    if match:
        return Timing(frequency=int(match.group(1)), period=1, period_unit="d")
    return None


def _standard_key(code: str, settings: Settings) -> str | None:
    text = _normal(code)
    text = settings.timing_aliases.get(text, text)
    return text if text in settings.standard_times else None


def _interval_rule(
    timing: Timing, settings: Settings, authored: datetime | None
) -> DoseRule | None:
    """A rule from frequency/period, looking up the hospital's standard times first."""
    if not timing.frequency or not timing.period or timing.period_unit not in _UNIT_HOURS:
        return None
    if timing.frequency <= 0 or timing.period <= 0:
        return None
    hours = timing.period * _UNIT_HOURS[timing.period_unit] / timing.frequency
    if not math.isfinite(hours) or hours > _LONGEST_HOURS:
        return None
    if hours < 0.25:  # more often than every 15 min is an infusion, not a MAR cell
        return None
    for key in _frequency_keys(timing, hours):
        if key in settings.standard_times:
            return DoseRule(times=settings.standard_times[key])
    if 24 % hours == 0 or (hours < 24 and math.isclose(24 / hours, round(24 / hours))):
        start = datetime.combine(_EPOCH, settings.day_start)
        count = round(24 / hours)
        return DoseRule(times=tuple(sorted({(start + i * timedelta(hours=hours)).time()
                                            for i in range(count)})))  # fmt: skip
    return _long_interval_rule(hours, settings, authored)


def _frequency_keys(timing: Timing, hours: float) -> list[str]:
    keys = []
    if timing.period_unit == "d" and timing.period == 1:
        keys.append(_DAILY_CODES.get(timing.frequency or 0, ""))
    if hours == int(hours):
        keys.append(f"q{int(hours)}h")
    return [key for key in keys if key]


def _long_interval_rule(hours: float, settings: Settings, authored: datetime | None) -> DoseRule:
    if hours % 24 == 0:  # every n days: on the first daily time, from the day written
        daily = settings.standard_times.get("daily") or (settings.day_start,)
        day = authored.date() if authored else _EPOCH
        return DoseRule(every=timedelta(hours=hours), anchor=datetime.combine(day, daily[0]))
    if authored is not None:  # irregular hours (q5h): the first dose on the hour after writing
        anchor = authored.replace(minute=0, second=0, microsecond=0)
        if anchor < authored:
            anchor += timedelta(hours=1)
    else:
        anchor = datetime.combine(_EPOCH, settings.day_start)
    return DoseRule(every=timedelta(hours=hours), anchor=anchor)


def dose_rule(
    timing: Timing | None, settings: Settings, authored: datetime | None = None
) -> DoseRule | None:
    """How `timing` falls due under the hospital's settings; None if it cannot be scheduled."""
    if timing is None:
        return None
    if timing.times_of_day:
        return DoseRule(times=tuple(sorted(set(timing.times_of_day))))
    if timing.code:
        key = _standard_key(timing.code, settings)
        if key is not None:
            return DoseRule(times=settings.standard_times[key])
        spelled = _code_to_timing(timing.code)
        if spelled is not None:
            return _interval_rule(spelled, settings, authored)
    return _interval_rule(timing, settings, authored)


def describes(timing: Timing | None, settings: Settings) -> bool:
    """True if `timing` can be turned into scheduled times under these settings."""
    return dose_rule(timing, settings) is not None


def default_period(now: datetime, hours: int = 24) -> tuple[datetime, datetime]:
    """The printed period: `hours` hours from the first full hour after `now`."""
    if hours <= 0:
        raise UsageError(f"the period must be at least one hour, not {hours}")
    start = now.replace(tzinfo=None, minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return start, start + timedelta(hours=hours)


def scheduled_doses(
    order: Order, start: datetime, end: datetime, settings: Settings
) -> list[ScheduledDose]:
    """The administrations `order` expects in [start, end), in time order.

    As-needed (PRN) orders and timings that cannot be scheduled give none (the census
    refuses the latter before anything is printed).
    """
    if order.as_needed or end <= start:
        return []
    rule = dose_rule(order.timing, settings, order.authored_on)
    if rule is None:
        return []
    times = _daily_times(rule.times, start, end) if rule.times else _every(rule, start, end)
    return [ScheduledDose(order.order_id, at) for at in times]


def _daily_times(times: tuple[time, ...], start: datetime, end: datetime) -> list[datetime]:
    result: list[datetime] = []
    day = start.date()
    while day <= end.date() and len(result) < _MAX_DOSES:
        result += [at for t in times if start <= (at := datetime.combine(day, t)) < end]
        day += timedelta(days=1)
    return result


def _every(rule: DoseRule, start: datetime, end: datetime) -> list[datetime]:
    assert rule.every is not None and rule.anchor is not None
    steps = math.ceil((start - rule.anchor) / rule.every)
    at = rule.anchor + steps * rule.every
    result: list[datetime] = []
    while at < end and len(result) < _MAX_DOSES:
        if at >= start:
            result.append(at)
        at += rule.every
    return result


def doses_for_snapshot(
    snapshot: Snapshot, start: datetime, end: datetime, settings: Settings
) -> dict[str, list[ScheduledDose]]:
    """Scheduled administrations of every order of the snapshot, by order_id (PRN: [])."""
    return {
        order.order_id: scheduled_doses(order, start, end, settings) for order in snapshot.orders
    }
