"""ISMP timing windows as settings: properties of the pure rules (hypothesis)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papermode.core.model import Order, Timing
from papermode.core.settings import SettingsError, load_settings
from papermode.reconcile.categories import Category
from papermode.reconcile.windows import (
    timing_category,
    timing_window,
    window_for_interval,
)

SETTINGS = load_settings()
WRITTEN = datetime(2026, 11, 20, 9, 0)  # well before the doses below: never a first dose
SCHEDULED = datetime(2026, 11, 28, 14, 0)


def order(code: str = "q8h", medication: str = "Cefazolin 2 g", **changes: object) -> Order:
    fields: dict[str, object] = {
        "order_id": "o1",
        "patient_id": "p1",
        "medication": medication,
        "timing": Timing(code=code),
        "authored_on": WRITTEN,
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "minutes"),
    [
        ("q1h", 15),  # more often than every 4 h: 25% of the interval
        ("q2h", 30),
        ("q3h", 45),
        ("q4h", 60),  # more often than daily, not more often than every 4 h: 1 h
        ("q6h", 60),
        ("q8h", 60),
        ("bid", 60),
        ("daily", 120),  # daily or less often: 2 h
        ("q2d", 120),
        ("weekly", 120),
    ],
)
def test_ismp_windows_by_frequency(code: str, minutes: int) -> None:
    assert timing_window(order(code), SCHEDULED, SETTINGS) == timedelta(minutes=minutes)


def test_time_critical_medicines_get_thirty_minutes() -> None:
    insulin = order("tid", medication="Insulin aspart 6 units")
    assert timing_window(insulin, SCHEDULED, SETTINGS) == timedelta(minutes=30)
    # Accents and case do not matter; a word inside another word does not count.
    assert timing_window(order("daily", medication="LÉVODOPA 100"), SCHEDULED, SETTINGS) == (
        timedelta(minutes=30)
    )
    assert timing_window(order("daily", medication="Levodopamix 100"), SCHEDULED, SETTINGS) == (
        timedelta(minutes=120)
    )


def test_no_window_for_stat_one_time_first_and_prn_doses() -> None:
    assert timing_window(order("STAT"), SCHEDULED, SETTINGS) is None
    assert timing_window(order("once"), SCHEDULED, SETTINGS) is None
    assert timing_window(order(as_needed=True), SCHEDULED, SETTINGS) is None
    first = order("q8h", authored_on=SCHEDULED - timedelta(hours=2))  # 06:00 was before it
    assert timing_window(first, SCHEDULED, SETTINGS) is None
    second = order("q8h", authored_on=SCHEDULED - timedelta(hours=9))  # 06:00 came first
    assert timing_window(second, SCHEDULED, SETTINGS) == timedelta(hours=1)
    assert timing_category(SCHEDULED, SCHEDULED + timedelta(hours=5), None) is Category.GIVEN


@given(
    window=st.integers(min_value=1, max_value=240),
    offset=st.integers(min_value=-600, max_value=600),
)
def test_on_time_exactly_within_the_window(window: int, offset: int) -> None:
    category = timing_category(
        SCHEDULED, SCHEDULED + timedelta(minutes=offset), timedelta(minutes=window)
    )
    if abs(offset) <= window:
        assert category is Category.ON_TIME
    elif offset < 0:
        assert category is Category.EARLY
    else:
        assert category is Category.LATE


@given(hours=st.floats(min_value=0.25, max_value=24 * 14))
def test_windows_never_shrink_as_doses_get_rarer(hours: float) -> None:
    interval = timedelta(hours=hours)
    window = window_for_interval(interval, SETTINGS)
    rarer = window_for_interval(interval * 2, SETTINGS)
    assert timedelta(0) < window <= rarer
    # A window never reaches the next dose: on time can never be confused with the next one.
    assert window < interval or hours >= 24


@given(
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
)
def test_late_and_early_are_mirror_images(hour: int, minute: int) -> None:
    scheduled = datetime.combine(SCHEDULED.date(), time(hour, minute))
    window = timedelta(minutes=60)
    late = timing_category(scheduled, scheduled + window + timedelta(minutes=1), window)
    early = timing_category(scheduled, scheduled - window - timedelta(minutes=1), window)
    assert (late, early) == (Category.LATE, Category.EARLY)


def test_a_hospital_sets_its_own_windows_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "hospital.toml"
    path.write_text(
        '[reconcile]\ndaily_minutes = 60\ntime_critical = ["cefazolin"]\n', encoding="utf-8"
    )
    settings = load_settings(path)
    daily = order("daily", medication="Pantoprazole 40 mg")
    assert timing_window(daily, SCHEDULED, settings) == timedelta(minutes=60)
    assert timing_window(order("q8h"), SCHEDULED, settings) == timedelta(minutes=30)
    # The packaged list is replaced, not added to: insulin aspart is no longer time-critical.
    insulin = order("tid", medication="Insulin aspart 6 units")
    assert timing_window(insulin, SCHEDULED, settings) == timedelta(minutes=60)


def test_bad_reconcile_settings_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "hospital.toml"
    path.write_text(
        "[reconcile]\ndaily_minutes = -5\nvery_frequent_share = 2\n"
        'priority = ["high_alert", "antibiotics"]\n',
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    text = str(caught.value)
    assert "reconcile.daily_minutes: -5 must be a number of minutes" in text
    assert "reconcile.very_frequent_share: 2 must be a share" in text
    assert "reconcile.priority: 'antibiotics' is not high_alert, time_critical" in text
