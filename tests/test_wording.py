"""Printed values in the form's language (issue #11): doses, mcg, units, frequencies, dates, sex."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from papermode.core.model import (
    Dosage,
    Order,
    Patient,
    ScheduledDose,
    Snapshot,
    Text,
    Timing,
    Weight,
)
from papermode.printing import pdf
from papermode.printing.layout import wording
from papermode.printing.layout.kit import wrap
from papermode.printing.layout.snapshot import layout_patient
from papermode.printing.templates import LANGUAGES, load_templates

TEMPLATES = load_templates()
START = datetime(2026, 11, 28, 13, 0)
PERIOD = (START, START + timedelta(hours=24))


def _t(lang: str) -> wording.Translate:
    def t(key: str, **values: object) -> str:
        text = TEMPLATES.translations[lang][key]
        return text.format(**values) if values else text

    return t


@pytest.mark.parametrize(
    ("lang", "value", "unit", "expected"),
    [
        ("fr", 0.5, "mg", "0,5 mg"),
        ("nl", 0.5, "mg", "0,5 mg"),
        ("en", 0.5, "mg", "0.5 mg"),
        ("fr", 125.0, "ug", "125 mcg"),
        ("fr", 125.0, "µg", "125 mcg"),
        ("nl", 125.0, "microgram", "125 mcg"),
        ("en", 125.0, "μg", "125 mcg"),
        ("fr", 10.0, "U", "10 unités"),
        ("nl", 10.0, "IU", "10 eenheden"),
        ("en", 10.0, "[iU]", "10 units"),
    ],
)
def test_doses_use_the_decimal_comma_and_ismp_units(
    lang: str, value: float, unit: str, expected: str
) -> None:
    assert wording.dose(_t(lang), lang, value, unit, None) == expected


def test_ranges_and_rates_are_localised() -> None:
    assert wording.dose(_t("fr"), "fr", 0.5, "mg", 1.5) == "0,5-1,5 mg"
    assert wording.unit(_t("fr"), "fr", "U/h") == "unités/h"
    assert wording.unit(_t("nl"), "nl", "ug/kg/min") == "mcg/kg/min"
    assert wording.unit(_t("en"), "en", "vial") == "vial"  # an unknown unit: as given
    # dose forms in the form's words (UCUM annotations and English spellings included)
    assert wording.dose(_t("fr"), "fr", 1.0, "{tbl}", None) == "1 comprimé"
    assert wording.dose(_t("fr"), "fr", 1.0, "capsule", 2.0) == "1-2 gélules"
    assert wording.dose(_t("en"), "en", 1.0, "tablet", None) == "1 tablet"
    assert wording.dose(_t("nl"), "nl", 2.0, "TAB", None) == "2 tabletten"


@pytest.mark.parametrize(
    ("lang", "timing", "expected"),
    [
        ("fr", Timing(code="TID"), "3 fois par jour"),
        ("fr", Timing(frequency=3, period=1, period_unit="d"), "3 fois par jour"),
        ("fr", Timing(code="q6h"), "toutes les 6 heures"),
        ("fr", Timing(frequency=1, period=6, period_unit="h"), "toutes les 6 heures"),
        ("fr", Timing(code="daily"), "1 fois par jour"),
        ("fr", Timing(code="PRN"), "si besoin"),
        ("nl", Timing(code="BID"), "2 keer per dag"),
        ("fr", Timing(frequency=1, period=0.5, period_unit="d"), "toutes les 12 heures"),
        ("fr", Timing(code="Q8H PRN"), "toutes les 8 heures"),
        ("fr", Timing(code="q24h"), "toutes les 24 heures"),
        ("fr", Timing(code="nightly"), "au coucher"),
        ("fr", Timing(when=("MORN",), offset_minutes=30), "le matin + 30 min"),
        ("fr", Timing(code="daily", days_of_week=("wed",)), "uniquement le mercredi"),
        (
            "en",
            Timing(code="TID", days_of_week=("mon", "fri")),
            "3 times a day on Monday, Friday only",
        ),
        ("nl", Timing(frequency=1, period=8, period_unit="h"), "elke 8 uur"),
        ("en", Timing(code="QID"), "4 times a day"),
        ("en", Timing(code="once"), "once"),
        (
            "fr",
            Timing(frequency=1, frequency_max=2, period=4, period_max=6, period_unit="h"),
            "1-2 fois toutes les 4-6 heures",
        ),
        # FHIR R4 event timing (repeat.when), the offset before an AC code, after the others
        ("fr", Timing(when=("HS",)), "au coucher"),
        ("fr", Timing(when=("ACM",), offset_minutes=30), "30 min avant le repas du matin"),
        ("fr", Timing(when=("PCV", "MORN.early")), "après le repas du soir, tôt le matin"),
        ("nl", Timing(when=("ACD",)), "voor de middagmaaltijd"),
        ("nl", Timing(when=("WAKE",), offset_minutes=15), "bij het ontwaken + 15 min"),
        ("en", Timing(when=("CV",)), "with the evening meal"),
        (
            "en",
            Timing(when=("ACM", "ACV"), offset_minutes=30),
            "30 min before breakfast, 30 min before the evening meal",
        ),
    ],
)
def test_frequencies_print_in_words(lang: str, timing: Timing, expected: str) -> None:
    assert wording.frequency(_t(lang), lang, timing) == expected


def test_dates_are_never_iso_or_month_first() -> None:
    born = date(1963, 5, 21)
    assert wording.day(_t("fr"), "fr", born) == "21/05/1963"
    assert wording.day(_t("nl"), "nl", born) == "21/05/1963"
    assert wording.day(_t("en"), "en", born) == "21 May 1963"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sex_is_translated(lang: str) -> None:
    expected = {"en": "female", "fr": "féminin", "nl": "vrouw"}[lang]
    assert wording.sex(_t(lang), lang, "female") == expected
    assert wording.sex(_t(lang), lang, "F") == expected


def test_a_dose_that_differs_by_time_prints_each_dose_localised() -> None:
    order = Order(
        "o1", "p1", "prednisolone",
        dose_value=0.5, dose_unit="mg", timing=Timing(code="daily"),
        dosages=(
            Dosage(Timing(code="daily", bounds_start=datetime(2026, 11, 28),
                          bounds_end=datetime(2026, 11, 30)), 0.5, "mg"),
            Dosage(Timing(code="daily", bounds_start=datetime(2026, 11, 30)), 0.25, "mg"),
        ),
    )  # fmt: skip
    text = wording.order_dose(_t("fr"), "fr", order)
    assert text == (
        "0,5 mg 1 fois par jour du 28/11/2026 au 29/11/2026; "
        "0,25 mg 1 fois par jour à partir du 30/11/2026"
    )


def test_new_order_sheet_unit_list_prints_mcg_in_every_language() -> None:
    units = [option.label for option in TEMPLATES.templates["new_orders"].units]
    for lang in LANGUAGES:
        printed = [TEMPLATES.translations[lang][label] for label in units]
        assert "mcg" in printed
        assert not {"µg", "μg", "ug", "microgram"} & set(printed)


# ----------------------------------------------------------------- a rendered French MAR


def _patient() -> Patient:
    return Patient(
        patient_id="pat-1", mrn="MRN00001", family="Martin", given="Claire",
        birth_date=date(1963, 5, 21), sex="female", ward="3B", room="4", bed="A",
    )  # fmt: skip


def _orders() -> list[Order]:
    base = Order("o1", "pat-1", "digoxine", dose_value=0.5, dose_unit="mg", route="PO",
                 timing=Timing(code="TID"), requester="Dr Lee")  # fmt: skip
    return [
        base,
        replace(base, order_id="o2", medication="fentanyl", dose_value=25.0, dose_unit="ug",
                timing=Timing(frequency=1, period=6, period_unit="h")),
        replace(base, order_id="o3", medication="insuline", dose_value=10.0, dose_unit="U",
                timing=Timing(code="daily"), route="SC"),
    ]  # fmt: skip


def _pdf_text(lang: str, tmp_path: Path) -> str:
    patient, orders = _patient(), _orders()
    doses = {o.order_id: [ScheduledDose(o.order_id, START + timedelta(hours=2),
                                        o.dose_value, o.dose_unit)] for o in orders}  # fmt: skip
    snapshot = Snapshot("snap-1", START, "test", (patient,), tuple(orders))
    pages = layout_patient(
        patient, orders, doses, snapshot, settings=None,
        period=PERIOD, paper="a4", lang=lang, templates=TEMPLATES,
    )  # fmt: skip
    path = tmp_path / f"{lang}.pdf"
    pdf.render_pdf(pages, path)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_a_french_mar_prints_every_value_in_french(tmp_path: Path) -> None:
    text = _pdf_text("fr", tmp_path)
    for expected in ("0,5 mg", "25 mcg", "10 unités", "3 fois par jour", "toutes les 6 heures",
                     "1 fois par jour", "21/05/1963", "féminin"):  # fmt: skip
        assert expected in text, expected
    for wrong in ("µg", "μg", " ug", "0.5 mg", "daily", "TID", "q6h", "1963-05-21", "female",
                  " units"):  # fmt: skip
        assert wrong not in text, wrong


def test_an_english_mar_spells_the_birth_date_and_mcg(tmp_path: Path) -> None:
    text = _pdf_text("en", tmp_path)
    assert "21 May 1963" in text
    assert "25 mcg" in text
    assert "10 units" in text
    assert "1963-05-21" not in text
    assert "05/21/1963" not in text


def test_every_layout_text_goes_through_wording() -> None:
    """No printed text of a Dutch pack holds an ISO date, a raw code or "units"."""
    patient, orders = _patient(), _orders()
    snapshot = Snapshot("snap-1", START, "test", (patient,), tuple(orders))
    pages = layout_patient(
        patient, orders, {}, snapshot, settings=None,
        period=PERIOD, paper="a4", lang="nl", templates=TEMPLATES,
    )  # fmt: skip
    texts = " | ".join(d.text for page in pages for d in page.drawings if isinstance(d, Text))
    assert "21/05/1963" in texts and "vrouw" in texts and "eenheden" in texts
    assert "1963-05-21" not in texts and "female" not in texts and " units" not in texts


def test_french_banner_weight_uses_the_decimal_comma() -> None:
    patient = replace(_patient(), weight=Weight(72.5, date(2026, 11, 20)))
    snapshot = Snapshot("snap-1", START, "test", (patient,), ())
    pages = layout_patient(
        patient, [], {}, snapshot, settings=None,
        period=PERIOD, paper="a4", lang="fr", templates=TEMPLATES,
    )  # fmt: skip
    texts = [d.text for d in pages[0].drawings if isinstance(d, Text)]
    assert any("72,5 kg (20/11/2026)" in t for t in texts), texts


def test_a_taper_that_fits_in_english_but_not_in_french_is_refused_for_french() -> None:
    """The fit check words the doses as the printed language does, so French is not cut."""
    from papermode.core.errors import CensusError
    from papermode.printing.printable import check_dose_schedules_fit

    weekly = Timing(code="q12h", days_of_week=("mon",), bounds_start=datetime(2026, 5, 3, 8),
                    bounds_end=datetime(2026, 5, 6))  # fmt: skip
    steps = (Dosage(weekly, 12.5, "mg"), Dosage(Timing(code="daily"), 5.0, "mg"))
    order = Order("o9", "pat-1", "prednisolone", 0.5, "mg", "PO", Timing(code="daily"),
                  dosages=steps)  # fmt: skip
    snapshot = Snapshot("snap-1", START, "test", (_patient(),), (order,))
    t_en, t_fr = _t("en"), _t("fr")
    assert wording.order_dose(t_fr, "fr", order) != wording.order_dose(t_en, "en", order)
    check_dose_schedules_fit(snapshot, "en")
    with pytest.raises(CensusError, match="order o9"):
        check_dose_schedules_fit(snapshot, "fr")


def test_the_dose_to_give_is_bolder_and_larger_than_the_product_strength() -> None:
    """ISMP: "Enoxaparine 40 mg/0,4 mL" plain and smaller, the dose "40 mg" bold and larger."""
    order = Order("o1", "pat-1", "Enoxaparine 40 mg/0,4 mL", dose_value=40.0, dose_unit="mg",
                  route="SC", timing=Timing(code="daily"))  # fmt: skip
    snapshot = Snapshot("snap-1", START, "test", (_patient(),), (order,))
    doses = {"o1": [ScheduledDose("o1", START + timedelta(hours=2), 40.0, "mg")]}
    pages = layout_patient(
        _patient(), [order], doses, snapshot, settings=None,
        period=PERIOD, paper="a4", lang="fr", templates=TEMPLATES,
    )  # fmt: skip
    texts = [d for d in pages[0].drawings if isinstance(d, Text)]
    product = next(d for d in texts if d.text.startswith("Enoxaparine"))
    dose = next(d for d in texts if d.text == "40 mg")
    assert dose.bold and not product.bold
    assert dose.size > product.size


def test_thousands_are_grouped_so_a_zero_is_not_lost_or_added() -> None:
    """ISMP: "5,000 units", never "5000" (read as 500 or 50000); French and Dutch group
    with a narrow no-break space (a point reads as a decimal point: "5.000"), which the
    wrap keeps on one line with its unit."""
    assert wording.number("en", 25000) == "25,000"
    assert wording.number("fr", 25000) == "25\u202f000"
    assert wording.number("nl", 1234.5) == "1\u202f234,5"
    assert wording.number("en", 999) == "999" and wording.number("fr", 0.5) == "0,5"
    assert wording.dose(_t("fr"), "fr", 5000, "U", None) == "5\u202f000 unités"
    lines = wrap("Héparine 25\u202f000 unités par jour", 24.0, 8.0)
    assert any("25\u202f000 unités" in line for line in lines), lines
