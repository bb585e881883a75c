"""Allergy conflicts and controlled drugs from the class table (census/drug_classes.py).

The record system's allergy check is gone during a downtime: these rules are what stands
between a penicillin-allergic patient and a printed amoxicillin order with no warning.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papermode.census.drug_classes import (
    allergy_conflicts,
    conflict_warnings,
    drug_table,
    is_controlled,
    normalise,
)
from papermode.census.snapshot import load_census, sample_census_path
from papermode.core.model import Allergy, Order, Patient, Snapshot
from papermode.core.settings import load_settings


def _patient(*allergies: Allergy) -> Patient:
    return Patient("pat-1", "MRN1", "Test", "Patient", allergies=allergies)


def _order(medication: str) -> Order:
    return Order("ord-1", "pat-1", medication)


def _conflict(allergy: str, medication: str) -> tuple[str, str] | None:
    found = allergy_conflicts(_patient(Allergy(allergy)), _order(medication))
    assert len(found) <= 1
    return (found[0].kind, found[0].via) if found else None


@pytest.mark.parametrize(
    ("allergy", "medication"),
    [
        ("amoxicillin", "Amoxicillin 500 mg capsule"),
        ("Amoxicilline", "AMOXICILLIN sodium 1 g IV"),  # French spelling, salt word
        ("amoxicillin", "Augmentin 875/125"),  # a brand of it
        ("Morphine", "morphine hydrochloride 10 mg/mL"),
        ("Codéine", "Paracetamol/Codeine 500/30"),  # accent, a combination product
        ("zolpidem", "Zolpidem tartrate 10 mg"),  # not in the table: matched by its name
    ],
)
def test_the_same_substance_is_a_conflict(allergy: str, medication: str) -> None:
    assert _conflict(allergy, medication) == ("substance", "substance")


@pytest.mark.parametrize(
    ("allergy", "medication", "via"),
    [
        ("Penicillin", "Piperacillin-tazobactam 4 g", "penicillins"),
        ("pénicillines", "Flucloxacilline 1 g", "penicillins"),
        ("amoxicillin", "Benzylpenicillin 1.2 g", "penicillins"),  # member -> its class
        ("Ibuprofen", "Aspirine 500 mg", "NSAIDs"),  # aspirin is an NSAID here
        ("AINS", "Diclofénac sodique 75 mg", "NSAIDs"),
        ("Sulfa", "Bactrim forte", "sulfonamides"),
        ("opiates", "Oxycodone HCl 5 mg", "opioids"),
        ("macrolides", "Clarithromycine 500 mg", "macrolides"),
        ("ciprofloxacin", "Levofloxacine 500 mg", "fluoroquinolones"),
        ("doxycycline", "Minocycline 100 mg", "tetracyclines"),
        ("gentamicin", "Amikacine 1 g", "aminoglycosides"),
        ("iodinated contrast", "Omnipaque 350", "iodinated contrast"),
        ("ceftriaxone", "Cefazolin 2 g", "cephalosporins"),
    ],
)
def test_a_shared_class_is_a_conflict(allergy: str, medication: str, via: str) -> None:
    assert _conflict(allergy, medication) == ("class", via)


@pytest.mark.parametrize(
    ("allergy", "medication", "via"),
    [
        ("Penicillin", "Cefazolin sodium 2 g", "cephalosporins"),
        ("amoxicilline", "Ceftriaxone 2 g", "cephalosporins"),
        ("penicillin", "Meropenem 1 g", "carbapenems"),
        ("cefuroxime", "Amoxicillin 1 g", "penicillins"),
    ],
)
def test_penicillin_and_cephalosporin_are_a_possible_cross_reactivity_not_a_class(
    allergy: str, medication: str, via: str
) -> None:
    assert _conflict(allergy, medication) == ("cross-reactivity", via)


@pytest.mark.parametrize(
    ("allergy", "medication"),
    [
        ("Penicillin", "Paracetamol 1 g"),
        ("Sulfa", "Furosemide 40 mg"),  # a non-antibiotic sulfonamide: not flagged
        ("Ibuprofen", "Paracétamol 1 g comprimé"),
        ("Latex", "Enoxaparine 40 mg/0,4 mL"),  # latex is not a drug
        ("Peanut", "Amoxicillin 1 g"),
        ("codeine", "Codipar"),  # no whole-word match inside another name
        ("Morphine", "Ondansetron 4 mg"),
    ],
)
def test_no_false_flag_for_an_unrelated_drug(allergy: str, medication: str) -> None:
    assert _conflict(allergy, medication) is None


def test_every_allergy_is_checked_and_its_criticality_kept() -> None:
    patient = _patient(
        Allergy("Latex"), Allergy("Pénicilline", "urticaire", "high"), Allergy("Aspirin")
    )
    (conflict,) = allergy_conflicts(patient, _order("Amoxicilline 1 g"))
    assert (conflict.allergy, conflict.via, conflict.criticality) == (
        "Pénicilline",
        "penicillins",
        "high",
    )
    assert conflict.text == "Pénicilline (penicillins)"


def test_no_allergies_recorded_or_none_known_give_no_conflict() -> None:
    order = _order("Amoxicillin 1 g")
    assert allergy_conflicts(Patient("p", "m", "f", "g", allergies=None), order) == ()
    assert allergy_conflicts(Patient("p", "m", "f", "g", allergies=()), order) == ()


def _bundle(tmp_path: Path, verification: str) -> Path:
    """The sample ward, its penicillin allergy (patient p-101, on amoxicillin) marked
    `verification`."""
    bundle = json.loads(sample_census_path().read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if (
            resource["resourceType"] == "AllergyIntolerance"
            and resource["code"].get("text") == "Pénicilline"
        ):
            resource["verificationStatus"] = {"coding": [{"code": verification}]}
    path = tmp_path / "census.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("verification", "flagged"),
    [("confirmed", True), ("refuted", False), ("entered-in-error", False)],
)
def test_refuted_and_entered_in_error_allergies_are_ignored(
    tmp_path: Path, verification: str, flagged: bool
) -> None:
    snapshot = load_census(_bundle(tmp_path, verification), load_settings())
    patient = next(p for p in snapshot.patients if p.patient_id == "p-101")
    order = next(o for o in snapshot.orders if o.order_id == "ord-1002")
    assert order.medication == "Amoxicilline 1 g"
    assert bool(allergy_conflicts(patient, order)) is flagged
    assert any("ord-1002" in w for w in conflict_warnings(snapshot)) is flagged


def test_the_prepare_warning_names_the_order_never_the_patient() -> None:
    patient = Patient("pat-1", "MRN77", "Lambert", "Hélène", allergies=(Allergy("penicillin"),))
    snapshot = Snapshot("s", None, "test", (patient,), (_order("Amoxicillin 1 g"),))  # type: ignore[arg-type]
    (warning,) = conflict_warnings(snapshot)
    assert "ord-1" in warning and "penicillin" in warning
    assert "Lambert" not in warning and "Hélène" not in warning and "MRN77" not in warning


@pytest.mark.parametrize(
    "medication",
    [
        "Morphine sulfate 10 mg",
        "Oxycodone 5 mg",
        "Fentanyl 25 mcg/h patch",
        "Hydromorphone 2 mg",
        "Methadone 10 mg",
        "Péthidine 50 mg",
        "Piritramide (Dipidolor) 7.5 mg",
        "Ketamine 50 mg",
        "Midazolam 2 mg",
        "Temesta 1 mg",  # lorazepam by its Belgian brand
        "Diazepam 5 mg",
    ],
)
def test_controlled_drugs(medication: str) -> None:
    assert is_controlled(_order(medication))


@pytest.mark.parametrize(
    "medication",
    ["Paracetamol 1 g", "Tramadol 50 mg", "Codeine 30 mg", "Ibuprofen 400 mg", "Zolpidem 10 mg"],
)
def test_not_controlled_on_the_forms(medication: str) -> None:
    """Tramadol and codeine are a documented decision (docs/census.md), not an oversight."""
    assert not is_controlled(_order(medication))


def test_names_are_normalised_for_case_accents_punctuation_and_salts() -> None:
    assert normalise("Amoxicilline SODIQUE") == ("amoxicilline",)
    assert normalise("Diclofénac-sodium 75mg") == ("diclofenac", "75mg")
    assert normalise("Morphine hydrochloride") == ("morphine",)


def test_the_table_covers_the_classes_the_forms_promise() -> None:
    table = drug_table()
    expected = {
        "penicillins", "cephalosporins", "carbapenems", "nsaids", "opioids", "sulfonamides",
        "macrolides", "fluoroquinolones", "tetracyclines", "aminoglycosides",
        "iodinated_contrast",
    }  # fmt: skip
    assert expected <= set(table.labels)
    assert "latex" not in table.names.values()
