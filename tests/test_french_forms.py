"""An independent check of the printed forms in French (issue #11), on census exports written
the way other record systems write them (tests/data/french-check/README.md): a FHIR R4
searchset with SNOMED CT and EDQM routes, UCUM annotations ("{tbl}"), GTS timing codes,
EventTiming, weekly and every-3-days orders, a taper, infusions; a semicolon CSV with day-first
dates and decimal commas. Each census is printed with `prepare --lang fr` to real PDFs, read
back with pdftotext, and checked as a French-speaking nurse would read it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from papermode.cli.main import main

DATA = Path(__file__).parent / "data" / "french-check"
FHIR = DATA / "fhir-searchset-geriatrie.json"
CSV = DATA / "csv-pneumologie"
HIX = DATA / "fhir-transaction-usic.json"
# Words of English (or Latin abbreviations) that must not reach a French form: frequencies,
# units, the census reader's own phrases, SNOMED CT route names, allergy classes.
ENGLISH = re.compile(
    r"\b(daily|TID|BID|QID|QD|q\d+h|PRN|units?|tablets?|capsules?|puffs?|over \d|at \d|"
    r"per dose|in all|calculated|method:|site:|route|qualifier|Subcutaneous|Intravenous|Oral|"
    r"penicillins|cephalosporins|NSAIDs|opioids|sulfonamides|ACM|ACD|ACV|MORN|EVE|HS|No known)\b"
)


def _prepare(tmp: Path, census: Path, *options: str) -> tuple[str, dict[str, str], dict]:
    """`prepare --lang fr`; the text of every PDF (all, and per patient) and the manifest."""
    out = tmp / "out"
    result = CliRunner().invoke(
        main,
        ["prepare", str(census), "--out", str(out), "--lang", "fr", "--store",
         str(tmp / "store.db"), *options],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    texts = {
        pdf.stem: subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                 text=True, check=True).stdout
        for pdf in sorted(out.rglob("*.pdf"))
    }  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    return "\n".join(texts.values()), texts, manifest


@pytest.fixture(scope="module")
def fhir_a4(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str], dict]:
    return _prepare(tmp_path_factory.mktemp("fr-a4"), FHIR, "--start", "2026-12-02T08:00")


@pytest.fixture(scope="module")
def csv_a4(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str], dict]:
    return _prepare(tmp_path_factory.mktemp("fr-csv"), CSV, "--start", "2026-12-02T08:00")


RUNS = {
    "fhir-a4-24h": (FHIR, ("--start", "2026-12-02T08:00")),
    "fhir-letter": (FHIR, ("--start", "2026-12-02T08:00", "--paper", "letter")),
    "fhir-3-days": (FHIR, ("--start", "2026-12-02T00:00", "--days", "3")),
    "csv-a4-24h": (CSV, ("--start", "2026-12-02T08:00")),
    "transaction-a4-24h": (HIX, ("--start", "2026-12-02T08:00")),
}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_every_printed_value_is_french(run: str, tmp_path: Path) -> None:
    """No ISO date, no µg/ug, no English frequency, unit, route or phrase; units in words."""
    census, options = RUNS[run]
    text, _, _ = _prepare(tmp_path, census, *options)
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), "an ISO date on paper"
    assert "µg" not in text and "μg" not in text and not re.search(r"\d\s?ug\b", text)
    assert not re.search(r"\d{1,2}:\d{2}\s?(AM|PM|am|pm)\b", text)  # 24-hour times
    words = re.sub(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}\b", " ", text)  # page ids: codes
    found = sorted({m.group(0) for m in ENGLISH.finditer(words)})
    assert not found, f"English left on a French form: {found}"
    assert "unités" in text or run.startswith("transaction")
    assert "…" not in text, "a value cut with an ellipsis"
    for accented in (
        ("é", "è", "ç") if run.startswith("transaction") else ("é", "è", "à", "ç", "Œ")
    ):  # names, wards, allergies print their accents
        assert accented in text


def _block(text: str, start: str, lines: int = 12) -> str:
    """The lines of the page from the first one holding `start`."""
    rows = text.splitlines()
    first = next(i for i, row in enumerate(rows) if start in row)
    return "\n".join(rows[first : first + lines])


def test_footer_dates_are_day_first_and_times_24_hours(fhir_a4: tuple) -> None:
    """The footer said "prescriptions au 2026-12-02 05:40", "période du 2026-12-02 08:00"."""
    text = fhir_a4[0]
    assert "période du 02/12/2026 08:00 au 03/12/2026 08:00" in text
    assert re.search(r"prescriptions au 02/12/2026 \d{2}:\d{2}", text)


def test_a_weekly_order_says_its_day(fhir_a4: tuple, csv_a4: tuple) -> None:
    """Vitamin D 50 000 UI once a week on Wednesday printed "1 fois par jour"."""
    block = _block(fhir_a4[0], "Cholécalciférol")
    assert "12:00 uniquement le mercredi" in block
    assert "1 fois par jour" not in block
    assert "08:00 uniquement le lundi" in _block(csv_a4[0], "Méthotrexate")


def test_an_order_every_three_days_at_its_time_is_printed(fhir_a4: tuple) -> None:
    """A fentanyl patch every 3 days at 10:00 (frequency 1, period 3 d, timeOfDay) was refused
    as a frequency that "contradicts" its time, and the whole census did not print."""
    assert "tous les 3 jours 10:00" in _block(fhir_a4[0], "Fentanyl")


def test_routes_print_in_french_and_injections_get_their_site_box(fhir_a4: tuple) -> None:
    """SNOMED CT displays ("Subcutaneous route (qualifier value)") and EDQM terms
    ("Subcutaneous use") printed in English, and their SC orders had no site box."""
    text, _, manifest = fhir_a4
    assert "PO" in _block(text, "Ibuprofène") and "IV" in _block(text, "Céfazoline")
    assert "inhalé" in _block(text, "Salbutamol")
    assert "transdermique" in _block(text, "Fentanyl")
    fields = {f["field_id"] for page in manifest["pages"] for f in page["fields"]}
    for order in ("eM04", "eM08", "eM23"):  # EDQM 20066000, SNOMED 34206005 (display only)
        assert any(f.startswith(f"mar.{order}.") and f.endswith(".site") for f in fields)
    assert any(f.startswith("prn.eM07.") and f.endswith(".site") for f in fields)


def test_the_prn_record_prints_the_order_instructions(fhir_a4: tuple) -> None:
    """Morphine's "ne pas donner si FR < 10/min" was not on the PRN record at all."""
    head = _block(fhir_a4[0], "Morphine chlorhydrate", 6)
    assert "ne pas donner si FR < 10/min" in head
    assert "max 6 doses / 1 j" in head


