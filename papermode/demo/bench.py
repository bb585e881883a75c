"""`papermode bench`: speed and accuracy on a generated corpus, reported against the goals.

Steps, each a function: prepare the sample ward (and a larger census for the prepare
speed) -> a seeded corpus with its truth -> ingest it twice (all cores, then 1 worker, each
into a fresh copy of the prepared store) -> score against the truth (`papermode.demo.scoring`)
-> a naive baseline (one Tesseract call per field crop) -> free photos -> one cold
`papermode ingest photo.jpg` in a new process -> goals. Timings live here, never in tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from papermode.census.snapshot import sample_census_path
from papermode.demo.overlay import rectified_page
from papermode.demo.scoring import (
    CHECKBOX_KINDS,
    DIGITS_KINDS,
    FieldScore,
    capture_report,
    evaluate_goals,
    markdown_table,
    matched_reads,
    same_value,
    score_digits,
    score_identity,
    score_ticks,
    truth_pages,
)
from papermode.demo.synth.corpus import make_corpus, printed_doses, read_truth
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.store.database import open_store

__all__ = ["markdown_table", "run_bench"]

REPO_BENCH = Path(__file__).resolve().parent.parent.parent / "bench"
START = datetime(2026, 11, 28, 8, 0)
Progress = Callable[[str], None] | None


def run_bench(
    out_dir: Path,
    *,
    pages: int = 200,
    seed: int = 11,
    baseline_fields: int = 150,
    free_photos: int = 3,
    mar_days: int | None = None,
    progress: Progress = None,
) -> dict[str, Any]:
    """Run every measurement; write out_dir/bench.json and bench.md; return the results.

    `mar_days` (1-7) prints the corpus's forms with the multi-day MAR over that many days
    (`prepare --days`); None, the per-day MAR over 24 hours."""
    say = progress or (lambda _text: None)
    work = out_dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    say("prepare")
    results: dict[str, Any] = {
        "generated": datetime.now().isoformat(timespec="seconds"),
        "pages_requested": pages,
        "seed": seed,
        "mar": f"multi-day, {mar_days} days" if mar_days else "per day, 24 hours",
    }
    results["prepare"] = prepare_figures(work, mar_days)
    say(f"corpus of {pages} capture files")
    files, truth = make_corpus_files(work, pages, seed)
    results["corpus"] = {"files": len(files), "kinds": _kinds(truth)}
    say("ingest, all cores")
    cores = os.cpu_count() or 1
    multi, report = timed_ingest(work, files, workers=cores, name="ingest-all")
    say("ingest, 1 worker")
    single, _ = timed_ingest(work, files, workers=1, name="ingest-one")
    results["ingest"] = {"all_cores": multi, "one_worker": single, "cores": cores}
    results["accuracy"] = accuracy_figures(truth, report)
    results["merged_state"] = merged_state_figures(truth, work / "ingest-all.db")
    say("naive baseline (one Tesseract call per field)")
    results["baseline"] = baseline_figures(work / "ingest-all.db", truth, report, baseline_fields)
    say("free photos")
    results["free_photos"] = free_photo_figures(free_photos, seed)
    say("one cold `papermode ingest photo.jpg`")
    results["cold_ingest"] = cold_ingest(work, files, truth)
    results["peak_memory_mb"] = peak_memory_mb()
    results["goals"] = evaluate_goals(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out_dir / "bench.md").write_text(
        markdown_table(results) + "\n" + reading_edges_markdown(results) + "\n", encoding="utf-8"
    )
    return results


# ---------------------------------------------------------------------- prepare and corpus


def prepare_figures(work: Path, mar_days: int | None = None) -> dict[str, Any]:
    """Prepare the sample ward (the corpus's forms; the multi-day MAR with `mar_days`), and
    a larger census when the repo's bench/prepare_speed.py is there (startup dominates 74
    pages)."""
    started = time.perf_counter()
    sample = prepare_forms(
        sample_census_path(),
        work / "forms",
        work / "prepared.db",
        start=START,
        hours=None if mar_days else 24,
        days=mar_days,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "sample_pages": sample.page_count,
        "sample_seconds": round(seconds, 3),
        "pages_per_second": round(sample.page_count / seconds, 1),
        "census": "sample ward",
    }
    speed = _load_repo_script("prepare_speed")
    if speed is not None and hasattr(speed, "build_census"):
        census = speed.build_census(work / "census-large", 200)
        started = time.perf_counter()
        large = prepare_forms(
            census,
            work / "forms-large",
            work / "large.db",
            start=START,
            hours=24,
            lang="en",
            paper="a4",
            settings_path=None,
        )
        seconds = time.perf_counter() - started
        figures.update(
            census="200 patients (bench/prepare_speed.py)",
            pages=large.page_count,
            seconds=round(seconds, 3),
            pages_per_second=round(large.page_count / seconds, 1),
        )
        shutil.rmtree(work / "forms-large", ignore_errors=True)
    return figures


def _load_repo_script(name: str) -> Any:
    """A module from the repo's bench/ folder, or None when papermode runs from elsewhere."""
    path = REPO_BENCH / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"papermode_bench_{name}", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    except Exception:  # a broken or half-finished script must not stop the benchmark
        sys.modules.pop(spec.name, None)
        return None
    return module


