"""Tomorrow's forms, offline: which patients and which orders the next period's forms print.

Pure: the facts come in as small typed values (`PaperChanges`, gathered from the store's
confirmed reviews by `papermode.reconcile.paper_changes`), the answer is a `ReprintPlan`:
a new `Snapshot` (its own id, so every page gets a new page id) and the cover sheet's list
of what is still awaiting confirmation. No value that no person confirmed becomes an order.

The rules, in order:

- patients: the last snapshot's patients, minus those whose "discharged" or "transferred"
  tick two people confirmed, plus blank-pack admissions whose name and temporary number a
  person confirmed (they get full packs with their name, temporary number as MRN);
- orders: the last snapshot's orders, minus those whose "stopped" tick two people confirmed,
  minus those that reached their end (bounds end, or a course of N doses all due before
  the new period), plus the new orders confirmed on the new-order sheets (two people);
- a changed dose (on paper: the old order stopped, a new order of the same drug written)
  needs both parts confirmed: a confirmed stop whose replacement still waits prints neither
  and says so on the cover sheet; a confirmed replacement whose stop still waits is held
  (the old order prints, unchanged) and says so; a confirmed new order beside an unstopped
  order of the same drug prints, with a warning;
- everything else the paper says about orders and patients and that a person still has to
  decide goes on the cover sheet ("awaiting confirmation"), never on a MAR.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from papermode.census.schedule import dosage_times
from papermode.core.model import Order, Patient, Snapshot, Timing
from papermode.core.settings import Settings

logger = logging.getLogger(__name__)

Leave = Literal["discharged", "transferred"]
# The new-order sheet's frequencies (forms/new_orders.toml) that a MAR can schedule.
SCHEDULED_FREQUENCIES = ("daily", "BID", "TID", "QID", "q4h", "q6h", "q8h", "q12h")


@dataclass(frozen=True)
class PaperOrder:
    """A new order written on a new-order sheet and confirmed by two reviewers."""

    source_id: str  # the reconciliation item id: new:<page id>:<block>
    patient_id: str
    drug: str
    dose: float | None
    unit: str | None
    route: str | None
    frequency: str | None
    prescriber: str | None = None
    confirmed_at: datetime | None = None


@dataclass(frozen=True)
class WaitingOrder:
    """A new order written on paper that two people have not confirmed yet; `drug` as
    read so far (None: nobody read it yet), only to tie it to a stop of the same drug."""

    source_id: str
    patient_id: str | None
    drug: str | None = None


@dataclass(frozen=True)
class PaperStop:
    """An order's "stopped" tick on a MAR, confirmed by two reviewers."""

    order_id: str
    page_id: str
    confirmed_at: datetime | None = None


@dataclass(frozen=True)
class PaperLeave:
    """A patient ticked discharged or transferred on the ward census, confirmed."""

    patient_id: str
    leave: Leave
    page_id: str
    confirmed_at: datetime | None = None


@dataclass(frozen=True)
class PaperAdmission:
    """A patient admitted on a blank pack whose name and temporary number were confirmed."""

    pack_id: str  # the pack's first page id
    ward: str
    family: str
    given: str
    temp_number: str
    birth_date: date | None = None
    confirmed_at: datetime | None = None

    @property
    def patient_id(self) -> str:
        return f"temp-{self.temp_number}"


@dataclass(frozen=True)
class Awaiting:
    """Something the paper says about orders or patients that no person confirmed yet.

    `what` names the form and box (page id, field or block), never a patient's name or
    MRN: the cover sheet prints the patient's bed beside it.
    """

    what: str
    patient_id: str | None = None
    ward: str | None = None


@dataclass(frozen=True)
class PaperChanges:
    """Everything reprint takes from the paper, with the time of the newest confirmation."""

    new_orders: tuple[PaperOrder, ...] = ()
    stops: tuple[PaperStop, ...] = ()
    leaves: tuple[PaperLeave, ...] = ()
    admissions: tuple[PaperAdmission, ...] = ()
    awaiting: tuple[Awaiting, ...] = ()
    stops_awaiting: tuple[PaperStop, ...] = ()  # ticked, not yet confirmed by two people
    orders_awaiting: tuple[WaitingOrder, ...] = ()  # written, not yet confirmed

    @property
    def confirmed_up_to(self) -> datetime | None:
        """The newest confirmation reprint uses (None: nothing confirmed yet)."""
        moments = [
            change.confirmed_at
            for group in (self.new_orders, self.stops, self.leaves, self.admissions)
            for change in group
            if change.confirmed_at is not None
        ]
        return max(moments) if moments else None

    @property
    def confirmed(self) -> int:
        return len(self.new_orders) + len(self.stops) + len(self.leaves) + len(self.admissions)


