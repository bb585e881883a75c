"""NEWS2: the total the nurse wrote, checked against the written vital signs. Pure.

The chart is the Royal College of Physicians' National Early Warning Score 2 (RCP, 2017):
respiration rate, SpO2 (scale 1, or scale 2 for hypercapnic respiratory failure when the
column's "scale 2" box is ticked), air or oxygen, systolic blood pressure, pulse,
consciousness (ACVPU) and temperature, each scored 0-3, summed.

This is a reading check, not a clinical alert engine: a written total that differs from
the one computed from the same column's written values (every input read and accepted) is
sent to a person with the flag `news2_mismatch`; a written total whose inputs are written
but not all accepted (one is in review) cannot be checked by the machine and goes to a
person too (`news2_unchecked`). A column with an input left empty is not checked. A total
of 5 or more, or a 3 in one parameter, is only information (`News2.escalation`): nothing
here alerts anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from papermode.core.flags import Flag
from papermode.core.model import Field, PageLayout, Reading, ReadingStatus

logger = logging.getLogger(__name__)

# Field codes of the inputs (forms/vitals.toml).
RESPIRATION, SPO2, SYSTOLIC, PULSE = "9279-1", "59408-5", "8480-6", "8867-4"
TEMPERATURE, CONSCIOUSNESS = "8310-5", "67775-7"
O2_DEVICE, SPO2_SCALE, TOTAL = "o2_device", "spo2_scale", "news2"
ON_AIR = "air"
_ACCEPTED = (ReadingStatus.AUTO, ReadingStatus.CONFIRMED, ReadingStatus.CORRECTED)
_INPUTS = frozenset({RESPIRATION, SPO2, SYSTOLIC, PULSE, TEMPERATURE, CONSCIOUSNESS, O2_DEVICE})
_INPUTS |= {SPO2_SCALE}


@dataclass(frozen=True)
class Vitals:
    """One column's values as NEWS2 needs them."""

    respiration: float
    spo2: float
    on_oxygen: bool
    systolic: float
    pulse: float
    consciousness: str  # A, C, V, P or U
    temperature: float
    scale: int = 1  # SpO2 scale 1, or 2 (hypercapnic respiratory failure)


@dataclass(frozen=True)
class News2:
    """The parameter scores and their total."""

    scores: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.scores.values())

    @property
    def escalation(self) -> bool:
        """A total of 5 or more or a 3 in one parameter: information only, no alert."""
        return self.total >= 5 or 3 in self.scores.values()


def _band(value: float, bands: tuple[tuple[float, int], ...], above: int) -> int:
    """The score of the first band whose upper limit `value` does not exceed."""
    for upper, score in bands:
        if value <= upper:
            return score
    return above


def respiration_score(rate: float) -> int:
    return _band(rate, ((8, 3), (11, 1), (20, 0), (24, 2)), 3)


def spo2_score(spo2: float, *, on_oxygen: bool, scale: int = 1) -> int:
    if scale == 1:
        return _band(spo2, ((91, 3), (93, 2), (95, 1)), 0)
    if spo2 <= 87 or not on_oxygen:  # scale 2: 93 and above on air scores 0
        return _band(spo2, ((83, 3), (85, 2), (87, 1)), 0)
    return _band(spo2, ((92, 0), (94, 1), (96, 2)), 3)


def systolic_score(systolic: float) -> int:
    return _band(systolic, ((90, 3), (100, 2), (110, 1), (219, 0)), 3)


def pulse_score(pulse: float) -> int:
    return _band(pulse, ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2)), 3)


def temperature_score(celsius: float) -> int:
    return _band(round(celsius, 1), ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1)), 2)


def news2(vitals: Vitals) -> News2:
    """Every parameter's score per the RCP 2017 chart."""
    return News2(
        {
            "respiration": respiration_score(vitals.respiration),
            "spo2": spo2_score(vitals.spo2, on_oxygen=vitals.on_oxygen, scale=vitals.scale),
            "air_or_oxygen": 2 if vitals.on_oxygen else 0,
            "systolic": systolic_score(vitals.systolic),
            "pulse": pulse_score(vitals.pulse),
            "consciousness": 0 if vitals.consciousness == "A" else 3,
            "temperature": temperature_score(vitals.temperature),
        }
    )


# --------------------------------------------------------------------------- one page


