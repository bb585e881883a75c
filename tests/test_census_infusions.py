"""Infusions and orders NOT to give, from the census to the printed MAR and its manifest.

One test per FHIR R4 rate shape (rateQuantity, rateRatio, rateRange, a continuous infusion
with a duration, a rate only, ordered vs calculated), the CSV columns, the refusals, and
the "DO NOT GIVE" line with both settings; the PDFs are real (pdftotext) and the boxes are
the manifest's.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_census_fidelity import (
    CALCULATED,
    ORDERED,
    dose,
    doses,
    encounter,
    med,
    patient,
    problems,
)
from test_pdf import pdf_text
from test_prepare_fidelity import prepare, write_bundle

from papermode.census.snapshot import load_census
from papermode.cli.main import main
from papermode.core.model import Box, Field, Order, Rate
from papermode.core.settings import load_settings
from papermode.printing.layout.infusion import rate_cells
from papermode.reading.plausibility import check

HEPARIN = {"text": "Heparin 25,000 units in 250 mL NaCl 0.9%"}


def rate_q(value: float, unit: str) -> dict[str, Any]:
    return {"rateQuantity": {"value": value, "unit": unit}}


def infusion(*rates: dict[str, Any], repeat: dict[str, Any] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"doseAndRate": list(rates), "route": {"text": "IV"}}
    if repeat is not None:
        entry["timing"] = {"repeat": repeat}
    return entry


def heparin(tmp_path: Path, *entries: dict[str, Any], **extra: Any) -> Order:
    request = med("m1", *entries, **{"medicationCodeableConcept": HEPARIN, **extra})
    snapshot = load_census(write_bundle(tmp_path / "c.json", patient(), encounter(), request))
    (order,) = snapshot.orders
    return order


# --------------------------------------------------------------------------- census shapes


def test_a_rate_only_is_a_continuous_infusion_with_no_scheduled_dose(tmp_path: Path) -> None:
    order = heparin(tmp_path, infusion(rate_q(18, "mL/h")))
    assert (order.rate, order.continuous, order.high_alert) == (Rate(18, "mL/h"), True, True)
    assert doses(order, hours=24) == []  # never 24 hourly "given" boxes


def test_rate_quantity_with_the_bag_content_as_dose(tmp_path: Path) -> None:
    order = heparin(tmp_path, infusion({**dose(25000, "U"), **rate_q(1000, "[iU]/h")}))
    assert order.rate == Rate(1000, "units/h")
    assert (order.dose_text, order.continuous) == ("25000 units", True)


def test_rate_ratio_per_one_hour_and_refused_per_twenty_minutes(tmp_path: Path) -> None:
    ratio = {"numerator": {"value": 100, "unit": "mL"}, "denominator": {"value": 1, "unit": "h"}}
    order = heparin(tmp_path, infusion({"rateRatio": ratio}))
    assert order.rate == Rate(100, "mL/h")
    per_20 = {**ratio, "denominator": {"value": 20, "code": "min"}}
    request = med("m1", infusion({"rateRatio": per_20}))
    assert problems(tmp_path, patient(), encounter(), request) == [
        "MedicationRequest/m1 dosageInstruction[0]: the rate is given per 20 min; send it per "
        "1 min (for example rateQuantity in mL/h) so the nurse reads the pump's rate"
    ]


def test_rate_range_prints_both_ends_and_one_open_end_is_refused(tmp_path: Path) -> None:
    span = {"low": {"value": 2, "unit": "U/h"}, "high": {"value": 10, "unit": "U/h"}}
    order = heparin(tmp_path, infusion({"rateRange": span}))
    assert order.rate == Rate(2, "units/h", 10) and order.rate.text == "2-10 units/h"
    request = med("m1", infusion({"rateRange": {"low": span["low"]}}))
    assert problems(tmp_path, patient(), encounter(), request) == [
        "MedicationRequest/m1 dosageInstruction[0]: the rate range needs a low and a high "
        "positive rate; send both ends (or one ordered rate, with the titration in the "
        "instructions)"
    ]


def test_continuous_infusion_with_a_duration_is_charted_not_ticked(tmp_path: Path) -> None:
    """HL7 medrx0336's shape: timing.repeat.duration only, and a weight-based rate."""
    entry = infusion(rate_q(4, "ug/kg/min"), repeat={"duration": 33.33, "durationUnit": "h"})
    order = heparin(tmp_path, entry)
    assert (order.rate, order.continuous) == (Rate(4, "mcg/kg/min"), True)
    assert order.instructions == ("over 33.33 h",)


