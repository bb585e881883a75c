"""Benchmark: the capture core (load -> quality -> locate -> rectify -> tick boxes) on the
synthetic corpus (`papermode.demo.synth`): real printed forms, filled, photographed and scanned.

Prints, over every page image of the corpus:

- the outcome against the corpus's expectation (read / retake:<reason> / free);
- page identity (QR) and tick-box accuracy: boxes read, wrong among auto-accepted (>= the
  threshold), share sent to review; likewise for initials boxes (ink / empty);
- time per stage and per page (single process).

    python bench/capture_core_bench.py --count 40 --seed 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from papermode.core.model import PageLayout  # noqa: E402
from papermode.printing.manifest import read_manifest  # noqa: E402
from papermode.reading import locate, marks, quality  # noqa: E402
from papermode.reading.imaging import load_images  # noqa: E402

PPM = 8.0


def prepare(folder: Path) -> dict[str, PageLayout]:
    from papermode.census.snapshot import sample_census_path
    from papermode.printing.prepare import prepare_forms

    start = datetime(2026, 3, 2, 8, 0)
    result = prepare_forms(
        sample_census_path(),
        folder / "forms",
        folder / "store.db",
        start=start,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    return {p.layout.page_id: p.layout for p in read_manifest(result.manifest)}


def run(count: int, seed: int, threshold: float) -> None:
    from papermode.demo.synth.corpus import make_corpus, read_truth

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        layouts = prepare(folder)
        make_corpus(folder / "forms", folder / "captures", count=count, seed=seed)
        truth = read_truth(folder / "captures")
        stats: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        for entry in truth["files"]:
            read_file(
                folder / "captures" / entry["file"], entry, layouts, threshold, stats, seconds
            )
    report(stats, seconds, threshold)


def read_file(
    path: Path,
    entry: dict,
    layouts: dict[str, PageLayout],
    threshold: float,
    stats: Counter[str],
    seconds: Counter[str],
) -> None:
    start = time.perf_counter()
    try:
        images = load_images(path)
    except Exception:  # noqa: BLE001 - counted, the corpus has unreadable files on purpose
        stats["file_unreadable"] += 1
        return
    seconds["load"] += time.perf_counter() - start
    for index, image in enumerate(images):
        truth = entry["pages"][index]["truth"] if index < len(entry["pages"]) else None
        read_page(image.gray, entry["expected"], truth, layouts, threshold, stats, seconds)


def read_page(
    gray,
    expected: str,
    truth: dict | None,
    layouts: dict[str, PageLayout],
    threshold: float,
    stats: Counter[str],
    seconds: Counter[str],
) -> None:
    stats["pages"] += 1
    start = time.perf_counter()
    location = locate.locate_page(gray)
    seconds["locate"] += time.perf_counter() - start
    start = time.perf_counter()
    reason = quality.retake_reason(gray, location)
    seconds["quality"] += time.perf_counter() - start
    outcome = "free" if location is None and reason is None else ("retake" if reason else "read")
    stats[f"expected {expected} -> {outcome}"] += 1
    if reason:
        stats[f"  retake message: {reason}"] += 1
    if outcome != "read" or location is None or truth is None:
        return
    layout = layouts.get(location.page_id or "")
    stats["page_id_ok" if layout and layout.page_id == truth["page_id"] else "page_id_bad"] += 1
    if layout is None:
        return
    start = time.perf_counter()
    location = locate.refit(location, layout.size_mm)
    rectified = locate.rectify(gray, location, PPM)
    seconds["rectify"] += time.perf_counter() - start
    start = time.perf_counter()
    compare_marks(rectified, layout, truth["fields"], threshold, stats)
    seconds["marks"] += time.perf_counter() - start
    stats["pages_read"] += 1


def compare_marks(
    rectified, layout: PageLayout, truth: dict[str, str], threshold: float, stats: Counter[str]
) -> None:
    groups: dict[str, list] = {}
    for f in layout.fields:
        if f.kind == "checkbox":
            groups.setdefault(f.group or f.field_id, []).append(f)
        elif f.kind == "signature":
            mark = marks.ink_present(rectified, f.box, PPM)
            tally(
                stats,
                "ink",
                mark.state,
                truth.get(f.field_id, "empty"),
                mark.confidence,
                mark.flags,
                threshold,
            )
    for members in groups.values():
        for field_id, mark in marks.read_group(rectified, members, PPM).items():
            tally(
                stats,
                "box",
                mark.state,
                truth.get(field_id, "empty"),
                mark.confidence,
                mark.flags,
                threshold,
            )


def tally(
    stats: Counter[str],
    kind: str,
    state: str,
    true_state: str,
    confidence: float,
    flags: tuple[str, ...],
    threshold: float,
) -> None:
    stats[f"{kind}_total"] += 1
    stats[f"{kind}_correct"] += state == true_state
    if confidence >= threshold and not flags:
        stats[f"{kind}_auto"] += 1
        if state != true_state:
            stats[f"{kind}_auto_wrong"] += 1
            stats[f"{kind}_auto_wrong {true_state}->{state}"] += 1


def report(stats: Counter[str], seconds: Counter[str], threshold: float) -> None:
    pages = max(stats["pages"], 1)
    print(f"page images: {stats['pages']}, read: {stats['pages_read']}")
    for key in sorted(k for k in stats if k.startswith(("expected", "  retake"))):
        print(f"  {key}: {stats[key]}")
    print(f"page id from QR: {stats['page_id_ok']} right, {stats['page_id_bad']} not")
    for kind in ("box", "ink"):
        total = max(stats[f"{kind}_total"], 1)
        print(
            f"{kind}: {stats[f'{kind}_total']} read, accuracy "
            f"{stats[f'{kind}_correct'] / total:.4f}; auto-accepted (>= {threshold}) "
            f"{stats[f'{kind}_auto'] / total:.4f}, wrong among them "
            f"{stats[f'{kind}_auto_wrong']}"
        )
        for key in sorted(k for k in stats if k.startswith(f"{kind}_auto_wrong ")):
            print(f"    {key}: {stats[key]}")
    total = sum(seconds.values())
    print(
        f"time per page image: {1000 * total / pages:.0f} ms ("
        + ", ".join(f"{k} {1000 * v / pages:.0f}" for k, v in seconds.items())
        + ")"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    run(args.count, args.seed, args.threshold)


if __name__ == "__main__":
    main()
