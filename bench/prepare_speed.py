"""Benchmark: `prepare` end to end on a generated 1,000-patient census (goal >= 300 pages/s).

    .venv/bin/python bench/prepare_speed.py [--patients 1000] [--profile]

Builds a CSV census from the sample ward's patients and medicines (same orders, new ids,
MRNs and beds, 25 beds per ward), runs `prepare_forms` into a temporary folder (census,
schedule, layout, ward and patient PDFs, manifest, store) and prints pages per second.
Not a test: timings never decide pass or fail.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import tempfile
import time
from datetime import datetime
from pathlib import Path

from papermode.census.snapshot import sample_csv_path
from papermode.printing.prepare import prepare_forms

BEDS_PER_WARD = 25


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def build_census(folder: Path, patients: int) -> Path:
    """A CSV census of `patients` patients, each a copy of a sample patient with its orders."""
    sample = sample_csv_path()
    base_patients = _rows(sample / "patients.csv")
    base_orders = _rows(sample / "orders.csv")
    base_allergies = _rows(sample / "allergies.csv")
    out_patients, out_orders, out_allergies = [], [], []
    for number in range(patients):
        model = base_patients[number % len(base_patients)]
        new_id = f"p-{number:05d}"
        ward = f"Ward {number // BEDS_PER_WARD + 1:02d}"
        bed = number % BEDS_PER_WARD
        out_patients.append(
            {
                **model,
                "patient_id": new_id,
                "mrn": f"{40000000 + number}",
                "ward": ward,
                "room": f"{100 + bed // 2}",
                "bed": "AB"[bed % 2],
                "encounter": f"V-{number:05d}",
            }
        )
        for index, order in enumerate(
            o for o in base_orders if o["patient_id"] == model["patient_id"]
        ):
            out_orders.append(
                {**order, "order_id": f"o-{number:05d}-{index}", "patient_id": new_id}
            )
        out_allergies += [
            {**a, "patient_id": new_id}
            for a in base_allergies
            if a["patient_id"] == model["patient_id"]
        ]
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "patients.csv", out_patients)
    _write(folder / "orders.csv", out_orders)
    _write(folder / "allergies.csv", out_allergies)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="print the cProfile top 25")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papermode-bench-") as temp:
        root = Path(temp)
        census = build_census(root / "census", arguments.patients)
        profiler = cProfile.Profile() if arguments.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = prepare_forms(
            census,
            root / "forms",
            root / "papermode.db",
            start=datetime(2026, 11, 28, 12, 0),
            hours=24,
            lang="en",
            paper="a4",
            settings_path=None,
        )
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (root / "forms").rglob("*.pdf"))
        print(
            f"{arguments.patients} patients, {result.page_count} pages "
            f"({len(result.ward_pdfs)} ward PDFs, {len(result.patient_pdfs)} patient PDFs, "
            f"{size / 1e6:.1f} MB) in {seconds:.1f} s: "
            f"{result.page_count / seconds:.0f} pages/s"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
