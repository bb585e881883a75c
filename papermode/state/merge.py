"""Merge the captures of one page into its current state: pure rules, no I/O.

A MAR page is photographed several times per shift. Each capture reads every field; the
page's current state is derived from all of them, newest last. The newest capture's doubt
wins over an older certainty:

- a mark that appears in a later capture is added (the nurse wrote since);
- a mark that disappears (ticked before, empty now) is a conflict: the value kept is the
  mark (a dose given must not vanish) and a person decides;
- a written value that changes between captures (a time 0815 then 0845) is a conflict too;
- a tick later scribbled over (a correction) follows the newest capture, for review;
- when the newest capture is unsure of a field (faint, washed out, a contradiction, low
  confidence, unreadable), the field goes to review whatever older captures said, and the
  reviewer is given both the newest and the earlier capture (`source`, `earlier_source`);
- any flag that asks for a person (`papermode.reading.flags`) makes the field review;
- otherwise the newest capture's value stands, with the best confidence of the captures
  that agree with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from papermode.core.flags import Flag
from papermode.core.model import Reading, ReadingStatus
from papermode.reading.flags import asks_for_person

EMPTY_VALUES = frozenset({None, "", "empty"})


@dataclass(frozen=True)
class CapturedReading:
    """One capture's reading of one field."""

    capture_id: str
    captured_at: datetime
    reading: Reading


@dataclass(frozen=True)
class MergedField:
    """The current state of one field across all captures of its page.

    `source` is the capture whose reading is the current value (its crop is shown);
    `earlier_source`, on a field in review, is the earlier capture the reviewer must compare
    it with (the mark that disappeared, the value that changed, the certainty now in doubt).
    """

    field_id: str
    value: str | None
    confidence: float
    status: ReadingStatus
    flags: tuple[str, ...]
    captures: tuple[str, ...]  # every capture that read the field, oldest first
    source: str  # the capture whose reading is the current value
    earlier_source: str | None = None
    merged_status: ReadingStatus | None = None  # before a photocopy sent the field to review


def is_marked(value: str | None) -> bool:
    """True when the reading says something was written or ticked."""
    return value not in EMPTY_VALUES


def is_doubtful(reading: Reading) -> bool:
    """The capture itself asks for a person: review status or a flag that asks for one."""
    return reading.status == ReadingStatus.REVIEW or asks_for_person(reading.flags)


def merge_field(history: Sequence[CapturedReading]) -> MergedField:
    """Current state of one field from its readings (any order; sorted by capture time)."""
    if not history:
        raise ValueError("merge_field needs at least one reading")
    ordered = sorted(history, key=lambda item: (item.captured_at, item.capture_id))
    newest = ordered[-1]
    earlier = ordered[:-1]
    earlier_marks = [item for item in earlier if is_marked(item.reading.value)]

    if earlier_marks and not is_marked(newest.reading.value):
        kept = earlier_marks[-1]
        return _review(kept, newest, ordered, extra_flags=(Flag.DISAPPEARED,))

    changed = [
        item
        for item in earlier_marks
        if item.reading.value != newest.reading.value
        and not _is_later_correction(item.reading, newest.reading)
    ]
    if changed:
        return _review(newest, changed[-1], ordered, extra_flags=(Flag.CHANGED,))
    if is_doubtful(newest.reading):
        return _review(newest, earlier[-1] if earlier else None, ordered)
    return _agreed(newest, ordered)


def _is_later_correction(before: Reading, after: Reading) -> bool:
    """A tick scribbled over later is a correction the nurse made, not a misreading."""
    return before.value == "ticked" and after.value == "filled"


def _review(
    chosen: CapturedReading,
    other: CapturedReading | None,
    ordered: Sequence[CapturedReading],
    *,
    extra_flags: tuple[str, ...] = (),
) -> MergedField:
    """The field for a person: `chosen` holds the value, `other` is the capture to compare."""
    newest = ordered[-1]
    flags = chosen.reading.flags + newest.reading.flags + extra_flags
    return MergedField(
        field_id=chosen.reading.field_id,
        value=chosen.reading.value,
        confidence=round(min(item.reading.confidence for item in ordered), 4),
        status=ReadingStatus.REVIEW,
        flags=tuple(dict.fromkeys(flags)),
        captures=tuple(item.capture_id for item in ordered),
        source=chosen.capture_id,
        earlier_source=None if other is None or other is chosen else other.capture_id,
    )


def _agreed(newest: CapturedReading, ordered: Sequence[CapturedReading]) -> MergedField:
    """The newest capture is sure and nothing contradicts it: its value, best agreeing score."""
    agreeing = [
        item
        for item in ordered
        if item.reading.value == newest.reading.value and not is_doubtful(item.reading)
    ]
    best = max(agreeing, key=lambda item: (item.reading.confidence, item.captured_at))
    return MergedField(
        field_id=newest.reading.field_id,
        value=newest.reading.value,
        confidence=round(best.reading.confidence, 4),
        status=newest.reading.status,
        flags=tuple(dict.fromkeys(newest.reading.flags)),
        captures=tuple(item.capture_id for item in ordered),
        source=best.capture_id,
    )
