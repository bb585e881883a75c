"""Measure how papermode reads 1-bit (black-and-white) scans of a filled MAR page.

With `--borders`: how many printed field borders survive a 1-bit scan. The first MAR, PRN
and vitals pages are rendered (pypdfium2) at 200 and 300 dpi, straight and through the
simulated scanner (`scan_page`, from a 600 dpi render: resampling and sensor noise), turned
to 1 bit at 128 and 160, and each field's four sides are looked for (`border_survives`, a
detector of its own, independent of the reader). `--grey G` prints with border grey G
instead of `papermode.printing.pdf.BORDER_GREY` (0 black .. 1 white), to compare.

Prints the sample ward's first MAR page, ticks some boxes (ballpoint, and one light pencil
tick), scans it (`papermode.demo.synth.degrade.scan_page`, grey) at 200 and 300 dpi, turns
the scan to 1 bit at fixed thresholds 110..180 (step 10), reads each through the real
reader and prints, per scan: the outcome, ticks read / drawn, empty boxes auto-accepted vs
sent to review (`bilevel_empty_unproven`), and values auto-accepted wrongly.

    python tools/measure_bilevel.py [--out FOLDER]
    python tools/measure_bilevel.py --borders [--grey 0.35 --grey 0.45 ...]
    python tools/measure_bilevel.py --images docs/images --label after

`--images` writes the first MAR, PRN and vitals page scanned at 300 dpi, turned to 1 bit at
160 and shown at 100 dpi (`bw-<template>-<label>.png`): the docs' before/after pictures.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import edgepages as ep  # noqa: E402

from papermode.demo.synth import pen as pens  # noqa: E402
from papermode.demo.synth.degrade import scan_page  # noqa: E402

THRESHOLDS = tuple(range(110, 181, 10))
DPIS = (200, 300)
BORDER_THRESHOLDS = (128, 160)
BORDER_TEMPLATES = ("mar", "prn", "vitals")
SIDE_TOLERANCE_MM = 0.3  # how far from its layout place a printed side is looked for
SIDE_COVERAGE = 0.9  # share of a side's middle that must be black for the side to count


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


# --------------------------------------------------------------------------- borders


@dataclass(frozen=True)
class BorderCount:
    source: str  # "render" (straight from the PDF) or "scan" (through the simulated scanner)
    dpi: int
    threshold: int
    survived: int
    boxes: int


def page_grey(prepared: Path, page: dict[str, Any], dpi: int, source: str) -> np.ndarray:
    """The printed page in grey at `dpi`: rendered straight, or scanned from 600 dpi."""
    render_dpi = dpi if source == "render" else 600
    document = pdfium.PdfDocument(str(prepared / "forms" / page["pdf"]))
    try:
        bitmap = document[page["pdf_page"] - 1].render(scale=render_dpi / 72, grayscale=True)
        pixels = bitmap.to_numpy()
        grey = np.ascontiguousarray(pixels if pixels.ndim == 2 else pixels[:, :, 0])
    finally:
        document.close()
    if source == "render":
        return grey
    scanned, _ = scan_page(grey, np.random.default_rng(dpi), px_per_mm=render_dpi / 25.4, dpi=dpi)
    return scanned


def border_survives(black: np.ndarray, box_mm: Sequence[float], ppm: float) -> bool:
    """All four printed sides of a box are there in a 1-bit image (True is black).

    A side is there when, over the middle 60% of its length, nearly every position has a
    black pixel within SIDE_TOLERANCE_MM of where the layout puts the side.
    """
    x, y, w, h = (v * ppm for v in box_mm)
    reach = SIDE_TOLERANCE_MM * ppm
    sides = [
        black[_span(y - reach, y + reach), _span(x + 0.2 * w, x + 0.8 * w)].any(axis=0),
        black[_span(y + h - reach, y + h + reach), _span(x + 0.2 * w, x + 0.8 * w)].any(axis=0),
        black[_span(y + 0.2 * h, y + 0.8 * h), _span(x - reach, x + reach)].any(axis=1),
        black[_span(y + 0.2 * h, y + 0.8 * h), _span(x + w - reach, x + w + reach)].any(axis=1),
    ]
    return all(side.size > 0 and side.mean() >= SIDE_COVERAGE for side in sides)


def _span(low: float, high: float) -> slice:
    return slice(max(int(np.floor(low)), 0), max(int(np.ceil(high)) + 1, 0))


def count_borders(  # type: ignore[no-untyped-def]
    prepared: Path, dpis=DPIS, thresholds=BORDER_THRESHOLDS, sources=("render", "scan")
) -> list[BorderCount]:
    """Field borders that survive each 1-bit conversion, over the first MAR, PRN, vitals page."""
    chosen = [ep.pages(prepared, template)[0] for template in BORDER_TEMPLATES]
    counts = []
    for source in sources:
        for dpi in dpis:
            greys = [(page, page_grey(prepared, page, dpi, source)) for page in chosen]
            for threshold in thresholds:
                survived = boxes = 0
                for page, grey in greys:
                    black = grey < threshold
                    for field in page["fields"]:
                        boxes += 1
                        survived += border_survives(black, field["box_mm"], dpi / 25.4)
                counts.append(BorderCount(source, dpi, threshold, survived, boxes))
    return counts


def _print_borders(folder: Path, greys: list[float]) -> None:
    from papermode.printing import pdf

    for grey in greys or [pdf.BORDER_GREY]:
        pdf.BORDER_GREY = grey
        prepared = ep.prepare(folder / f"prepared-{grey}")
        for c in count_borders(prepared):
            print(
                f"grey {grey:.2f} {c.source:>6} {c.dpi} dpi threshold {c.threshold}: "
                f"{c.survived}/{c.boxes} borders ({100 * c.survived / c.boxes:.1f}%)"
            )


IMAGE_DPI = 100
IMAGE_CROP_MM = (0.0, 0.0, 210.0, 150.0)  # the top half of an A4 page: banner and first rows


def write_images(prepared: Path, folder: Path, label: str) -> list[Path]:
    """The 1-bit pictures of the docs, one per template (no real patient: the sample ward)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for template in BORDER_TEMPLATES:
        page = ep.pages(prepared, template)[0]
        black = page_grey(prepared, page, 300, "scan") < 160
        one_bit = np.where(black, 0, 255).astype(np.uint8)
        x, y, w, h = (int(round(v * 300 / 25.4)) for v in IMAGE_CROP_MM)
        crop = one_bit[y : y + h, x : x + w]
        small = cv2.resize(crop, None, fx=IMAGE_DPI / 300, fy=IMAGE_DPI / 300,
                           interpolation=cv2.INTER_AREA)  # fmt: skip
        path = folder / f"bw-{template}-{label}.png"
        cv2.imwrite(str(path), small, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--borders", action="store_true", help="count surviving borders")
    parser.add_argument("--grey", type=float, action="append", default=[])
    parser.add_argument("--images", type=Path, default=None, help="write the docs' pictures")
    parser.add_argument("--label", default="after", help="name part of the pictures")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="bilevel-"))
    if args.images is not None:
        for path in write_images(ep.prepare(folder / "prepared"), args.images, args.label):
            print(path)
        if args.out is None:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if args.borders:
        _print_borders(folder, args.grey)
        if args.out is None:
            shutil.rmtree(folder, ignore_errors=True)
        return
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
