"""Medication lines in French and English, OCR slips, and the comparison with the snapshot."""

from __future__ import annotations

import pytest

from papermode.core.model import Order, Timing
from papermode.free.medlines import (
    CONSISTENT,
    Lexicon,
    compare_with_snapshot,
    extract_medication_lines,
    parse_frequency,
    summarise,
)
from papermode.free.ocr import TextLine, Word

# line -> (drug, dose, unit, route, frequency, as needed)
PHRASINGS = [
    ("Amoxicilline 1 g IV toutes les 8 h", ("amoxicillin", 1.0, "g", "IV", "q8h", False)),
    (
        "amoxicilIine 500 mg per os 3 fois par jour",
        ("amoxicillin", 500.0, "mg", "PO", "3x/d", False),
    ),
    ("paracetamoI 1g PO 4x/j", ("paracetamol", 1.0, "g", "PO", "4x/d", False)),
    ("Paracétamol 1 cp per os si besoin", ("paracetamol", 1.0, "tablet", "PO", "PRN", True)),
    ("Paracetamol 1 g IV q6h PRN", ("paracetamol", 1.0, "g", "IV", "q6h", True)),
    ("Morphine 5 mg s/c si besoin", ("morphine", 5.0, "mg", "SC", "PRN", True)),
    ("Metformin 850 mg PO BID", ("metformin", 850.0, "mg", "PO", "2x/d", False)),
    ("Metformine 1000 mg matin et soir", ("metformin", 1000.0, "mg", None, "2x/d", False)),
    ("Enoxaparine 4000 UI SC le soir", ("enoxaparin", 4000.0, "IU", "SC", "1x/d", False)),
    ("Furosémide 40 mg IVD matin et midi", ("furosemide", 40.0, "mg", "IV", "2x/d", False)),
    ("Pantoprazole 40mg q12h", ("pantoprazole", 40.0, "mg", None, "q12h", False)),
    ("Tramadol 50 mg /6h", ("tramadol", 50.0, "mg", None, "q6h", False)),
    (
        "Insuline glargine 20 UI SC au coucher",
        ("insulin glargine", 20.0, "IU", "SC", "1x/d", False),
    ),
    ("Ceftriaxone 2 g IV once daily", ("ceftriaxone", 2.0, "g", "IV", "1x/d", False)),
    ("Ceftriaxone 29 IV 1x/j", ("ceftriaxone", 2.0, "g", "IV", "1x/d", False)),
    ("Amlodipine Smg PO q6h", ("amlodipine", 5.0, "mg", "PO", "q6h", False)),
    ("Bisoprolol 2,5 mg PO 1x/j", ("bisoprolol", 2.5, "mg", "PO", "1x/d", False)),
    ("Salbutamol 100 mcg inhal QID", ("salbutamol", 100.0, "mcg", "INH", "4x/d", False)),
    ("Vitamin K 10 mg IM", ("vitamin k", 10.0, "mg", "IM", None, False)),
    ("Ondansétron 4 mg IV TID", ("ondansetron", 4.0, "mg", "IV", "3x/d", False)),
    ("Héparine 5000 U SC /12h", ("heparin", 5000.0, "IU", "SC", "q12h", False)),
    (
        "KCl chlorure de potassium 1 g PO 3x/j",
        ("potassium chloride", 1.0, "g", "PO", "3x/d", False),
    ),
    ("Dexamethasone 4 mg 1 amp IV every 12 h", ("dexamethasone", 4.0, "mg", "IV", "q12h", False)),
    ("lorazepam 1 mg at bedtime", ("lorazepam", 1.0, "mg", None, "1x/d", False)),
]