@dataclass(frozen=True)
class ReprintPlan:
    """What the next period prints from: the whole new snapshot (registered in the store,
    so the next reprint builds on every patient, whatever --ward or --patient chose), the
    patients printed this time, and the cover sheet's lines."""

    snapshot: Snapshot
    base_snapshot_id: str
    printed: tuple[str, ...]  # patient ids printed this time (--ward, --patient)
    awaiting: tuple[Awaiting, ...]
    stopped: tuple[str, ...]  # order ids stopped on paper
    ended: tuple[str, ...]  # order ids that reached their end before the period
    left: tuple[str, ...]  # patient ids discharged or transferred
    admitted: tuple[str, ...]  # patient ids of blank-pack admissions
    added: tuple[str, ...]  # order ids of the paper orders printed
    held: tuple[str, ...] = ()  # confirmed paper orders held: the stop they need waits
    changed: tuple[str, ...] = ()  # cover lines: doses changed on paper (both parts confirmed)

    @property
    def printed_snapshot(self) -> Snapshot:
        """The new snapshot with the printed patients only (same id: same page ids)."""
        chosen = set(self.printed)
        return replace(
            self.snapshot,
            patients=tuple(p for p in self.snapshot.patients if p.patient_id in chosen),
            orders=tuple(o for o in self.snapshot.orders if o.patient_id in chosen),
        )


def plan_reprint(
    base: Snapshot,
    changes: PaperChanges,
    *,
    period: tuple[datetime, datetime],
    settings: Settings,
    ward: str | None = None,
    patient_mrn: str | None = None,
) -> ReprintPlan:
    """The snapshot the next period prints from: `base` with the confirmed paper applied."""
    known = {p.patient_id for p in base.patients}
    left = {leave.patient_id for leave in changes.leaves} & known
    admitted = [admission_patient(a) for a in changes.admissions]
    admitted = [p for p in admitted if p.patient_id not in known]
    patients = [p for p in base.patients if p.patient_id not in left] + admitted
    present = {p.patient_id for p in patients}
    base_orders = {o.order_id for o in base.orders}
    stopped = {stop.order_id for stop in changes.stops}
    ended = {o.order_id for o in base.orders if order_ended(o, period[0], settings)}
    orders = [o for o in base.orders if o.order_id not in stopped | ended]
    paper, unscheduled = paper_orders(changes.new_orders)
    paper = [o for o in paper if o.order_id not in base_orders | stopped]
    dose = dose_changes(base.orders, paper, changes, stopped=stopped, ended=ended)
    paper = [o for o in paper if o.order_id not in dose.held]
    orders = [o for o in (*orders, *paper) if o.patient_id in present]
    printed = [p for p in patients if (not ward or p.ward == ward)
               and (not patient_mrn or p.mrn == patient_mrn)]  # fmt: skip
    shown = {p.patient_id for p in printed}
    awaiting = [a for a in (*dose.awaiting, *changes.awaiting, *unscheduled)
                if _shown(a, shown, ward)]  # fmt: skip
    for order_id in sorted(ended):
        logger.info("reprint: order %s reached its end before %s", order_id, period[0])
    snapshot = Snapshot(
        snapshot_id=reprint_snapshot_id(base, changes, period),
        taken_at=base.taken_at,
        source=f"reprint of {base.source}",
        patients=tuple(patients),
        orders=tuple(orders),
        paper_confirmed_to=changes.confirmed_up_to,
    )
    return ReprintPlan(
        snapshot=snapshot,
        base_snapshot_id=base.snapshot_id,
        printed=tuple(p.patient_id for p in printed),
        awaiting=tuple(awaiting),
        stopped=tuple(sorted(stopped & base_orders)),
        ended=tuple(sorted(ended)),
        left=tuple(sorted(left)),
        admitted=tuple(p.patient_id for p in admitted),
        added=tuple(o.order_id for o in paper),
        held=tuple(sorted(dose.held)),
        changed=dose.changed,
    )