def test_the_ordered_rate_is_printed_the_calculated_one_beside_it(tmp_path: Path) -> None:
    ordered = {"type": ORDERED, **rate_q(0.1, "U/kg/h")}
    calculated = {"type": CALCULATED, **rate_q(7, "U/h")}
    order = heparin(tmp_path, infusion(calculated, ordered))
    assert (order.rate, order.calculated_rate) == (Rate(0.1, "units/kg/h"), Rate(7, "units/h"))
    only_calculated = infusion({"type": ORDERED, **dose(25000, "U")}, calculated)
    request = med("m1", only_calculated)
    assert problems(tmp_path, patient(), encounter(), request) == [
        "MedicationRequest/m1 dosageInstruction[0]: its rate is only a calculated one; send the "
        "ordered rate in the doseAndRate of type 'ordered'"
    ]


def test_an_intermittent_infusion_is_a_dose_per_time_with_its_rate(tmp_path: Path) -> None:
    repeat = {"frequency": 1, "period": 12, "periodUnit": "h", "duration": 1, "durationUnit": "h"}
    entry = infusion({**dose(1, "g"), **rate_q(250, "mL/h")}, repeat=repeat)
    order = heparin(tmp_path, entry, medicationCodeableConcept={"text": "Vancomycin"})
    assert (order.continuous, order.rate, order.dose_text) == (False, Rate(250, "mL/h"), "1 g")
    assert order.instructions == ("over 1 h", "at 250 mL/h")
    assert doses(order, hours=24) == [("Sat 28 08:00", "1 g"), ("Sat 28 20:00", "1 g")]


@pytest.mark.parametrize(
    ("repeat", "problem"),
    [
        ({"frequency": 1, "period": 6, "periodUnit": "h"},
         "an infusion given on a schedule needs timing.repeat.duration (how long each dose runs, "
         "e.g. 1 h); add it, or send a continuous infusion without a frequency"),
        ({"frequency": 1, "period": 1, "periodUnit": "h", "duration": 1, "durationUnit": "h"},
         "each dose runs 1 h, as long as the time between doses: send it as a continuous "
         "infusion (a rate without a frequency)"),
    ],
)  # fmt: skip
def test_a_scheduled_rate_without_a_fitting_duration_is_refused(
    tmp_path: Path, repeat: dict[str, Any], problem: str
) -> None:
    """HL7 medrx0322: KCl 'every 1 h at 100 mL/h' would be 24 hourly ticks."""
    request = med("m1", infusion({**dose(20, "meq"), **rate_q(100, "mL/h")}, repeat=repeat))
    assert problems(tmp_path, patient(), encounter(), request) == [
        f"MedicationRequest/m1 dosageInstruction[0]: {problem}"
    ]


@pytest.mark.parametrize("unit", ["min", "mg", "mL/s", "tab/h"])
def test_a_rate_unit_that_is_not_an_amount_per_time_is_refused(tmp_path: Path, unit: str) -> None:
    request = med("m1", infusion(rate_q(5, unit)))
    assert problems(tmp_path, patient(), encounter(), request) == [
        f"MedicationRequest/m1 dosageInstruction[0]: the rate unit {unit!r} is not an amount per "
        "time (UCUM such as mL/h, [iU]/h, mg/h, mg/kg/h, ug/kg/min); correct the rate, or add "
        "the unit to [census] units in the settings"
    ]


