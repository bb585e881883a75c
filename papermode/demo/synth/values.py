"""Plausible numbers for comb fields (vital signs, doses), as a nurse writes them in cells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from papermode.core.model import Field


@dataclass(frozen=True)
class ValueRange:
    low: float
    high: float
    decimals: int = 0


# LOINC code -> the range written on a ward (not the whole human range: plausible values).
VITAL_RANGES: dict[str, ValueRange] = {
    "8867-4": ValueRange(55, 120),  # heart rate /min
    "8480-6": ValueRange(95, 175),  # systolic blood pressure mmHg
    "8462-4": ValueRange(50, 100),  # diastolic blood pressure mmHg
    "8310-5": ValueRange(36.0, 39.5, 1),  # body temperature degC
    "59408-5": ValueRange(88, 100),  # SpO2 %
    "2708-6": ValueRange(88, 100),  # SpO2 % (arterial)
    "9279-1": ValueRange(12, 28),  # respiratory rate /min
    "29463-7": ValueRange(45, 120, 1),  # body weight kg
    "72514-3": ValueRange(0, 10),  # pain score
    "9269-2": ValueRange(3, 15),  # Glasgow coma score
    "2339-0": ValueRange(3.5, 15.0, 1),  # glucose mmol/L
    "14743-9": ValueRange(3.5, 15.0, 1),  # capillary glucose mmol/L (the vitals chart's)
}
# When a field has no code: guess from its id or label.
NAME_RANGES: dict[str, str] = {
    "hr": "8867-4",
    "pulse": "8867-4",
    "sbp": "8480-6",
    "sys": "8480-6",
    "dbp": "8462-4",
    "dia": "8462-4",
    "temp": "8310-5",
    "spo2": "59408-5",
    "sat": "59408-5",
    "rr": "9279-1",
    "resp": "9279-1",
    "weight": "29463-7",
}


def value_range(item: Field) -> ValueRange | None:
    """The plausible range for `item`, by LOINC code, else by its id or label."""
    if item.code and item.code in VITAL_RANGES:
        return VITAL_RANGES[item.code]
    words = f"{item.field_id} {item.label}".lower().replace("-", " ").replace("_", " ").split()
    for word in words:
        if word in NAME_RANGES:
            return VITAL_RANGES[NAME_RANGES[word]]
    return None


def vital_value(item: Field, rng: np.random.Generator) -> tuple[str, str]:
    """A plausible value for the comb `item`: (cell text, value text).

    The cell text has one character per cell, blanks as spaces, the integer part right
    aligned against the printed decimal point: 37.8 in 3 cells with 1 decimal -> "378";
    72 in 3 cells -> " 72". The value text is the number meant ("37.8", "72").
    """
    cells = max(item.cells, 1)
    decimals = min(max(item.decimals, 0), cells - 1) if cells > 1 else 0
    whole_cells = cells - decimals
    span = value_range(item)
    if span is None:  # a dose or an unknown number: small values, fitting the cells
        span = ValueRange(1, min(10 ** min(whole_cells, 3) - 1, 500), 0)
    return comb_text(item, float(rng.uniform(span.low, span.high)))


def comb_text(item: Field, value: float) -> tuple[str, str]:
    """`value` as a nurse writes it in the comb `item`: (cell text, value text), see
    `vital_value`."""
    cells = max(item.cells, 1)
    decimals = min(max(item.decimals, 0), cells - 1) if cells > 1 else 0
    whole_cells = cells - decimals
    value = min(value, 10**whole_cells - 10.0**-decimals)  # must fit the printed cells
    number = f"{value:.{decimals}f}"
    whole, _, fraction = number.partition(".")
    return whole.rjust(whole_cells)[-whole_cells:] + fraction.ljust(decimals, "0"), number
