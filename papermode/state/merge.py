"""Merge the captures of one page into its current state: pure rules, no I/O.

A MAR page is photographed several times per shift. Each capture reads every field; the
page's current state is derived from all of them, newest last:

- a mark that appears in a later capture is added (the nurse wrote since);
- a mark that disappears (ticked before, empty now) is a conflict: the value kept is the
  mark (a dose given must not vanish) and a person decides;
- a written value that changes between captures (a time 0815 then 0845) is a conflict too;
- a tick later scribbled over (a correction) follows the newest capture, flagged;
- otherwise the newest capture's value stands, with the best confidence of the captures
  that agree with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from papermode.core.flags import Flag
from papermode.core.model import Reading, ReadingStatus

EMPTY_VALUES = frozenset({None, "", "empty"})


@dataclass(frozen=True)
class CapturedReading:
    """One capture's reading of one field."""

    capture_id: str
    captured_at: datetime
    reading: Reading


@dataclass(frozen=True)
class MergedField:
    """The current state of one field across all captures of its page."""

    field_id: str
    value: str | None
    confidence: float
    status: ReadingStatus
    flags: tuple[str, ...]
    captures: tuple[str, ...]  # every capture that read the field, oldest first
    source: str  # the capture whose reading is the current value


def is_marked(value: str | None) -> bool:
    """True when the reading says something was written or ticked."""
    return value not in EMPTY_VALUES


def merge_field(history: Sequence[CapturedReading]) -> MergedField:
    """Current state of one field from its readings (any order; sorted by capture time)."""
    if not history:
        raise ValueError("merge_field needs at least one reading")
    ordered = sorted(history, key=lambda item: (item.captured_at, item.capture_id))
    newest = ordered[-1]
    captures = tuple(item.capture_id for item in ordered)
    earlier_marks = [item for item in ordered[:-1] if is_marked(item.reading.value)]

    if earlier_marks and not is_marked(newest.reading.value):
        kept = earlier_marks[-1]
        return _merged(kept, ordered, captures, extra_flags=(Flag.DISAPPEARED,), force_review=True)

    changed = [
        item
        for item in earlier_marks
        if item.reading.value != newest.reading.value
        and not _is_later_correction(item.reading, newest.reading)
    ]
    if changed:
        return _merged(newest, ordered, captures, extra_flags=(Flag.CHANGED,), force_review=True)
    return _merged(newest, ordered, captures)


def _is_later_correction(before: Reading, after: Reading) -> bool:
    """A tick scribbled over later is a correction the nurse made, not a misreading."""
    return before.value == "ticked" and after.value == "filled"


def _merged(
    chosen: CapturedReading,
    ordered: Sequence[CapturedReading],
    captures: tuple[str, ...],
    *,
    extra_flags: tuple[str, ...] = (),
    force_review: bool = False,
) -> MergedField:
    agreeing = [item for item in ordered if item.reading.value == chosen.reading.value]
    best = max(
        agreeing,
        key=lambda item: (item.reading.status == ReadingStatus.AUTO, item.reading.confidence),
    )
    flags = tuple(dict.fromkeys(chosen.reading.flags + extra_flags))
    status: ReadingStatus = ReadingStatus.REVIEW if force_review else best.reading.status
    confidence = (
        min(item.reading.confidence for item in ordered)
        if force_review
        else (best.reading.confidence)
    )
    return MergedField(
        field_id=chosen.reading.field_id,
        value=chosen.reading.value,
        confidence=round(confidence, 4),
        status=status,
        flags=flags,
        captures=captures,
        source=best.capture_id if not force_review else chosen.capture_id,
    )