@dataclass(frozen=True)
class DoseChanges:
    """What `dose_changes` decided: paper orders held, cover-sheet lines."""

    held: frozenset[str]
    awaiting: tuple[Awaiting, ...]
    changed: tuple[str, ...]


def dose_changes(
    base_orders: Sequence[Order],
    paper: Sequence[Order],
    changes: PaperChanges,
    *,
    stopped: set[str],
    ended: set[str],
) -> DoseChanges:
    """A dose change is a stop of the old order plus a new order of the same drug for the
    same patient; it changes the forms only when both parts are confirmed.

    - new order confirmed, the stop of its old order still awaiting: the new order is held
      (the old one prints, as before), and the cover sheet says why;
    - stop confirmed, its replacement still awaiting: the old order is not printed, the new
      one cannot be: the cover sheet says this patient has neither;
    - new order confirmed beside an order of the same drug nobody ticked stopped: both
      print, and the cover sheet asks to check it with the prescriber.
    """
    pending = {s.order_id for s in changes.stops_awaiting} - stopped
    held: set[str] = set()
    awaiting: list[Awaiting] = []
    changed: list[str] = []
    for new in paper:
        same = [o for o in base_orders if o.patient_id == new.patient_id
                and same_drug(o.medication, new.medication)]  # fmt: skip
        waiting = [o for o in same if o.order_id in pending]
        if waiting:
            held.add(new.order_id)
            awaiting.append(_held_line(new, waiting[0]))
            logger.info("reprint: paper order %s held: stop of %s awaits confirmation",
                        new.order_id, waiting[0].order_id)  # fmt: skip
            continue
        for old in same:
            if old.order_id in stopped:
                changed.append(f"- dose changed on paper: {old.medication} ({_dose(old)}) "
                               f"stopped, {new.medication} ({_dose(new)}) printed")  # fmt: skip
            elif old.order_id not in ended:
                awaiting.append(_twin_line(new, old))
    printed = [o for o in paper if o.order_id not in held]
    awaiting += _neither_lines(base_orders, printed, changes)
    return DoseChanges(frozenset(held), tuple(awaiting), tuple(changed))


def _held_line(new: Order, old: Order) -> Awaiting:
    return Awaiting(
        f"dose change of {new.medication}: the new order ({_dose(new)}) is confirmed but the "
        f"STOPPED tick of the order it replaces ({old.medication}, {_dose(old)}, "
        f"{old.order_id}) awaits its second reviewer: the old order is printed, the new one "
        "is NOT; confirm the stop in review, then reprint",
        patient_id=new.patient_id,
    )


def _twin_line(new: Order, old: Order) -> Awaiting:
    return Awaiting(
        f"new order {new.medication} ({_dose(new)}) printed beside {old.medication} "
        f"({_dose(old)}, {old.order_id}), same drug, not ticked STOPPED: if the prescriber "
        "changed the dose, the old order must be stopped; check with the prescriber",
        patient_id=new.patient_id,
    )


def _neither_lines(
    base_orders: Sequence[Order], printed: Sequence[Order], changes: PaperChanges
) -> list[Awaiting]:
    """A confirmed stop whose replacement (a new order of the same drug, or one whose drug
    nobody read yet) still waits: the patient has neither dose on the forms. Said loudly."""
    orders = {o.order_id: o for o in base_orders}
    lines: list[Awaiting] = []
    for stop in changes.stops:
        old = orders.get(stop.order_id)
        if old is None or any(
            o.patient_id == old.patient_id and same_drug(old.medication, o.medication)
            for o in printed
        ):
            continue
        waiting = [w for w in changes.orders_awaiting if w.patient_id == old.patient_id
                   and (w.drug is None or same_drug(old.medication, w.drug))]  # fmt: skip
        if waiting:
            lines.append(Awaiting(
                f"dose change of {old.medication}? the order ({_dose(old)}, {old.order_id}) "
                "is stopped on paper (confirmed) and NOT printed; the new order written for "
                f"this patient ({', '.join(w.source_id for w in waiting)}) awaits "
                "confirmation and is NOT printed either: neither dose is on these forms; "
                "ask the prescriber, confirm it in review, then reprint",
                patient_id=old.patient_id))  # fmt: skip
    return lines


def same_drug(one: str, other: str) -> bool:
    """The same medicine by name, generously (accents, case, French or English ending):
    the first word's first six letters. Generous on purpose: a false match only holds an
    order or adds a line to the cover sheet; a missed one could print two doses."""
    return _stem(one) != "" and _stem(one) == _stem(other)


