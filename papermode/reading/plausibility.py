"""Is a value read from a digits field plausible? Pure functions, no I/O.

A value that fails is never auto-accepted: the caller gives it status `review` and the flag
`implausible`. A value that passes keeps its confidence (`factor` 1.0), or loses some when
it is possible but unusual (a time far from its slot, still inside the window).

Usage: `check(field, "0815", period=(start, end), order_dose=None, limits=settings.plausibility)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from papermode.core.model import Field
from papermode.core.reasons import reason_of
from papermode.core.settings import PlausibilityLimits
from papermode.core.sites import site_of

# The limits are settings (`[plausibility]`): a caller passes the hospital's
# `Settings.plausibility`; without one, the packaged defaults.
DEFAULT_LIMITS = PlausibilityLimits()
LOINC_VITALS = {
    "8867-4": "heart_rate",
    "8480-6": "systolic",
    "8462-4": "diastolic",
    "8310-5": "temperature",
    "59408-5": "spo2",
    "2708-6": "spo2",
    "9279-1": "respiratory_rate",
    "72514-3": "pain",
    "14743-9": "glucose",
    "3151-8": "o2_flow",
    "news2": "news2",
}
# Words in a field id or label that name a vital when no LOINC code is given.
VITAL_WORDS = {
    "heart_rate": ("heart", "pulse", "hr"),
    "systolic": ("systolic", "sys", "sbp"),
    "diastolic": ("diastolic", "dia", "dbp"),
    "temperature": ("temperature", "temp"),
    "spo2": ("spo2", "sat", "oxygen"),
    "respiratory_rate": ("respiratory", "resp", "rr"),
    "pain": ("pain",),
    "glucose": ("glucose", "glycaemia"),
    "o2_flow": ("flow",),
    "news2": ("news2",),
}

Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class Plausibility:
    """The verdict: `ok`, why not (`reason`, no patient data), and a confidence `factor`."""

    ok: bool
    reason: str | None = None
    factor: float = 1.0

    def apply(self, confidence: float) -> float:
        """The confidence after this verdict (an implausible value keeps at most 0.5)."""
        adjusted = min(1.0, confidence * self.factor)
        return adjusted if self.ok else min(adjusted, 0.5)


PLAUSIBLE = Plausibility(True)


def check(
    field: Field,
    value: str | None,
    *,
    period: Period | None = None,
    order_dose: float | None = None,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> Plausibility:
    """Check a value read from a digits `field`: a time, a vital sign or a dose, against
    the hospital's `limits` (`Settings.plausibility`)."""
    if value is None or value.strip() == "":
        return PLAUSIBLE  # nothing written: emptiness is judged elsewhere
    if field.role == "time":
        return check_time(value, scheduled=field.scheduled, period=period, limits=limits)
    if field.role == "vital":
        vital = vital_name(field)
        if vital is None:
            return PLAUSIBLE
        return check_vital(vital, value, decimals=field.decimals, limits=limits)
    if field.role == "dose":
        return check_dose(value, order_dose, decimals=field.decimals)
    if field.role == "infusion_time":
        return check_day_time(value, period=period)
    if field.role == "order_time":
        ok = parse_hhmm(value) is not None
        return PLAUSIBLE if ok else Plausibility(False, "not a valid time (HHMM)", 0.0)
    if field.role == "order_date":
        return check_day_month(value, period=period)
    if field.role == "reason":
        known = reason_of(value) is not None
        return PLAUSIBLE if known else Plausibility(False, "not a reason code of the legend", 0.0)
    if field.role == "site":  # an injection site, MAR or PRN (papermode.core.sites)
        known = site_of(value) is not None
        return PLAUSIBLE if known else Plausibility(False, "not a site code of the legend", 0.0)
    if field.role == "effect_time":  # a PRN re-check: may fall after the page's period
        return check_time(value, limits=limits)
    return PLAUSIBLE


def check_day_time(value: str, *, period: Period | None = None) -> Plausibility:
    """An infusion entry's "DDHHMM": a day of the month and a time inside the page's period."""
    digits = value.strip()
    written = parse_hhmm(digits[2:]) if len(digits) == 6 and digits.isdigit() else None
    if written is None or not 1 <= int(digits[:2]) <= 31:
        return Plausibility(False, "not a valid day and time (DD HHMM)", 0.0)
    if period is None:
        return PLAUSIBLE
    day = int(digits[:2])
    moments = [m for m in _candidates(written, period) if m.day == day]
    if not any(_within(m, period) for m in moments):
        return Plausibility(False, "outside the period of the page", 0.3)
    return PLAUSIBLE


def check_day_month(value: str, *, period: Period | None = None) -> Plausibility:
    """A new order's "DDMM": a real date, on one of the days the page's period covers."""
    if period is None:
        digits = value.strip()
        try:
            date(2000, int(digits[2:]), int(digits[:2]))  # a leap year: 29 02 is a date
            return PLAUSIBLE if len(digits) == 4 else Plausibility(False, "not DD MM", 0.0)
        except ValueError:
            return Plausibility(False, "not a valid date (DD MM)", 0.0)
    if written_day(value, period) is None:
        return Plausibility(False, "not a date of the page's period (DD MM)", 0.0)
    return PLAUSIBLE


