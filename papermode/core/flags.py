"""Every word papermode writes into a reading, a capture or a file record, in one place.

These are public contracts: they appear as plain strings in `readings --json`, in the
store's `readings` / `page_state` / `ingests` tables and in docs/readings.md (a test keeps
the flag table there equal to `Flag`). Each enum is a `StrEnum`, so a member *is* its string:
`Flag.FAINT == "faint"`, `json.dumps([Flag.FAINT]) == '["faint"]'`, and rows read back
from the store as plain strings compare equal to the members.
"""

from __future__ import annotations

from enum import StrEnum


class Flag(StrEnum):
    """Why a value read needs a person (or how it was read), attached to a `Reading`."""

    # tick boxes and ink boxes (papermode.reading.marks)
    CORRECTION = "correction"  # a box scribbled over: a correction, meaning *not* ticked
    CONTRADICTION = "contradiction"  # two answers ticked in one group
    GROUP_UNCERTAIN = "group_uncertain"  # another answer of the group is in review
    FAINT = "faint"  # so little or so light ink that it may be a smudge (marks, digits)
    OUTSIDE_PAGE = "outside_page"  # the box lies outside the image
    BILEVEL_EMPTY_UNPROVEN = "bilevel_empty_unproven"  # an empty box on a 1-bit scan
    # comb fields (papermode.reading.digits)
    CROSSED_OUT = "crossed_out"  # a digit crossed out, or two glyphs in one cell
    INK_OUTSIDE = "ink_outside"  # ink just above the comb: often a correction squeezed in
    GAP = "gap"  # an empty cell between digits
    INCOMPLETE = "incomplete"  # the digits after the printed decimal point are missing
    UNREADABLE = "unreadable"  # a cell holds ink that is no digit
    OUTSIDE_IMAGE = "outside_image"  # the comb is cut off the image: never "surely empty"
    LEFT_ALIGNED = "left_aligned"  # written from the left, empty cells after the digits
    LEADING_BLANK = "leading_blank"  # a time written without its leading zero
    EMPTY = "empty"  # nothing written in any cell
    # decisions on the page (papermode.reading.fields)
    IMPLAUSIBLE = "implausible"  # fails a plausibility check ([plausibility] settings)
    WASHED_OUT = "washed_out"  # the printed box is invisible (glare, a shadow)
    NEW_ORDER = "new_order"  # written on a new-order sheet: a person confirms the order
    NO_ORDERED_DOSE = "no_ordered_dose"  # a dose with no ordered dose to compare (PRN)
    # an entry read perfectly that is incomplete (papermode.reading.completeness)
    MISSING_INITIALS = "missing_initials"  # an answer, PRN time or dose without initials
    MISSING_TIME = "missing_time"  # an answer without its time; a PRN dose with no time
    MISSING_CHOICE = "missing_choice"  # a time written and none of given / held / refused
    MISSING_DOSE = "missing_dose"  # a PRN entry with a time and no dose
    MISSING_IDENTITY = "missing_identity"  # a blank pack used without its identity
    # merged over captures (papermode.state.merge)
    DISAPPEARED = "disappeared"  # ticked in an earlier capture, empty now
    CHANGED = "changed"  # a written value changed between captures
    COPY_OF_PAGE = "copy_of_page"  # this page id is on more than one sheet of paper
    # review (papermode.reading.attributed)
    IDENTITY_BY_REVIEWER = "identity_by_reviewer"  # the page id was named by two reviewers
    # an infusion row (printing/layout/infusion.py; papermode.reading.completeness)
    MISSING_RATE = "missing_rate"  # an infusion started or changed with no rate written
    # a PRN entry (printing/layout/prn.py; papermode.reading.completeness)
    MISSING_DATE = "missing_date"  # a PRN time or dose with no date ticked
    MISSING_SITE = "missing_site"  # a SC / IM PRN dose with no injection site code
    NO_SECOND_CHECK = "no_second_check"  # a high-alert PRN dose without second initials
    NO_WITNESS = "no_witness"  # a controlled-drug PRN dose without a witness's initials
    # the vitals chart (papermode.reading.news2)
    NEWS2_MISMATCH = "news2_mismatch"  # the NEWS2 total written differs from the computed one
    NEWS2_UNCHECKED = "news2_unchecked"  # a NEWS2 total written while an input is in review


# Flags a rule about the record raises, whatever the reading's confidence: a new order a
# person confirms, an incomplete entry, a blank pack without its identity, a NEWS2 total
# the machine cannot check. A value with one goes to review even when read perfectly; the
# benchmark counts those apart from values sent for a doubt about the reading itself.
RULE_FLAGS = frozenset(
    {
        Flag.NEW_ORDER,
        Flag.NO_ORDERED_DOSE,
        Flag.MISSING_INITIALS,
        Flag.MISSING_TIME,
        Flag.MISSING_CHOICE,
        Flag.MISSING_DOSE,
        Flag.MISSING_IDENTITY,
        Flag.MISSING_RATE,
        Flag.MISSING_DATE,
        Flag.MISSING_SITE,
        Flag.NO_SECOND_CHECK,
        Flag.NO_WITNESS,
        Flag.NEWS2_MISMATCH,
        Flag.NEWS2_UNCHECKED,
    }
)


class ReadingStatus(StrEnum):
    """Who decided a field's value."""

    AUTO = "auto"  # accepted by the machine
    REVIEW = "review"  # a person must look
    CONFIRMED = "confirmed"  # a person confirmed the value read
    CORRECTED = "corrected"  # a person corrected it


class FileStatus(StrEnum):
    """What became of one page image of an ingested file (`files[].status`)."""

    READ = "read"
    RETAKE = "retake"
    DUPLICATE = "duplicate"
    FREE = "free"  # not a papermode form: a screen photo or a paper note, OCRed
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"  # a path not read: a link outside the folder, a device, hidden, unreadable


class Threshold(StrEnum):
    """The confidence thresholds of `[reading]` in the settings, one per kind of box."""

    CHECKBOX = "checkbox"
    SIGNATURE = "signature"
    TEXT = "text"
    TIME = "time"
    VITAL = "vital"
    DOSE = "dose"
    NUMBER = "number"
