"""Patient linking: only on strong evidence; never on a name alone or a shared name."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from papermode.core.model import Patient, Snapshot
from papermode.free.patientlink import find_dates, find_mrns, link_patient

HELENE = Patient("p1", "1234567", "Dupont", "Hélène", date(1948, 3, 12))
JEAN = Patient("p2", "7654321", "Martin", "Jean", date(1960, 1, 2))
JEAN_TWIN = Patient("p3", "7654999", "Martin", "Jean", date(1971, 5, 6))
CODED = Patient("p4", "V26-1017", "Peeters", "Anne", date(1990, 7, 8))


def snapshot(*patients: Patient) -> Snapshot:
    return Snapshot("s1", datetime(2026, 1, 1, 6), "test", patients, ())


WARD = snapshot(HELENE, JEAN, JEAN_TWIN, CODED)


def test_labelled_mrn_exact_match_links() -> None:
    link = link_patient("Dossier patient\nIPP: 1234567\nParacétamol 1 g", [], WARD)
    assert link.patient_id == "p1"
    assert link.confidence >= 0.95
    assert any("mrn: exact match" in e for e in link.evidence)


def test_mrn_with_ocr_letters_is_repaired() -> None:
    assert find_mrns("IPP: 2O1l5", {5}) == ({"20115"}, set())
    ward = snapshot(HELENE, Patient("p9", "2030115", "Claes", "Luc", date(1950, 1, 1)))
    assert link_patient("MRN 2O3O1l5", [], ward).patient_id == "p9"


def test_unlabelled_mrn_needs_confirmation() -> None:
    assert link_patient("1234567 paracetamol", [], WARD).patient_id is None
    assert link_patient("DUPONT 1234567 paracetamol", [], WARD).patient_id == "p1"


def test_name_and_birth_date_link() -> None:
    link = link_patient("DUPONT Hélène née le 12/03/1948", [], WARD)
    assert link.patient_id == "p1"
    assert link_patient("Dupont Helene 1948-03-12", [], WARD).patient_id == "p1"
    assert link_patient("DUPONT Hélène 12.03.1948", [], WARD).patient_id == "p1"


def test_name_alone_never_links() -> None:
    link = link_patient("DUPONT Hélène: paracétamol 1 g", [], WARD)
    assert link.patient_id is None
    assert link.evidence  # says what was found, for the reviewer


def test_wrong_birth_date_does_not_link() -> None:
    assert link_patient("DUPONT Hélène 13/03/1948", [], WARD).patient_id is None


def test_shared_name_never_links_without_mrn() -> None:
    link = link_patient("MARTIN Jean né le 02/01/1960", [], WARD)
    assert link.patient_id is None
    assert any("shared" in e for e in link.evidence)
    # The MRN tells the namesakes apart.
    assert link_patient("MARTIN Jean IPP 7654999", [], WARD).patient_id == "p3"


def test_conflicting_evidence_stays_unlinked() -> None:
    link = link_patient("IPP 1234567 MARTIN Jean 02/01/1960", [], WARD)
    assert link.patient_id is None
    assert any("conflict" in e for e in link.evidence)
    assert link_patient("IPP 1234567 / IPP 7654321", [], WARD).patient_id is None


def test_unknown_mrn_stays_unlinked() -> None:
    link = link_patient("IPP 5555555", [], WARD)
    assert link.patient_id is None
    assert "mrn: number not in snapshot" in link.evidence


def test_coded_mrn_links() -> None:
    assert link_patient("Patient V26-1017 ceftriaxone", [], WARD).patient_id == "p4"


def test_evidence_holds_no_patient_data() -> None:
    link = link_patient("DUPONT Hélène IPP 1234567 12/03/1948", [], WARD)
    text = " ".join(link.evidence)
    for secret in ("Dupont", "DUPONT", "Hélène", "1234567", "1948"):
        assert secret not in text


def test_finders() -> None:
    assert find_dates("12/03/1948, 1948-03-12, 31/02/2000") == {date(1948, 3, 12)}
    labelled, unlabelled = find_mrns("n° 1234567 and 7654321 and 12345678", {7})
    assert labelled == {"1234567"}
    assert unlabelled == {"7654321"}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="DUPONTMARTINHélèneJean 0123456789/-.:IPPné", max_size=80))
def test_any_link_is_right(text: str) -> None:
    """Whatever the text, a link is either absent or supported by the patient's own data."""
    link = link_patient(text, [], WARD)
    if link.patient_id is not None:
        patient = WARD.patient(link.patient_id)
        digits = "".join(c for c in text if c.isdigit())
        assert patient.mrn in digits or patient.birth_date.strftime("%Y") in text
