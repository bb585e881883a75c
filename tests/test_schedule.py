"""Scheduled administration times from order timings and the hospital's standard times."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from papermode.census.schedule import default_period, describes, doses_for_snapshot, scheduled_doses
from papermode.core.errors import UsageError
from papermode.core.model import Order, Snapshot, Timing
from papermode.core.settings import Settings, load_settings

SETTINGS = load_settings()
START = datetime(2026, 3, 14, 7, 0)
END = START + timedelta(hours=24)


def times_of(
    timing: Timing, start: datetime = START, end: datetime = END, **order: object
) -> list[str]:
    doses = scheduled_doses(Order("o1", "p1", "Drug", timing=timing, **order), start, end, SETTINGS)  # type: ignore[arg-type]
    return [dose.scheduled_at.strftime("%d %H:%M") for dose in doses]


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        (Timing(code="q8h"), ["14 14:00", "14 22:00", "15 06:00"]),
        (Timing(frequency=1, period=8, period_unit="h"), ["14 14:00", "14 22:00", "15 06:00"]),
        (Timing(code="BID"), ["14 08:00", "14 20:00"]),
        (Timing(code="bd"), ["14 08:00", "14 20:00"]),
        (Timing(frequency=2, period=1, period_unit="d"), ["14 08:00", "14 20:00"]),
        (Timing(code="q12h"), ["14 08:00", "14 20:00"]),
        (Timing(code="TID"), ["14 08:00", "14 14:00", "14 20:00"]),
        (Timing(code="QID"), ["14 08:00", "14 12:00", "14 16:00", "14 20:00"]),
        (Timing(code="daily"), ["14 08:00"]),
        (Timing(code="q24h"), ["14 08:00"]),
        (Timing(code="nightly"), ["14 22:00"]),
        (Timing(code="HS"), ["14 22:00"]),
        (Timing(code="3x/j"), ["14 08:00", "14 14:00", "14 20:00"]),
        (Timing(code="q6h"), ["14 12:00", "14 18:00", "15 00:00", "15 06:00"]),
        (
            Timing(code="q4h"),
            ["14 10:00", "14 14:00", "14 18:00", "14 22:00", "15 02:00", "15 06:00"],
        ),
    ],
)
def test_standard_times(timing: Timing, expected: list[str]) -> None:
    assert times_of(timing) == expected


def test_explicit_time_of_day_wins_over_code() -> None:
    assert times_of(Timing(code="BID", times_of_day=(time(9, 0), time(21, 0)))) == [
        "14 09:00",
        "14 21:00",
    ]


def test_regular_frequency_without_standard_times_spreads_from_day_start() -> None:
    expected = [
        "14 09:00",
        "14 12:00",
        "14 15:00",
        "14 18:00",
        "14 21:00",
        "15 00:00",
        "15 03:00",
        "15 06:00",
    ]
    assert times_of(Timing(code="q3h")) == expected
    assert times_of(Timing(frequency=8, period=1, period_unit="d")) == expected
    assert times_of(Timing(code="every 3 hours")) == expected


def test_every_two_days_counts_from_the_day_written() -> None:
    written = datetime(2026, 3, 13, 11, 0)
    timing = Timing(code="qod")
    week = END + timedelta(days=5)
    assert times_of(timing, START, week, authored_on=written) == [
        "15 08:00",
        "17 08:00",
        "19 08:00",
    ]


def test_irregular_interval_starts_on_the_hour_after_writing() -> None:
    written = datetime(2026, 3, 14, 5, 20)
    assert times_of(Timing(code="q5h"), authored_on=written) == [
        "14 11:00",
        "14 16:00",
        "14 21:00",
        "15 02:00",
    ]


def test_prn_orders_have_no_scheduled_doses() -> None:
    assert times_of(Timing(code="q4h"), as_needed=True) == []


def test_period_is_half_open() -> None:
    start = datetime(2026, 3, 14, 8, 0)
    assert times_of(Timing(code="BID"), start, start + timedelta(hours=12)) == ["14 08:00"]


def test_daylight_saving_day_keeps_wall_clock_times() -> None:
    # Europe switched to summer time on 2026-03-29 at 02:00; nurses still give the 02:00 dose.
    start = datetime(2026, 3, 28, 23, 0)
    assert times_of(Timing(code="q4h"), start, start + timedelta(hours=8)) == [
        "29 02:00",
        "29 06:00",
    ]


def test_default_period_starts_on_the_next_hour() -> None:
    assert default_period(datetime(2026, 3, 14, 13, 5)) == (
        datetime(2026, 3, 14, 14),
        datetime(2026, 3, 15, 14),
    )
    assert default_period(datetime(2026, 3, 14, 13, 0), hours=12) == (
        datetime(2026, 3, 14, 14),
        datetime(2026, 3, 15, 2),
    )
    with pytest.raises(UsageError):
        default_period(datetime(2026, 3, 14, 13, 0), hours=0)


def test_describes_agrees_with_scheduling() -> None:
    assert describes(Timing(code="q8h"), SETTINGS)
    assert describes(Timing(code="toutes les 8 h"), SETTINGS)
    assert not describes(Timing(code="when needed maybe"), SETTINGS)
    assert not describes(None, SETTINGS)
    assert not describes(Timing(frequency=1, period=1, period_unit="mo"), SETTINGS)
    # Without standard times a code is unknown; a spelled-out interval still works.
    assert not describes(Timing(code="BID"), Settings())
    assert describes(Timing(code="q8h"), Settings())


def test_hospital_standard_times_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "hospital.toml"
    path.write_text(
        '[schedule.standard_times]\ntid = ["07:00", "13:00", "19:00"]\n', encoding="utf-8"
    )
    mine = load_settings(path)
    doses = scheduled_doses(Order("o1", "p1", "Drug", timing=Timing(code="TID")), START, END, mine)
    assert [d.scheduled_at.hour for d in doses] == [7, 13, 19]


def test_doses_for_snapshot_by_order() -> None:
    orders = (
        Order("a", "p1", "X", timing=Timing(code="BID")),
        Order("b", "p1", "Y", as_needed=True),
    )
    snapshot = Snapshot("s", START, "x.json", (), orders)
    doses = doses_for_snapshot(snapshot, START, END, SETTINGS)
    assert {k: len(v) for k, v in doses.items()} == {"a": 2, "b": 0}


CODES = ["q1h", "q2h", "q3h", "q4h", "q5h", "q6h", "q8h", "q12h", "q24h", "q36h", "BID", "TID",
         "QID", "daily", "nightly", "qod", "weekly", "q30min", "6x/d"]  # fmt: skip


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from(CODES),
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    hours=st.integers(min_value=1, max_value=24 * 8),
    written=st.none()
    | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
)
def test_every_dose_lies_within_the_period(
    code: str, start: datetime, hours: int, written: datetime | None
) -> None:
    end = start + timedelta(hours=hours)
    order = Order("o", "p", "Drug", timing=Timing(code=code), authored_on=written)
    doses = scheduled_doses(order, start, end, SETTINGS)
    assert all(start <= dose.scheduled_at < end for dose in doses)
    moments = [dose.scheduled_at for dose in doses]
    assert moments == sorted(set(moments))
    if code in {"q1h", "q4h", "daily", "BID"} and hours >= 24:
        assert doses  # a regular order always falls due in a whole day
