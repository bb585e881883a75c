"""Merge rules for repeated captures of one page (pure, property-tested)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from papermode.core.model import Reading
from papermode.demo.bench import merged_state_figures
from papermode.reading.flags import asks_for_person
from papermode.state.merge import CapturedReading, is_marked, merge_field

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


# ----------------------------------------------------------------- the newest doubt wins


def test_later_faint_reading_is_not_hidden_by_an_earlier_confident_empty() -> None:
    merged = merge_field(
        [_capture(0, "empty", 0.99), _capture(1, "empty", 0.6, "review", ("faint",))]
    )
    assert merged.status == "review" and "faint" in merged.flags
    assert merged.source == "c1" and merged.earlier_source == "c0"


def test_glare_over_a_box_ticked_earlier_keeps_the_tick_for_review() -> None:
    merged = merge_field(
        [_capture(0, "ticked", 0.98), _capture(1, "empty", 0.95, "review", ("washed_out",))]
    )
    assert merged.value == "ticked" and merged.status == "review"
    assert {"disappeared", "washed_out"} <= set(merged.flags)
    assert merged.source == "c0" and merged.earlier_source == "c1"


def test_later_contradiction_is_review_even_when_an_earlier_capture_was_auto() -> None:
    """The demo's correction bug: `held: ticked 1.0 auto ['contradiction']`."""
    merged = merge_field(
        [_capture(0, "ticked", 1.0), _capture(1, "ticked", 0.5, "review", ("contradiction",))]
    )
    assert merged.status == "review" and "contradiction" in merged.flags
    assert merged.source == "c1"


def test_a_flag_that_asks_for_a_person_forces_review_even_on_an_auto_reading() -> None:
    merged = merge_field([_capture(0, "0815", 0.99, "auto", ("ink_outside",))])
    assert merged.status == "review"


def test_correction_after_a_tick_goes_to_review() -> None:
    merged = merge_field(
        [_capture(0, "ticked"), _capture(1, "filled", 0.95, "auto", ("correction",))]
    )
    assert merged.value == "filled" and merged.status == "review"


def test_an_agreeing_sure_capture_shows_its_own_crop() -> None:
    merged = merge_field([_capture(0, "ticked", 0.99), _capture(1, "ticked", 0.93)])
    assert merged.status == "auto" and merged.source == "c0" and merged.earlier_source is None


statuses = st.sampled_from(["auto", "review"])
flag_sets = st.lists(
    st.sampled_from(["faint", "washed_out", "contradiction", "correction", "unreadable"]),
    max_size=2,
).map(tuple)
full_histories = st.lists(
    st.tuples(values, st.floats(0.0, 1.0), statuses, flag_sets), min_size=1, max_size=6
)


History = list[tuple[str | None, float, str, tuple[str, ...]]]


def _captures(history: History) -> list[CapturedReading]:
    return [_capture(n, *item) for n, item in enumerate(history)]


@given(full_histories)
def test_a_merged_auto_never_carries_a_flag_that_asks_for_a_person(history: History) -> None:
    merged = merge_field(_captures(history))
    if merged.status == "auto":
        assert not asks_for_person(merged.flags)


@given(full_histories)
def test_a_later_doubt_is_never_hidden_by_an_earlier_certainty(history: History) -> None:
    merged = merge_field(_captures(history))
    _, _, status, flags = history[-1]
    if status == "review" or asks_for_person(flags):
        assert merged.status == "review"
        assert set(flags) <= set(merged.flags)


@given(full_histories)
def test_a_mark_never_disappears_silently_whatever_the_statuses(history: History) -> None:
    merged = merge_field(_captures(history))
    ever_marked = any(is_marked(value) for value, *_ in history)
    assert not ever_marked or is_marked(merged.value)
    if ever_marked and not is_marked(history[-1][0]):
        assert merged.status == "review" and "disappeared" in merged.flags
        assert merged.earlier_source == f"c{len(history) - 1}"


@given(full_histories)
def test_merge_with_statuses_does_not_depend_on_arrival_order(history: History) -> None:
    captures = _captures(history)
    assert merge_field(captures) == merge_field(list(reversed(captures)))


def test_bench_scores_the_merged_page_state(tmp_path: Path) -> None:
    """`papermode bench` scores what users see: page_state, against the latest capture."""
    path = tmp_path / "store.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE page_state (page_id, field_id, value, status);"
        "CREATE TABLE fields (page_id, field_id, kind);"
        "CREATE TABLE captures (capture_id, status, quality);"
        "INSERT INTO fields VALUES ('P', 'a', 'checkbox'), ('P', 'b', 'checkbox'),"
        " ('P', 't', 'digits');"
        "INSERT INTO page_state VALUES ('P', 'a', 'ticked', 'auto'), ('P', 'b', 'ticked', 'auto'),"
        " ('P', 't', '0815', 'review');"
        "INSERT INTO captures VALUES ('c1', 'read', '{\"scan_1bit\": 1.0}');"
    )
    db.commit()
    db.close()
    truth = {
        "files": [
            {"file": "1.jpg", "expected": "read", "pages": [{"page_id": "P", "truth": {
                "fields": {"a": "empty", "b": "empty", "t": "empty"}}}]},
            {"file": "2.jpg", "expected": "read", "pages": [{"page_id": "P", "truth": {
                "fields": {"a": "ticked", "b": "empty", "t": "0815"}}}]},
        ]
    }  # fmt: skip
    figures = merged_state_figures(truth, path)
    assert figures["pages"] == 1 and figures["one_bit_scans_read"] == 1
    assert figures["ticks"]["total"] == 2 and figures["ticks"]["auto_wrong"] == 1
    assert figures["digits"]["correct"] == 1 and figures["digits"]["review"] == 1