def make_corpus_files(work: Path, count: int, seed: int) -> tuple[list[Path], dict[str, Any]]:
    """The seeded corpus; the files to ingest (truth.json left out) and the truth."""
    doses = printed_doses(work / "forms", work / "prepared.db")
    info = make_corpus(work / "forms", work / "corpus", count=count, seed=seed, order_doses=doses)
    return [info.out_dir / name for name in info.files], read_truth(info.out_dir)


def _kinds(truth: dict[str, Any]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for entry in truth["files"]:
        kinds[entry.get("kind", "?")] = kinds.get(entry.get("kind", "?"), 0) + 1
    return kinds


# ---------------------------------------------------------------------- ingest


def copy_store(source: Path, target: Path) -> Path:
    """A fresh copy of a store (SQLite backup: consistent even with a WAL)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def timed_ingest(
    work: Path, files: list[Path], *, workers: int, name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ingest into a fresh copy of the prepared store; speed figures and the capture report."""
    store_path = copy_store(work / "prepared.db", work / f"{name}.db")
    with open_store(store_path) as store:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        summary = ingest_paths(files, store, workers=workers)
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        report = capture_report(store)
    images = sum(1 for o in summary.outcomes if o.status != "duplicate")
    stages = {k: round(v / max(images, 1), 4) for k, v in summary.seconds_by_stage.items()}
    if workers == 1:  # what the stages do not time: loading, decoding, the store writes
        stages["load+store (rest)"] = round(
            max(0.0, wall - sum(summary.seconds_by_stage.values())) / max(images, 1), 4
        )
    return {
        "workers": workers,
        "page_images": images,
        "seconds": round(wall, 2),
        "pages_per_minute": round(60 * images / wall, 1) if wall else 0.0,
        # CPU time (this process and its finished workers) per page: holds on any laptop,
        # where pages per minute depends on its cores.
        "cpu_seconds_per_page": round(cpu / max(images, 1), 4),
        "seconds_per_page_by_stage": stages,
        "counts": summary.as_json()["counts"],
        "fields": summary.as_json()["fields"],
    }, report


def merged_state_figures(truth: dict[str, Any], store_path: Path) -> dict[str, Any]:
    """Tick boxes and digits scored on the merged page state (what users see), against the
    truth of each page's latest capture (later photos of a page carry every earlier mark)."""
    latest: dict[str, dict[str, str]] = {}
    for _key, expected, page in truth_pages(truth):
        if expected == "read":
            latest[page["page_id"]] = page["truth"]["fields"]
    connection = sqlite3.connect(store_path)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute(
            "SELECT s.page_id, s.field_id, s.value, s.status, f.kind FROM page_state s "
            "JOIN fields f ON f.page_id = s.page_id AND f.field_id = s.field_id"
        ).fetchall()
    finally:
        connection.close()
    state: dict[str, dict[str, sqlite3.Row]] = {}
    for row in rows:
        state.setdefault(row["page_id"], {})[row["field_id"]] = row
    connection = sqlite3.connect(store_path)
    try:
        one_bit = connection.execute(
            "SELECT COUNT(*) FROM captures WHERE status = 'read' AND quality LIKE '%scan_1bit%'"
        ).fetchone()[0]
    finally:
        connection.close()
    return {
        "pages": sum(1 for page_id in latest if page_id in state),
        "one_bit_scans_read": int(one_bit),
        "ticks": _score_state(latest, state, CHECKBOX_KINDS).as_json(),
        "digits": _score_state(latest, state, DIGITS_KINDS).as_json(),
    }


def _score_state(
    latest: dict[str, dict[str, str]],
    state: dict[str, dict[str, sqlite3.Row]],
    kinds: tuple[str, ...],
) -> FieldScore:
    counts = dict.fromkeys(FieldScore.__dataclass_fields__, 0)
    for page_id, fields in latest.items():
        page = state.get(page_id)
        if page is None:
            continue
        for field_id, true_value in fields.items():
            row = page.get(field_id)
            if row is None or row["kind"] not in kinds:
                continue
            right = same_value(true_value, row["value"])
            counts["total"] += 1
            counts["correct"] += right
            if row["status"] == "auto":
                counts["auto"] += 1
                counts["auto_wrong"] += not right
            else:
                counts["review"] += 1
            if true_value != "empty":
                counts["written"] += 1
                counts["written_correct"] += right
    return FieldScore(**counts)


def reading_edges_markdown(results: dict[str, Any]) -> str:
    """Merged page state, 1-bit scans and CPU time per page, as markdown lines."""
    merged = results.get("merged_state", {})
    ingest = results.get("ingest", {})
    lines = ["", "| merged page state (what users see) | accuracy | auto wrong | review share |"]
    lines.append("| --- | --- | --- | --- |")
    for label in ("ticks", "digits"):
        score = merged.get(label, {})
        lines.append(
            f"| {label} | {score.get('accuracy')} | {score.get('auto_wrong')} of "
            f"{score.get('auto')} | {score.get('review_share')} |"
        )
    lines += [
        "",
        f"1-bit scan pages read: {merged.get('one_bit_scans_read')}. CPU seconds per page: "
        f"{ingest.get('one_worker', {}).get('cpu_seconds_per_page')} (1 worker), "
        f"{ingest.get('all_cores', {}).get('cpu_seconds_per_page')} "
        f"({ingest.get('cores')} workers).",
    ]
    return "\n".join(lines)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def accuracy_figures(truth: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """Identity, tick boxes and digits scored against the truth."""
    return {
        "identity": score_identity(truth, report, report.get("patient_of")).as_json(),
        "ticks": score_ticks(truth, report).as_json(),
        "digits": score_digits(truth, report).as_json(),
    }


# ---------------------------------------------------------------------- baseline


def baseline_figures(
    store_path: Path, truth: dict[str, Any], report: dict[str, Any], max_fields: int
) -> dict[str, Any]:
    """One Tesseract call per digits and checkbox crop, no batching: the naive way.

    Timed on up to `max_fields` crops of correctly identified pages, then scaled to the mean
    number of such fields per read page.
    """
    if max_fields <= 0:
        return {"skipped": True, "why": "--baseline-fields 0"}
    try:
        import pytesseract
    except ImportError:
        return {"skipped": True, "why": "pytesseract is not installed"}
    crops, fields_per_page = _baseline_crops(store_path, truth, report, max_fields)
    if not crops:
        return {"skipped": True, "why": "no page was read"}
    right = {"checkbox": 0, "digits": 0}
    seen = {"checkbox": 0, "digits": 0}
    started = time.perf_counter()
    for kind, crop, true_value in crops:
        config = "--psm 7 -c tessedit_char_whitelist=0123456789" if kind == "digits" else "--psm 10"
        text = pytesseract.image_to_string(crop, config=config).strip()
        value = (text or "empty") if kind == "digits" else ("ticked" if text else "empty")
        seen[kind] += 1
        right[kind] += same_value(true_value, value)
    per_field = (time.perf_counter() - started) / len(crops)
    per_page = per_field * fields_per_page
    return {
        "fields_timed": len(crops),
        "seconds_per_field": round(per_field, 4),
        "fields_per_page": round(fields_per_page, 1),
        "seconds_per_page": round(per_page, 2),
        "pages_per_minute": round(60 / per_page, 2) if per_page else 0.0,
        "checkbox_accuracy": round(right["checkbox"] / seen["checkbox"], 4)
        if seen["checkbox"]
        else None,
        "digits_accuracy": round(right["digits"] / seen["digits"], 4) if seen["digits"] else None,
    }


def _baseline_crops(
    store_path: Path, truth: dict[str, Any], report: dict[str, Any], max_fields: int
) -> tuple[list[tuple[str, Any, str]], float]:
    """(kind, crop, true value) of the first pages' digits and checkbox fields; mean per page."""
    crops: list[tuple[str, Any, str]] = []
    per_page: list[int] = []
    with open_store(store_path) as store:
        for fields_truth, capture in matched_reads(truth, report):
            wanted = [
                f
                for f, k in capture["kinds"].items()
                if k in ("checkbox", "digits") and f in fields_truth
            ]
            per_page.append(len(wanted))
            if len(crops) >= max_fields:
                continue
            image = rectified_page(store, capture["page_id"], 8.0, capture["capture_id"])
            boxes = {
                row["field_id"]: row
                for row in store.db.query(
                    "SELECT field_id, x, y, w, h FROM fields WHERE page_id = ?",
                    [capture["page_id"]],
                )
            }
            for field_id in wanted[: max_fields - len(crops)]:
                box = boxes[field_id]
                x, y = int(box["x"] * 8), int(box["y"] * 8)
                crop = image[y : y + int(box["h"] * 8), x : x + int(box["w"] * 8)]
                crops.append((capture["kinds"][field_id], crop, fields_truth[field_id]))
    return crops, (sum(per_page) / len(per_page)) if per_page else 0.0


# ---------------------------------------------------------------------- free photos, cold start


def free_photo_figures(photos: int, seed: int) -> dict[str, Any]:
    """bench/freephoto_bench.py's figures on a few photos (OCR accuracy, medication lines)."""
    module = _load_repo_script("freephoto_bench")
    if photos <= 0 or module is None or not hasattr(module, "run"):
        return {"skipped": True, "why": "bench/freephoto_bench.py not found or 0 photos"}
    try:
        return dict(module.run(photos, seed))
    except Exception as error:  # OCR missing or failing must not lose the other figures
        return {"skipped": True, "why": f"{type(error).__name__}: {error}"}


def cold_ingest(work: Path, files: list[Path], truth: dict[str, Any]) -> dict[str, Any]:
    """Wall time of one `papermode ingest photo.jpg` in a new process, new store."""
    photo = next(
        (
            work / "corpus" / e["file"]
            for e in truth["files"]
            if e.get("kind") == "phone_jpeg" and e.get("expected") == "read"
        ),
        None,
    )
    if photo is None:
        return {"skipped": True, "why": "no phone JPEG in the corpus"}
    store = copy_store(work / "prepared.db", work / "cold.db")
    command = [
        sys.executable,
        "-c",
        "from papermode.cli.main import main; main()",
        "ingest",
        str(photo),
        "--store",
        str(store),
        "--workers",
        "1",
        "--json",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    seconds = time.perf_counter() - started
    status = None
    if done.returncode == 0:
        status = json.loads(done.stdout)["files"][0]["status"]
    return {
        "file": photo.name,
        "seconds": round(seconds, 3),
        "exit_code": done.returncode,
        "status": status,
    }


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its children (workers, subprocesses)."""
    this = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"self": round(this / 1024, 1), "children": round(children / 1024, 1)}
