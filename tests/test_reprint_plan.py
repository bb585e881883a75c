"""The pure decision of `reprint`: which patients and which orders the next period prints.

A value nobody confirmed never becomes an order; a confirmed stop, discharge or end stops
printing; a confirmed blank-pack admission gets a full pack; every plan has its own id."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from papermode.census.snapshot import load_census, sample_census_path
from papermode.core.model import Order, Snapshot, Timing
from papermode.core.settings import load_settings
from papermode.printing.reprint import (
    Awaiting,
    PaperAdmission,
    PaperChanges,
    PaperLeave,
    PaperOrder,
    PaperStop,
    order_ended,
    paper_order_id,
    plan_reprint,
)
from papermode.printing.reprint_run import cover_lines
from papermode.store.order_json import order_from_json, order_json

SETTINGS = load_settings()
DAY2 = (datetime(2026, 11, 29, 7, 0), datetime(2026, 11, 30, 7, 0))
CONFIRMED = datetime(2026, 11, 28, 16, 30)


def _base() -> Snapshot:
    return load_census(sample_census_path(), SETTINGS)


def _new_order(frequency: str | None = "BID") -> PaperOrder:
    return PaperOrder("new:PAGE-1:1", "p-101", "Metronidazole", 500.0, "mg", "PO", frequency,
                      confirmed_at=CONFIRMED)  # fmt: skip


def test_nothing_confirmed_prints_the_snapshot_as_it_was() -> None:
    base = _base()
    plan = plan_reprint(base, PaperChanges(), period=DAY2, settings=SETTINGS)
    assert {o.order_id for o in plan.snapshot.orders} == {o.order_id for o in base.orders}
    assert plan.snapshot.patients == base.patients
    assert plan.snapshot.snapshot_id != base.snapshot_id  # new page ids
    assert plan.snapshot.paper_confirmed_to is None


def test_confirmed_new_order_is_added_and_stop_removes_the_order() -> None:
    changes = PaperChanges(new_orders=(_new_order(),), stops=(PaperStop("ord-1002", "P"),))
    plan = plan_reprint(_base(), changes, period=DAY2, settings=SETTINGS)
    orders = {o.order_id: o for o in plan.snapshot.orders}
    assert "ord-1002" not in orders and plan.stopped == ("ord-1002",)
    added = orders[paper_order_id("new:PAGE-1:1")]
    assert (added.medication, added.dose_value, added.route) == ("Metronidazole", 500.0, "PO")
    assert added.timing == Timing(code="BID") and added.patient_id == "p-101"
    assert plan.snapshot.paper_confirmed_to == CONFIRMED


def test_awaiting_items_are_never_orders() -> None:
    waiting = Awaiting("new order, sheet X block 2: in the review queue", "p-101")
    changes = PaperChanges(awaiting=(waiting,))
    plan = plan_reprint(_base(), changes, period=DAY2, settings=SETTINGS)
    assert plan.awaiting == (waiting,)
    assert {o.order_id for o in plan.snapshot.orders} == {o.order_id for o in _base().orders}
    assert any("in the review queue" in line for line in cover_lines(plan))


def test_paper_order_without_a_schedulable_frequency_goes_to_the_cover_sheet() -> None:
    for frequency in (None, "once"):
        changes = PaperChanges(new_orders=(_new_order(frequency),))
        plan = plan_reprint(_base(), changes, period=DAY2, settings=SETTINGS)
        assert plan.added == ()
        assert any("Metronidazole" in item.what for item in plan.awaiting)


def test_prn_paper_order_is_as_needed() -> None:
    plan = plan_reprint(_base(), PaperChanges(new_orders=(_new_order("PRN"),)), period=DAY2,
                        settings=SETTINGS)  # fmt: skip
    added = next(o for o in plan.snapshot.orders if o.order_id in plan.added)
    assert added.as_needed and added.timing is None


def test_discharged_patient_gets_no_forms_and_admission_gets_a_pack() -> None:
    admission = PaperAdmission("BLANK-1", "Médecine interne 3B", "ZEBULON", "Anna", "480213",
                               birth_date=date(1961, 4, 2), confirmed_at=CONFIRMED)  # fmt: skip
    changes = PaperChanges(leaves=(PaperLeave("p-102", "discharged", "C"),),
                           admissions=(admission,))  # fmt: skip
    plan = plan_reprint(_base(), changes, period=DAY2, settings=SETTINGS)
    ids = {p.patient_id for p in plan.snapshot.patients}
    assert "p-102" not in ids and not any(o.patient_id == "p-102" for o in plan.snapshot.orders)
    new = plan.snapshot.patient("temp-480213")
    assert (new.mrn, new.family, new.birth_date) == ("480213", "ZEBULON", date(1961, 4, 2))
    assert new.allergies is None  # printed "NOT RECORDED", never "none"


def test_ward_and_patient_filters_print_less_but_keep_every_patient() -> None:
    ward = "Chirurgie 2A"
    plan = plan_reprint(_base(), PaperChanges(), period=DAY2, settings=SETTINGS, ward=ward)
    assert {p.ward for p in plan.printed_snapshot.patients} == {"Chirurgie 2A"}
    # The registered snapshot keeps every ward: the next reprint builds on all of them.
    assert len(plan.snapshot.patients) == len(_base().patients)
    mrn = _base().patient("p-101").mrn
    plan = plan_reprint(_base(), PaperChanges(), period=DAY2, settings=SETTINGS, patient_mrn=mrn)
    assert [p.patient_id for p in plan.printed_snapshot.patients] == ["p-101"]
    assert {o.patient_id for o in plan.printed_snapshot.orders} == {"p-101"}
    assert plan.printed_snapshot.snapshot_id == plan.snapshot.snapshot_id


def test_orders_that_reached_their_end_stop() -> None:
    base = _base()
    first = base.orders[0]
    bounded = replace(first, order_id="bounded",
                      timing=replace(first.timing or Timing(code="q6h"),
                                     bounds_end=datetime(2026, 11, 29, 0, 0)))  # fmt: skip
    course = Order("course", first.patient_id, "Ceftriaxone 2 g",
                   timing=Timing(code="daily", count=1,
                                 bounds_start=datetime(2026, 11, 28, 8, 0)))  # fmt: skip
    going = Order("going", first.patient_id, "Ceftriaxone 2 g",
                  timing=Timing(code="daily", count=5,
                                bounds_start=datetime(2026, 11, 28, 8, 0)))  # fmt: skip
    assert order_ended(bounded, DAY2[0], SETTINGS)
    assert order_ended(course, DAY2[0], SETTINGS)
    assert not order_ended(going, DAY2[0], SETTINGS)
    assert not order_ended(first, DAY2[0], SETTINGS)
    snapshot = replace(base, orders=(*base.orders, bounded, course, going))
    plan = plan_reprint(snapshot, PaperChanges(), period=DAY2, settings=SETTINGS)
    printed = {o.order_id for o in plan.snapshot.orders}
    assert "bounded" not in printed and "course" not in printed and "going" in printed
    assert set(plan.ended) == {"bounded", "course"}


def test_every_change_gives_a_new_snapshot_id() -> None:
    base = _base()
    ids = {
        plan_reprint(base, changes, period=DAY2, settings=SETTINGS).snapshot.snapshot_id
        for changes in (
            PaperChanges(),
            PaperChanges(new_orders=(_new_order(),)),
            PaperChanges(stops=(PaperStop("ord-1002", "P"),)),
        )
    }
    assert len(ids) == 3
    again = plan_reprint(base, PaperChanges(), period=DAY2, settings=SETTINGS)
    assert again.snapshot.snapshot_id in ids  # the same inputs: the same ids


def test_a_reprint_of_a_reprint_does_not_add_an_order_twice() -> None:
    changes = PaperChanges(new_orders=(_new_order(),))
    day2 = plan_reprint(_base(), changes, period=DAY2, settings=SETTINGS)
    day3 = plan_reprint(day2.snapshot, changes, period=(DAY2[1], datetime(2026, 12, 1, 7, 0)),
                        settings=SETTINGS)  # fmt: skip
    ids = [o.order_id for o in day3.snapshot.orders]
    assert len(ids) == len(set(ids))


def test_every_order_fact_survives_the_store() -> None:
    for order in _base().orders:
        assert order_from_json(order_json(order)) == order
    bounded = Order("x", "p", "drug", timing=Timing(code="daily", count=3, when=("ACM",),
                    bounds_start=datetime(2026, 11, 28, 8), days_of_week=("mon",)))  # fmt: skip
    assert order_from_json(order_json(bounded)) == bounded
