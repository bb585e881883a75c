"""Merge rules for repeated captures of one page (pure, property-tested)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from papermode.state.merge import CapturedReading, is_marked, merge_field
from papermode.core.model import Reading

T0 = datetime(2026, 11, 28, 8, 0)


def _capture(
    n: int,
    value: str | None,
    confidence: float = 0.99,
    status: str = "auto",
    flags: tuple[str, ...] = (),
) -> CapturedReading:
    reading = Reading("f", value, confidence, status, flags)  # type: ignore[arg-type]
    return CapturedReading(f"c{n}", T0 + timedelta(hours=n), reading)


def test_single_capture_is_its_own_state() -> None:
    merged = merge_field([_capture(0, "ticked", 0.97)])
    assert (merged.value, merged.status, merged.confidence) == ("ticked", "auto", 0.97)
    assert merged.captures == ("c0",)


def test_mark_that_appears_is_added() -> None:
    merged = merge_field([_capture(0, "empty"), _capture(1, "ticked")])
    assert merged.value == "ticked" and merged.status == "auto" and not merged.flags


def test_mark_that_disappears_is_a_conflict_keeping_the_mark() -> None:
    merged = merge_field([_capture(0, "ticked"), _capture(1, "empty")])
    assert merged.value == "ticked"
    assert merged.status == "review" and "disappeared" in merged.flags


def test_changed_written_value_is_a_conflict() -> None:
    merged = merge_field([_capture(0, "0815"), _capture(1, "0845")])
    assert merged.value == "0845" and merged.status == "review" and "changed" in merged.flags


def test_tick_scribbled_over_later_follows_newest() -> None:
    merged = merge_field(
        [_capture(0, "ticked"), _capture(1, "filled", 0.95, "review", ("correction",))]
    )
    assert merged.value == "filled" and "correction" in merged.flags
    assert "changed" not in merged.flags


def test_agreeing_captures_keep_the_best_confidence() -> None:
    merged = merge_field([_capture(0, "ticked", 0.8, "review"), _capture(1, "ticked", 0.97)])
    assert merged.status == "auto" and merged.confidence == 0.97


values = st.sampled_from(["ticked", "empty", "filled", "0815", None])
histories = st.lists(st.tuples(values, st.floats(0.0, 1.0)), min_size=1, max_size=6)


@given(histories)
def test_merge_does_not_depend_on_arrival_order(history: list[tuple[str | None, float]]) -> None:
    captures = [_capture(n, value, conf) for n, (value, conf) in enumerate(history)]
    assert merge_field(captures) == merge_field(list(reversed(captures)))


@given(histories)
def test_a_mark_never_silently_disappears(history: list[tuple[str | None, float]]) -> None:
    captures = [_capture(n, value, conf) for n, (value, conf) in enumerate(history)]
    merged = merge_field(captures)
    ever_marked = any(is_marked(value) for value, _ in history)
    if ever_marked and not is_marked(merged.value):
        raise AssertionError("a mark vanished from the page state")
    if ever_marked and not is_marked(history[-1][0]):
        assert merged.status == "review"
