"""Copies of one page id: which captures are of the same sheet of paper? Pure rules, no I/O.

Units photocopy blank packs and MAR pages when they run out, so one page id can be on
several sheets. Captures of one page id are grouped into sheets, oldest first; a capture
joins the sheet it agrees with whose marks it holds most (a later photo of a sheet holds
all its marks), or starts a new one. It disagrees with a sheet when

- a handwritten identity field (the blank pack's temporary number) reads a different,
  complete value on both, or the ink of its name or birth date is not the same
  handwriting (`papermode.state.handwriting`); or
- their content contradicts: marks the sheet has that the capture confidently lacks, plus
  written digits both read confidently with different values, number at least
  `MIN_CONTRADICTIONS`, AND the capture adds something (a mark the sheet lacks, read
  confidently or not: a signature read with doubt is still ink where the sheet had none,
  or a changed value); or
- the capture confidently lacks `LOST_MANY` or more of the sheet's marks: a photo of a
  blank copy after the first sheet was filled (glare does not read as a confident empty).

  Ink does not change on one sheet: it only gains marks between photos.
  One vanished mark (glare, a misread) or one digit read two ways stays the merge's
  "disappeared" / "changed" conflict on one sheet, as the merge rules say. When in doubt
  the rules split: two sheets go to a person (`copy_of_page`), a merge would not.

Two sheets are never merged: every field of a page with several sheets goes to a person,
flagged `copy_of_page`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from papermode.core.flags import Flag
from papermode.state.handwriting import same_handwriting
from papermode.state.merge import is_marked

COPY_FLAG = Flag.COPY_OF_PAGE
IDENTITY_ROLES = frozenset({"temp_number"})
HANDWRITTEN_ROLES = frozenset({"name", "birth_date"})  # compared by their ink
# One mark lost or one digit read two ways between two photos of one sheet happens (glare
# on a box, a misread) and is the merge's conflict; two or more is another sheet of paper.
MIN_CONTRADICTIONS = 2
# So many confident marks gone is not glare on one sheet: another sheet of paper.
LOST_MANY = 5


@dataclass(frozen=True)
class CaptureMarks:
    """What one capture of a page says, as far as telling sheets apart goes."""

    capture_id: str
    captured_at: datetime
    values: dict[str, str | None]  # field id -> value read
    confident: frozenset[str] = frozenset()  # field ids read with status auto
    identity: dict[str, str] = field(default_factory=dict)  # role -> complete value
    digits: dict[str, str] = field(default_factory=dict)  # field id -> digits read (auto)
    handwriting: dict[str, np.ndarray] = field(default_factory=dict)  # role -> ink mask


@dataclass
class _Sheet:
    captures: list[str]
    marked: set[str]  # confidently marked in any capture of the sheet
    empty: set[str]  # confidently empty in its newest capture
    identity: dict[str, str]
    digits: dict[str, str]  # newest confident digits per field
    handwriting: dict[str, np.ndarray]  # role -> the first ink mask seen


def group_sheets(captures: Sequence[CaptureMarks]) -> list[tuple[str, ...]]:
    """Capture ids grouped by sheet of paper, oldest sheet and capture first."""
    sheets: list[_Sheet] = []
    for capture in sorted(captures, key=lambda c: (c.captured_at, c.capture_id)):
        marked = {f for f in capture.confident if is_marked(capture.values.get(f))}
        empty = {f for f in capture.confident if not is_marked(capture.values.get(f))}
        ink = {f for f, value in capture.values.items() if is_marked(value)}  # doubtful too
        agreeing = [s for s in sheets if _same_sheet(s, capture, ink, empty)]
        # Of the sheets it agrees with, the one whose marks it holds most (a later photo of
        # a sheet holds all its marks); the oldest of equals.
        sheet = max(agreeing, key=lambda s: len(s.marked & ink) - len(s.marked & empty),
                    default=None)  # fmt: skip
        if sheet is None:
            sheets.append(
                _Sheet(
                    [capture.capture_id],
                    marked,
                    empty,
                    dict(capture.identity),
                    dict(capture.digits),
                    dict(capture.handwriting),
                )
            )
            continue
        sheet.captures.append(capture.capture_id)
        sheet.marked |= marked
        sheet.empty = empty
        sheet.digits.update(capture.digits)
        for role, value in capture.identity.items():
            sheet.identity.setdefault(role, value)
        for role, mask in capture.handwriting.items():
            sheet.handwriting.setdefault(role, mask)
    return [tuple(sheet.captures) for sheet in sheets]


def _same_sheet(sheet: _Sheet, capture: CaptureMarks, ink: set[str], empty: set[str]) -> bool:
    """`ink`: the fields the capture reads marked, with confidence or not; `empty`: those
    it reads empty with confidence."""
    for role, value in capture.identity.items():
        known = sheet.identity.get(role)
        if known is not None and known != value:
            return False
    for role, mask in capture.handwriting.items():
        known_ink = sheet.handwriting.get(role)
        if known_ink is not None and not same_handwriting(known_ink, mask):
            return False
    lost = sheet.marked & empty  # marked on the sheet, confidently empty now
    gained = ink & sheet.empty  # marked now, confidently empty on the sheet's last photo
    changed = {f for f, value in capture.digits.items() if sheet.digits.get(f) not in (None, value)}
    if len(lost) >= LOST_MANY:
        return False
    return not (len(lost) + len(changed) >= MIN_CONTRADICTIONS and (gained or changed))
