"""Link the text of a free photo to one patient of the snapshot — only on strong evidence.

Rules (a wrong link files a medicine list in the wrong chart, the worst failure here):
- an MRN of the snapshot's MRN length that matches exactly, labelled (MRN, IPP, NIP,
  dossier, n°) or confirmed by the patient's family name or birth date in the same text;
- or family name + given name + birth date all matching one patient, and no other patient
  of the snapshot sharing that name;
- never on a name alone; never when the evidence points at two patients. Otherwise the photo
  stays unlinked for a person to decide, with the evidence found.
Evidence strings name the kind of evidence only, never patient data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from papermode.core.model import Patient, Snapshot
from papermode.free.medlines import normalise_name
from papermode.free.ocr import Word

MRN_LABEL = r"(?:MRN|IPP|NIP|PID|dossier|n°|no\.?|nr\.?|num[ée]ro|patient\s+id)"
NAME_SCORE = 90.0  # OCR slips tolerated in names, but not a different name


@dataclass(frozen=True)
class PatientLink:
    """`patient_id` is None when the evidence is not strong enough: review decides."""

    patient_id: str | None
    evidence: tuple[str, ...]
    confidence: float


def find_mrns(text: str, lengths: set[int]) -> tuple[set[str], set[str]]:
    """(labelled, unlabelled) digit runs of an MRN length. OCR 'O'/'l' in runs are repaired."""
    repaired = re.sub(r"(?<=\d)[Oo](?=\d)|(?<=\d)[lI|](?=\d)", _digit_for, text)
    labelled: set[str] = set()
    unlabelled: set[str] = set()
    for match in re.finditer(r"(?<!\d)\d{3,}(?!\d)", repaired):
        run = match.group()
        if len(run) not in lengths:
            continue
        before = repaired[max(0, match.start() - 20) : match.start()]
        is_labelled = re.search(MRN_LABEL + r"\s*[:#.]?\s*$", before, re.IGNORECASE)
        (labelled if is_labelled else unlabelled).add(run)
    return labelled, unlabelled - labelled


def find_coded_mrns(text: str, snapshot: Snapshot) -> set[str]:
    """MRNs with letters ("V26-1017"): found exactly as a whole token, case-insensitive.
    A coded MRN is distinctive enough to count as labelled."""
    found = set()
    for patient in snapshot.patients:
        mrn = patient.mrn or ""
        if mrn and not mrn.isdigit():
            pattern = r"(?<![A-Za-z0-9])" + re.escape(mrn) + r"(?![A-Za-z0-9])"
            if re.search(pattern, text, re.IGNORECASE):
                found.add(mrn)
    return found


def find_dates(text: str) -> set[date]:
    """Dates written dd/mm/yyyy, dd.mm.yyyy, dd-mm-yyyy or yyyy-mm-dd."""
    found = set()
    for d, m, y in re.findall(r"(?<!\d)(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?!\d)", text):
        found |= _date(int(y), int(m), int(d))
    for y, m, d in re.findall(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)", text):
        found |= _date(int(y), int(m), int(d))
    return found


def name_matches(patient: Patient, tokens: Sequence[str]) -> tuple[bool, bool]:
    """(family found, given found) among the text's words, tolerating OCR slips."""
    return _has_name(patient.family, tokens), _has_name(patient.given, tokens)


def link_patient(text: str, words: Sequence[Word], snapshot: Snapshot) -> PatientLink:
    """Link a photo's text to one patient of `snapshot` only on strong evidence (see module)."""
    del words  # boxes are not used for the decision; kept for a future layout-aware rule
    tokens = normalise_name(text).split()
    dates = find_dates(text)
    lengths = {len(p.mrn) for p in snapshot.patients if p.mrn}
    labelled, unlabelled = find_mrns(text, lengths)
    labelled |= find_coded_mrns(text, snapshot)
    by_mrn = {p.mrn: p for p in snapshot.patients}
    evidence: list[str] = []
    candidates: dict[str, float] = {}
    for mrn in labelled | unlabelled:
        patient = by_mrn.get(mrn)
        if patient is None:
            evidence.append("mrn: number not in snapshot")
            continue
        family, _ = name_matches(patient, tokens)
        dob = patient.birth_date in dates
        if mrn in labelled or family or dob:
            kind = "labelled" if mrn in labelled else "unlabelled, confirmed by name or birth date"
            evidence.append(f"mrn: exact match ({kind})")
            candidates[patient.patient_id] = 0.99 if (family or dob) else 0.95
        else:
            evidence.append("mrn: unlabelled exact match without confirmation")
    for patient_id in _name_and_birth_date(tokens, dates, snapshot, evidence):
        candidates[patient_id] = max(candidates.get(patient_id, 0.0), 0.9)
    # Another patient named in full in the same text makes an MRN link doubtful: conflict
    # (a namesake of the linked patient is no conflict: the MRN tells them apart).
    linked_names = {_full_name(snapshot.patient(pid)) for pid in candidates}
    for patient in snapshot.patients if candidates else ():
        if (
            patient.patient_id not in candidates
            and _full_name(patient) not in linked_names
            and all(name_matches(patient, tokens))
        ):
            candidates[patient.patient_id] = 0.0
    return _decide(candidates, evidence)


def _name_and_birth_date(
    tokens: Sequence[str], dates: set[date], snapshot: Snapshot, evidence: list[str]
) -> list[str]:
    """Patients whose family + given name + birth date are all in the text, unless that name
    is shared in the snapshot. Named patients without their birth date are returned with a
    score of 0 by the caller, so they still count as a conflict against an MRN link."""
    named = [p for p in snapshot.patients if all(name_matches(p, tokens))]
    if not named:
        if any(name_matches(p, tokens)[0] for p in snapshot.patients):
            evidence.append("name: family name only (not enough)")
        return []
    full_names = [_full_name(p) for p in snapshot.patients]
    linked = []
    for patient in named:
        if full_names.count(_full_name(patient)) > 1:
            evidence.append("name: shared by several patients of the snapshot (not enough)")
        elif patient.birth_date is not None and patient.birth_date in dates:
            evidence.append("name + birth date: match")
            linked.append(patient.patient_id)
        else:
            evidence.append("name: family and given name without birth date (not enough)")
    return linked


def _decide(candidates: dict[str, float], evidence: list[str]) -> PatientLink:
    if len(candidates) == 1:
        patient_id, confidence = next(iter(candidates.items()))
        if confidence > 0:
            return PatientLink(patient_id, tuple(evidence), confidence)
    if len(candidates) > 1:
        evidence.append("conflict: evidence points at several patients")
    return PatientLink(None, tuple(evidence), 0.0)


def _has_name(name: str, tokens: Sequence[str]) -> bool:
    parts = normalise_name(name).split()
    if not parts:
        return False
    width = len(parts)
    target = " ".join(parts)
    for i in range(len(tokens) - width + 1):
        window = " ".join(tokens[i : i + width])
        exact_only = len(target) < 5
        if window == target or (not exact_only and fuzz.ratio(window, target) >= NAME_SCORE):
            return True
    return False


def _full_name(patient: Patient) -> tuple[str, str]:
    return normalise_name(patient.family), normalise_name(patient.given)


def _digit_for(match: re.Match[str]) -> str:
    return "0" if match.group() in "Oo" else "1"


def _date(year: int, month: int, day: int) -> set[date]:
    try:
        return {date(year, month, day)}
    except ValueError:
        return set()