def test_timings_print_in_words(fhir_a4: tuple, csv_a4: tuple) -> None:
    """ "ACM +30 min", "ACM ACD ACV", "MORN", "Q8H PRN", "q24h" printed as coded."""
    text = fhir_a4[0]
    assert "30 min avant le repas du matin" in _block(text, "Lévothyroxine")
    assert "avant le repas du matin" in _block(text, "Insuline asparte")
    assert "le matin" in _block(text, "Macrogol")
    assert "au plus toutes les 8 heures" in _block(text, "Ondansétron", 3)
    assert "toutes les 24 heures" in _block(csv_a4[0], "Lévofloxacine")


def test_dose_forms_and_infusion_phrases_are_french(fhir_a4: tuple, csv_a4: tuple) -> None:
    """ "1 tablet", "1-2 capsule", "over 30 min; at 200 mL/h", "max 2 g per dose"."""
    text = fhir_a4[0]
    assert "1 comprimé" in _block(text, "Ibuprofène")
    assert "1-2 gélules" in _block(text, "Tramadol")
    amoxicillin = " ".join(_block(text, "Amoxicilline").split())
    assert "sur 30 min; débit 200 mL/h" in amoxicillin
    assert "max 2 g par dose; sur 2 h; débit 125 mL/h" in " ".join(
        _block(text, "Vancomycine").split()
    )
    assert "méthode : nébuliseur" in _block(text, "Salbutamol")
    assert "débit 100 mL/h sur 1 h" in _block(csv_a4[0], "Lévofloxacine")
    assert "Salbutamol 100 mcg/dose" in csv_a4[0]  # the product name's µg, ISMP-spelled


def test_a_ucum_code_is_read_whatever_the_unit_display(fhir_a4: tuple) -> None:
    """doseQuantity {unit "microgram(s)", system UCUM, code "ug"} (and "Unit(s)" / "[iU]")
    was refused as an unknown unit: `unit` is only the sender's display, `code` the UCUM."""
    text = fhir_a4[0]
    assert "75 mcg" in _block(text, "Lévothyroxine")
    assert "14 unités" in _block(text, "Insuline glargine")


