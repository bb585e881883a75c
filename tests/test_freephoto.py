"""Free photos: real screens (light, dark, FR, EN) and notes, photograph-distorted, read back."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from papermode.core.model import Order, Patient, Snapshot, Timing
from papermode.demo.synth.screens import synth_free_photo
from papermode.free.medlines import Lexicon, compare_with_snapshot, extract_medication_lines
from papermode.free.patientlink import link_patient
from papermode.free.photo import detect_kind, find_quadrilateral, read_free_photo


def _accuracy(read: str, truth: tuple[str, ...]) -> float:
    return 1 - Levenshtein.normalized_distance(read, "\n".join(truth))


@pytest.mark.parametrize(
    ("seed", "theme", "lang"), [(0, "light", "fr"), (1, "dark", "en"), (2, "dark", "fr")]
)
def test_distorted_screen_photo_is_read(seed: int, theme: str, lang: str) -> None:
    photo, truth = synth_free_photo(seed, kind="screen", theme=theme, lang=lang, font_px=16)
    free = read_free_photo(photo, "auto")
    assert free.kind == "screen"
    assert "unwarp screen perspective" in free.preparation or theme == "dark"
    assert ("invert dark theme" in free.preparation) == (theme == "dark")
    assert _accuracy(free.text, truth.lines) > 0.8
    found = extract_medication_lines(free.lines, Lexicon.load())
    drugs = {c.drug for c in found}
    assert len(drugs & {m.drug for m in truth.medications}) >= len(truth.medications) - 1
    assert truth.patient.mrn in free.text


def test_handwritten_style_note_is_read() -> None:
    photo, truth = synth_free_photo(4, kind="note", lang="fr", hand=True)
    free = read_free_photo(photo, "auto")
    assert free.kind == "note"
    assert "normalise background (shadow)" in free.preparation
    assert _accuracy(free.text, truth.lines) > 0.8


def test_words_map_back_to_the_original_photo() -> None:
    photo, truth = synth_free_photo(0, kind="screen", lang="fr", font_px=18)
    free = read_free_photo(photo, "screen")
    word = next(w for w in free.words if w.text == truth.patient.mrn)
    x, y, w, h = free.box_in_original(word.box)
    assert 0 <= x < photo.shape[1] and 0 <= y < photo.shape[0]
    crop = photo[y : y + h, x : x + w]
    # The crop of the original photo holds the MRN (ink on the light screen).
    assert crop.size and cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).min() < 120


def test_kind_detection() -> None:
    screen, _ = synth_free_photo(5, kind="screen", theme="light", distort=False)
    note, _ = synth_free_photo(5, kind="note", distort=False)
    assert detect_kind(screen) == "screen"
    assert detect_kind(note) == "note"


def test_quadrilateral_of_a_photographed_screen() -> None:
    photo, _ = synth_free_photo(6, kind="screen", theme="light")
    quad = find_quadrilateral(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    assert quad is not None
    width = np.linalg.norm(quad[1] - quad[0])
    assert 0.6 * photo.shape[1] < width < photo.shape[1]


def test_blank_image_gives_empty_text() -> None:
    free = read_free_photo(np.full((300, 400, 3), 240, np.uint8), "auto")
    assert free.text == "" and free.mean_confidence == 0.0


SAMPLES = Path(__file__).resolve().parent.parent / "scans" / "free"


def _sample_snapshot(expected: dict[str, Any]) -> Snapshot:
    truth = expected["patient"]
    patient = Patient(
        truth["patient_id"], truth["mrn"], truth["family"], truth["given"],
        date.fromisoformat(truth["birth_date"]),
    )  # fmt: skip
    namesake = Patient("other", "9999999", truth["family"], truth["given"], date(1925, 1, 1))
    orders = tuple(
        Order(f"o{n}", patient.patient_id, m["drug"], m["dose_value"], m["dose_unit"],
              m["route"], Timing(code=m["frequency"]), as_needed=m["frequency"] == "PRN")
        for n, m in enumerate(expected["medications"])
    )  # fmt: skip
    return Snapshot("s", datetime(2026, 1, 1), "test", (patient, namesake), orders)


@pytest.mark.parametrize("name", ["screen-light-fr.jpg", "screen-dark-en.jpg", "note-hand-fr.jpg"])
def test_committed_samples(name: str) -> None:
    expected = json.loads((SAMPLES / "expected.json").read_text("utf-8"))[name]
    photo = cv2.imread(str(SAMPLES / name))
    free = read_free_photo(photo, "auto")
    assert free.kind == expected["kind"]
    snapshot = _sample_snapshot(expected)
    link = link_patient(free.text, free.words, snapshot)
    assert link.patient_id == expected["patient"]["patient_id"]
    lexicon = Lexicon.load(extra_names=[o.medication for o in snapshot.orders])
    found = extract_medication_lines(free.lines, lexicon)
    truth_drugs = [m["drug"] for m in expected["medications"]]
    assert sum(d in {c.drug for c in found} for d in truth_drugs) >= len(truth_drugs) - 1
    differences = compare_with_snapshot(found, snapshot.orders)
    # Whatever OCR missed shows up as a difference for review, never as a silent agreement.
    assert {d.kind for d in differences} <= {
        "missing_from_screen", "dose_changed", "frequency_changed", "route_changed",
    }  # fmt: skip


def test_skewed_ruled_note_is_straightened() -> None:
    note, truth = synth_free_photo(7, kind="note", lang="en", hand=False, distort=False)
    h, w = note.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), 4.0, 1.0)
    skewed = cv2.warpAffine(note, rotation, (w, h), borderValue=(236, 244, 246))
    free = read_free_photo(skewed, "note")
    deskew = [step for step in free.preparation if step.startswith("deskew")]
    assert deskew and abs(float(deskew[0].split()[1]) + 4.0) <= 1.0
    assert "remove ruled lines" in free.preparation
    assert _accuracy(free.text, truth.lines) > 0.9
