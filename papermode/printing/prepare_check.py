"""`prepare --check`: every order as papermode understood it, without writing a file.

What IT and pharmacy read before printing for a hospital: per patient, each order with
its dose, route, timing, instructions and the times it falls due in the printed period,
then every patient and order left out with why, and the warnings. The same census checks
as `prepare` run first, so a census `prepare` would refuse raises the same `CensusError`.
Patients are named by census id and bed only, never by name or MRN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from papermode.census.drug_classes import allergy_conflicts, conflict_warnings
from papermode.census.schedule import default_period, doses_for_snapshot
from papermode.census.snapshot import load_census
from papermode.core.errors import UsageError
from papermode.core.model import LeftOut, Order, Patient, ScheduledDose, Snapshot
from papermode.core.settings import load_settings
from papermode.printing.printable import (
    census_age_warnings,
    check_dose_schedules_fit,
    check_one_dose_per_time,
    check_text_printable,
    long_instruction_warnings,
)


@dataclass(frozen=True)
class CheckedDose:
    """One administration due in the printed period, and the dose to give then."""

    scheduled_at: datetime
    dose: str


@dataclass(frozen=True)
class CheckedOrder:
    order_id: str
    medication: str
    dose: str
    route: str
    timing: str
    as_needed: bool
    high_alert: bool
    instructions: tuple[str, ...]
    dosage_text: tuple[str, ...]
    due: tuple[CheckedDose, ...]
    rate: str = ""  # the ordered rate of an infusion ("18 mL/h"), and a calculated one
    infusion: str = ""  # "continuous", "intermittent" or ""
    do_not_give: bool = False  # an order NOT to give, printed as a DO NOT GIVE line
    # the patient's allergies this order matches (census/drug_classes.py), as printed flags
    allergy_conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckedPatient:
    patient_id: str
    ward: str
    room: str
    bed: str
    orders: tuple[CheckedOrder, ...]


@dataclass(frozen=True)
class CensusCheck:
    """What `prepare` would print, order by order, and what it would leave out."""

    source: str
    snapshot_id: str
    taken_at: datetime
    period_start: datetime
    period_end: datetime
    patients: tuple[CheckedPatient, ...]
    left_out: tuple[LeftOut, ...]
    warnings: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The check as JSON-ready data (times as ISO text to the minute)."""
        data = asdict(self)
        return _iso(data)


def check_census(
    census: Path,
    *,
    start: datetime | None,
    hours: int,
    settings_path: Path | None,
    now: datetime | None = None,
) -> CensusCheck:
    """Read and check `census` as `prepare` does, and describe every order; write nothing."""
    if hours <= 0:
        raise UsageError(f"--hours must be at least 1, not {hours}.")
    settings = load_settings(settings_path)
    snapshot = load_census(Path(census), settings)
    if start is None:
        period = default_period(now or datetime.now(), hours)
    else:
        begin = start.replace(tzinfo=None)
        period = (begin, begin + timedelta(hours=hours))
    doses = doses_for_snapshot(snapshot, period[0], period[1], settings)
    check_one_dose_per_time(snapshot, doses)
    check_dose_schedules_fit(snapshot)
    check_text_printable(snapshot)
    warnings = snapshot.warnings + tuple(census_age_warnings(snapshot, period[0], settings))
    warnings += tuple(long_instruction_warnings(snapshot))
    warnings += tuple(conflict_warnings(snapshot))  # allergy flags: census/drug_classes.py
    return CensusCheck(
        source=snapshot.source,
        snapshot_id=snapshot.snapshot_id,
        taken_at=snapshot.taken_at,
        period_start=period[0],
        period_end=period[1],
        patients=_patients(snapshot, doses),
        left_out=snapshot.left_out,
        warnings=warnings,
    )


def _patients(
    snapshot: Snapshot, doses: dict[str, list[ScheduledDose]]
) -> tuple[CheckedPatient, ...]:
    checked = []
    for patient in snapshot.patients:
        orders = snapshot.orders_for(patient.patient_id)
        checked.append(
            CheckedPatient(
                patient_id=patient.patient_id,
                ward=patient.ward,
                room=patient.room or "",
                bed=patient.bed or "",
                orders=tuple(
                    _with_conflicts(_order(order, doses[order.order_id]), patient, order)
                    for order in orders
                ),
            )
        )
    return tuple(checked)