def test_two_rates_in_one_continuous_order_and_an_as_needed_rate_are_refused(
    tmp_path: Path,
) -> None:
    two = med("m1", infusion(rate_q(5, "mL/h")), infusion(rate_q(10, "mL/h")))
    assert problems(tmp_path, patient(), encounter(), two) == [
        "MedicationRequest/m1: a continuous infusion with 2 dosages cannot be charted as one "
        "rate; send one dosage with the ordered rate (rate steps or a titration in its "
        "instructions)"
    ]
    prn = med("m1", {**infusion(rate_q(5, "mL/h")), "asNeededBoolean": True})
    assert problems(tmp_path, patient(), encounter(), prn) == [
        "MedicationRequest/m1 dosageInstruction[0]: an as-needed order with a rate; the PRN "
        "record has no rate: send an infusion as a scheduled order, or the as-needed dose "
        "without the rate"
    ]


def test_csv_infusions_continuous_intermittent_and_refused(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(
        "patient_id,mrn,family,given,ward\np1,M1,Dupont,Anne,Ward 1\n", encoding="utf-8"
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,patient_id,medication,dose,unit,route,frequency,rate,rate_unit,duration\n"
        "o1,p1,Heparin 25000 units/250 mL,,,IV,,18 ml/hr,,\n"
        "o2,p1,Insulin actrapid 50 units/50 mL,,,IV,,2-10,units/h,\n"
        "o3,p1,Vancomycin,1,g,IV,q12h,250 mL/h,,1 h\n",
        encoding="utf-8",
    )
    first, second, third = load_census(tmp_path).orders
    assert (first.rate, first.continuous, doses(first)) == (Rate(18, "mL/h"), True, [])
    assert (second.rate, second.continuous) == (Rate(2, "units/h", 10), True)
    assert (third.continuous, third.instructions) == (False, ("at 250 mL/h over 1 h",))
    assert len(doses(third)) == 2
    orders.write_text(
        "order_id,patient_id,medication,dose,unit,route,frequency,rate\n"
        "o1,p1,KCl,20,mmol,IV,q6h,100 mL/h\n"
        "o2,p1,Heparin,,,IV,,18 mL\n",
        encoding="utf-8",
    )
    with pytest.raises(Exception) as caught:
        load_census(tmp_path)
    assert caught.value.problems == [  # type: ignore[attr-defined]
        "orders.csv row 2: a rate with a frequency is an intermittent infusion and needs its "
        "duration (how long each dose runs: 1 h, 30 min); fill in the duration column, or leave "
        "the frequency empty for a continuous infusion",
        "orders.csv row 3: the rate unit 'mL' is not an amount per time (mL/h, units/h, mg/h, "
        "mg/kg/h, mcg/kg/min); correct it, or add it to [census] units",
    ]


def test_rate_comb_holds_twice_the_ordered_rate() -> None:
    assert rate_cells(Rate(7.5, "mL/h")) == (3, 1)  # 99.9
    assert rate_cells(Rate(1250, "units/h")) == (4, 0)  # 9999
    assert rate_cells(Rate(0.05, "mcg/kg/min")) == (4, 2)  # 99.99
    assert rate_cells(Rate(2, "units/h", 10)) == (3, 1)


# --------------------------------------------------------------------------- printed MAR


def _mar_fields(forms: Path, order_id: str) -> list[dict[str, Any]]:
    manifest = json.loads((forms / "manifest.json").read_text(encoding="utf-8"))
    return [
        f for page in manifest["pages"] if page["template"] == "mar"
        for f in page["fields"] if f.get("order_id") == order_id
    ]  # fmt: skip


def test_the_mar_charts_an_infusion_with_rate_and_entry_rows(tmp_path: Path) -> None:
    ordered = {"type": ORDERED, **dose(25000, "U"), **rate_q(18, "mL/h")}
    request = med("m-hep", infusion(ordered, {"type": CALCULATED, **rate_q(1800, "U/h")}),
                  medicationCodeableConcept=HEPARIN)  # fmt: skip
    census = write_bundle(tmp_path / "c.json", patient(), encounter(), request, med("m-oral"))
    result = prepare(tmp_path, census)
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_text(tmp_path / "forms" / "ward-ward-1.pdf").split())
    for printed in (
        "CONTINUOUS INFUSION",
        "ordered rate 18 mL/h",
        "calculated: 1,800 units/h",  # thousands grouped (ISMP)
        "Heparin 25,000 units in",
        "250 mL NaCl 0.9%",
        "25,000 units IV",
        "HIGH ALERT",
        "S C B X day hh:mm rate set",
        "mL/h initials 2nd initials",
        "At each event tick ONE box (S start, C rate change, B new bag, X stop)",
    ):
        assert printed in text
    fields = _mar_fields(tmp_path / "forms", "m-hep")
    assert all(f.get("scheduled") is None for f in fields)  # no "given" cell, no hourly tick
    roles = [f["role"] for f in fields if f["field_id"].startswith("mar.m-hep.inf01.")]
    assert roles == ["infusion_event"] * 4 + ["infusion_time", "infusion_rate", "initials",
                                               "second_initials"]  # fmt: skip
    first = {f["field_id"]: f for f in fields if f["field_id"].startswith("mar.m-hep.inf01.")}
    assert [first[f"mar.m-hep.inf01.{e}"]["value"] for e in ("start", "change", "bag", "stop")] == [
        "start", "change", "bag", "stop"]  # fmt: skip
    assert {first[f"mar.m-hep.inf01.{e}"]["group"] for e in ("start", "stop")} == {
        "mar.m-hep.inf01"}  # fmt: skip
    assert (first["mar.m-hep.inf01.time"]["cells"], first["mar.m-hep.inf01.rate"]["cells"]) == (
        6,
        3,
    )
    assert first["mar.m-hep.inf01.rate"]["decimals"] == 1
    assert len({f["field_id"].split(".")[2] for f in fields}) == 6  # six entry rows for 24 h
    oral = _mar_fields(tmp_path / "forms", "m-oral")
    assert {f["role"] for f in oral} >= {"given", "held", "refused", "time"}  # others unchanged


