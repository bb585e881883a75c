"""Regenerate the committed form samples and their expected readings.

    .venv/bin/python scans/forms/make_samples.py

1. prints the built-in sample ward exactly as tests/test_samples.py does (A4, English,
   period from 2026-11-28 07:00 for 24 h), so the page ids are the same;
2. fills pages with known truth and photographs / scans them with papermode.demo.synth (`SEED`);
3. scales the photos to 70% (to keep the repository small; 5 MP is still a fair phone
   photo) keeping their EXIF orientation tag, and writes `expected.json`: for each file,
   the expected outcome, the page id and every field's true value.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from PIL import Image

from papermode.census.snapshot import sample_census_path
from papermode.demo.synth.corpus import make_corpus
from papermode.printing.prepare import prepare_forms

HERE = Path(__file__).resolve().parent
START = datetime(2026, 11, 28, 7, 0)
SEED = 2043  # a set with patient MAR, PRN and notes pages read, and retakes (2026-12-03)
MIX = {"phone_jpeg": 0.45, "phone_exif": 0.2, "scan_pdf": 0.15, "bad": 0.2}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        prepare_forms(
            sample_census_path(),
            work / "forms",
            work / "p.db",
            start=START,
            hours=24,
            lang="en",
            paper="a4",
            settings_path=None,
        )
        make_corpus(work / "forms", work / "corpus", count=8, seed=SEED, mix=MIX)
        truth = json.loads((work / "corpus" / "truth.json").read_text())
        for old in HERE.glob("capture-*"):
            old.unlink()
        for old in HERE.glob("scan-*"):
            old.unlink()
        expected = []
        for entry in truth["files"]:
            source = work / "corpus" / entry["file"]
            _copy_small(source, HERE / entry["file"])
            expected.append(
                {
                    "file": entry["file"],
                    "expected": entry["expected"],
                    "pages": [
                        {
                            "page_id": page["page_id"],
                            "fields": page["truth"]["fields"],
                            "numbers": page["truth"].get("numbers", {}),
                        }
                        for page in entry.get("pages", [])
                    ],
                }
            )
    (HERE / "expected.json").write_text(
        json.dumps(
            {
                "made_by": "scans/forms/make_samples.py",
                "seed": SEED,
                "prepared": {
                    "census": "papermode/data/sample_ward.json",
                    "start": START.isoformat(),
                    "hours": 24,
                    "paper": "a4",
                    "lang": "en",
                },
                "files": expected,
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )


def _copy_small(source: Path, target: Path) -> None:
    if source.suffix.lower() not in (".jpg", ".jpeg"):
        shutil.copy(source, target)
        return
    with Image.open(source) as photo:
        exif = photo.info.get("exif", b"")
        size = (photo.width * 7 // 10, photo.height * 7 // 10)
        small = photo.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=85, exif=exif)
    target.write_bytes(buffer.getvalue())


if __name__ == "__main__":
    main()
