"""Printed values in the form's language: doses and units, frequencies, dates, sex.

Every value a form prints from the census goes through here, so a French or Dutch form never
shows "female", "daily" or "units", and a dose unit is spelled the ISMP way ("mcg", never
"µg" or "ug"). `Ctx` exposes these as methods (`ctx.order_dose(order)`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from papermode.core.model import Order, Timing, dose_text

Translate = Callable[..., str]


def order_dose(t: Translate, lang: str, order: Order) -> str:
    """The dose to give of an order, as printed: "0.5 mg", "10 units"."""
    return order.dose_text


def dose(t: Translate, lang: str, value: float | None, unit: str | None, high: float | None) -> str:
    """One dose (or a range) with its unit, as printed."""
    return dose_text(value, unit, high)


def unit(t: Translate, lang: str, code: str | None) -> str:
    """A dose unit as printed: "mcg", "units" in the form's language."""
    return code or ""


def frequency(t: Translate, lang: str, timing: Timing | None) -> str:
    """An order's timing as printed: "3 times a day", "every 6 hours"."""
    return timing.label if timing is not None else ""


def day(t: Translate, lang: str, value: date) -> str:
    """A calendar date as printed: dd/mm/yyyy in French and Dutch."""
    return value.isoformat()


def sex(t: Translate, lang: str, value: str | None) -> str:
    """A patient's administrative sex as printed."""
    return value or ""