def test_the_infusion_band_fits_the_page_on_a4_and_letter(tmp_path: Path) -> None:
    request = med("m-hep", infusion(rate_q(18, "mL/h")), medicationCodeableConcept=HEPARIN)
    census = write_bundle(tmp_path / "c.json", patient(), encounter(), request)
    for paper in ("a4", "letter"):
        out = tmp_path / paper
        store = str(tmp_path / f"{paper}.db")
        arguments = ["prepare", str(census), "--out", str(out), "--store", store,
                     "--start", "2026-11-28T07:00", "--hours", "72", "--paper", paper]  # fmt: skip
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        for page in manifest["pages"]:
            width, height = page["size_mm"]
            for f in page["fields"]:
                x, y, w, h = f["box_mm"]
                assert x >= 0 and y >= 0 and x + w <= width - 5 and y + h <= height - 5, f
        rows = {f["field_id"].split(".")[2] for f in _mar_fields(out, "m-hep")}
        assert len(rows) == 18  # six rows per day of a 72 h period


# --------------------------------------------------------------------------- DO NOT GIVE


def _do_not_give(tmp_path: Path) -> Path:
    not_given = med(
        "m-not",
        {"doseAndRate": [dose(100, "mg")], "route": {"text": "PO"},
         "timing": {"repeat": {"timeOfDay": ["08:00:00"]}}},
        doNotPerform=True,
        medicationCodeableConcept={"text": "Aspirin"},
    )  # fmt: skip
    return write_bundle(tmp_path / "c.json", patient(), encounter(), med("m1"), not_given)


def test_do_not_perform_is_left_out_by_default(tmp_path: Path) -> None:
    result = prepare(tmp_path, _do_not_give(tmp_path))
    assert result.exit_code == 0, result.output
    assert "MedicationRequest/m-not: left out (doNotPerform" in result.output
    text = pdf_text(tmp_path / "forms" / "ward-ward-1.pdf")
    assert "Aspirin" not in text and "DO NOT GIVE" not in text


