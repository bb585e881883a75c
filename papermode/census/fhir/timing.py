"""FHIR R4 `Timing` -> `Timing`, in full, or problems naming the dosage and what to change.

Read: `event`, `repeat` (`boundsPeriod`, `boundsDuration`, `count`, `frequency`, `period`,
`periodUnit`, `dayOfWeek`, `timeOfDay`, `when`, `offset`, `duration`) and `code`. Refused
for a scheduled order, because a MAR cell is one dose at one time: `frequencyMax`,
`periodMax`, `countMax`, `boundsRange`, a period in seconds, months or years, `event`
together with a repeating rhythm, `timeOfDay` together with `when` (R4 rule tim-10), a
frequency that contradicts the listed times, a count with no start.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from papermode.census.fhir.parts import concept_text, get, parse_datetime
from papermode.census.schedule import (
    EVENT_TIMING_CODES,
    WEEKDAYS,
    days_apart,
    describes,
    dose_rule,
    when_times,
)
from papermode.core.model import Timing
from papermode.core.settings import Settings

Json = dict[str, Any]
_UNIT_DELTA = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
               "wk": timedelta(weeks=1)}  # fmt: skip
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    """A JSON number as `kind`, or None (JSON true is not 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value) if kind is float or float(value).is_integer() else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def bound_start(value: Any) -> datetime | None:
    """Period.start at its precision: "2015" is 2015-01-01 00:00."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match:
        year, month, day = (int(part) if part else 1 for part in match.groups())
        return datetime(year, month, day)
    return parse_datetime(value)


def bound_end(value: Any) -> datetime | None:
    """Period.end as an exclusive instant: "2015-01-20" includes the whole of that day."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match:
        year, month, day = match.groups()
        start = datetime(int(year), int(month or 1), int(day or 1))
        if day:
            return start + timedelta(days=1)
        if month:
            return datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return datetime(start.year + 1, 1, 1)
    moment = parse_datetime(value)
    return moment + timedelta(seconds=1) if moment else None


