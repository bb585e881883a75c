"""Regenerate the free-photo samples of this folder and expected.json (fictional patients).

    .venv/bin/python scans/free/make_samples.py

Each sample is `papermode.demo.synth.screens.synth_free_photo(seed, ...)`: a rendered record
screen or paper note, photograph-distorted (perspective, moiré/glare or shadow, blur, noise),
saved as JPEG quality 80. `expected.json` holds the truth of each and what papermode must
find in it at least (kind, patient link, drugs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2

from papermode.demo.synth.screens import synth_free_photo

HERE = Path(__file__).parent
SAMPLES: tuple[tuple[str, int, dict[str, Any]], ...] = (
    ("screen-light-fr.jpg", 101, {"kind": "screen", "lang": "fr", "theme": "light", "font_px": 18}),
    ("screen-dark-en.jpg", 102, {"kind": "screen", "lang": "en", "theme": "dark", "font_px": 16}),
    ("note-hand-fr.jpg", 103, {"kind": "note", "lang": "fr", "hand": True}),
)


def main() -> None:
    expected = {}
    for name, seed, options in SAMPLES:
        photo, truth = synth_free_photo(seed, **options)
        cv2.imwrite(str(HERE / name), photo, [cv2.IMWRITE_JPEG_QUALITY, 80])
        patient = truth.patient
        expected[name] = {
            "made_with": {"seed": seed, **options},
            "kind": truth.kind,
            "lang": truth.lang,
            "lines": list(truth.lines),
            "patient": {
                "patient_id": patient.patient_id,
                "mrn": patient.mrn,
                "family": patient.family,
                "given": patient.given,
                "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
            },
            "medications": [
                {
                    "text": m.text,
                    "drug": m.drug,
                    "dose_value": m.dose_value,
                    "dose_unit": m.dose_unit,
                    "route": m.route,
                    "frequency": m.frequency,
                }
                for m in truth.medications
            ],
        }
    text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    (HERE / "expected.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
