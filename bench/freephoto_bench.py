"""Benchmark (not a test): free photos of screens and notes, read back against their truth.

    .venv/bin/python bench/freephoto_bench.py --photos 24 --seed 1 [--json out.json]

Reports, over seeded synthetic photos (papermode.demo.synth.screens): character accuracy of the
OCR (1 - CER, rapidfuzz Levenshtein), recall and precision of medication lines and of each
field (drug, dose, unit, route, frequency), patient-link precision (goal 100%) and link rate,
and seconds per photo.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date

from rapidfuzz.distance import Levenshtein

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # the laptop's cores are shared; be fair

from papermode.core.model import Patient  # noqa: E402
from papermode.demo.synth.screens import (  # noqa: E402
    FreePhotoTruth,
    MedicationTruth,
    snapshot_for,
    synth_free_photo,
)
from papermode.free.medlines import Lexicon, MedicationCandidate, extract_medication_lines  # noqa: E402
from papermode.free.patientlink import link_patient  # noqa: E402
from papermode.free.photo import read_free_photo  # noqa: E402

FIELDS = ("drug", "dose", "unit", "route", "frequency")


@dataclass(frozen=True)
class Variant:
    kind: str
    lang: str
    theme: str = "light"
    font_px: int = 18
    hand: bool = False

    @property
    def label(self) -> str:
        if self.kind == "screen":
            return f"screen-{self.theme}-{self.lang}-{self.font_px}px"
        return f"note-{'hand' if self.hand else 'print'}-{self.lang}"


VARIANTS = (
    Variant("screen", "fr", "light", 18),
    Variant("screen", "en", "dark", 16),
    Variant("screen", "fr", "dark", 14),
    Variant("screen", "en", "light", 14),
    Variant("note", "fr", hand=True),
    Variant("note", "en", hand=False),
)


def namesake(patient: Patient, number: int) -> Patient:
    """Same family and given name, another MRN and birth date."""
    return replace(
        patient,
        patient_id=f"namesake-{number}",
        mrn=str(9_000_000 + number),
        birth_date=date(1925, 1, 1 + number % 28),
    )


def field_value(item: MedicationTruth | MedicationCandidate, name: str) -> object:
    values = {
        "drug": item.drug,
        "dose": item.dose_value,
        "unit": item.dose_unit,
        "route": item.route,
        "frequency": item.frequency,
    }
    return values[name]


def score_medications(
    truth: FreePhotoTruth, found: list[MedicationCandidate], counts: Counter[str]
) -> None:
    """Pair candidates with truth lines by drug; count lines and fields right, read, expected."""
    remaining = list(found)
    counts["lines_expected"] += len(truth.medications)
    counts["lines_read"] += len(found)
    for med in truth.medications:
        match = next((c for c in remaining if c.drug == med.drug), None)
        if match is None:
            continue
        remaining.remove(match)
        counts["lines_right"] += 1
        for name in FIELDS:
            counts[f"{name}_right"] += field_value(match, name) == field_value(med, name)
    for name in FIELDS:
        counts[f"{name}_expected"] += len(truth.medications)
        counts[f"{name}_read"] += sum(field_value(c, name) is not None for c in found)


def run(photos: int, seed: int) -> dict[str, object]:
    """Read `photos` seeded photos across the variants; return the figures."""
    cases = [(seed + i, VARIANTS[i % len(VARIANTS)]) for i in range(photos)]
    made = [
        synth_free_photo(s, kind=v.kind, lang=v.lang, theme=v.theme, font_px=v.font_px, hand=v.hand)
        for s, v in cases
    ]
    # A namesake of every patient (other MRN and birth date) makes linking harder, as in life.
    namesakes = tuple(
        namesake(truth.patient, 10_000 + s) for (s, _), (_, truth) in zip(cases, made, strict=True)
    )
    snapshot = snapshot_for([truth for _, truth in made], extra_patients=namesakes)
    lexicon = Lexicon.load(extra_names=[o.medication for o in snapshot.orders])
    counts: Counter[str] = Counter()
    per_variant: dict[str, list[float]] = {}
    seconds = 0.0
    for (_, variant), (photo, truth) in zip(cases, made, strict=True):
        started = time.perf_counter()
        free = read_free_photo(photo, "auto")
        found = extract_medication_lines(free.lines, lexicon)
        link = link_patient(free.text, free.words, snapshot)
        seconds += time.perf_counter() - started
        accuracy = 1 - Levenshtein.normalized_distance(free.text, "\n".join(truth.lines))
        per_variant.setdefault(variant.label, []).append(accuracy)
        counts["kind_right"] += free.kind == truth.kind
        score_medications(truth, found, counts)
        counts["linked"] += link.patient_id is not None
        counts["linked_right"] += link.patient_id == truth.patient.patient_id
    return summary(counts, per_variant, seconds, photos)


def summary(
    counts: Counter[str], per_variant: dict[str, list[float]], seconds: float, photos: int
) -> dict[str, object]:
    def ratio(a: float, b: float) -> float:
        return round(a / b, 3) if b else 0.0

    all_accuracy = [a for values in per_variant.values() for a in values]
    figures: dict[str, object] = {
        "photos": photos,
        "char_accuracy": ratio(sum(all_accuracy), len(all_accuracy)),
        "char_accuracy_by_variant": {k: ratio(sum(v), len(v)) for k, v in per_variant.items()},
        "kind_detection": ratio(counts["kind_right"], photos),
        "medication_line_recall": ratio(counts["lines_right"], counts["lines_expected"]),
        "medication_line_precision": ratio(counts["lines_right"], counts["lines_read"]),
        "link_precision": ratio(counts["linked_right"], counts["linked"]),
        "link_rate": ratio(counts["linked"], photos),
        "seconds_per_photo": round(seconds / photos, 2),
    }
    for name in FIELDS:
        figures[f"{name}_recall"] = ratio(counts[f"{name}_right"], counts[f"{name}_expected"])
        figures[f"{name}_precision"] = ratio(counts[f"{name}_right"], counts[f"{name}_read"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", dest="json_path", help="Also write the figures to this file.")
    args = parser.parse_args()
    figures = run(args.photos, args.seed)
    for key, value in figures.items():
        print(f"{key:28s} {value}")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()