class TimingReader:
    """Reads one dosage's timing; `problems` and `bounded` tell what it found."""

    def __init__(
        self, where: str, settings: Settings, anchor: datetime | None, *, as_needed: bool
    ) -> None:
        self.where = where
        self.settings = settings
        self.anchor = anchor
        self.as_needed = as_needed
        self.problems: list[str] = []
        self.bounded = False

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.where}: {text}")

    def read(self, timing: Any) -> Timing | None:
        if timing is None:
            return None
        if not isinstance(timing, dict):
            self.problem("timing is not an object; export it again")
            return None
        repeat: Json = timing["repeat"] if isinstance(timing.get("repeat"), dict) else {}
        result = Timing(
            frequency=_number(repeat.get("frequency"), int),
            period=_number(repeat.get("period"), float),
            period_unit=_text(repeat.get("periodUnit")),
            times_of_day=self._times_of_day(repeat),
            code=self._code(timing),
            when=tuple(str(w) for w in repeat.get("when") or []),
            offset_minutes=self._offset(repeat),
            events=self._events(timing),
            days_of_week=self._days(repeat),
        )  # fmt: skip
        bounds = ("count", "boundsPeriod", "boundsDuration", "boundsRange")
        if result == Timing() and not any(key in repeat for key in bounds):
            return None
        if self.as_needed:  # printed as written; only its bounds matter (an ended PRN)
            start, end = self._bounds(repeat)
            most = _number(repeat.get("frequencyMax"), int), _number(repeat.get("periodMax"), float)
            return replace(result, bounds_start=start, bounds_end=end, frequency_max=most[0],
                           period_max=most[1])  # fmt: skip
        return self._scheduled(repeat, result)

    # ------------------------------------------------------------------ elements

    def _code(self, timing: Json) -> str | None:
        codes = [concept_text(timing.get("code"))]
        codes += [str(c.get("code") or "") for c in get(timing, "code", "coding") or []
                  if isinstance(c, dict)]  # fmt: skip
        codes = [c.strip() for c in codes if c and c.strip()]
        known = [c for c in codes if describes(Timing(code=c), self.settings)]
        return (known or codes)[0] if codes else None

    def _times_of_day(self, repeat: Json) -> tuple[time, ...]:
        times: list[time] = []
        for text in repeat.get("timeOfDay") or []:
            try:
                times.append(time.fromisoformat(str(text)).replace(second=0))
            except ValueError:
                self.problem(f"the time of day {text!r} is not HH:MM:SS")
        return tuple(sorted(set(times)))

    def _offset(self, repeat: Json) -> int:
        offset = repeat.get("offset")
        if offset is None:
            return 0
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            self.problem(f"the offset {offset!r} is not a whole number of minutes")
            return 0
        return offset

    def _events(self, timing: Json) -> tuple[datetime, ...]:
        events: list[datetime] = []
        for text in timing.get("event") or []:
            moment = parse_datetime(text) if isinstance(text, str) and len(text) > 10 else None
            if moment is None:
                self.problem(f"the event {text!r} is not a date and time; give the time too")
            else:
                events.append(moment.replace(second=0, microsecond=0))
        return tuple(sorted(set(events)))

    def _days(self, repeat: Json) -> tuple[str, ...]:
        days = [str(d) for d in repeat.get("dayOfWeek") or []]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad:
            self.problem(f"dayOfWeek {', '.join(bad)} is not mon..sun")
        return tuple(d for d in WEEKDAYS if d in days)

    # ------------------------------------------------------------------ scheduled

    def _scheduled(self, repeat: Json, timing: Timing) -> Timing | None:
        self._refuse_ranges(repeat, timing)
        self._check_when(timing)
        timing = self._weekly(timing)  # "weekly on Wednesday at 12:00": daily on that day
        self._check_frequency(timing)
        timing = self._code_agrees(timing)
        start, end = self._bounds(repeat)
        count = self._count(repeat)
        if count is not None and start is None:
            start = self.anchor
            if start is None:
                self.problem(
                    f"count {count} has no start: add boundsPeriod.start (or authoredOn) so "
                    "doses already given are not printed again"
                )
        events = timing.events
        rhythm = timing.frequency or timing.times_of_day or timing.when or timing.code
        if (
            not rhythm
            and not events
            and count == 1
            and start is not None
            and start.time() != time(0)
        ):
            events = (start,)  # a single dose at the start of its bounds
        elif not rhythm and not events and count is not None:
            self.problem(f"count {count} with no time: give timing.event, timeOfDay or a frequency")
        result = Timing(**{**timing.__dict__, "events": events, "count": count,
                           "bounds_start": start, "bounds_end": end})  # fmt: skip
        return result

    def _refuse_ranges(self, repeat: Json, timing: Timing) -> None:
        for name, shape in (("frequencyMax", "a range of frequencies"),
                            ("periodMax", "a range of periods"), ("countMax", "a range of counts"),
                            ("boundsRange", "bounds given as a range")):  # fmt: skip
            if name in repeat:
                self.problem(
                    f"{shape} ({name}) cannot be scheduled on a MAR: give one exact value, "
                    "or make the order as needed (PRN)"
                )
        if timing.period_unit is not None and timing.period_unit not in _UNIT_DELTA:
            self.problem(
                f"periodUnit {timing.period_unit!r} cannot be scheduled on a MAR; "
                "use min, h, d or wk"
            )
        if timing.events and (timing.frequency or timing.times_of_day or timing.when):
            self.problem("the timing gives both event and a repeating rhythm; send one of them")

    def _check_when(self, timing: Timing) -> None:
        if timing.when and timing.times_of_day:
            self.problem("the timing gives both timeOfDay and when (R4 rule tim-10); send one")
        unknown = [c for c in timing.when if c not in EVENT_TIMING_CODES]
        if unknown:
            self.problem(f"when {', '.join(unknown)} is not an R4 EventTiming code")
        elif timing.when and when_times(timing, self.settings) is None:
            self.problem(
                f"when {', '.join(timing.when)} has no time in the settings; "
                "add it to [schedule.event_times]"
            )
        if timing.offset_minutes and not timing.when:
            self.problem("an offset needs a when event (R4 rule tim-9)")

    def _weekly(self, timing: Timing) -> Timing:
        """ "3 times a week" needs its days: on dayOfWeek it is daily on those days."""
        if timing.period_unit != "wk" or not timing.frequency or timing.period != 1:
            return timing
        if timing.days_of_week and timing.frequency == len(timing.days_of_week):
            return replace(timing, frequency=1, period=1.0, period_unit="d")
        if timing.frequency > 1 or timing.days_of_week:
            self.problem(
                f"{timing.frequency} times a week needs {timing.frequency} days in dayOfWeek "
                "(the MAR cannot choose the days)"
            )
        return timing

    def _code_agrees(self, timing: Timing) -> Timing:
        """A code and the times it repeats must agree; then the code alone is kept."""
        if not timing.code or not (timing.when or timing.times_of_day):
            return timing
        coded = dose_rule(Timing(code=timing.code), self.settings)
        listed = timing.times_of_day or when_times(timing, self.settings)
        if coded is None or not coded.times or listed is None:
            return timing
        if tuple(coded.times) != tuple(listed):
            self.problem(
                f"timing.code {timing.code} and the repeat's times give different times; "
                "send one of them"
            )
            return timing
        return replace(timing, when=(), offset_minutes=0) if timing.when else timing

    def _check_frequency(self, timing: Timing) -> None:
        """A frequency beside listed times must say the same number of doses a day."""
        listed = timing.times_of_day or (when_times(timing, self.settings) if timing.when else None)
        if not listed or timing.frequency is None:
            return
        if days_apart(timing) is not None:  # once every 3 days at 10:00 (a patch)
            return
        per_day = timing.period_unit == "d" and timing.period == 1
        if not per_day or timing.frequency != len(listed):
            self.problem(
                f"frequency {timing.frequency} per {timing.period or 1:g} "
                f"{timing.period_unit or '?'} contradicts the {len(listed)} time(s) a day it "
                "lists; send the times alone or a matching frequency"
            )

    def _bounds(self, repeat: Json) -> tuple[datetime | None, datetime | None]:
        period = repeat.get("boundsPeriod")
        duration = repeat.get("boundsDuration")
        if isinstance(period, dict):
            self.bounded = True
            start, end = bound_start(period.get("start")), bound_end(period.get("end"))
        elif isinstance(duration, dict):
            self.bounded = True
            start, end = self.anchor, self._after(self.anchor, duration)
        else:
            return None, None
        if start is not None and end is not None and end <= start:
            self.problem("its bounds end before they start; check boundsPeriod")
        return start, end

    def _after(self, start: datetime | None, duration: Json) -> datetime | None:
        value, unit = duration.get("value"), duration.get("code") or duration.get("unit")
        step = _UNIT_DELTA.get(str(unit)) or _UNIT_DELTA.get(str(unit).rstrip("s"))
        if isinstance(value, bool) or not isinstance(value, int | float) or step is None:
            self.problem("boundsDuration needs a value and a unit of min, h, d or wk")
            return None
        if start is None:
            self.problem("boundsDuration has no start: add authoredOn, or use boundsPeriod")
            return None
        return start + value * step

    def _count(self, repeat: Json) -> int | None:
        count = repeat.get("count")
        if count is None:
            return None
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            self.problem(f"count {count!r} is not a positive whole number")
            return None
        return count
