"""Reconcile rules on hand-built inputs: every category, and the dangerous cases."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import test_reconcile_fixtures as fx  # noqa: E402

from papermode.core.model import Box, Field, Timing  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.reconcile.administrations import TIME_NOT_WRITTEN  # noqa: E402
from papermode.reconcile.categories import Category  # noqa: E402
from papermode.reconcile.inputs import Decision, apply_decision  # noqa: E402
from papermode.reconcile.items import Item  # noqa: E402
from papermode.reconcile.rules import reconcile  # noqa: E402

SETTINGS = load_settings()
T14 = fx.DAY.replace(hour=14)
T22 = fx.DAY.replace(hour=22)


def one(pages: list, orders: list | None = None, **kwargs: object) -> Item:
    (item,) = reconcile(fx.source(pages, orders or [fx.order()]), SETTINGS, **kwargs).items
    return item


def mar(*cells: list) -> fx.PageInput:
    return fx.page("PAGE-1", "mar", [s for cell in cells for s in cell])


def test_a_cell_without_any_mark_is_not_documented_never_not_given() -> None:
    item = one([mar(fx.mar_cell("PAGE-1", "o1", T14))])
    assert item.category is Category.NOT_DOCUMENTED
    assert not item.exportable
    assert item.notes == ("no mark in the cell",)


def test_a_page_never_captured_says_so() -> None:
    page = fx.page("PAGE-1", "mar", fx.mar_cell("PAGE-1", "o1", T14), captured=False)
    item = one([page])
    assert item.category is Category.NOT_DOCUMENTED
    assert item.notes == ("page never captured",)


def test_given_on_time_early_late_by_the_written_time() -> None:
    cells = [
        fx.mar_cell("PAGE-1", "o1", fx.DAY.replace(hour=6), answer="given", time="0650"),
        fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1255"),
        fx.mar_cell("PAGE-1", "o1", T22, answer="given", time="2330"),
    ]
    items = reconcile(fx.source([mar(*cells)], [fx.order()]), SETTINGS).items
    assert [i.category for i in items] == [Category.ON_TIME, Category.EARLY, Category.LATE]
    late = items[2]
    assert late.occurred_at == T22 + timedelta(minutes=90)
    assert late.time_source == "written" and late.exportable


def test_a_time_after_midnight_belongs_to_the_night_dose() -> None:
    item = one([mar(fx.mar_cell("PAGE-1", "o1", T22, answer="given", time="0010"))])
    assert item.occurred_at == T22 + timedelta(hours=2, minutes=10)
    assert item.category is Category.LATE


def test_given_without_a_written_time_uses_the_scheduled_time_and_says_so() -> None:
    item = one([mar(fx.mar_cell("PAGE-1", "o1", T14, answer="given"))])
    assert item.category is Category.GIVEN  # no time: on time cannot be claimed
    assert item.occurred_at == T14 and item.time_source == "scheduled"
    assert TIME_NOT_WRITTEN in item.notes


def test_held_and_refused() -> None:
    cells = [
        fx.mar_cell("PAGE-1", "o1", fx.DAY.replace(hour=6), answer="held"),
        fx.mar_cell("PAGE-1", "o1", T14, answer="refused", time="1405"),
    ]
    items = reconcile(fx.source([mar(*cells)], [fx.order()]), SETTINGS).items
    assert [i.category for i in items] == [Category.HELD, Category.REFUSED]
    assert all(i.exportable for i in items)


def test_the_reason_a_dose_was_not_given_comes_from_the_legend_number() -> None:
    cells = [
        fx.mar_cell("PAGE-1", "o1", fx.DAY.replace(hour=6), answer="held", reason="3"),
        fx.mar_cell("PAGE-1", "o1", T14, answer="refused", time="1405", reason="6"),
        fx.mar_cell("PAGE-1", "o1", T22, answer="held"),
    ]
    items = reconcile(fx.source([mar(*cells)], [fx.order()]), SETTINGS).items
    assert [(i.category, i.reason) for i in items] == [
        (Category.HELD, "not_available"),
        (Category.REFUSED, "declined"),
        (Category.HELD, None),
    ]
    assert "reason: drug not available" in items[0].notes
    assert "no reason written" in items[2].notes and all(i.exportable for i in items)


def test_a_reason_written_beside_a_given_tick_is_never_exported() -> None:
    item = one([mar(fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400", reason="1"))])
    assert item.category is Category.DOCUMENTED_TWICE and not item.exportable


def test_a_reason_number_not_in_the_legend_is_pending() -> None:
    item = one([mar(fx.mar_cell("PAGE-1", "o1", T14, answer="held", reason="9"))])
    assert item.category is Category.PENDING and not item.exportable


def test_anything_still_in_review_is_pending_and_never_exported() -> None:
    cell = fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400", status={"time": "review"})
    item = one([mar(cell)])
    assert item.category is Category.PENDING and not item.exportable
    assert "mar.o1.20261128T1400.time" in item.notes[0]


def test_a_confirmed_review_counts_like_an_accepted_value() -> None:
    cell = fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400", status={"time": "review"})
    decided = [
        apply_decision(s, Decision("correct", "1410", ("clerk A",)))
        if s.field.role == "time"
        else s
        for s in cell
    ]
    item = one([mar(decided)])
    assert item.category is Category.ON_TIME
    assert item.occurred_at == T14 + timedelta(minutes=10)
    assert item.reviewers == ("clerk A",)


def test_a_cell_the_reviewer_found_unreadable_stays_out_of_the_export() -> None:
    cell = fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400", status={"time": "review"})
    decided = [apply_decision(s, Decision("unreadable", None, ("A",))) for s in cell]
    assert one([mar(decided)]).category is Category.PENDING


def test_two_answers_ticked_is_documented_twice() -> None:
    cell = fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400", extra_ticks=("held",))
    item = one([mar(cell)])
    assert item.category is Category.DOCUMENTED_TWICE and not item.exportable


def test_two_pages_that_disagree_for_one_order_and_time_are_documented_twice() -> None:
    first = fx.page("PAGE-1", "mar", fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400"))
    second = fx.page("PAGE-2", "mar", fx.mar_cell("PAGE-2", "o1", T14, answer="given", time="1520"))
    item = one([first, second])
    assert item.category is Category.DOCUMENTED_TWICE and not item.exportable
    assert {e.page_id for e in item.evidence} == {"PAGE-1", "PAGE-2"}


def test_two_copies_that_agree_are_one_dose_not_two() -> None:
    first = fx.page("PAGE-1", "mar", fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400"))
    second = fx.page("PAGE-2", "mar", fx.mar_cell("PAGE-2", "o1", T14, answer="given", time="1400"))
    blank = fx.page("PAGE-3", "mar", fx.mar_cell("PAGE-3", "o1", T14))
    item = one([first, second, blank])
    assert item.category is Category.ON_TIME and item.exportable


def test_high_alert_given_without_second_initials() -> None:
    heparin = fx.order(medication="Heparin 5000 units", high_alert=True, timing=Timing(code="q12h"))
    missing = fx.mar_cell("PAGE-1", "o1", fx.DAY, answer="given", time="0800", second=False)
    signed = fx.mar_cell(
        "PAGE-1", "o1", fx.DAY + timedelta(hours=12), answer="given", time="2000", second=True
    )
    items = reconcile(fx.source([mar(missing, signed)], [heparin]), SETTINGS).items
    assert items[0].concerns == (Category.NO_SECOND_INITIALS,)
    assert items[1].concerns == ()
    assert items[0].exportable  # it was given: it is recorded, with the concern reported


def test_dose_after_the_order_ended() -> None:
    cell = fx.mar_cell("PAGE-1", "o1", T22, answer="given", time="2200")
    item = one([mar(cell)], order_ends={"o1": T14 + timedelta(minutes=30)})
    assert Category.AFTER_ORDER_END in item.concerns


def test_prn_doses_beyond_the_minimum_interval_and_the_maximum() -> None:
    ondansetron = fx.order(
        "o9",
        medication="Ondansetron 4 mg",
        dose_value=4.0,
        dose_unit="mg",
        as_needed=True,
        timing=Timing(code="q4h"),
        max_per_period="3 doses / 24 h",
    )
    entries = []
    for number, written in enumerate(("0900", "1100", "1600", "2100", "0700"), start=1):
        entries += fx.prn_entry("PRN-1", "o9", number, written, "4")
    items = reconcile(fx.source([fx.page("PRN-1", "prn", entries)], [ondansetron]), SETTINGS).items
    times = [f"{i.occurred_at:%H%M}" for i in items]
    assert times == ["0900", "1100", "1600", "2100", "0700"]  # 07:00 is the next morning
    extra = [Category.EXTRA_DOSE in i.concerns for i in items]
    # 11:00 is 2 h after 09:00 (q4h); 21:00 is the 4th dose within 24 h (max 3); 07:00 is
    # again the 4th within 24 h (09:00 has left the window; 11:00, 16:00, 21:00 remain).
    assert extra == [False, True, False, True, True]
    assert all(i.category is Category.GIVEN and i.quantity == 4.0 for i in items)


def test_prn_entry_with_a_dose_in_review_is_pending() -> None:
    order = fx.order("o9", as_needed=True, timing=Timing(code="q4h"))
    entries = fx.prn_entry("PRN-1", "o9", 1, "0900", "285", status="review")
    item = one([fx.page("PRN-1", "prn", entries)], [order])
    assert item.category is Category.PENDING and not item.exportable


def test_vitals_with_blood_pressure_as_one_panel() -> None:
    moment = fx.DAY.replace(hour=12)
    states = [
        fx.vital("VIT-1", moment, "sbp", "8480-6", "132"),
        fx.vital("VIT-1", moment, "dbp", "8462-4", "81"),
        fx.vital("VIT-1", moment, "temp", "8310-5", "37.8"),
        fx.vital("VIT-1", moment, "hr", "8867-4", "empty"),
        fx.vital("VIT-1", moment, "rr", "9279-1", "18", status="review"),
    ]
    items = reconcile(fx.source([fx.page("VIT-1", "vitals", states)], []), SETTINGS).items
    by_code = {i.code: i for i in items}
    assert set(by_code) == {"85354-9", "8310-5", "9279-1"}  # an empty heart rate is no item
    assert by_code["85354-9"].components == (("8480-6", 132.0), ("8462-4", 81.0))
    assert by_code["8310-5"].quantity == 37.8 and by_code["8310-5"].unit == "Cel"
    assert by_code["9279-1"].category is Category.PENDING


def _new_order_states(drug_value: str, drug_status: str, reviewers: tuple[str, ...]) -> list:
    def f(name: str, kind: str, role: str, **extra: object) -> Field:
        return Field(f"new.1.{name}", kind, Box(0, 0, 5, 5), role, **extra)  # type: ignore[arg-type]

    return [
        fx.state("NEW-1", f("drug", "text", "drug"), drug_value, drug_status, decided_by=reviewers),
        fx.state("NEW-1", f("dose", "digits", "dose", cells=5), "500"),
        fx.state(
            "NEW-1", f("unit.mg", "checkbox", "unit", group="new.1.unit", value="mg"), "ticked"
        ),
        fx.state("NEW-1", f("unit.g", "checkbox", "unit", group="new.1.unit", value="g"), "empty"),
        fx.state(
            "NEW-1", f("route.IV", "checkbox", "route", group="new.1.route", value="IV"), "ticked"
        ),
        fx.state(
            "NEW-1",
            f("frequency.q8h", "checkbox", "frequency", group="new.1.frequency", value="q8h"),
            "ticked",
        ),
        fx.state(
            "NEW-1",
            f("prescriber", "signature", "prescriber"),
            "Dr Martin",
            "corrected",
            decided_by=reviewers,
        ),
    ]


def test_a_new_order_counts_only_once_a_reviewer_read_and_confirmed_it() -> None:
    unread = _new_order_states("ink", "review", ())
    assert one([fx.page("NEW-1", "new_orders", unread)], []).category is Category.PENDING
    confirmed = _new_order_states("Metronidazole", "corrected", ("clerk A", "pharmacist B"))
    item = one([fx.page("NEW-1", "new_orders", confirmed)], [])
    assert item.category is Category.NEW_ORDER and item.exportable
    assert item.new_order is not None
    assert (item.new_order.drug, item.new_order.dose, item.new_order.unit) == (
        "Metronidazole",
        500.0,
        "mg",
    )
    assert (item.new_order.route, item.new_order.frequency) == ("IV", "q8h")
    assert item.new_order.prescriber == "Dr Martin"
    assert item.reviewers == ("clerk A", "pharmacist B")


def test_items_come_in_back_entry_order_patient_then_order_then_time() -> None:
    cells = [
        fx.mar_cell("PAGE-1", "o2", T14, answer="given", time="1400"),
        fx.mar_cell("PAGE-1", "o1", T22, answer="given", time="2200"),
        fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400"),
    ]
    orders = [fx.order("o1"), replace(fx.order("o2"), medication="Amoxicillin 1 g")]
    items = reconcile(fx.source([mar(*cells)], orders), SETTINGS).items
    assert [(i.order_id, i.scheduled_at) for i in items] == [("o1", T14), ("o1", T22), ("o2", T14)]


def test_counts_list_every_category_with_concerns_counted_too() -> None:
    heparin = fx.order(medication="Heparin", high_alert=True, timing=Timing(code="q12h"))
    cell = fx.mar_cell("PAGE-1", "o1", fx.DAY, answer="given", time="0800", second=False)
    counts = reconcile(fx.source([mar(cell)], [heparin]), SETTINGS).counts()
    assert set(counts) == {c.value for c in Category}
    assert counts["on_time"] == 1 and counts["no_second_initials"] == 1
    assert sum(counts.values()) == 2


def test_two_captures_of_one_page_that_disagree_wait_for_a_person() -> None:
    # The merge of captures flags a time that changed between photos and queues it.
    cell = fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1400", status={"time": "review"})
    cell = [replace(s, flags=("changed",)) if s.field.role == "time" else s for s in cell]
    item = one([mar(cell)])
    assert item.category is Category.PENDING and not item.exportable
    assert item.notes == ("in the review queue: mar.o1.20261128T1400.time (changed)",)
