"""Measure how papermode reads 1-bit (black-and-white) scans of a filled MAR page.

Prints the sample ward's first MAR page, ticks some boxes (ballpoint, and one light pencil
tick), scans it (`papermode.demo.synth.degrade.scan_page`, grey) at 200 and 300 dpi, turns
the scan to 1 bit at fixed thresholds 110..180 (step 10), reads each through the real
reader and prints, per scan: the outcome, ticks read / drawn, empty boxes auto-accepted vs
sent to review (`bilevel_empty_unproven`), and values auto-accepted wrongly.

    python tools/measure_bilevel.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import edgepages as ep  # noqa: E402

from papermode.demo.synth import pen as pens  # noqa: E402
from papermode.demo.synth.degrade import scan_page  # noqa: E402

THRESHOLDS = tuple(range(110, 181, 10))
DPIS = (200, 300)


@dataclass(frozen=True)
class ScanResult:
    dpi: int
    threshold: int
    status: str
    ticks_read: int
    ticks_drawn: int
    empty_auto: int
    empty_review: int
    wrong_auto: int
    scan_1bit: bool


def filled_page(prepared: Path) -> tuple[dict[str, Any], np.ndarray, set[str]]:
    """The first MAR page with four "given" boxes ticked, the last one in light pencil."""
    page = ep.pages(prepared, "mar")[0]
    image = ep.render(prepared, page)
    given = [f for f in page["fields"] if f["role"] == "given"][:4]
    for index, field in enumerate(given):
        pen = pens.PENS["pencil"] if index == 3 else ep.PEN
        rng = np.random.default_rng(index)
        pens.draw_tick(image, ep.box(field), pen, ep.PPM, rng, style="check")
    return page, image, {f["field_id"] for f in given}


def one_bit(image: np.ndarray, dpi: int, threshold: int) -> np.ndarray:
    grey, _ = scan_page(image, np.random.default_rng(dpi), px_per_mm=ep.PPM, dpi=dpi)
    return np.where(grey < threshold, 0, 255).astype(np.uint8)


def measure(prepared: Path, folder: Path, dpis=DPIS, thresholds=THRESHOLDS) -> list[ScanResult]:  # type: ignore[no-untyped-def]
    page, image, ticked = filled_page(prepared)
    results = []
    for dpi in dpis:
        for threshold in thresholds:
            path = folder / f"scan-{dpi}-{threshold}.png"
            cv2.imwrite(str(path), one_bit(image, dpi, threshold))
            store = folder / f"store-{dpi}-{threshold}"
            store.mkdir()
            store_path = ep.fresh_store(prepared, store)
            outcome = ep.ingest(store_path, path).outcomes[0]
            results.append(_score(dpi, threshold, outcome.status, store_path, page, ticked))
    return results


def _score(  # type: ignore[no-untyped-def]
    dpi, threshold, status, store_path, page, ticked
) -> ScanResult:
    if status != "read":
        return ScanResult(dpi, threshold, status, 0, len(ticked), 0, 0, 0, False)
    report = ep.readings(store_path, page["page_id"])
    state = {f["field_id"]: f for f in report["fields"]}
    boxes = [f for f in page["fields"] if f["kind"] == "checkbox"]
    ticks_read = sum(
        state[f["field_id"]]["value"] == "ticked" for f in boxes if f["field_id"] in ticked
    )
    empties = [state[f["field_id"]] for f in boxes if f["field_id"] not in ticked]
    wrong = sum(
        1
        for f in boxes
        if state[f["field_id"]]["status"] == "auto"
        and (state[f["field_id"]]["value"] == "ticked") != (f["field_id"] in ticked)
    )
    return ScanResult(
        dpi,
        threshold,
        status,
        ticks_read,
        len(ticked),
        sum(e["status"] == "auto" and e["value"] == "empty" for e in empties),
        sum(e["status"] == "review" for e in empties),
        wrong,
        bool(report["scan_1bit"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="bilevel-"))
    prepared = ep.prepare(folder / "prepared")
    print(f"{'dpi':>4} {'thr':>4} {'status':>8} {'ticks':>6} {'empty auto':>10} "
          f"{'empty review':>12} {'wrong auto':>10} {'scan_1bit':>9}")  # fmt: skip
    for r in measure(prepared, folder):
        print(
            f"{r.dpi:>4} {r.threshold:>4} {r.status:>8} {r.ticks_read:>3}/{r.ticks_drawn:<2} "
            f"{r.empty_auto:>10} {r.empty_review:>12} {r.wrong_auto:>10} {str(r.scan_1bit):>9}"
        )
    if args.out is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