def _order(order: Order, doses: list[ScheduledDose]) -> CheckedOrder:
    timing = order.timing.label if order.timing is not None else ""
    if order.continuous:
        timing = _running(order)
    if order.as_needed and order.indication:
        timing = f"{timing} as needed for {order.indication}".strip()
    elif order.as_needed:
        timing = f"{timing} as needed".strip()
    if order.max_per_period:
        timing = f"{timing}; max {order.max_per_period}"
    return CheckedOrder(
        order_id=order.order_id,
        medication=order.medication,
        dose=order.dose_text,
        route=order.route or "",
        timing=timing,
        as_needed=order.as_needed,
        high_alert=order.high_alert,
        instructions=order.instructions,
        dosage_text=order.dosage_text,
        due=tuple(CheckedDose(d.scheduled_at, d.dose_text) for d in doses),
        rate=_rate(order),
        infusion=("continuous" if order.continuous else "intermittent") if order.rate else "",
        do_not_give=order.do_not_perform,
    )


def _with_conflicts(checked: CheckedOrder, patient: Patient, order: Order) -> CheckedOrder:
    if order.do_not_perform:
        return checked
    found = tuple(conflict.text for conflict in allergy_conflicts(patient, order))
    return replace(checked, allergy_conflicts=found) if found else checked


def _running(order: Order) -> str:
    """ "continuous from 2026-11-29 08:00 until 2026-11-30 12:00": an infusion's bounds."""
    start = order.timing.bounds_start if order.timing else None
    end = order.timing.bounds_end if order.timing else None
    words = ["continuous"]
    if start is not None:
        words.append(f"from {start:%Y-%m-%d %H:%M}")
    if end is not None:
        words.append(f"until {end - timedelta(seconds=1):%Y-%m-%d %H:%M}")
    return " ".join(words)


def _rate(order: Order) -> str:
    if order.rate is None:
        return ""
    if order.calculated_rate is None:
        return order.rate.text
    return f"{order.rate.text} (calculated {order.calculated_rate.text})"


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(item) for item in value]
    return value


def check_lines(check: CensusCheck) -> list[str]:
    """The check as plain text lines: a table per patient, then left out, then warnings."""
    lines = [
        f"{check.source}: snapshot {check.snapshot_id}, exported {check.taken_at:%Y-%m-%d %H:%M}; "
        f"period {check.period_start:%Y-%m-%d %H:%M} to {check.period_end:%Y-%m-%d %H:%M}",
    ]
    for patient in check.patients:
        place = " / ".join(p for p in (patient.ward, patient.room, patient.bed) if p)
        lines += ["", f"Patient {patient.patient_id} ({place}): {len(patient.orders)} order(s)"]
        for order in patient.orders:
            alert = " HIGH ALERT" if order.high_alert else ""
            not_given = "DO NOT GIVE " if order.do_not_give else ""
            lines.append(
                f"  {order.order_id}: {not_given}{order.medication} | {order.dose or '-'} | "
                f"{order.route or '-'} | {order.timing or '-'}{alert}"
            )
            if order.instructions:
                lines.append(f"      instructions: {'; '.join(order.instructions)}")
            if order.dosage_text:
                lines.append(f"      dosage text: {'; '.join(order.dosage_text)}")
            if order.rate:
                kind = {"continuous": "continuous infusion (no scheduled dose)"}
                lines.append(
                    f"      rate: {order.rate}, {kind.get(order.infusion, order.infusion)}"
                )
            for conflict in order.allergy_conflicts:
                lines.append(f"      ALLERGY: {conflict}: flagged beside the order")
            if order.do_not_give:
                lines.append("      not to give: printed as a DO NOT GIVE line, no dose cell")
            elif order.infusion != "continuous" and not order.as_needed:
                due = ", ".join(f"{d.scheduled_at:%d %H:%M} {d.dose}" for d in order.due)
                lines.append(f"      due: {due or 'none in the period'}")
    lines += ["", f"Left out: {len(check.left_out)}"]
    lines += [f"  {item.line}" for item in check.left_out]
    lines += [f"Warning: {warning}" for warning in check.warnings]
    return lines
