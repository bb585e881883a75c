"""Continuous infusions and by-hand items: reconciled, matched and exported, on hand-built
inputs; the dangerous cases are a row that moves its neighbours' ends (pending, unplaceable)
and paper that has no record to go to (blank packs, photocopied sheets)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import test_export_checks as checks  # noqa: E402
import test_reconcile_fixtures as fx  # noqa: E402

from papermode.core.model import Field, Rate, Timing  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.export.fhir import build_bundle  # noqa: E402
from papermode.export.worklist_csv import worklist_items  # noqa: E402
from papermode.reconcile.categories import Category, RecordMatch  # noqa: E402
from papermode.reconcile.infusions import row_moment  # noqa: E402
from papermode.reconcile.inputs import FieldState, SheetInput  # noqa: E402
from papermode.reconcile.items import Item, Reconciliation  # noqa: E402
from papermode.reconcile.restored import RecordEntry, RestoredRecord, match_restored  # noqa: E402
from papermode.reconcile.rules import reconcile  # noqa: E402
from papermode.reconcile.service import item_json  # noqa: E402

SETTINGS = load_settings()
HEPARIN = fx.order(
    "inf-1",
    medication="Heparin 25,000 units in 500 mL",
    dose_value=None,
    dose_unit=None,
    timing=Timing(code=None),
    rate=Rate(18.0, "mL/h"),
    continuous=True,
    high_alert=True,
)
EXPORTED_AT = datetime(2026, 12, 1, 9, 0)


def row(
    number: int,
    event: str | None,
    when: str | None,
    rate: str | None = None,
    *,
    second: bool = True,
    status: str = "auto",
    events: tuple[str, ...] = (),
) -> list[FieldState]:
    """One entry row of the infusion band (as printing/layout/infusion.py prints it)."""
    prefix = f"mar.inf-1.inf{number:02d}"
    common = {"order_id": "inf-1"}
    states = []
    for option in ("start", "change", "bag", "stop"):
        printed = Field(f"{prefix}.{option}", "checkbox", fx.BOX, "infusion_event",
                        group=prefix, value=option, **common)  # fmt: skip
        ticked = option == event or option in events
        states.append(fx.state("PAGE-1", printed, "ticked" if ticked else "empty", status))
    printed = Field(f"{prefix}.time", "digits", fx.BOX, "infusion_time", cells=6, **common)
    states.append(fx.state("PAGE-1", printed, when or "empty"))
    printed = Field(f"{prefix}.rate", "digits", fx.BOX, "infusion_rate", cells=3, decimals=1,
                    **common)  # fmt: skip
    states.append(fx.state("PAGE-1", printed, rate or "empty"))
    printed = Field(f"{prefix}.initials", "signature", fx.BOX, "initials", **common)
    states.append(fx.state("PAGE-1", printed, "ink" if event else "empty"))
    printed = Field(f"{prefix}.second_initials", "signature", fx.BOX, "second_initials", **common)
    states.append(fx.state("PAGE-1", printed, "ink" if event and second else "empty"))
    return states


def infusion(*rows: list[FieldState]) -> list[Item]:
    page = fx.page("PAGE-1", "mar", [s for r in rows for s in r])
    return list(reconcile(fx.source([page], [HEPARIN]), SETTINGS).items)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute)


def test_start_change_bag_stop_make_periods_at_the_rate_written() -> None:
    items = infusion(
        row(1, "start", "281015", "180"),  # 18.0 mL/h, the comb's decimal
        row(2, "change", "281600", "20.0"),
        row(3, "bag", "282200"),  # a new bag, no rate written: the rate before it
        row(4, "stop", "290630"),
    )
    assert [(i.event, i.occurred_at, i.ends_at, i.quantity) for i in items] == [
        ("start", at(28, 10, 15), at(28, 16), 18.0),
        ("change", at(28, 16), at(28, 22), 20.0),
        ("bag", at(28, 22), at(29, 6, 30), 20.0),
    ]
    assert all(i.category is Category.INFUSION and i.exportable for i in items)
    assert "new bag: the rate of the row before it" in items[2].notes
    stop_fields = {e.field_id for e in items[2].evidence}
    assert "mar.inf-1.inf04.stop" in stop_fields  # the stop row is the last period's evidence
    assert not any(i.category is Category.NOT_DOCUMENTED for i in items)


def test_still_running_and_a_stop_with_no_start_on_paper() -> None:
    running = infusion(row(1, "start", "280900", "180"))
    assert running[0].ends_at is None and "still running" in running[0].notes[0]
    (stop,) = infusion(row(1, "stop", "281130"))
    assert (stop.event, stop.ends_at, stop.exportable) == ("stop", at(28, 11, 30), True)


def test_a_row_in_review_holds_every_period_of_the_order() -> None:
    items = infusion(
        row(1, "start", "281015", "180"),
        row(2, "change", "281600", "200", status="review"),  # its end moves the first's
        row(3, "stop", "282000"),
    )
    assert {i.category for i in items} == {Category.PENDING}
    assert not any(i.exportable for i in items)
    assert "inf02" in items[0].notes[0]


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (row(2, None, "281600", "200"), "inf02: no event ticked"),
        (row(2, "change", None, "200"), "inf02: no day and time written"),
        (row(2, "change", "281600"), "inf02: change without the rate set"),
        (row(2, "change", "151600", "200"), "not within the page's period"),
        (row(2, "change", "281600", "200", events=("bag",)), "inf02: two events ticked"),
    ],
)
def test_a_settled_row_that_cannot_be_placed_sends_the_infusion_to_by_hand(
    bad: list[FieldState], why: str
) -> None:
    items = infusion(row(1, "start", "281015", "180"), bad)
    assert {i.category for i in items} == {Category.BY_HAND}
    assert not any(i.exportable for i in items) and why in items[0].notes[0]


def test_the_day_written_is_found_across_a_month_end() -> None:
    page = replace(
        fx.page("P", "mar", []),
        period_start=datetime(2026, 11, 30, 8),
        period_end=datetime(2026, 12, 1, 8),
    )
    assert row_moment("010200", page) == datetime(2026, 12, 1, 2, 0)
    assert row_moment("302330", page) == datetime(2026, 11, 30, 23, 30)
    assert row_moment("152330", page) is None and row_moment("302460", page) is None


def test_high_alert_infusion_without_second_initials_is_a_concern() -> None:
    (item,) = infusion(row(1, "start", "281015", "180", second=False))
    assert Category.NO_SECOND_INITIALS in item.concerns


def test_infusion_periods_export_as_valid_fhir_with_a_ucum_rate() -> None:
    items = infusion(row(1, "start", "281015", "180"), row(2, "stop", "281600"))
    page = fx.page("PAGE-1", "mar", [s for r in (row(1, "start", "281015", "180"),) for s in r])
    source = fx.source([page], [HEPARIN])
    result = reconcile(source, SETTINGS)
    bundle = build_bundle(result, source, exported_at=EXPORTED_AT, chain_head="h")
    assert checks.validate_bundle(bundle, forbidden=(fx.PATIENT.mrn,)) == []
    (administration,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    ]
    assert administration["status"] == "in-progress"  # no later event on paper
    assert administration["effectivePeriod"] == {"start": "2026-11-28T10:15:00" + _offset()}
    assert administration["dosage"]["rateQuantity"] == {
        "value": 18.0, "unit": "mL/h", "system": "http://unitsofmeasure.org", "code": "mL/h"
    }  # fmt: skip
    assert administration["request"] == {"reference": "MedicationRequest/inf-1"}
    assert items[0].ends_at == at(28, 16)


def _offset() -> str:
    return EXPORTED_AT.astimezone().isoformat()[-6:]


def test_infusion_periods_against_the_restored_record() -> None:
    items = infusion(row(1, "start", "281015", "180"), row(2, "change", "281600", "200"))
    entered = RecordEntry("MedicationAdministration", "ma-1", "p1", "inf-1", at(28, 10, 20),
                          "completed", rate=18.0)  # fmt: skip
    disputed = RecordEntry("MedicationAdministration", "ma-2", "p1", "inf-1", at(28, 16, 5),
                           "in-progress", rate=25.0)  # fmt: skip
    matched = match_restored(
        Reconciliation(tuple(items)),
        RestoredRecord((entered, disputed)),
        window=timedelta(minutes=SETTINGS.reconcile_match_minutes),
    )
    by_event = {i.event: i for i in matched.items}
    assert by_event["start"].record is RecordMatch.IN_RECORD
    assert by_event["change"].record is RecordMatch.CONFLICT
    assert "25" in (by_event["change"].record_note or "")


# --------------------------------------------------------------------------- by hand


def _blank_vitals(number: str | None, status: str = "auto") -> fx.PageInput:
    temp = Field("blank.temp_number", "digits", fx.BOX, "temp_number", cells=6)
    pulse = Field("vitals.20261128T1200.hr", "digits", fx.BOX, "vital", cells=3,
                  code="8867-4", scheduled=at(28, 12))  # fmt: skip
    states = [fx.state("BLANK-1", temp, number or "empty", status),
              fx.state("BLANK-1", pulse, "88")]  # fmt: skip
    return replace(fx.page("BLANK-1", "vitals", states), patient_id=None)


def test_a_written_blank_pack_page_is_on_the_worklist_never_in_the_fhir_export() -> None:
    source = fx.source([_blank_vitals("166")], [])
    result = reconcile(source, SETTINGS)
    (item,) = result.items
    assert (item.kind, item.category, item.patient_id) == (
        "blank_pack",
        Category.BY_HAND,
        "temp:166",
    )
    assert "temporary number 166" in item.notes[0] and "2 values" in item.notes[0]
    assert item in worklist_items(result) and not item.exportable
    bundle = build_bundle(result, source, exported_at=EXPORTED_AT)
    assert bundle["entry"] == []
    assert item_json(item, source)["category"] == "by_hand"


def test_a_blank_pack_whose_number_is_in_review_is_pending() -> None:
    (item,) = reconcile(fx.source([_blank_vitals("166", "review")], []), SETTINGS).items
    assert item.category is Category.PENDING


def test_an_empty_blank_pack_page_is_not_an_item() -> None:
    page = replace(_blank_vitals(None), states=_blank_vitals(None).states[:1])
    assert reconcile(fx.source([page], []), SETTINGS).items == ()


def test_photocopied_sheets_kept_apart_are_by_hand_or_pending() -> None:
    mar_page = fx.page("PAGE-1", "mar", fx.mar_cell("PAGE-1", "o1", at(28, 14)))
    sheets = (
        SheetInput("PAGE-1", "cap-1", 1, ("cap-1",), "page_record", None, ("ana",), 4),
        SheetInput("PAGE-1", "cap-7", 2, ("cap-7",), "separate", "T-0042", ("ana", "ben"), 6),
        SheetInput("PAGE-1", "cap-9", 3, ("cap-9",), "pending", None, (), 3),
    )
    source = replace(fx.source([mar_page], [fx.order()]), sheets=sheets)
    items = {i.item_id: i for i in reconcile(source, SETTINGS).items if i.kind == "sheet"}
    assert set(items) == {"sheet:PAGE-1:cap-7", "sheet:PAGE-1:cap-9"}  # the first is the page
    apart = items["sheet:PAGE-1:cap-7"]
    assert apart.category is Category.BY_HAND and "record of T-0042" in apart.notes[0]
    assert "6 values" in apart.notes[0]
    assert items["sheet:PAGE-1:cap-9"].category is Category.PENDING
    assert json.dumps(item_json(apart, source))  # part of the reconcile --json contract