def _stem(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = plain.split()
    letters = "".join(ch for ch in (words[0] if words else "") if ch.isalpha())
    return letters[:6]


def _dose(order: Order) -> str:
    if order.dose_value is None:
        return "dose not given"
    unit = f" {order.dose_unit}" if order.dose_unit else ""
    return f"{order.dose_value:g}{unit}"


def _shown(item: Awaiting, present: set[str], ward: str | None) -> bool:
    if item.patient_id is not None:
        return item.patient_id in present
    return ward is None or item.ward in (None, ward)


def order_ended(order: Order, start: datetime, settings: Settings) -> bool:
    """True when every timing of the order is over before `start`: its bounds end, or a
    course of N doses whose last dose was due before `start`. A PRN order only ends by its
    bounds: a count on it is not a course of scheduled doses (its record restarts every
    period), so it never makes the order run out."""
    timings = [d.timing for d in order.dosages] or ([order.timing] if order.timing else [])
    if not timings:
        return False
    if order.as_needed:
        timings = [replace(t, count=None) for t in timings]
    return all(_timing_over(t, start, settings, order.authored_on) for t in timings)


def _timing_over(
    timing: Timing, start: datetime, settings: Settings, authored: datetime | None
) -> bool:
    if timing.bounds_end is not None and timing.bounds_end <= start:
        return True
    if timing.count is None:
        return False
    later = dosage_times(timing, start, start + timedelta(days=400), settings, authored)
    return not later


def paper_orders(new_orders: Sequence[PaperOrder]) -> tuple[list[Order], list[Awaiting]]:
    """Confirmed paper orders as census orders; those a MAR cannot schedule go to the
    cover sheet (no frequency ticked, "once" already due on the day it was written)."""
    orders: list[Order] = []
    left_over: list[Awaiting] = []
    for paper in new_orders:
        frequency = paper.frequency or ""
        if frequency != "PRN" and frequency not in SCHEDULED_FREQUENCIES:
            reason = "no frequency ticked" if not frequency else f"frequency {frequency}"
            left_over.append(
                Awaiting(
                    f"new order {paper.source_id} ({paper.drug}): {reason}; write it on the "
                    "MAR by hand after checking with the prescriber",
                    patient_id=paper.patient_id,
                )
            )
            continue
        orders.append(paper_order(paper))
    return orders, left_over


def paper_order(paper: PaperOrder) -> Order:
    """One confirmed paper order as an order of the next period's forms."""
    as_needed = paper.frequency == "PRN"
    return Order(
        order_id=paper_order_id(paper.source_id),
        patient_id=paper.patient_id,
        medication=paper.drug,
        dose_value=paper.dose,
        dose_unit=paper.unit,
        route=paper.route,
        timing=None if as_needed else Timing(code=paper.frequency),
        as_needed=as_needed,
        authored_on=paper.confirmed_at,
        requester=paper.prescriber,
        note="written on paper during the downtime, confirmed in review",
    )


def paper_order_id(source_id: str) -> str:
    """A stable order id for a paper order (never an id of the record system)."""
    return "paper-" + hashlib.sha256(source_id.encode("utf-8")).hexdigest()[:10]


def admission_patient(admission: PaperAdmission) -> Patient:
    """A blank-pack admission as a patient: the name and temporary number as confirmed.

    Allergies are None (printed "NOT RECORDED"): a blank pack has no allergy box."""
    return Patient(
        patient_id=admission.patient_id,
        mrn=admission.temp_number,
        family=admission.family,
        given=admission.given,
        birth_date=admission.birth_date,
        ward=admission.ward,
    )


def reprint_snapshot_id(
    base: Snapshot, changes: PaperChanges, period: tuple[datetime, datetime]
) -> str:
    """A new snapshot id for every (base, confirmed changes, period): new page ids."""
    parts = [
        base.snapshot_id,
        period[0].isoformat(),
        period[1].isoformat(),
        *sorted(o.source_id for o in changes.new_orders),
        *sorted(s.order_id for s in changes.stops),
        *sorted(f"{leave.patient_id}:{leave.leave}" for leave in changes.leaves),
        *sorted(a.pack_id for a in changes.admissions),
    ]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:12]
    return f"reprint-{digest}"
