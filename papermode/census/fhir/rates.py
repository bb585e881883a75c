"""FHIR R4 `Dosage.doseAndRate` rates -> `Rate`, and what kind of infusion a dosage is.

`rateQuantity` (18 mL/h), `rateRatio` (100 mL per 1 h) and `rateRange` (2-10 units/h) are
read from the entry of `type` ordered (else the only, untyped one); a rate of `type`
calculated is printed beside the ordered one, never instead of it. A rate must be an
amount per minute, hour or day in UCUM or a usual spelling; a rate per 20 min, a range
with one end, a rate only calculated are refused naming the dosage and what to change.

A dosage with a rate and no rhythm (no frequency, times, `when`, `event`, `count` or
`dayOfWeek`) is a
**continuous** infusion: it runs until stopped, charted as start / rate change / stop.
A rate with a rhythm is an **intermittent** infusion ("1 g every 12 h over 1 h"): each
dose is a MAR cell, and `timing.repeat.duration` must say how long each one runs.
"""

from __future__ import annotations

from typing import Any

from papermode.census.fhir.parts import get
from papermode.census.vocabulary import rate_unit
from papermode.core.model import Rate, Timing
from papermode.core.settings import Settings

Json = dict[str, Any]
RATE_KEYS = ("rateQuantity", "rateRatio", "rateRange")
UCUM = "http://unitsofmeasure.org"
_HOURS = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0}


def has_rate(entry: Json) -> bool:
    return any(key in e for e in _entries(entry) for key in RATE_KEYS)


def _entries(entry: Json) -> list[Json]:
    return [e for e in entry.get("doseAndRate") or [] if isinstance(e, dict)]


def _type(rate_entry: Json) -> str:
    return str(get(rate_entry, "type", "coding", 0, "code") or "").strip()


def dosage_rates(
    entry: Json, where: str, problems: list[str], settings: Settings
) -> tuple[Rate | None, Rate | None]:
    """(ordered rate, calculated rate) of one dosage; either may be None."""
    entries = _entries(entry)
    ordered = [e for e in entries if _type(e) == "ordered"]
    untyped = [e for e in entries if not _type(e)]
    chosen = ordered or (untyped if len(entries) == 1 else [])
    calculated = [e for e in entries if _type(e) == "calculated" and _rated(e)]
    rate = _rate(chosen[0], where, problems, settings) if len(chosen) == 1 else None
    if rate is None and calculated and not any(where in p for p in problems):
        problems.append(
            f"{where}: its rate is only a calculated one; send the ordered rate in the "
            "doseAndRate of type 'ordered'"
        )
        return None, None
    worked = _rate(calculated[0], where, problems, settings) if calculated else None
    return rate, worked


def _rated(rate_entry: Json) -> bool:
    return any(key in rate_entry for key in RATE_KEYS)


def _rate(rate_entry: Json, where: str, problems: list[str], settings: Settings) -> Rate | None:
    if "rateQuantity" in rate_entry:
        return _quantity_rate(rate_entry["rateQuantity"], where, problems, settings)
    if "rateRatio" in rate_entry:
        return _ratio_rate(rate_entry["rateRatio"], where, problems, settings)
    if "rateRange" in rate_entry:
        return _range_rate(rate_entry["rateRange"], where, problems, settings)
    return None


def _value(quantity: Any) -> float | None:
    value = get(quantity, "value")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _unit(quantity: Any) -> str:
    """The UCUM code when the quantity says it is UCUM, else its written unit, else code."""
    code, unit = get(quantity, "code"), get(quantity, "unit")
    if code and get(quantity, "system") == UCUM:
        return str(code).strip()
    return str(unit or code or "").strip()


def _printed_unit(unit: str, where: str, problems: list[str], settings: Settings) -> str | None:
    printed = rate_unit(unit, settings)
    if printed is None:
        problems.append(
            f"{where}: the rate unit {unit or '(none)'!r} is not an amount per time (UCUM "
            "such as mL/h, [iU]/h, mg/h, mg/kg/h, ug/kg/min); correct the rate, or add the "
            "unit to [census] units in the settings"
        )
    return printed


def _quantity_rate(
    quantity: Any, where: str, problems: list[str], settings: Settings
) -> Rate | None:
    value = _value(quantity)
    if get(quantity, "comparator"):
        problems.append(f"{where}: the rate has a comparator; send an exact rate")
        return None
    if value is None:
        problems.append(f"{where}: the rate {get(quantity, 'value')!r} is not a positive number")
        return None
    unit = _printed_unit(_unit(quantity), where, problems, settings)
    return Rate(value, unit) if unit else None


def _ratio_rate(ratio: Any, where: str, problems: list[str], settings: Settings) -> Rate | None:
    amount, per = _value(get(ratio, "numerator")), _value(get(ratio, "denominator"))
    per_unit = _unit(get(ratio, "denominator"))
    if amount is None or per is None:
        problems.append(f"{where}: the rateRatio needs a positive numerator and denominator")
        return None
    if per != 1:
        problems.append(
            f"{where}: the rate is given per {per:g} {per_unit}; send it per 1 {per_unit or 'h'} "
            "(for example rateQuantity in mL/h) so the nurse reads the pump's rate"
        )
        return None
    unit = _printed_unit(f"{_unit(get(ratio, 'numerator'))}/{per_unit}", where, problems, settings)
    return Rate(amount, unit) if unit else None


def _range_rate(span: Any, where: str, problems: list[str], settings: Settings) -> Rate | None:
    low, high = _value(get(span, "low")), _value(get(span, "high"))
    if low is None or high is None:
        problems.append(
            f"{where}: the rate range needs a low and a high positive rate; send both ends "
            "(or one ordered rate, with the titration in the instructions)"
        )
        return None
    if _unit(get(span, "low")) != _unit(get(span, "high")):
        problems.append(f"{where}: the rate range's low and high need the same unit")
        return None
    if low > high:
        problems.append(f"{where}: the rate range's low is above its high")
        return None
    unit = _printed_unit(_unit(get(span, "low")), where, problems, settings)
    return Rate(low, unit, high) if unit else None


def is_continuous(timing: Timing | None) -> bool:
    """No rhythm: the infusion runs from its start until it is stopped."""
    if timing is None:
        return True
    rhythm = timing.frequency or timing.times_of_day or timing.when or timing.code
    return not (rhythm or timing.events or timing.count or timing.days_of_week)


def check_intermittent(repeat: Any, timing: Timing, where: str, problems: list[str]) -> None:
    """An intermittent infusion needs its duration, shorter than the time between doses."""
    duration, unit = get(repeat, "duration"), get(repeat, "durationUnit")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or unit not in _HOURS:
        problems.append(
            f"{where}: an infusion given on a schedule needs timing.repeat.duration (how long "
            "each dose runs, e.g. 1 h); add it, or send a continuous infusion without a "
            "frequency"
        )
        return
    hours = duration * _HOURS[str(unit)]
    if timing.frequency and timing.period and timing.period_unit in _HOURS:
        interval = timing.period * _HOURS[timing.period_unit] / timing.frequency
        if hours >= interval:
            problems.append(
                f"{where}: each dose runs {duration:g} {unit}, as long as the time between "
                "doses: send it as a continuous infusion (a rate without a frequency)"
            )
