"""FHIR R4 `MedicationRequest.dosageInstruction[]` -> scheduled dosages, or refusals by name.

Every `Dosage` entry is read: several entries with the same `sequence` are given together
(a split dose: 200 mg at 08:00 and 400 mg at 20:00); entries of different sequences are
steps given one after the other (a taper), and each step needs its own bounds. A shape the
printed MAR cannot show (a range of frequencies, a count range, a rate per 20 min) is a
problem naming the resource and what to change, never a simplification. Rates and the
kind of infusion (continuous or intermittent) are read by `census.fhir.rates`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from papermode.census.fhir.parts import concept_text, get
from papermode.census.fhir.rates import (
    check_intermittent,
    dosage_rates,
    has_rate,
    is_continuous,
)
from papermode.census.fhir.timing import TimingReader
from papermode.census.vocabulary import UCUM_DOSE_UNITS
from papermode.core.model import Dosage, Order, Rate, Timing, format_quantity
from papermode.core.settings import Settings

Json = dict[str, Any]
_STRUCTURED = ("timing", "doseAndRate", "route", "asNeededBoolean", "asNeededCodeableConcept")


@dataclass
class DosageReading:
    """What the dosage instructions of one order say, and what in them cannot be printed."""

    dosages: list[Dosage] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)
    dosage_text: list[str] = field(default_factory=list)
    as_needed: bool = False
    indication: str | None = None
    max_per_period: str | None = None
    route: str | None = None
    prn_timing: Timing | None = None
    prn_dose: tuple[float | None, str | None, float | None] = (None, None, None)
    rate: Rate | None = None  # the ordered rate of an infusion (the first dosage's)
    calculated_rate: Rate | None = None
    continuous: bool = False
    problems: list[str] = field(default_factory=list)


def read_dosages(
    resource: Json,
    label: str,
    settings: Settings,
    anchor: datetime | None,
    now: datetime | None = None,
) -> DosageReading:
    """All of `resource`'s dosage instructions; `anchor` starts durations and counts."""
    reading = DosageReading()
    entries = resource.get("dosageInstruction") or []
    if not isinstance(entries, list):
        reading.problems.append(f"{label}: dosageInstruction is not a list; export it again")
        return reading
    structured: list[tuple[int, Json]] = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            reading.problems.append(f"{label}: dosageInstruction[{number}] is not an object")
            continue
        is_structured = any(key in entry for key in _STRUCTURED)
        _instructions(entry, reading, sig=is_structured)
        if is_structured:
            structured.append((number, entry))
    prn = [n for n, e in structured if _is_prn(e)]
    if prn and len(prn) != len(structured):
        reading.problems.append(
            f"{label}: it mixes scheduled and as-needed dosages; send them as two orders"
        )
        return reading
    reading.as_needed = bool(prn)
    _route(structured, label, reading)
    if reading.as_needed:
        _as_needed(structured, label, settings, reading)
    else:
        _scheduled(structured, label, settings, (anchor, now), reading)
    return reading


def _is_prn(entry: Json) -> bool:
    return entry.get("asNeededBoolean") is True or "asNeededCodeableConcept" in entry


def _instructions(entry: Json, reading: DosageReading, *, sig: bool) -> None:
    """The prescriber's instructions; a structured entry's `text` is its SIG, kept apart.

    The SIG restates the structured dosage (and may add to it): it is printed after the
    instructions, which must never be cut.
    """
    text = " ".join(str(entry.get("text") or "").split())
    if sig and text and text not in reading.dosage_text:
        reading.dosage_text.append(text)
    texts = [] if sig else [text]
    texts += [concept_text(c) for c in entry.get("additionalInstruction") or []]
    texts.append(str(entry.get("patientInstruction") or ""))
    for name in ("site", "method"):
        if concept_text(entry.get(name)):
            texts.append(f"{name}: {concept_text(entry.get(name))}")
    for name, words in (("maxDosePerAdministration", "per dose"),
                        ("maxDosePerLifetime", "in all")):  # fmt: skip
        amount = _quantity_text(entry.get(name))
        if amount:
            texts.append(f"max {amount} {words}")
    duration = _duration_text(get(entry, "timing", "repeat"))
    if duration:
        texts.append(duration)
    for text in texts:
        if isinstance(text, str) and text.strip() and text.strip() not in reading.instructions:
            reading.instructions.append(" ".join(text.split()))


def _duration_text(repeat: Any) -> str:
    """Timing.repeat.duration: how long each administration lasts ("over 1 h")."""
    value, unit = get(repeat, "duration"), get(repeat, "durationUnit")
    if not isinstance(value, int | float) or isinstance(value, bool) or not unit:
        return ""
    most = get(repeat, "durationMax")
    span = format_quantity(value)
    if isinstance(most, int | float) and not isinstance(most, bool) and most != value:
        span = f"{span}-{format_quantity(most)}"
    return f"over {span} {unit}"


