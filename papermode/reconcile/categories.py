"""What reconciliation says about each item of paper (an administration, a vital sign, a
new order), and how it stands against the restored record."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """One item's outcome (`Item.category`) or a further concern about it (`Item.concerns`)."""

    ON_TIME = "on_time"
    EARLY = "early"
    LATE = "late"
    GIVEN = "given"  # given; no timing window applies (STAT, first, one-time, PRN, no time)
    HELD = "held"
    REFUSED = "refused"
    NOT_DOCUMENTED = "not_documented"  # no mark at all: never reported as "not given"
    DOCUMENTED_TWICE = "documented_twice"  # two different answers for one order and time
    PENDING = "pending"  # still in the review queue: reported, never exported
    EXTRA_DOSE = "extra_dose"  # PRN beyond its maximum per period or before its interval
    AFTER_ORDER_END = "after_order_end"
    NO_SECOND_INITIALS = "no_second_initials"  # high-alert dose without the double check
    NO_WITNESS = "no_witness"  # a controlled drug given (MAR, PRN) without a witness's initials
    NEW_ORDER = "new_order"  # written on the new-order sheet, confirmed in review
    STOPPED_ORDER = "stopped_order"  # the restored record says the order was stopped
    VITAL_SIGN = "vital_sign"
    INFUSION = "infusion"  # a period a continuous infusion ran at one rate
    BY_HAND = "by_hand"  # on paper, but no record to export it to: back-enter it by hand

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Category.ON_TIME: "given on time",
    Category.EARLY: "given early",
    Category.LATE: "given late",
    Category.GIVEN: "given (no timing window)",
    Category.HELD: "held",
    Category.REFUSED: "refused",
    Category.NOT_DOCUMENTED: "not documented",
    Category.DOCUMENTED_TWICE: "documented twice",
    Category.PENDING: "pending review",
    Category.EXTRA_DOSE: "extra dose",
    Category.AFTER_ORDER_END: "after the order's end",
    Category.NO_SECOND_INITIALS: "high-alert without second initials",
    Category.NO_WITNESS: "controlled drug without a witness",
    Category.NEW_ORDER: "new order from paper",
    Category.STOPPED_ORDER: "stopped order",
    Category.VITAL_SIGN: "vital signs",
    Category.INFUSION: "infusion period",
    Category.BY_HAND: "back-enter by hand",
}

GIVEN_CATEGORIES = frozenset({Category.ON_TIME, Category.EARLY, Category.LATE, Category.GIVEN})
ADMINISTRATION_CATEGORIES = GIVEN_CATEGORIES | {Category.HELD, Category.REFUSED}


class RecordMatch(StrEnum):
    """A paper item against the restored system's export (`--restored`)."""

    IN_RECORD = "already_in_record"
    TO_BACK_ENTER = "to_back_enter"
    CONFLICT = "conflict"
