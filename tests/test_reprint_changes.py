"""A dose changed on paper: the old order stopped on the MAR plus a new order of the same
drug on the new-order sheet. Tomorrow's forms print the new dose only when both halves are
confirmed; with one half still in review they never print two doses, and they never print
neither without saying so on the cover sheet. Also: orders that reach their end stop, PRN
records restart every period."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from papermode.census.snapshot import load_census, sample_census_path
from papermode.core.model import Order, Snapshot, Timing
from papermode.core.settings import load_settings
from papermode.printing.reprint import (
    PaperChanges,
    PaperOrder,
    PaperStop,
    WaitingOrder,
    order_ended,
    paper_order_id,
    plan_reprint,
    same_drug,
)
from papermode.printing.reprint_run import cover_lines

SETTINGS = load_settings()
DAY2 = (datetime(2026, 11, 29, 7, 0), datetime(2026, 11, 30, 7, 0))
CONFIRMED = datetime(2026, 11, 28, 16, 30)
OLD = "ord-1002"  # p-101, Amoxicilline 1 g TID
SOURCE = "new:PAGE-1:1"
NEW_ID = paper_order_id(SOURCE)


def _base() -> Snapshot:
    return load_census(sample_census_path(), SETTINGS)


def _new_dose(drug: str = "Amoxicilline") -> PaperOrder:
    return PaperOrder(SOURCE, "p-101", drug, 500.0, "mg", "PO", "TID", confirmed_at=CONFIRMED)


def _stop() -> PaperStop:
    return PaperStop(OLD, "MAR-1", CONFIRMED)


def _printed(changes: PaperChanges) -> tuple[dict[str, Order], list[str]]:
    plan = plan_reprint(_base(), changes, period=DAY2, settings=SETTINGS)
    return {o.order_id: o for o in plan.snapshot.orders}, cover_lines(plan)


def test_both_halves_confirmed_print_the_new_dose_not_the_old() -> None:
    orders, cover = _printed(PaperChanges(new_orders=(_new_dose(),), stops=(_stop(),)))
    assert OLD not in orders
    assert orders[NEW_ID].dose_value == 500.0 and orders[NEW_ID].medication == "Amoxicilline"
    amoxicillin = [
        o
        for o in orders.values()
        if o.patient_id == "p-101" and same_drug(o.medication, "Amoxicilline")
    ]
    assert [o.order_id for o in amoxicillin] == [NEW_ID]  # one dose, the new one
    assert any("dose changed on paper: Amoxicilline 1 g (1 g) stopped" in line for line in cover)


def test_stop_confirmed_replacement_in_review_prints_neither_and_says_so() -> None:
    """The dangerous case: the old dose is gone and the new one cannot print yet."""
    for drug in ("Amoxicilline", None):  # the drug as read so far, or not read at all
        waiting = WaitingOrder(SOURCE, "p-101", drug)
        plan = plan_reprint(_base(), PaperChanges(stops=(_stop(),), orders_awaiting=(waiting,)),
                            period=DAY2, settings=SETTINGS)  # fmt: skip
        printed = {o.order_id for o in plan.snapshot.orders}
        assert OLD not in printed and NEW_ID not in printed and plan.added == ()
        lines = [a.what for a in plan.awaiting if a.patient_id == "p-101"]
        assert any("neither dose is on these forms" in line and SOURCE in line for line in lines)
        cover = "\n".join(cover_lines(plan))
        assert "neither dose is on these forms" in cover and "301 / A" in cover  # the bed


def test_a_waiting_order_of_another_drug_is_not_called_a_replacement() -> None:
    waiting = WaitingOrder(SOURCE, "p-101", "Metronidazole")
    plan = plan_reprint(_base(), PaperChanges(stops=(_stop(),), orders_awaiting=(waiting,)),
                        period=DAY2, settings=SETTINGS)  # fmt: skip
    assert not any("neither dose" in a.what for a in plan.awaiting)


def test_replacement_confirmed_stop_in_review_is_held_old_dose_printed() -> None:
    """Never two doses of one drug: the new order waits for its stop's second reviewer."""
    changes = PaperChanges(new_orders=(_new_dose(),), stops_awaiting=(PaperStop(OLD, "MAR-1"),))
    plan = plan_reprint(_base(), changes, period=DAY2, settings=SETTINGS)
    printed = {o.order_id for o in plan.snapshot.orders}
    assert OLD in printed and NEW_ID not in printed
    assert plan.added == () and plan.held == (NEW_ID,)
    line = next(a.what for a in plan.awaiting if "dose change of Amoxicilline" in a.what)
    assert "the old order is printed, the new one is NOT" in line and OLD in line
    # Once the stop is confirmed, the next reprint prints the new dose alone.
    later = plan_reprint(plan.snapshot, PaperChanges(new_orders=(_new_dose(),),
                                                     stops=(_stop(),)),
                         period=(DAY2[1], datetime(2026, 12, 1, 7)), settings=SETTINGS)  # fmt: skip
    assert {o.order_id for o in later.snapshot.orders} >= {NEW_ID}
    assert OLD not in {o.order_id for o in later.snapshot.orders}