@pytest.mark.parametrize(("line", "expected"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_phrasings_are_parsed(line: str, expected: tuple[object, ...]) -> None:
    [candidate] = extract_medication_lines([line])
    found = (
        candidate.drug,
        candidate.dose_value,
        candidate.dose_unit,
        candidate.route,
        candidate.frequency,
        candidate.as_needed,
    )
    assert found == expected


@pytest.mark.parametrize(
    "line",
    [
        "Dossier patient informatisé",
        "Médicament Dose Voie Fréquence",
        "DUPONT Hélène IPP: 1234567 Né(e) le 12/03/1948",
        "Patient calme, a bien dormi",
        "TA 120/80 FC 72",
    ],
)
def test_non_medication_lines_give_nothing(line: str) -> None:
    assert extract_medication_lines([line]) == []


def test_times_of_day_are_kept() -> None:
    assert parse_frequency("1 cp à 08:00 et 20h00") == ("2x/d", False, ("08:00", "20:00"))
    assert parse_frequency("matin midi soir")[2] == ("morning", "noon", "evening")


def test_span_and_word_boxes_point_at_the_line() -> None:
    words = (
        Word("Note:", (5, 10, 40, 12), 0.9),
        Word("Morphine", (50, 10, 80, 12), 0.9),
        Word("5", (140, 10, 8, 12), 0.9),
        Word("mg", (150, 10, 20, 12), 0.9),
        Word("SC", (180, 10, 20, 12), 0.5),
    )
    [candidate] = extract_medication_lines([TextLine(7, words)])
    assert candidate.line_number == 7
    assert candidate.line_text[candidate.span[0] : candidate.span[1]] == "Morphine 5 mg SC"
    assert candidate.boxes == tuple(w.box for w in words[1:])
    assert 0 < candidate.confidence < 0.9  # OCR confidence of the words lowers it


def test_snapshot_medicines_extend_the_lexicon() -> None:
    lexicon = Lexicon.load(extra_names=["Zorglubine 20 mg comprimé"])
    [candidate] = extract_medication_lines(["Zorglubine 20 mg PO 1x/j"], lexicon)
    assert candidate.drug == "zorglubine"
    # Unknown to the formulary alone: a dose and route without a drug name, for review.
    assert [c.drug for c in extract_medication_lines(["Zorglubine 20 mg PO 1x/j"])] == [None]


def _orders() -> list[Order]:
    return [
        Order("o1", "p1", "Paracétamol 1 g comprimé", 1.0, "g", "PO", Timing(code="QID")),
        Order("o2", "p1", "Amoxicilline", 1000.0, "mg", "IV", Timing(3, 1, "d")),
        Order("o3", "p1", "Enoxaparine", 40.0, "mg", "SC", Timing(code="1x/d")),
    ]


def test_consistent_list() -> None:
    lines = [
        "Paracetamol 1 g PO 4x/j",
        "Amoxicilline 1 g IV toutes les 8h",
        "Enoxaparine 40 mg SC 1x/j",
    ]
    differences = compare_with_snapshot(extract_medication_lines(lines), _orders())
    assert differences == []
    assert summarise(differences) == CONSISTENT


def test_differences_are_reported() -> None:
    lines = [
        "Paracetamol 500 mg PO 4x/j",  # dose changed
        "Amoxicilline 1 g IV 2x/j",  # frequency changed
        "Furosémide 40 mg PO 1x/j",  # not in the snapshot
    ]  # enoxaparin missing from the screen
    differences = compare_with_snapshot(extract_medication_lines(lines), _orders())
    kinds = sorted((d.kind, d.order_id) for d in differences)
    assert kinds == [
        ("dose_changed", "o1"),
        ("frequency_changed", "o2"),
        ("missing_from_screen", "o3"),
        ("not_in_snapshot", None),
    ]
    assert "4 difference(s)" in summarise(differences)


def test_route_change_is_reported() -> None:
    differences = compare_with_snapshot(
        extract_medication_lines(["Amoxicilline 1 g PO 3x/j"]), _orders()[1:2]
    )
    assert [d.kind for d in differences] == ["route_changed"]