def written_day(value: str, period: Period | None) -> date | None:
    """The date a "DDMM" comb means: the day of the page's period (whose years it takes)
    with that day and month, or None when it is no valid date or not in the period."""
    digits = value.strip()
    if len(digits) != 4 or not digits.isdigit():
        return None
    day, month = int(digits[:2]), int(digits[2:])
    if period is None:
        return None
    first, last = period[0].date(), period[1].date()
    for year in range(first.year, last.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if first <= candidate <= last:
            return candidate
    return None


def parse_hhmm(value: str) -> time | None:
    """ "0815" or "08:15" -> 08:15; None if it is not a time of day."""
    digits = value.replace(":", "").strip()
    if not digits.isdigit() or not 3 <= len(digits) <= 4:
        return None
    digits = digits.zfill(4)
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 24 or minutes > 59 or (hours == 24 and minutes != 0):
        return None
    return time(0, 0) if hours == 24 else time(hours, minutes)


def check_time(
    value: str,
    *,
    scheduled: datetime | None = None,
    period: Period | None = None,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> Plausibility:
    """A valid time of day, inside the page's period, near its scheduled slot."""
    written = parse_hhmm(value)
    if written is None:
        return Plausibility(False, "not a valid time (HHMM)", 0.0)
    if scheduled is not None:
        moment = _nearest(written, scheduled)
        hours_off = abs((moment - scheduled).total_seconds()) / 3600
        if hours_off > limits.time_window_hours:
            return Plausibility(False, f"{hours_off:.1f} h from the scheduled time", 0.3)
        if period is not None and not _within(moment, period):
            # The page's first slot given a little early, or its last a little late, is on
            # this page: within an hour of the slot it is not doubted (lower confidence).
            if hours_off > 1.0:
                return Plausibility(False, "outside the period of the page", 0.3)
            return Plausibility(True, None, 0.97)
        return Plausibility(True, None, 1.0 if hours_off <= 1.0 else 0.97)
    if period is not None and not any(_within(m, period) for m in _candidates(written, period)):
        return Plausibility(False, "outside the period of the page", 0.3)
    return PLAUSIBLE


def _nearest(written: time, scheduled: datetime) -> datetime:
    """The datetime with time `written` nearest to `scheduled` (the day before, of, after)."""
    day = scheduled.date()
    options = [datetime.combine(day + timedelta(days=d), written) for d in (-1, 0, 1)]
    return min(options, key=lambda moment: abs(moment - scheduled))


def _candidates(written: time, period: Period) -> list[datetime]:
    start, end = period
    days = (end.date() - start.date()).days
    return [datetime.combine(start.date() + timedelta(days=d), written) for d in range(days + 1)]


def _within(moment: datetime, period: Period) -> bool:
    return period[0] <= moment <= period[1]


def vital_name(field: Field) -> str | None:
    """Which vital sign a field records: from its LOINC code, else from its id or label."""
    if field.code and field.code in LOINC_VITALS:
        return LOINC_VITALS[field.code]
    words = (
        f"{field.field_id} {field.label}".lower()
        .replace("-", "_")
        .replace(".", "_")
        .replace(" ", "_")
    )
    tokens = set(words.split("_"))
    for vital, names in VITAL_WORDS.items():
        if tokens.intersection(names):
            return vital
    return None


def _number(value: str, decimals: int) -> float | None:
    """ "372" in a field with 1 decimal -> 37.2; "37.2" -> 37.2; junk -> None."""
    text = value.strip()
    try:
        if "." in text or not decimals:
            return float(text)
        return int(text) / 10**decimals
    except ValueError:
        return None


def check_vital(
    vital: str, value: str, *, decimals: int = 0, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> Plausibility:
    """A vital sign within the range a living patient can have (`limits.vital_ranges`)."""
    number = _number(value, decimals)
    if number is None:
        return Plausibility(False, "not a number", 0.0)
    low, high = limits.vital_ranges[vital]
    if not low <= number <= high:
        return Plausibility(False, f"{vital.replace('_', ' ')} outside {low:g}-{high:g}", 0.2)
    return PLAUSIBLE


def check_blood_pressure(systolic: str | None, diastolic: str | None) -> Plausibility:
    """Diastolic must be below systolic (both read from the same chart row)."""
    if not systolic or not diastolic:
        return PLAUSIBLE
    high, low = _number(systolic, 0), _number(diastolic, 0)
    if high is None or low is None or low >= high:
        return Plausibility(False, "diastolic not below systolic", 0.2)
    return PLAUSIBLE


def check_dose(value: str, order_dose: float | None, *, decimals: int = 0) -> Plausibility:
    """A written dose equal to the order's dose, else flagged for a person to compare."""
    number = _number(value, decimals)
    if number is None:
        return Plausibility(False, "not a number", 0.0)
    if order_dose is None:
        return PLAUSIBLE  # a new order: nothing to compare with
    if abs(number - order_dose) > 1e-6 * max(1.0, abs(order_dose)):
        return Plausibility(False, "differs from the ordered dose", 0.5)
    return PLAUSIBLE
