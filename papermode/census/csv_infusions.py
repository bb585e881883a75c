"""The infusion columns of orders.csv: `rate` (and `rate_unit`), `duration`.

The same rules as FHIR (`census.fhir.rates`): a rate with no `frequency` is a continuous
infusion (charted as start / rate change / stop, the `dose` optional: what the bag holds);
a rate with a `frequency` is an intermittent infusion, each dose a MAR cell, and needs its
`duration` ("1 h", "30 min"), shorter than the time between doses. A rate must be an
amount per minute, hour or day ("18 mL/h", "2-10 units/h", "0.1 units/kg/h").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from papermode.census.schedule import dose_rule
from papermode.census.vocabulary import rate_unit
from papermode.core.model import Rate, Timing
from papermode.core.settings import Settings

_RATE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)(?:\s*-\s*(\d+(?:[.,]\d+)?))?\s*(.*)$")
_DURATION = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(min|minutes?|h|hr|hours?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class CsvInfusion:
    """What the infusion columns of one row say; `problems` name the row."""

    rate: Rate | None = None
    continuous: bool = False
    instruction: str | None = None  # "at 250 mL/h over 1 h" for an intermittent one
    problems: tuple[str, ...] = ()


def read_infusion(
    where: str,
    columns: tuple[str, str, str],
    timing: Timing | None,
    as_needed: bool,
    settings: Settings,
) -> CsvInfusion:
    """`columns` are the row's (rate, rate_unit, duration) texts."""
    rate_text, unit_text, duration_text = columns
    if not rate_text:
        return CsvInfusion()
    if as_needed:
        return CsvInfusion(problems=(
            f"{where}: an as-needed order with a rate; the PRN record has no rate: send an "
            "infusion as a scheduled order, or the as-needed dose without the rate",
        ))  # fmt: skip
    rate, problems = _rate(where, rate_text, unit_text, settings)
    if rate is None:
        return CsvInfusion(problems=problems)
    if timing is None:
        return CsvInfusion(rate=rate, continuous=True)
    hours = _duration_hours(duration_text)
    if hours is None:
        return CsvInfusion(problems=(
            f"{where}: a rate with a frequency is an intermittent infusion and needs its "
            "duration (how long each dose runs: 1 h, 30 min); fill in the duration column, "
            "or leave the frequency empty for a continuous infusion",
        ))  # fmt: skip
    interval = _interval_hours(timing, settings)
    if interval is not None and hours >= interval:
        return CsvInfusion(problems=(
            f"{where}: each dose runs {duration_text}, as long as the time between doses: "
            "leave the frequency empty for a continuous infusion",
        ))  # fmt: skip
    return CsvInfusion(rate=rate, instruction=f"at {rate.text} over {duration_text.strip()}")


def _rate(
    where: str, text: str, unit: str, settings: Settings
) -> tuple[Rate | None, tuple[str, ...]]:
    match = _RATE.match(text)
    if match is None:
        return None, (f"{where}: rate {text!r} is not a number with its unit, like 18 mL/h",)
    low, high, written = match.groups()
    unit = (written or unit).strip()
    printed = rate_unit(unit, settings)
    if printed is None:
        return None, (
            f"{where}: the rate unit {unit or '(none)'!r} is not an amount per time (mL/h, "
            "units/h, mg/h, mg/kg/h, mcg/kg/min); correct it, or add it to [census] units",
        )
    value = float(low.replace(",", "."))
    most = float(high.replace(",", ".")) if high else None
    if value <= 0 or (most is not None and most <= value):
        return None, (f"{where}: rate {text!r} must be positive, a range low to high",)
    return Rate(value, printed, most), ()


def _duration_hours(text: str) -> float | None:
    match = _DURATION.match(text)
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    return value / 60 if match.group(2).lower().startswith("min") else value


def _interval_hours(timing: Timing, settings: Settings) -> float | None:
    """The shortest time between two doses of `timing`, or None if it has no rhythm."""
    rule = dose_rule(timing, settings)
    if rule is None:
        return None
    if rule.every is not None:
        return rule.every / timedelta(hours=1)
    minutes = sorted(t.hour * 60 + t.minute for t in rule.times)
    if len(minutes) < 2:
        return 24.0 if minutes else None
    gaps = [b - a for a, b in zip(minutes, minutes[1:], strict=False)]
    gaps.append(minutes[0] + 24 * 60 - minutes[-1])
    return min(gaps) / 60
