"""What a medicine is, for the forms: its allergy classes, whether it is a controlled drug.

The record system's allergy check is gone during a downtime, so the printed MAR must flag an
order for a medicine the patient is allergic to (the substance itself, or its class:
penicillins, cephalosporins, NSAIDs, opioids, sulfonamides, ...). The class table is data.
"""

from __future__ import annotations

from dataclasses import dataclass

from papermode.core.model import Order, Patient


@dataclass(frozen=True)
class AllergyConflict:
    """An order that matches one of the patient's recorded allergies."""

    allergy: str  # the allergy's substance as recorded
    via: str  # "substance", or the class both belong to ("penicillins")


def allergy_conflicts(patient: Patient, order: Order) -> tuple[AllergyConflict, ...]:
    """Every recorded allergy of `patient` that `order`'s medicine matches."""
    return ()


def is_controlled(order: Order) -> bool:
    """Whether the medicine is a controlled drug (a witness signs each administration)."""
    return False
