"""Order timing -> scheduled administration times, by the hospital's standard times.

Resolution, first match wins: explicit times of day on the order; the timing code (or one
of its aliases) in `settings.standard_times`; a code that spells a regular frequency
("q3h", "every 6 hours", "5x/d", "q2d", "weekly"); the FHIR frequency/period. A daily
count without standard times (every 3 h, 6x/day) is spread from `settings.day_start`.
Longer intervals (every 2 days, weekly) fall on the order's one time of day, else the first
"daily" time, counted from the day the order was written. `describes` answers "can this
timing be scheduled?" with the very same resolution, so the census check and the MAR never
disagree.

All times are naive local wall-clock times: on a daylight-saving day 02:30 is printed as
02:30, the way nurses read the clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from papermode.core.errors import UsageError
from papermode.core.model import Dosage, Order, ScheduledDose, Snapshot, Timing
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
    events: tuple[datetime, ...] = ()  # exact date-times (FHIR Timing.event)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MEALS = {
    "M": ("breakfast",),
    "D": ("lunch",),
    "V": ("dinner",),
    "": ("breakfast", "lunch", "dinner"),
}
EVENT_TIMING_CODES = frozenset(
    [f"{kind}{meal}" for kind in ("AC", "C", "PC") for meal in ("", "M", "D", "V")]
    + ["HS", "WAKE", "MORN", "MORN.early", "MORN.late", "NOON", "AFT", "AFT.early",
       "AFT.late", "EVE", "EVE.early", "EVE.late", "NIGHT", "PHS"]
)  # fmt: skip


def event_times(code: str, offset: int, settings: Settings) -> tuple[time, ...] | None:
    """Times of day of one FHIR EventTiming code, `offset` minutes from the event.

    AC codes are before the meal (the offset, else `before_meal_minutes`), C at the meal,
    PC after it (the offset, else `after_meal_minutes`); the other codes take their times
    from `settings.event_times`, the offset after them. None for an unknown code.
    """
    meal = re.fullmatch(r"(AC|PC|C)([MDV]?)", code)
    if meal:
        kind, which = meal.groups()
        if kind == "AC":
            shift = -(offset or settings.before_meal_minutes)
        else:
            shift = offset or (settings.after_meal_minutes if kind == "PC" else 0)
        bases = [settings.meal_times.get(name) for name in _MEALS[which]]
    else:
        shift = offset
        bases = (
            list(settings.event_times.get(code.lower(), ())) if code in EVENT_TIMING_CODES else []
        )
    if not bases or any(base is None for base in bases):
        return None
    moments = (datetime.combine(_EPOCH, base) + timedelta(minutes=shift) for base in bases if base)
    return tuple(sorted({moment.time() for moment in moments}))


def when_times(timing: Timing, settings: Settings) -> tuple[time, ...] | None:
    """The times of day of all the `when` codes of `timing`; None if one is unknown."""
    found: set[time] = set()
    for code in timing.when:
        times = event_times(code, timing.offset_minutes, settings)
        if times is None:
            return None
        found.update(times)
    return tuple(sorted(found))


def _normal(code: str) -> str:
    return " ".join(code.strip().lower().replace("every ", "q ").split())


_EVERY_HOURS = re.compile(r"^q\s*(\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hour|hours|heures|uur)$")
_EVERY_MINUTES = re.compile(r"^q\s*(\d+)\s*(?:min|mins|minutes)$")
_EVERY_DAYS = re.compile(r"^q\s*(\d+)\s*(?:d|day|days|j|jours|dagen)$")
_PER_DAY = re.compile(r"^(\d+)\s*x?\s*(?:/|per|par)\s*(?:d|day|j|jour|dag|24\s*h)$")
_TOUTES = re.compile(r"^(?:toutes les|elke|om de)\s+(\d+)\s*(?:h|heures|uur)$")
_NAMED_DAYS = {"qod": 2, "every other day": 2, "q2d": 2, "weekly": 7, "qw": 7, "q1w": 7,
               "qwk": 7, "wk": 7, "once weekly": 7, "1x/wk": 7, "1x/sem": 7}  # fmt: skip


def code_to_timing(code: str) -> Timing | None:
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


def days_apart(timing: Timing) -> timedelta | None:
    """The interval of "once every 3 days (or every week) at 10:00": one time of day and a
    period of whole days longer than one; None for any other timing."""
    if len(timing.times_of_day) != 1 or timing.frequency != 1 or timing.when:
        return None
    if timing.period_unit not in ("d", "wk") or not timing.period or timing.days_of_week:
        return None
    hours = timing.period * _UNIT_HOURS[timing.period_unit]
    if hours <= 24 or hours % 24 or hours > _LONGEST_HOURS:
        return None
    return timedelta(hours=hours)


def dose_rule(
    timing: Timing | None, settings: Settings, authored: datetime | None = None
) -> DoseRule | None:
    """How `timing` falls due under the hospital's settings; None if it cannot be scheduled."""
    if timing is None:
        return None
    if timing.events:
        return DoseRule(events=tuple(sorted(set(timing.events))))
    every = days_apart(timing)
    if every is not None:  # once every n days at its time, counted from the day written
        day = authored.date() if authored else _EPOCH
        return DoseRule(every=every, anchor=datetime.combine(day, timing.times_of_day[0]))
    if timing.times_of_day:
        return DoseRule(times=tuple(sorted(set(timing.times_of_day))))
    if timing.when:
        times = when_times(timing, settings)
        return DoseRule(times=times) if times else None
    if timing.code:
        key = _standard_key(timing.code, settings)
        if key is not None:
            return DoseRule(times=settings.standard_times[key])
        spelled = code_to_timing(timing.code)
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


