"""Every code a vitals row carries is known to every table that maps codes.

A code one table lacks was a KeyError in reconciliation once (an earlier branch added
15074-8 to the chart and not to the code tables).
"""

from __future__ import annotations

from papermode.export import fhir, report_pdf, worklist_csv
from papermode.printing.templates import load_templates
from papermode.reading import plausibility
from papermode.reconcile import observations
from papermode.reconcile.categories import Category
from papermode.reconcile.items import Item

VITALS = load_templates().for_form("vitals").vitals
NOT_EXPORTED = {"spo2_scale", "extra"}  # the SpO2 scale informs NEWS2; the write-in is ink


def test_every_measured_row_has_a_unit_a_range_a_name_and_an_export_entry() -> None:
    for vital in VITALS:
        if vital.kind != "digits":
            continue
        assert vital.code in observations.UNITS, vital.code
        assert vital.code in plausibility.LOINC_VITALS, vital.code
        named = "85354-9" if vital.code in ("8480-6", "8462-4") else vital.code  # BP: a panel
        assert named in report_pdf._VITAL_NAMES, vital.code
        entry = fhir.VITALS.get(vital.code) or fhir.OWN_CODES.get(vital.code)
        assert entry is not None, vital.code
        assert entry[1] == observations.UNITS[vital.code], vital.code  # the same UCUM unit


def test_every_tick_row_has_its_answers_or_is_not_exported() -> None:
    for vital in VITALS:
        if vital.kind != "choice" or vital.code in NOT_EXPORTED:
            continue
        assert set(observations.ANSWERS[vital.code]) == set(vital.choices), vital.code
        assert vital.code in fhir.VITALS or vital.code in fhir.OWN_CODES, vital.code
        assert vital.code in report_pdf._VITAL_NAMES, vital.code


def test_capillary_glucose_is_the_capillary_code_in_mmol_per_litre() -> None:
    glucose = next(v for v in VITALS if v.name == "glucose")
    # 14743-9: Glucose [Moles/volume] in Capillary blood by Glucometer. 15074-8 is glucose
    # in blood of any kind, and 2339-0 a mass concentration (mg/dL).
    assert glucose.code == "14743-9" and glucose.decimals == 1
    assert fhir.VITALS["14743-9"][1] == "mmol/L"


def test_worklist_and_report_write_an_answer_as_text() -> None:
    answer = Item("vital:p:1:67775-7", "vital", Category.VITAL_SIGN, "p", "3B",
                  code="67775-7", value_text="New confusion")  # fmt: skip
    assert worklist_csv._what(answer) == "67775-7 New confusion"
    assert report_pdf._vital_text(answer) == "consciousness (ACVPU): New confusion"
    pain = Item("vital:p:1:72514-3", "vital", Category.VITAL_SIGN, "p", "3B",
                code="72514-3", quantity=6, unit="{score}")  # fmt: skip
    assert report_pdf._vital_text(pain) == "pain score 6"