@pytest.mark.parametrize(
    ("lang", "line"),
    [("en", "DO NOT GIVE: Aspirin 100 mg PO"), ("fr", "NE PAS DONNER : Aspirin 100 mg PO"),
     ("nl", "NIET GEVEN: Aspirin 100 mg oraal")],
)  # fmt: skip
def test_do_not_perform_printed_as_a_do_not_give_line(tmp_path: Path, lang: str, line: str) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[census]\ndo_not_perform = "print"\n', encoding="utf-8")
    census = _do_not_give(tmp_path)
    result = prepare(tmp_path, census, "--settings", str(settings), "--lang", lang)
    assert result.exit_code == 0, result.output
    assert "m-not: left out" not in result.output
    text = " ".join(pdf_text(tmp_path / "forms" / "ward-ward-1.pdf").split())
    assert line in text
    assert _mar_fields(tmp_path / "forms", "m-not") == []  # no tick box, no time, no dose cell
    check = CliRunner().invoke(main, ["prepare", "--check", str(census), "--start",
                                      "2026-11-28T07:00", "--settings", str(settings)])  # fmt: skip
    assert check.exit_code == 0, check.output
    assert "  m-not: DO NOT GIVE Aspirin | 100 mg | PO | 08:00" in check.output
    data = json.loads(CliRunner().invoke(main, ["prepare", "--check", str(census), "--start",
                                                "2026-11-28T07:00", "--settings", str(settings),
                                                "--json"]).output)  # fmt: skip
    not_given = data["patients"][0]["orders"][1]
    assert (not_given["order_id"], not_given["do_not_give"], not_given["due"]) == (
        "m-not",
        True,
        [],
    )