MAX_DAYS = 7  # the multi-day MAR: a week on one sheet


def days_period(
    now: datetime, days: int, start: datetime | None = None
) -> tuple[datetime, datetime]:
    """The printed period of a multi-day MAR: `days` calendar days from `start`, by default
    from midnight of `now`'s day (the chart's columns are dates, so today is its first)."""
    if isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise UsageError(
            f"--days must be a whole number of days from 1 to {MAX_DAYS}, not {days}.",
            advice="For a longer outage, print another multi-day MAR when this one ends "
            "(papermode reprint --days N continues the dates).",
        )
    if start is None:
        start = datetime.combine(now.date(), time(0, 0))
    start = start.replace(tzinfo=None, second=0, microsecond=0)
    return start, start + timedelta(days=days)


def scheduled_doses(
    order: Order, start: datetime, end: datetime, settings: Settings
) -> list[ScheduledDose]:
    """The administrations `order` expects in [start, end), in time order.

    As-needed (PRN) orders, continuous infusions, orders NOT to give and timings that
    cannot be scheduled give none (the census refuses the latter before anything is printed).
    """
    if order.as_needed or order.continuous or order.do_not_perform or end <= start:
        return []
    dosages = order.dosages or (
        (Dosage(order.timing, order.dose_value, order.dose_unit, order.dose_max),)
        if order.timing is not None
        else ()
    )
    doses = [
        ScheduledDose(order.order_id, at, dosage.dose_value, dosage.dose_unit, dosage.dose_max)
        for dosage in dosages
        for at in dosage_times(dosage.timing, start, end, settings, order.authored_on)
    ]
    return sorted(doses, key=lambda dose: dose.scheduled_at)


def dosage_times(
    timing: Timing, start: datetime, end: datetime, settings: Settings, authored: datetime | None
) -> list[datetime]:
    """The times `timing` falls due in [start, end): its rhythm, days, bounds and count.

    A `count` is counted from the timing's start (`bounds_start`, else `authored`): the
    census refuses a count with neither, so a single dose is never printed every day.
    """
    rule = dose_rule(timing, settings, timing.bounds_start or authored)
    if rule is None:
        return []
    low = max(start, timing.bounds_start) if timing.bounds_start else start
    high = min(end, timing.bounds_end) if timing.bounds_end else end
    first = timing.bounds_start or authored
    if timing.count is not None:
        if first is None:
            return []
        found = islice(_on_days(timing, _occurrences(rule, first, high)), timing.count)
        return [at for at in found if at >= low]
    if high <= low:
        return []
    return list(islice(_on_days(timing, _occurrences(rule, low, high)), _MAX_DOSES))


def _on_days(timing: Timing, moments: Iterator[datetime]) -> Iterator[datetime]:
    days = {WEEKDAYS.index(day) for day in timing.days_of_week}
    return (at for at in moments if not days or at.weekday() in days)


def _occurrences(rule: DoseRule, start: datetime, end: datetime) -> Iterator[datetime]:
    if rule.events:
        return (at for at in rule.events if start <= at < end)
    if rule.times:
        return _daily_times(rule.times, start, end)
    return _every(rule, start, end)


def _daily_times(times: tuple[time, ...], start: datetime, end: datetime) -> Iterator[datetime]:
    day = start.date()
    while day <= end.date():
        for at in (datetime.combine(day, t) for t in times):
            if start <= at < end:
                yield at
        day += timedelta(days=1)


def _every(rule: DoseRule, start: datetime, end: datetime) -> Iterator[datetime]:
    assert rule.every is not None and rule.anchor is not None
    steps = math.ceil((start - rule.anchor) / rule.every)
    at = rule.anchor + steps * rule.every
    while at < end:
        if at >= start:
            yield at
        at += rule.every


def doses_for_snapshot(
    snapshot: Snapshot, start: datetime, end: datetime, settings: Settings
) -> dict[str, list[ScheduledDose]]:
    """Scheduled administrations of every order of the snapshot, by order_id (PRN: [])."""
    return {
        order.order_id: scheduled_doses(order, start, end, settings) for order in snapshot.orders
    }