def test_allergy_flags_name_the_class_in_french(fhir_a4: tuple, csv_a4: tuple) -> None:
    """'(penicillins)', '(cephalosporins)', '(NSAIDs)', '(opioids)' were English; an allergy
    that names the class printed it twice ('Sulfamides (sulfamides)')."""
    assert "ALLERGIE : Pénicilline (pénicillines)" in csv_a4[0]
    text = fhir_a4[0]
    assert "ALLERGIE : Pénicillines RISQUE ÉLEVÉ" in text and "(pénicillines)" not in text
    assert "ALLERGIE ? Pénicillines : réaction croisée possible (céphalosporines)" in text
    assert "ALLERGIE : AINS" in text and "(AINS)" not in text  # the class itself: once
    assert "ALLERGIE : Codéine (opioïdes)" in text  # tramadol and fentanyl
    assert "ALLERGIE : Sulfamides criticité non évaluée" in text
    assert "Furosémide" in text and "ALLERGIE" not in _block(text, "Furosémide", 8)


def test_an_allergy_not_assessed_says_so(fhir_a4: tuple, csv_a4: tuple) -> None:
    """criticality unable-to-assess printed nothing, the same as a low one."""
    assert "Sulfamides criticité non évaluée (éruption étendue)" in fhir_a4[0]
    assert "ALLERGIE : Sulfamides criticité non évaluée" in fhir_a4[0]
    assert "Pénicilline criticité non évaluée (urticaire géante)" in csv_a4[0]


def test_split_doses_and_coded_tapers_print_each_timing_in_words(fhir_a4: tuple) -> None:
    """A split dose (MORN 500 mg, EVE 750 mg) and a taper by codes (TID then BID) printed
    their combined timing as coded under the doses ('MORN + EVE', 'TID + BID'); a taper
    whose steps have the same dose printed no step at all, only 'TID + BID'."""
    text = fhir_a4[0]
    block = " ".join(_block(text, "Lévétiracétam").split())
    assert "500 mg le matin 750 mg le soir PO" in block
    block = " ".join(_block(text, "Métronidazole").split())
    assert re.search(r"500 mg 3 fois par jour du .*?01/12/2026 au 02/12/2026", block)
    assert re.search(r"500 mg 2 fois par jour du .*?03/12/2026 au 06/12/2026", block)
    assert "+" not in _block(text, "Métronidazole", 8)


def test_medication_request_notes_are_printed(fhir_a4: tuple) -> None:
    """MedicationRequest.note (the prescriber's comment) was never read nor printed."""
    block = " ".join(_block(fhir_a4[0], "Fentanyl").split())
    assert "Retirer l'ancien patch ; noter la date sur le patch" in block


def test_an_infusion_prints_its_notes_in_full(fhir_a4: tuple) -> None:
    """The continuous infusion's facts cut its instructions at three lines with an ellipsis."""
    block = " ".join(_block(fhir_a4[0], "Héparine sodique", 30).split())
    assert re.search(r"arrêter .*et appeler le médecin si .*saignement, hématome au point de "
                     r".*ponction ou plaquettes sous 100 .*G/L", block)  # fmt: skip


def test_a_two_step_taper_prints_each_step(fhir_a4: tuple) -> None:
    """Prednisolone 40 mg then 20 mg, each with its dates, was refused in every language."""
    block = " ".join(_block(fhir_a4[0], "Prednisolone").split())
    assert "40 mg 08:00 du 30/11/2026 au 02/12/2026" in block
    assert "20 mg 08:00 du 03/12/2026 au 05/12/2026" in block


def test_the_multi_day_mar_flags_allergies(tmp_path: Path) -> None:
    """`--days 3` printed amoxicillin for a patient with a high-criticality penicillin
    allergy without the ALLERGY flag the per-day MAR has."""
    _, texts, manifest = _prepare(tmp_path, FHIR, "--start", "2026-12-02T00:00", "--days", "3")
    mar = [p for p in manifest["pages"] if p["template"] == "mar" and p["patient_id"] == "eP1"]
    assert any(f.get("order_id") == "eM01" for p in mar for f in p["fields"])
    patient = next(text for name, text in texts.items() if name.endswith("ep1"))
    assert "ALLERGIE : Pénicillines RISQUE ÉLEVÉ" in patient
    assert "ALLERGIE ? Pénicillines : réaction croisée possible (céphalosporines)" in patient


