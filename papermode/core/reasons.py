"""Why a scheduled dose was not given: the numbered codes a nurse writes in a MAR cell.

Published paper charts ask for a reason beside every dose not given (the Australian NIMC
chart's letter codes, NHS drug charts' numbered codes); papermode's digit reader reads
numbers, so the codes are digits, printed in a legend on every MAR page. "Refused" has its
own tick; a refused dose may still carry a number. Only two reasons have a code of the R4
example value set `reason-medication-not-given-codes` (SNOMED CT is-a 242990004 "Drug not
available for administration" or 182895007 "Drug declined by patient"); the others are
exported as text, never under a code papermode cannot vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"


@dataclass(frozen=True)
class NotGivenReason:
    """One code of the MAR legend."""

    number: str  # what the nurse writes: "1" ... "6"
    key: str  # i18n key and the reconcile/export name
    label: str  # English, for exports and reports
    snomed: tuple[str, str] | None = None  # (code, display) in the R4 example value set


REASONS = (
    NotGivenReason("1", "nil_by_mouth", "nil by mouth (fasting)"),
    NotGivenReason("2", "absent", "patient absent from the ward"),
    NotGivenReason(
        "3", "not_available", "drug not available",
        ("242990004", "Drug not available for administration"),
    ),
    NotGivenReason("4", "vomiting", "vomiting"),
    NotGivenReason("5", "withheld", "withheld (clinical decision or prescriber)"),
    NotGivenReason(
        "6", "declined", "declined by the patient", ("182895007", "Drug declined by patient")
    ),
)  # fmt: skip
BY_NUMBER = {reason.number: reason for reason in REASONS}


def reason_of(written: str | None) -> NotGivenReason | None:
    """The reason a written code means; None for nothing written or a number not in use."""
    return BY_NUMBER.get((written or "").strip())
