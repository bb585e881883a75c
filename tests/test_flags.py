"""Flags, statuses and threshold names: one enum each (papermode.core.flags), the same
strings as docs/readings.md and the store hold."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from papermode.core.flags import FileStatus, Flag, ReadingStatus, Threshold
from papermode.core.model import Reading
from papermode.core.settings import READING_THRESHOLDS, load_settings
from papermode.state.merge import CapturedReading, merge_field

DOCS = Path(__file__).resolve().parent.parent / "docs" / "readings.md"


def _table(start: str, end: str) -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    block = text[text.index(start) : text.index(end)]
    return re.findall(r"^\| `([a-z0-9_]+)` \|", block, flags=re.MULTILINE)


def test_the_flags_documented_are_the_flags_raised() -> None:
    documented = _table("<!-- flags-table: start -->", "<!-- flags-table: end -->")
    assert len(documented) == len(set(documented)), "a flag documented twice"
    assert sorted(set(documented) - set(Flag)) == [], "documented but never raised"
    assert sorted(set(Flag) - set(documented)) == [], "raised but not in docs/readings.md"


def test_the_file_statuses_documented_are_the_enum() -> None:
    documented = _table("## `files[]`", "The original of every file")[1:]  # after the header
    assert documented == [status.value for status in FileStatus]


def test_reading_statuses_are_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `status` |"))
    assert set(re.findall(r"`([a-z_]+)`", row)) - {"status"} == set(ReadingStatus)


def test_members_are_their_strings_in_json_and_back() -> None:
    # readings --json and the store's `flags` column stay byte-identical.
    reading = Reading("f", "ticked", 0.5, ReadingStatus.REVIEW, (Flag.FAINT, Flag.CONTRADICTION))
    assert json.dumps(list(reading.flags)) == '["faint", "contradiction"]'
    assert json.dumps({"status": reading.status}) == '{"status": "review"}'
    assert Reading("f", "ticked", 0.5, "review", ("faint", "contradiction")) == reading
    assert FileStatus("quarantined") is FileStatus.QUARANTINED


def test_merged_flags_are_the_enum() -> None:
    first = CapturedReading("c1", datetime(2026, 1, 1, 8), Reading("f", "ticked", 0.99, "auto"))
    later = CapturedReading("c2", datetime(2026, 1, 1, 9), Reading("f", "empty", 0.99, "auto"))
    merged = merge_field([first, later])
    assert merged.status is ReadingStatus.REVIEW and Flag.DISAPPEARED in merged.flags


def test_threshold_names_are_the_settings_names() -> None:
    assert tuple(Threshold) == READING_THRESHOLDS
    assert set(load_settings().reading) == set(Threshold)