def test_high_alert_orders_have_second_initials_on_every_page(fhir_a4: tuple) -> None:
    """Every MAR and PRN page an order of a high-alert drug is on asks for a second check."""
    text, _, manifest = fhir_a4
    for order in ("eM04", "eM08", "eM23", "eM07"):  # enoxaparin, insulins, morphine PRN
        pages = [p for p in manifest["pages"]
                 if any(f.get("order_id") == order for f in p["fields"])]  # fmt: skip
        assert pages
        for page in pages:
            roles = {f["role"] for f in page["fields"] if f.get("order_id") == order}
            assert "second_initials" in roles, (order, page["page_id"])
    assert text.count("HAUT RISQUE") >= 4


@pytest.fixture(scope="module")
def transaction_a4(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str], dict]:
    return _prepare(tmp_path_factory.mktemp("fr-hix"), HIX, "--start", "2026-12-02T08:00")


def test_untyped_locations_name_the_ward_from_the_outermost(transaction_a4: tuple) -> None:
    """Locations without physicalType (room partOf ward, a bed by display) made the room
    "USIC 3" the ward: a ward census sheet of its own, the ward printed as the room."""
    text = transaction_a4[0]
    assert "Service Cardiologie - Unité de soins intensifs" in text  # not cut, either
    assert "Cardiologie - Unité de soins intensifs / USIC 3 / lit 1" in text
    assert "Service USIC 3" not in text


def test_the_ward_census_never_cuts_a_bed(transaction_a4: tuple) -> None:
    """The census sheet's bed column printed "USIC 3 /…"."""
    census = next(t for name, t in transaction_a4[1].items() if name.startswith("ward-"))
    assert re.search(r"USIC 3 /.*\n.*lit 1", census)
    assert "…" not in census


def test_no_known_drug_allergy_is_french(transaction_a4: tuple) -> None:
    """SNOMED 409137002 printed "No known drug allergy" on the French banner."""
    assert re.search(r"ALLERGIES :\s+Pas d'allergie médicamenteuse connue", transaction_a4[0])


def test_transaction_orders_print_in_french(transaction_a4: tuple) -> None:
    text = transaction_a4[0]
    assert "au coucher" in _block(text, "Zopiclone")  # when HS
    assert "PO" in _block(text, "Zopiclone")  # route text "oraal"
    assert "1 comprimé" in _block(text, "Amiodarone")  # {tbl}, route SNOMED code only
    assert "PO" in _block(text, "Amiodarone") and "26643006" not in text
    assert "02/12/2026" in _block(text, "Furosémide")  # count 1 at its start
    assert "pendant le repas du matin, pendant le repas du soir" in " ".join(
        _block(text, "Paracétamol 500 mg").split()
    )
    assert "1-2 comprimés" in _block(text, "Paracétamol 500 mg")
    assert "SL" in _block(text, "Trinitrine", 2) and "max 3 doses / 15 min" in text


@pytest.mark.parametrize("census", [FHIR, CSV, HIX], ids=["fhir", "csv", "transaction"])
@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("days", [0, 3])
def test_nothing_overflows_or_overlaps_in_french(census: Path, paper: str, days: int) -> None:
    """Every page of every census in French: fields inside the content (banner fields in the
    header), no two fields overlapping, no text off the page, on the markers or QR code, or
    on a box (tests/test_layout.py's helpers; its 2 mm spacing rule is not asserted here:
    the multi-day MAR's ticks and the infusion rows are 1.5 mm apart by design)."""
    from dataclasses import replace
    from datetime import datetime, timedelta

    from test_layout import BANNER_FIELDS, _furniture, _gap, _inside, _text_box

    from papermode.census.schedule import doses_for_snapshot
    from papermode.census.snapshot import load_census
    from papermode.core.model import Box, Text
    from papermode.core.pageframe import frame_for
    from papermode.core.settings import load_settings
    from papermode.printing.layout.snapshot import layout_snapshot
    from papermode.printing.templates import load_templates

    settings = replace(load_settings(), mar_days=days)
    snapshot = load_census(census, settings)
    start = datetime(2026, 12, 2, 0 if days else 8)
    period = (start, start + (timedelta(days=days) if days else timedelta(hours=24)))
    doses = doses_for_snapshot(snapshot, *period, settings)
    wards = layout_snapshot(snapshot, doses, period=period, paper=paper, lang="fr",
                            templates=load_templates(), settings=settings)  # fmt: skip
    pages = [page for ward in wards.values() for page in ward]
    assert any(page.template == "mar" for page in pages)
    for page in pages:
        frame = frame_for(page.size_mm)
        furniture = _furniture(page)
        fields = sorted(page.fields, key=lambda f: f.box.x)
        for index, item in enumerate(fields):
            area = frame.header if item.field_id in BANNER_FIELDS else frame.content
            assert _inside(item.box, area), (page.template, item.field_id)
            for other in fields[index + 1 :]:
                if other.box.x > item.box.x + item.box.w:
                    break
                assert _gap(item.box, other.box) > 0, (page.template, item.field_id, other)
        for drawing in page.drawings:
            if isinstance(drawing, Text) and drawing.text.strip():
                box = _text_box(drawing)
                assert _inside(box, Box(0, 0, *page.size_mm)), (page.template, drawing.text)
                assert all(_gap(box, other) > 0 for other in furniture), drawing.text
                assert all(_gap(box, f.box) > -0.3 for f in page.fields), drawing.text


