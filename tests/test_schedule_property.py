"""Property: for random valid FHIR R4 Timings, the printed times equal an expansion written here.

The expected times are computed minute by minute from the R4 definitions (timeOfDay,
EventTiming with offset, event, dayOfWeek, boundsPeriod with its precision, count from the
start) and the hospital's meal and event times, without calling the production schedule.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from papermode.census.fhir.timing import TimingReader
from papermode.census.schedule import dosage_times
from papermode.core.settings import load_settings

SETTINGS = load_settings()
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BASE = datetime(2026, 11, 28, 0, 0)
AUTHORED = datetime(2026, 11, 26, 9, 30)
MEAL_OF = {
    "M": ["breakfast"],
    "D": ["lunch"],
    "V": ["dinner"],
    "": ["breakfast", "lunch", "dinner"],
}
MEAL_CODES = [f"{k}{m}" for k in ("AC", "PC", "C") for m in ("", "M", "D", "V")]
OTHER_CODES = ["HS", "WAKE", "MORN", "MORN.early", "NOON", "AFT", "AFT.late", "EVE", "NIGHT", "PHS"]


def times_of(code: str, offset: int) -> list[time]:
    """R4 EventTiming, by hand: AC before the meal, PC after, C at it, others after the event."""
    if code in MEAL_CODES:
        kind = code.rstrip("MDV") if code not in ("C",) else "C"
        which = code[len(kind) :]
        minutes = {
            "AC": -(offset or SETTINGS.before_meal_minutes),
            "PC": offset or SETTINGS.after_meal_minutes,
            "C": offset,
        }[kind]
        bases = [SETTINGS.meal_times[m] for m in MEAL_OF[which]]
    else:
        minutes, bases = offset, list(SETTINGS.event_times[code.lower()])
    found = []
    for base in bases:
        total = (base.hour * 60 + base.minute + minutes) % (24 * 60)
        found.append(time(total // 60, total % 60))
    return found


minute_of_day = st.integers(0, 24 * 4 - 1).map(lambda q: time(q * 15 // 60, q * 15 % 60))
moment = st.integers(0, 6 * 24 * 4).map(
    lambda q: BASE - timedelta(days=1) + timedelta(minutes=15 * q)
)


@st.composite
def timings(draw: Any) -> dict[str, Any]:
    repeat: dict[str, Any] = {}
    timing: dict[str, Any] = {"repeat": repeat}
    kind = draw(st.sampled_from(["timeOfDay", "when", "event"]))
    if kind == "timeOfDay":
        chosen = draw(st.lists(minute_of_day, min_size=1, max_size=4, unique=True))
        repeat["timeOfDay"] = [t.strftime("%H:%M:00") for t in chosen]
    elif kind == "when":
        repeat["when"] = draw(st.lists(st.sampled_from(MEAL_CODES + OTHER_CODES), min_size=1,
                                       max_size=3, unique=True))  # fmt: skip
        offset = draw(st.sampled_from([0, 0, 10, 15, 45, 90]))
        if offset:
            repeat["offset"] = offset
    else:
        events = draw(st.lists(moment, min_size=1, max_size=4, unique=True))
        timing["event"] = [e.isoformat() for e in events]
    if kind != "event" and draw(st.booleans()):
        repeat["dayOfWeek"] = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3,
                                            unique=True))  # fmt: skip
    bounds: dict[str, str] = {}
    begin = draw(moment)
    if draw(st.booleans()):
        bounds["start"] = begin.isoformat()
    if draw(st.booleans()):
        end = begin + timedelta(minutes=15 * draw(st.integers(1, 4 * 24 * 4)))
        bounds["end"] = end.date().isoformat() if draw(st.booleans()) else end.isoformat()
    if bounds:
        repeat["boundsPeriod"] = bounds
    if draw(st.booleans()):
        repeat["count"] = draw(st.integers(1, 6))
    return timing


def expected(timing: dict[str, Any], start: datetime, end: datetime) -> list[datetime]:
    repeat = timing["repeat"]
    bounds = repeat.get("boundsPeriod", {})
    low = datetime.fromisoformat(bounds["start"]) if "start" in bounds else None
    high_text = bounds.get("end")
    high = None
    if high_text:
        high = datetime.fromisoformat(high_text)
        high = high + timedelta(days=1) if len(high_text) == 10 else high + timedelta(seconds=1)
    if "event" in timing:
        candidates = sorted({datetime.fromisoformat(e) for e in timing["event"]})
    else:
        daily: set[time] = set()
        for text in repeat.get("timeOfDay", []):
            daily.add(time.fromisoformat(text))
        for code in repeat.get("when", []):
            daily.update(times_of(code, repeat.get("offset", 0)))
        first_day = BASE - timedelta(days=3)
        candidates = [
            datetime.combine((first_day + timedelta(days=n)).date(), t)
            for n in range(12)
            for t in sorted(daily)
        ]
    days = repeat.get("dayOfWeek")
    if days:
        candidates = [c for c in candidates if DAYS[c.weekday()] in days]
    if "count" in repeat:
        low = low or AUTHORED
    candidates = [c for c in candidates if (low is None or c >= low) and (high is None or c < high)]
    if "count" in repeat:
        candidates = candidates[: repeat["count"]]
    return [c for c in candidates if start <= c < end]


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(timing=timings(), offset_hours=st.integers(0, 47), hours=st.integers(1, 72))
def test_printed_times_equal_an_independent_expansion(
    timing: dict[str, Any], offset_hours: int, hours: int
) -> None:
    reader = TimingReader("MedicationRequest/m1", SETTINGS, AUTHORED, as_needed=False)
    parsed = reader.read(timing)
    assert reader.problems == [] and parsed is not None
    start = BASE + timedelta(hours=offset_hours)
    end = start + timedelta(hours=hours)
    assert dosage_times(parsed, start, end, SETTINGS, AUTHORED) == expected(timing, start, end)
