"""Benchmark: CPU seconds per page of ingest on a kept bench corpus, and what it decided.

Re-ingests the corpus of one `papermode bench --out OUT` run into a fresh copy of its
prepared store with one worker, in this process (so cProfile sees every stage), and writes
the decisions (every reading's value, confidence, status and flags; every capture's status,
page id, message and identity checks; `papermode readings --json`) to a JSON file. Two such
files, one from main and one from a branch, are compared with `--diff`: a speed change must
not change one decision.

    python bench/ingest_profile.py OUT/work --dump before.json [--profile prof.out]
    python bench/ingest_profile.py OUT/work --dump after.json
    python bench/ingest_profile.py --diff before.json after.json

Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from papermode.demo.bench import copy_store  # noqa: E402
from papermode.demo.synth.corpus import read_truth  # noqa: E402
from papermode.ingest.pipeline import ingest_paths  # noqa: E402
from papermode.state.readings import readings_report  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

READING_COLUMNS = "capture_id, field_id, value, confidence, status, flags, suggestion"
CAPTURE_COLUMNS = (
    "capture_id, page_id, status, message, identity_source, mrn_check, homography, "
    "reprojection_mm, quality"
)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended
    (Tesseract run as a program for a free photo)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def corpus_files(work: Path) -> list[Path]:
    truth = read_truth(work / "corpus")
    return [work / "corpus" / entry["file"] for entry in truth["files"]]


def ingest_once(
    work: Path, store_path: Path, profile: Path | None, workers: int = 1
) -> dict[str, Any]:
    """Ingest the corpus (one worker: in this process); CPU and wall seconds per page."""
    for stale in store_path.parent.glob(store_path.name + "*"):  # the store, its evidence
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    copy_store(work / "prepared.db", store_path)
    files = corpus_files(work)
    profiler = cProfile.Profile() if profile else None
    with open_store(store_path) as store:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        if profiler:
            profiler.enable()
        summary = ingest_paths(files, store, workers=workers)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    if profiler and profile:
        profiler.dump_stats(str(profile))
    images = sum(1 for o in summary.outcomes if o.status != "duplicate")
    return {
        "workers": workers,
        "files": len(files),
        "page_images": images,
        "cpu_seconds_per_page": round(cpu / max(images, 1), 4),
        "wall_seconds_per_page": round(wall / max(images, 1), 4),
        "seconds_per_page_by_stage": {
            k: round(v / max(images, 1), 4) for k, v in sorted(summary.seconds_by_stage.items())
        },
    }


def reading_cpu(work: Path, store_path: Path, repeats: int) -> dict[str, Any]:
    """CPU seconds of reading each file (a worker's `read_file`, one OpenCV thread, no
    store writes), the least of `repeats` tries per file, summed: on a machine shared with
    other work the least is the one least slowed by the others."""
    import cv2

    from papermode.core.settings import PlausibilityLimits, load_settings
    from papermode.ingest import workers

    cv2.setNumThreads(1)
    for stale in store_path.parent.glob(store_path.name + "*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    copy_store(work / "prepared.db", store_path)
    settings = load_settings()
    limits = PlausibilityLimits()
    args = (
        str(store_path),
        "auto",
        dict(settings.reading),
        limits,
        settings.ocr_free_photo_seconds,
    )
    least: list[float] = []
    images = 0
    for path in corpus_files(work):
        data = path.read_bytes()
        tries = []
        for _ in range(repeats):
            started = cpu_seconds()
            read = workers.read_file(data, path.name, *args)
            tries.append(cpu_seconds() - started)
        least.append(min(tries))
        images += len(read.outcomes)
    workers.reset()
    return {
        "files": len(least),
        "page_images": images,
        "repeats": repeats,
        "reading_cpu_seconds_per_page": round(sum(least) / max(images, 1), 4),
    }


def decisions(store_path: Path) -> dict[str, Any]:
    """Everything ingest decided, keyed so that two runs compare line by line."""
    connection = sqlite3.connect(store_path)
    connection.row_factory = sqlite3.Row
    try:
        readings = {
            f"{row['capture_id']}/{row['field_id']}": dict(row)
            for row in connection.execute(f"SELECT {READING_COLUMNS} FROM readings")
        }
        captures = {
            row["capture_id"]: dict(row)
            for row in connection.execute(f"SELECT {CAPTURE_COLUMNS} FROM captures")
        }
    finally:
        connection.close()
    with open_store(store_path) as store:
        report = readings_report(store)
    report_json = report.as_json() if hasattr(report, "as_json") else report
    return {"readings": readings, "captures": captures, "report": _strip_times(report_json)}


def _strip_times(value: Any) -> Any:
    """The report without the wall-clock times of this run (ingested_at and the like)."""
    if isinstance(value, dict):
        return {
            k: _strip_times(v)
            for k, v in value.items()
            if not (k.endswith("_at") and k != "captured_at") and k != "seconds"
        }
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


# What a person or the record acts on. Confidences, homographies and quality numbers are
# measurements: they may move in their last digits without a decision moving.
DECISION_KEYS = {
    "readings": ("value", "status", "flags", "suggestion"),
    "captures": ("page_id", "status", "message", "identity_source", "mrn_check"),
}


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(decisions that differ, measurements that differ), one line each."""
    decisions: list[str] = []
    numbers: list[str] = []
    for table, keys in DECISION_KEYS.items():
        old, new = before[table], after[table]
        for key in sorted(old.keys() | new.keys()):
            one, other = old.get(key), new.get(key)
            if one == other:
                continue
            if one is None or other is None:
                decisions.append(f"{table} {key}: {one} -> {other}")
                continue
            moved = {k: (one[k], other[k]) for k in one if one[k] != other[k]}
            line = f"{table} {key}: " + ", ".join(
                f"{k} {a!r} -> {b!r}" for k, (a, b) in moved.items()
            )
            (decisions if moved.keys() & set(keys) else numbers).append(line)
    if _without_numbers(before["report"]) != _without_numbers(after["report"]):
        decisions.append("readings report differs (beyond confidences)")
    return decisions, numbers