def _page_text(pdf: Path, number: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_every_page_of_an_order_names_the_drug_and_its_band(paper: str, tmp_path: Path) -> None:
    """On Letter the sixth morphine PRN entry flowed onto a page of its own with no drug,
    no dose, no HIGH ALERT / controlled-drug band: entries for an unnamed medicine."""
    _prepare(tmp_path, FHIR, "--start", "2026-12-02T08:00", "--paper", paper)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))
    expected = {  # order: words every page it is on must print
        "eM07": ("Morphine chlorhydrate", "2,5 mg", "HAUT RISQUE", "STUPÉFIANT"),
        "eM19": ("Lorazépam", "0,5 mg", "STUPÉFIANT"),
        "eM04": ("Énoxaparine", "4 000 unités", "HAUT RISQUE"),  # grouped (pdftotext: a space)
        "eM08": ("Insuline asparte", "4 unités", "HAUT RISQUE"),
    }
    seen = 0
    for page in manifest["pages"]:
        orders = {f.get("order_id") for f in page["fields"]}
        for order, words in expected.items():
            if order in orders:
                seen += 1
                text = _page_text(tmp_path / "out" / page["pdf"], page["pdf_page"])
                assert all(w in text for w in words), (paper, order, page["pdf_page"])
    assert seen >= len(expected)


def test_a_partial_birth_date_is_not_dropped_silently(tmp_path: Path) -> None:
    """An R4 birthDate of "1947-11" (valid: year and month) printed no birth date and said
    nothing; prepare now warns, by resource id and without the date."""
    bundle = json.loads(HIX.read_text("utf-8"))
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"].get("birthDate"))
    patient["birthDate"] = "1947-11"
    census = tmp_path / "partial.json"
    census.write_text(json.dumps(bundle), "utf-8")
    result = CliRunner().invoke(
        main,
        ["prepare", str(census), "--out", str(tmp_path / "out"), "--lang", "fr",
         "--start", "2026-12-02T08:00", "--store", str(tmp_path / "s.db")],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "the birth date is not a full date" in result.output
    assert "1947-11" not in result.output


def test_an_amount_is_never_split_from_its_unit(fhir_a4: tuple) -> None:
    """The French new-order hint wrapped '(0,5' / 'mg).' onto two lines."""
    assert "toujours un zéro initial (0,5 mg)" in fhir_a4[0] or "(0,5 mg)." in fhir_a4[0]
    from papermode.printing.layout.kit import wrap

    for width in range(20, 60):  # wherever the line breaks, "12,5 mg" stays whole
        lines = wrap("Héparine 12,5 mg puis 4000 unités toutes les 6 heures", width, 8.0)
        assert any("12,5 mg" in line for line in lines), lines
        assert any("4000 unités" in line for line in lines), lines


def test_the_footer_names_each_form_in_french(
    fhir_a4: tuple[str, dict[str, str], dict],
) -> None:
    """'formulaire vitals v2026.3' named the form by its template file; the footer now says
    the form's French short name (the census sheet's), the version stays for IT."""
    text = fhir_a4[0]
    for name in ("administration", "si besoin", "nouvelles prescriptions", "paramètres"):
        assert re.search(rf"formulaire {name} v\d{{4}}\.\d", text), name
    assert not re.search(r"formulaire (vitals|mar|prn|new_orders|ward_census) v", text)