def _quantity_text(quantity: Any) -> str:
    value = get(quantity, "value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    unit = str(get(quantity, "unit") or get(quantity, "code") or "").strip()
    return f"{format_quantity(value)} {unit}".strip()


def _route(structured: list[tuple[int, Json]], label: str, reading: DosageReading) -> None:
    routes = list(dict.fromkeys(concept_text(e.get("route")) for _, e in structured))
    routes = [r for r in routes if r]
    if len(routes) > 1:
        reading.problems.append(
            f"{label}: its dosages give different routes ({', '.join(routes)}); "
            "send one order per route"
        )
    reading.route = routes[0] if routes else None


# --------------------------------------------------------------------------- doses


def _dose(
    entry: Json, where: str, problems: list[str]
) -> tuple[float | None, str | None, float | None]:
    """(value, unit, max) of the ordered dose; rates and ambiguous entries are problems."""
    entries = [e for e in entry.get("doseAndRate") or [] if isinstance(e, dict)]
    if not entries:
        return None, None, None
    ordered = [e for e in entries if _code_of(e.get("type")) == "ordered"]
    untyped = [e for e in entries if not _code_of(e.get("type"))]
    chosen = ordered or (untyped if len(entries) == 1 else [])
    if len(chosen) != 1:
        problems.append(
            f"{where}: doseAndRate has {len(entries)} entries and not one of type 'ordered'; "
            "send the ordered dose with type 'ordered'"
        )
        return None, None, None
    return _dose_amount(chosen[0], where, problems)


def _code_of(concept: Any) -> str:
    return str(get(concept, "coding", 0, "code") or "").strip()


def _dose_amount(
    rate: Json, where: str, problems: list[str]
) -> tuple[float | None, str | None, float | None]:
    quantity = rate.get("doseQuantity")
    if isinstance(quantity, dict):
        value = quantity.get("value")
        if quantity.get("comparator"):
            problems.append(f"{where}: the dose has a comparator; send an exact dose")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problems.append(f"{where}: the dose {value!r} is not a positive number")
        else:
            return float(value), _unit(quantity), None
        return None, None, None
    low, high = get(rate, "doseRange", "low"), get(rate, "doseRange", "high")
    if "doseRange" not in rate:
        return None, None, None
    low_value, high_value = get(low, "value"), get(high, "value")
    numbers = [v for v in (low_value, high_value) if isinstance(v, int | float)]
    if len(numbers) != 2 or any(isinstance(v, bool) or v <= 0 for v in numbers):
        problems.append(f"{where}: the dose range needs a low and a high positive value")
    elif _unit(low) != _unit(high) or not _unit(low):
        problems.append(f"{where}: the dose range's low and high need the same unit")
    elif float(low_value) > float(high_value):
        problems.append(f"{where}: the dose range's low is above its high")
    else:
        return float(low_value), _unit(low), float(high_value)
    return None, None, None


_UCUM = "http://unitsofmeasure.org"


def _unit(quantity: Any) -> str | None:
    """A Quantity's unit: its UCUM `code` when it is one of a dose (`unit` is only the
    sending system's display, such as "microgram(s)" or "Unit(s)"), else `unit`, else
    `code`."""
    code = str(get(quantity, "code") or "").strip()
    if get(quantity, "system") == _UCUM and code in UCUM_DOSE_UNITS:
        return code
    return str(get(quantity, "unit") or code).strip() or None


# --------------------------------------------------------------------------- as needed


def _as_needed(
    structured: list[tuple[int, Json]], label: str, settings: Settings, reading: DosageReading
) -> None:
    if len(structured) > 1:
        reading.problems.append(
            f"{label}: several as-needed dosages in one order; send one order per dosage"
        )
        return
    number, entry = structured[0]
    where = f"{label} dosageInstruction[{number}]"
    if has_rate(entry):
        reading.problems.append(
            f"{where}: an as-needed order with a rate; the PRN record has no rate: send an "
            "infusion as a scheduled order, or the as-needed dose without the rate"
        )
        return
    reading.prn_dose = _dose(entry, where, reading.problems)
    reading.indication = concept_text(entry.get("asNeededCodeableConcept")) or None
    reading.max_per_period = _max_per_period(entry.get("maxDosePerPeriod"))
    reader = TimingReader(where, settings, None, as_needed=True)
    reading.prn_timing = reader.read(entry.get("timing"))
    reading.problems += reader.problems


def _max_per_period(ratio: Any) -> str | None:
    """Ratio -> "6 doses / 24 h" (R4 has one Ratio; R5 a list of them)."""
    if isinstance(ratio, list):
        ratio = ratio[0] if ratio else None
    amount, per = get(ratio, "numerator", "value"), get(ratio, "denominator", "value")
    if not isinstance(amount, int | float) or not isinstance(per, int | float):
        return None
    unit = str(get(ratio, "numerator", "unit") or get(ratio, "numerator", "code") or "doses")
    per_unit = str(get(ratio, "denominator", "unit") or get(ratio, "denominator", "code") or "")
    return f"{amount:g} {unit} / {per:g} {per_unit}".strip()


# --------------------------------------------------------------------------- scheduled


def _scheduled(
    structured: list[tuple[int, Json]],
    label: str,
    settings: Settings,
    moments: tuple[datetime | None, datetime | None],
    reading: DosageReading,
) -> None:
    anchor, now = moments
    steps: dict[int | None, list[tuple[int, Json]]] = {}
    for number, entry in structured:
        sequence = entry.get("sequence")
        steps.setdefault(sequence if isinstance(sequence, int) else None, []).append(
            (number, entry)
        )
    tapered = len(steps) > 1
    cursor = anchor
    limits = [m for _, e in structured if (m := _max_per_period(e.get("maxDosePerPeriod")))]
    reading.max_per_period = "; ".join(dict.fromkeys(limits)) or None
    for sequence in sorted(steps, key=lambda s: (s is None, s or 0)):
        step_end: datetime | None = None
        for number, entry in steps[sequence]:
            where = f"{label} dosageInstruction[{number}]"
            step = (sequence, tapered)
            dosage = _scheduled_dosage(entry, where, settings, (cursor, step), reading)
            reading.dosages.append(dosage)
            bound = dosage.timing.bounds_end
            if bound is not None and (step_end is None or bound > step_end):
                step_end = bound
        cursor = step_end or cursor
    _infusion(label, reading)
    if tapered and now is not None:  # steps already over are not printed (all over: left out)
        current = [
            d for d in reading.dosages if d.timing.bounds_end is None or d.timing.bounds_end > now
        ]
        reading.dosages = current or reading.dosages


def _scheduled_dosage(
    entry: Json,
    where: str,
    settings: Settings,
    place: tuple[datetime | None, tuple[int | None, bool]],
    reading: DosageReading,
) -> Dosage:
    """One scheduled dosage: its timing, dose and rate."""
    cursor, (sequence, tapered) = place
    reader = TimingReader(where, settings, cursor, as_needed=False)
    timing = reader.read(entry.get("timing"))
    reading.problems += reader.problems
    if tapered and timing is not None and not reader.bounded:
        reading.problems.append(
            f"{where}: step {sequence} of a multi-step order has no bounds; give each "
            "step a boundsPeriod or boundsDuration"
        )
    value, unit, most = _dose(entry, where, reading.problems)
    rate, calculated = dosage_rates(entry, where, reading.problems, settings)
    if has_rate(entry) and is_continuous(timing):  # runs until stopped: no dose needed
        reading.continuous = True
        reading.calculated_rate = reading.calculated_rate or calculated
        return Dosage(timing or Timing(), value, unit, most, sequence, rate)
    if timing is None:  # a problem; its dose still names what an order NOT to give is
        reading.problems.append(
            f"{where}: no timing; add timing.repeat (frequency and period, timeOfDay "
            "or when) or mark it as needed"
        )
        return Dosage(Timing(), value, unit, most, sequence)
    if value is None and not any(where in p for p in reading.problems):
        reading.problems.append(
            f"{where}: a scheduled dosage with no dose; add doseAndRate.doseQuantity"
        )
    if rate is not None:  # intermittent: each dose runs at the rate, for its duration
        check_intermittent(get(entry, "timing", "repeat"), timing, where, reading.problems)
        words = [f"at {rate.text}"] + ([f"(calculated {calculated.text})"] if calculated else [])
        _add_instruction(reading, " ".join(words))
    return Dosage(timing, value, unit, most, sequence, rate)


def _add_instruction(reading: DosageReading, text: str) -> None:
    if text not in reading.instructions:
        reading.instructions.append(text)


def _infusion(label: str, reading: DosageReading) -> None:
    """An order's rate; a continuous infusion is one dosage (one rate to chart)."""
    rated = [d for d in reading.dosages if d.rate is not None]
    reading.rate = rated[0].rate if rated else None
    if reading.continuous and len(reading.dosages) > 1:
        reading.problems.append(
            f"{label}: a continuous infusion with {len(reading.dosages)} dosages cannot be "
            "charted as one rate; send one dosage with the ordered rate (rate steps or a "
            "titration in its instructions)"
        )


def ends_before(order: Order, moment: datetime) -> datetime | None:
    """The last bound of the order's timings when all of them end at or before `moment`."""
    timings = [d.timing for d in order.dosages] or ([order.timing] if order.timing else [])
    ends = [timing.bounds_end for timing in timings]
    if not ends or any(end is None for end in ends):
        return None
    last = max(end for end in ends if end is not None)
    return last if last <= moment else None