def _without_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_numbers(v) for k, v in value.items() if k != "confidence"}
    if isinstance(value, list):
        return [_without_numbers(v) for v in value]
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("work", nargs="?", type=Path, help="OUT/work of a `papermode bench`")
    parser.add_argument("--store", type=Path, default=Path("/tmp/ingest_profile/store.db"))
    parser.add_argument("--dump", type=Path, help="write the decisions here")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here")
    parser.add_argument("--workers", type=int, default=1, help="1: read in this process")
    parser.add_argument(
        "--least-of", type=int, default=0, help="only reading CPU: least of N tries per file"
    )
    parser.add_argument("--top", type=int, default=40, help="profile lines to print")
    parser.add_argument("--verbose", action="store_true", help="--diff: list measurements too")
    parser.add_argument("--diff", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.diff:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in args.diff)
        decided, measured = diff(before, after)
        for line in decided + (measured if args.verbose else []):
            print(line)
        print(
            f"{len(decided)} decisions differ (value, status, flags, suggestion; capture "
            f"status, page id, message, identity checks), {len(measured)} measurements only "
            f"(confidence, homography, quality numbers), of {len(before['readings'])} "
            f"readings and {len(before['captures'])} captures"
        )
        return 1 if decided else 0
    if args.work is None:
        parser.error("give OUT/work of a `papermode bench` run, or --diff")
    args.store.parent.mkdir(parents=True, exist_ok=True)
    if args.least_of:
        print(json.dumps(reading_cpu(args.work, args.store, args.least_of), indent=2))
        return 0
    figures = ingest_once(args.work, args.store, args.profile, args.workers)
    print(json.dumps(figures, indent=2))
    if args.dump:
        args.dump.write_text(json.dumps(decisions(args.store), indent=1, sort_keys=True) + "\n")
    if args.profile:
        stats = pstats.Stats(str(args.profile))
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