def check_news2(layout: PageLayout, readings: dict[str, Reading]) -> dict[str, Reading]:
    """`readings` with every written NEWS2 total that differs from the computed one sent
    to review (flag `news2_mismatch`). A column with an input missing, unreadable or still
    in review is not compared: its total keeps its own status."""
    if layout.template != "vitals":
        return readings
    checked = dict(readings)
    for column in _columns(layout, readings).values():
        total = column.get(TOTAL)
        if total is None or total.field_id not in readings:
            continue
        written = _number(readings[total.field_id], total)
        if written is None:
            continue
        computed = _computed(column, readings)
        if computed is None:
            if _an_input_in_doubt(column, readings):
                logger.info("page %s field %s: news2_unchecked (an input is in review)",
                            layout.page_id, total.field_id)  # fmt: skip
                checked[total.field_id] = _flagged(checked[total.field_id], Flag.NEWS2_UNCHECKED)
            continue
        if round(written) == computed.total:
            continue
        logger.info(
            "page %s field %s: news2_mismatch (the written total differs from the one "
            "computed from the column's vital signs)",
            layout.page_id,
            total.field_id,
        )
        checked[total.field_id] = _flagged(checked[total.field_id], Flag.NEWS2_MISMATCH)
    return checked


def _an_input_in_doubt(column: dict[str, Field], readings: dict[str, Reading]) -> bool:
    """An input written (ink in its boxes) but not accepted as read."""
    for key, f in column.items():
        code = key.split(":", 1)[0]
        if code == TOTAL or code not in _INPUTS or f.field_id not in readings:
            continue
        reading = readings[f.field_id]
        if reading.value not in (None, "empty") and reading.status not in _ACCEPTED:
            return True
    return False


def _columns(layout: PageLayout, readings: dict[str, Reading]) -> dict[str, dict[str, Field]]:
    """Column prefix -> code -> field; a tick group is keyed `code:value`."""
    columns: dict[str, dict[str, Field]] = {}
    for f in layout.fields:
        if f.role != "vital" or not f.code:
            continue
        if f.kind == "checkbox":
            prefix = (f.group or f.field_id).rsplit(".", 1)[0]
            columns.setdefault(prefix, {})[f"{f.code}:{f.value}"] = f
        else:
            columns.setdefault(f.field_id.rsplit(".", 1)[0], {})[f.code] = f
    return columns


def _computed(column: dict[str, Field], readings: dict[str, Reading]) -> News2 | None:
    numbers = {}
    for code in (RESPIRATION, SPO2, SYSTOLIC, PULSE, TEMPERATURE):
        f = column.get(code)
        value = _number(readings[f.field_id], f) if f and f.field_id in readings else None
        if value is None:
            return None
        numbers[code] = value
    consciousness = _one_tick(column, CONSCIOUSNESS, readings)
    device = _one_tick(column, O2_DEVICE, readings)
    scale = _ticks(column, SPO2_SCALE, readings)
    if consciousness is None or device is None or scale is None:
        return None
    return news2(
        Vitals(
            respiration=numbers[RESPIRATION],
            spo2=numbers[SPO2],
            on_oxygen=device != ON_AIR,
            systolic=numbers[SYSTOLIC],
            pulse=numbers[PULSE],
            consciousness=consciousness,
            temperature=numbers[TEMPERATURE],
            scale=2 if scale else 1,
        )
    )


def _ticks(column: dict[str, Field], code: str, readings: dict[str, Reading]) -> list[str] | None:
    """The answers ticked in a group, or None when one of its boxes is not settled."""
    ticked = []
    boxes = [f for key, f in column.items() if key.startswith(f"{code}:")]
    for f in boxes:
        reading = readings.get(f.field_id)
        if reading is None or reading.status not in _ACCEPTED:
            return None
        if reading.value == "ticked":
            ticked.append(f.value or "")
        elif reading.value != "empty":
            return None  # a filled-in box (a correction) is read by a person
    return ticked


def _one_tick(column: dict[str, Field], code: str, readings: dict[str, Reading]) -> str | None:
    ticked = _ticks(column, code, readings)
    return ticked[0] if ticked is not None and len(ticked) == 1 else None


def _number(reading: Reading, f: Field) -> float | None:
    """An accepted comb value as a number ("37.8", or "378" with one printed decimal)."""
    if reading.status not in _ACCEPTED or not reading.value or reading.value == "empty":
        return None
    text = reading.value.strip()
    try:
        if "." in text or not f.decimals:
            return float(text)
        return int(text) / 10**f.decimals
    except ValueError:
        return None


def _flagged(reading: Reading, flag: Flag) -> Reading:
    flags = reading.flags if flag in reading.flags else (*reading.flags, flag)
    return replace(reading, status=ReadingStatus.REVIEW, flags=flags)