def test_a_wrong_do_not_perform_setting_is_refused(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[census]\ndo_not_perform = "yes"\n', encoding="utf-8")
    result = prepare(tmp_path, _do_not_give(tmp_path), "--settings", str(settings))
    assert result.exit_code != 0
    assert 'census.do_not_perform: \'yes\' must be "leave_out" or "print"' in result.output


def test_prepare_check_shows_the_rate(tmp_path: Path) -> None:
    request = med("m-hep", infusion(rate_q(18, "mL/h")), medicationCodeableConcept=HEPARIN)
    census = write_bundle(tmp_path / "c.json", patient(), encounter(), request)
    result = CliRunner().invoke(main, ["prepare", "--check", str(census), "--start",
                                       "2026-11-28T07:00"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "      rate: 18 mL/h, continuous infusion (no scheduled dose)" in result.output
    data = json.loads(CliRunner().invoke(main, ["prepare", "--check", str(census), "--start",
                                                "2026-11-28T07:00", "--json"]).output)  # fmt: skip
    order = data["patients"][0]["orders"][0]
    assert (order["rate"], order["infusion"], order["due"]) == ("18 mL/h", "continuous", [])


def test_an_infusion_that_starts_later_says_when_on_the_band_and_in_the_check(
    tmp_path: Path,
) -> None:
    bounds = {"boundsPeriod": {"start": "2026-11-28T14:00:00", "end": "2026-11-30T12:00:00"}}
    request = med("m-hep", infusion(rate_q(18, "mL/h"), repeat=bounds),
                  medicationCodeableConcept=HEPARIN)  # fmt: skip
    census = write_bundle(tmp_path / "c.json", patient(), encounter(), request)
    result = prepare(tmp_path, census)
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_text(tmp_path / "forms" / "ward-ward-1.pdf").split())
    assert "from 28 Nov 14:00" in text and "until 30 Nov 12:00" in text
    check = CliRunner().invoke(main, ["prepare", "--check", str(census), "--start",
                                      "2026-11-28T07:00"])  # fmt: skip
    assert "| IV | continuous from 2026-11-28 14:00 until 2026-11-30 12:00 HIGH ALERT" in (
        check.output
    )


def test_a_rate_on_days_of_the_week_only_is_not_a_continuous_infusion(tmp_path: Path) -> None:
    request = med("m1", infusion(rate_q(18, "mL/h"), repeat={"dayOfWeek": ["mon"]}))
    found = problems(tmp_path, patient(), encounter(), request)
    assert found and "continuous" not in " ".join(found[:1]).split(":")[0]
    assert any("needs timing.repeat.duration" in p for p in found)


def test_an_as_needed_range_of_frequencies_or_periods_is_printed_as_a_range(
    tmp_path: Path,
) -> None:
    """R4 frequencyMax / periodMax: "1-2 times every 4-6 h as needed", never "every 4 h"."""
    repeat = {"frequency": 1, "frequencyMax": 2, "period": 4, "periodMax": 6, "periodUnit": "h"}
    entry = {"timing": {"repeat": repeat}, "asNeededBoolean": True,
             "doseAndRate": [dose(500, "mg")]}  # fmt: skip
    order = heparin(tmp_path, entry, medicationCodeableConcept={"text": "Paracetamol"})
    assert order.as_needed and order.timing is not None
    assert order.timing.label == "1-2x / 4-6 h"
    scheduled = med("m1", {**entry, "asNeededBoolean": False})
    assert problems(tmp_path, patient(), encounter(), scheduled)[0].endswith(
        "a range of frequencies (frequencyMax) cannot be scheduled on a MAR: give one exact "
        "value, or make the order as needed (PRN)"
    )


def test_csv_do_not_give_and_dose_ranges(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(
        "patient_id,mrn,family,given,ward\np1,M1,Dupont,Anne,Ward 1\n", encoding="utf-8"
    )
    (tmp_path / "orders.csv").write_text(
        "order_id,patient_id,medication,dose,unit,route,frequency,do_not_give\n"
        "o1,p1,Aspirin,100,mg,PO,,yes\n"
        "o2,p1,Oxycodone,5-10,mg,PO,q6h,\n",
        encoding="utf-8",
    )
    snapshot = load_census(tmp_path)
    assert [o.order_id for o in snapshot.orders] == ["o2"]
    assert snapshot.orders[0].dose_text == "5-10 mg"
    assert [item.line for item in snapshot.left_out] == [
        "orders.csv row 2: left out (do_not_give: an order NOT to give this medicine)"
    ]
    settings = tmp_path / "settings.toml"
    settings.write_text('[census]\ndo_not_perform = "print"\n', encoding="utf-8")
    printed = load_census(tmp_path, load_settings(settings))
    first = printed.orders[0]
    assert (first.order_id, first.do_not_perform, first.dose_text, doses(first)) == (
        "o1", True, "100 mg", [])  # fmt: skip


def test_a_ucum_coded_rate_is_read_by_its_code_whatever_its_display(tmp_path: Path) -> None:
    rate = {"rateQuantity": {"value": 5, "unit": "milliliter per hour",
                             "system": "http://unitsofmeasure.org", "code": "mL/h"}}  # fmt: skip
    assert heparin(tmp_path, infusion(rate)).rate == Rate(5, "mL/h")


def test_an_as_needed_order_not_to_give_is_on_the_mar_not_the_prn_record(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[census]\ndo_not_perform = "print"\n', encoding="utf-8")
    not_given = med("m-not", {"doseAndRate": [dose(5, "mg")], "asNeededBoolean": True},
                    doNotPerform=True, medicationCodeableConcept={"text": "Morphine"})  # fmt: skip
    census = write_bundle(tmp_path / "c.json", patient(), encounter(), not_given)
    result = prepare(tmp_path, census, "--settings", str(settings))
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "forms" / "manifest.json").read_text(encoding="utf-8"))
    own = [p["template"] for p in manifest["pages"] if p["patient_id"] == "p1"]
    assert "mar" in own and "prn" not in own
    assert "DO NOT GIVE: Morphine 5 mg" in pdf_text(tmp_path / "forms" / "ward-ward-1.pdf")


@pytest.mark.parametrize(
    ("written", "ok"),
    [("281015", True), ("290659", True), ("290701", False), ("271015", False),
     ("321000", False), ("282460", False), ("2810", False)],
)  # fmt: skip
def test_an_infusion_day_and_time_must_fall_in_the_page_period(written: str, ok: bool) -> None:
    field = Field("mar.m1.inf01.time", "digits", Box(0, 0, 30, 7), role="infusion_time", cells=6)
    period = (datetime(2026, 11, 28, 7, 0), datetime(2026, 11, 29, 7, 0))
    assert check(field, written, period=period).ok is ok