def test_new_order_beside_an_unstopped_order_of_the_same_drug_warns() -> None:
    plan = plan_reprint(_base(), PaperChanges(new_orders=(_new_dose("amoxicilline"),)),
                        period=DAY2, settings=SETTINGS)  # fmt: skip
    assert NEW_ID in plan.added
    assert any("same drug, not ticked STOPPED" in a.what and OLD in a.what for a in plan.awaiting)


def test_same_drug_is_generous_about_language_accents_and_case() -> None:
    assert same_drug("Enoxaparine 40 mg/0,4 mL", "enoxaparin")
    assert same_drug("Paracétamol 1 g comprimé", "PARACETAMOL")
    assert not same_drug("Metoprolol tartrate 25 mg", "Metronidazole")
    assert not same_drug("", "")


def test_a_course_of_doses_and_a_bounds_end_stop_across_days() -> None:
    base = _base()
    first = base.orders[0]
    course = Order("course", first.patient_id, "Ceftriaxone 2 g",
                   timing=Timing(code="daily", count=2,
                                 bounds_start=datetime(2026, 11, 28, 8, 0)))  # fmt: skip
    day2 = plan_reprint(replace(base, orders=(*base.orders, course)), PaperChanges(),
                        period=DAY2, settings=SETTINGS)  # fmt: skip
    assert "course" in {o.order_id for o in day2.snapshot.orders}  # dose 2 is on day 2
    day3 = plan_reprint(day2.snapshot, PaperChanges(),
                        period=(DAY2[1], datetime(2026, 12, 1, 7)), settings=SETTINGS)  # fmt: skip
    assert "course" not in {o.order_id for o in day3.snapshot.orders}
    assert day3.ended == ("course",)


def test_prn_orders_never_end_by_count_and_restart_every_period() -> None:
    """A PRN order's limit is per period: it never runs out like a course of N doses; a
    bounds end still stops it."""
    base = _base()
    prn = next(o for o in base.orders if o.as_needed and o.patient_id == "p-101")
    counted = replace(prn, order_id="prn-counted",
                      timing=Timing(code="q8h", frequency=1, period=8, period_unit="h", count=3,
                                    bounds_start=datetime(2026, 11, 28, 8, 0)))  # fmt: skip
    bounded = replace(prn, order_id="prn-bounded",
                      timing=Timing(bounds_end=datetime(2026, 11, 29, 0, 0)))  # fmt: skip
    assert not order_ended(prn, DAY2[0], SETTINGS)
    assert not order_ended(counted, DAY2[0], SETTINGS)  # 3 x q8h from day 1: not a course
    assert order_ended(bounded, DAY2[0], SETTINGS)
    snapshot = replace(base, orders=(*base.orders, counted, bounded))
    plan = plan_reprint(snapshot, PaperChanges(), period=DAY2, settings=SETTINGS)
    printed = {o.order_id for o in plan.snapshot.orders}
    assert {prn.order_id, "prn-counted"} <= printed and "prn-bounded" not in printed
