"""Benchmark: papermode's digit reader against Tesseract on held-out handwritten digits.

Writes held-out MNIST digits (never seen in training), from the TEST half only (the
calibration half chose the thresholds: `tools/calibrate_digits.py`), into comb fields at
8 px/mm, clean
and degraded (blur, noise, JPEG, combs printed 0.5-1 mm off their layout place, faint
pens), reads them back, and prints:

- per-digit accuracy on the held-out digits (raw MNIST images, and written in cells);
- per field type (time, vital, dose): field accuracy, and as the confidence threshold moves,
  the error rate among auto-accepted fields and the share sent to review;
- the same for Tesseract (psm 10 per cell, psm 7 per field, digit whitelist), side by side;
- "corrections": degraded pages on which one field in five has a digit struck through or
  overwritten, and how many of those fields were auto-accepted (each one a wrong value);
- time per cell for each.

    python bench/digits_bench.py --quick        # about a minute or two
    python bench/digits_bench.py --fields 600   # the figures in docs/digits.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from papermode.core.model import Box, Field  # noqa: E402
from papermode.demo.synth.handwriting import Pen, blank_page, degrade, draw_comb, heldout_part  # noqa: E402
from papermode.reading.digits import (
    BLOCKING_FLAGS,
    DEFAULT_THRESHOLDS,
    field_type,
    load_model,
    read_digit_fields,
)  # noqa: E402
from papermode.reading.plausibility import check  # noqa: E402

PX = 8.0
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995)
DAY = datetime(2026, 3, 1)
PERIOD = (DAY + timedelta(hours=7), DAY + timedelta(hours=31))


@dataclass(frozen=True)
class Case:
    field: Field
    truth: str  # the canonical value a perfect reader returns
    written: str  # what the pen wrote, one char per cell
    order_dose: float | None = None


def make_case(index: int, kind: str, rng: np.random.Generator, x: float, y: float) -> Case:
    """One field of `kind` with a random true value, right-aligned the way nurses write."""
    cell_w, cell_h = rng.uniform(4.8, 6.0), rng.uniform(6.5, 8.0)  # the forms print 5 x 7 mm
    if kind == "time":
        at = DAY + timedelta(
            hours=int(rng.integers(8, 30)), minutes=int(rng.choice([0, 5, 15, 30, 45, 50]))
        )
        scheduled = at + timedelta(minutes=int(rng.integers(-60, 61)))
        field = Field(
            f"f{index}",
            "digits",
            Box(x, y, 4 * cell_w, cell_h),
            role="time",
            cells=4,
            scheduled=scheduled,
        )
        text = at.strftime("%H%M")
        return Case(field, text, text)
    if kind == "dose":
        dose = int(rng.choice([5, 10, 20, 25, 40, 50, 75, 100, 250, 500, 1000]))
        field = Field(f"f{index}", "digits", Box(x, y, 4 * cell_w, cell_h), role="dose", cells=4)
        return Case(field, str(dose), str(dose).rjust(4), float(dose))
    code, cells, decimals, low, high = VITALS[int(rng.integers(len(VITALS)))]
    value = rng.uniform(low, high)
    written = f"{round(value * 10):d}" if decimals else f"{round(value):d}"
    truth = f"{written[:-1]}.{written[-1]}" if decimals else written
    field = Field(
        f"f{index}",
        "digits",
        Box(x, y, cells * cell_w, cell_h),
        role="vital",
        cells=cells,
        decimals=decimals,
        code=code,
    )
    return Case(field, truth, written.rjust(cells))


# LOINC code, cells, decimals, typical range of a ward patient
VITALS = [
    ("8867-4", 3, 0, 48, 130),
    ("8480-6", 3, 0, 85, 185),
    ("8462-4", 3, 0, 45, 105),
    ("8310-5", 3, 1, 35.5, 39.8),
    ("59408-5", 3, 0, 86, 100),
    ("9279-1", 2, 0, 10, 32),
]


STRUCK = "struck"  # the truth of a field with a digit struck through: no value is right


def struck_through(case: Case, rng: np.random.Generator) -> Case:
    """The same field with one of its digits struck through or overwritten (a correction
    whose new value is not in the comb): every value read from it is wrong."""
    written = [k for k, char in enumerate(case.written) if char != " "]
    k = int(rng.choice(written))
    text = case.written[:k] + "x" + case.written[k + 1 :]
    return Case(case.field, STRUCK, text, case.order_dose)


def make_page(
    count: int, rng: np.random.Generator, degraded: bool, corrections: float = 0.0
) -> tuple[np.ndarray, list[Case]]:
    """A page of `count` fields (a third each time, vital, dose), written and photographed;
    a `corrections` share of them with a digit struck through."""
    page = blank_page((210.0, 297.0), PX)
    cases = []
    for index in range(count):
        kind = ("time", "vital", "dose")[index % 3]
        case = make_case(index, kind, rng, 8 + (index % 5) * 40.0, 10 + (index // 5) * 12.0)
        if corrections and rng.random() < corrections:
            case = struck_through(case, rng)
        shift = rng.uniform(0.5, 1.0) * rng.choice([-1, 1], 2) if degraded else np.zeros(2)
        box = case.field.box
        printed = replace(case.field, box=Box(box.x + shift[0], box.y + shift[1], box.w, box.h))
        draw_comb(page, printed, case.written, rng, pen=_pen(rng, degraded))
        cases.append(case)
    if degraded:
        page = degrade(
            page, rng, blur=rng.uniform(0.6, 1.2), noise=6.0, jpeg=int(rng.integers(50, 80))
        )
    return page, cases


def _pen(rng: np.random.Generator, degraded: bool) -> Pen:
    if not degraded:
        return Pen(gray=int(rng.integers(20, 70)))
    faint = rng.random() < 0.3
    gray = int(rng.integers(110, 140)) if faint else int(rng.integers(20, 70))
    return Pen(gray=gray, stroke=int(rng.integers(-1, 2)))


def ours(
    page: np.ndarray, cases: list[Case]
) -> tuple[list[tuple[str, str | None, float, bool]], float]:
    """(type, value, confidence after plausibility, may be auto-accepted) per case; seconds."""
    started = time.perf_counter()
    readings = read_digit_fields(page, [case.field for case in cases], PX)
    elapsed = time.perf_counter() - started
    results = []
    for case in cases:
        reading = readings[case.field.field_id]
        verdict = check(case.field, reading.value, period=PERIOD, order_dose=case.order_dose)
        eligible = (
            reading.value is not None and verdict.ok and not BLOCKING_FLAGS & set(reading.flags)
        )
        confidence = verdict.apply(reading.confidence)
        results.append((field_type(case.field), reading.value, confidence, eligible))
    return results, elapsed


def tesseract(
    page: np.ndarray, cases: list[Case]
) -> tuple[list[tuple[str, str | None, float, bool]], float, int]:
    """Tesseract psm 7 per field (value, confidence) and psm 10 per cell (timed)."""
    import pytesseract

    config7 = "--psm 7 -c tessedit_char_whitelist=0123456789"
    results, started, cells = [], time.perf_counter(), 0
    for case in cases:
        crop = _crop(page, case.field.box.inset(0.4))
        data = pytesseract.image_to_data(crop, config=config7, output_type=pytesseract.Output.DICT)
        words = [
            (w, float(c)) for w, c in zip(data["text"], data["conf"], strict=True) if w.strip()
        ]
        text = "".join(w for w, _ in words)
        confidence = min((c for _, c in words), default=0.0) / 100.0
        value = _canonical(case.field, text)
        verdict = check(case.field, value, period=PERIOD, order_dose=case.order_dose)
        results.append(
            (field_type(case.field), value, confidence, value is not None and verdict.ok)
        )
        cells += case.field.cells
    return results, time.perf_counter() - started, cells


def tesseract_cells(page: np.ndarray, cases: list[Case]) -> tuple[int, int, float]:
    """Per-digit accuracy of Tesseract psm 10 on single cells: (right, total, seconds)."""
    import pytesseract

    config10 = "--psm 10 -c tessedit_char_whitelist=0123456789"
    right = total = 0
    started = time.perf_counter()
    for case in cases:
        for char, cell in zip(case.written, case.field.cell_boxes(), strict=True):
            if char == " ":
                continue
            text = pytesseract.image_to_string(
                _crop(page, cell.inset(0.5)), config=config10
            ).strip()
            right += text == char
            total += 1
    return right, total, time.perf_counter() - started


def _crop(page: np.ndarray, box: Box) -> np.ndarray:
    x0, y0 = int(box.x * PX), int(box.y * PX)
    crop = page[y0 : int((box.y + box.h) * PX), x0 : int((box.x + box.w) * PX)]
    return np.pad(crop, 12, constant_values=255)


def _canonical(field: Field, text: str) -> str | None:
    if not text.isdigit():
        return None
    if field.role == "time":
        return text.zfill(4) if len(text) <= 4 else None
    if field.decimals:
        return f"{int(text[:-1] or '0')}.{text[-1]}" if len(text) >= 2 else None
    return str(int(text))


def curves(
    results: list[tuple[str, str | None, float, bool]], truths: list[str]
) -> dict[str, dict]:
    """Per field type: accuracy, and (error among auto-accepted, share to review) per threshold."""
    table: dict[str, dict] = {}
    for kind in ("time", "vital", "dose", "all"):
        rows = [(r, t) for r, t in zip(results, truths, strict=True) if kind in ("all", r[0])]
        if not rows:
            continue
        correct = [r[1] == t for r, t in rows]
        sweep = {}
        for threshold in THRESHOLDS:
            auto = [
                ok for (r, _), ok in zip(rows, correct, strict=True) if r[3] and r[2] >= threshold
            ]
            errors = sum(not ok for ok in auto)
            sweep[threshold] = (errors / len(auto) if auto else 0.0, 1 - len(auto) / len(rows))
        table[kind] = {"n": len(rows), "accuracy": float(np.mean(correct)), "sweep": sweep}
    return table


def print_table(title: str, table: dict[str, dict]) -> None:
    print(f"\n== {title}")
    for kind, row in table.items():
        print(f"  {kind:6s} n={row['n']:4d} field accuracy {row['accuracy']:.3f}")
        print("         threshold  " + " ".join(f"{t:>6}" for t in THRESHOLDS))
        print("         err|auto   " + " ".join(f"{row['sweep'][t][0]:6.3f}" for t in THRESHOLDS))
        print("         review     " + " ".join(f"{row['sweep'][t][1]:6.3f}" for t in THRESHOLDS))


def digit_accuracy(seed: int) -> dict[str, float]:
    """Per-digit accuracy on the test half of the held-out digits: as raw MNIST images, and
    written in cells."""
    images, labels = heldout_part("test")
    model = load_model()
    raw = model.probabilities(images.astype(np.float32) / 255.0).argmax(axis=1)
    rng = np.random.default_rng(seed)
    page, cases = blank_page((210.0, 297.0), PX), []
    right = total = 0
    confidences: list[float] = []
    correct: list[bool] = []
    for start in range(0, len(labels), 200):
        page = blank_page((210.0, 297.0), PX)
        cases = []
        for k, label in enumerate(labels[start : start + 200]):
            field = Field(
                f"f{k}", "digits", Box(8 + (k % 10) * 19.0, 10 + (k // 10) * 13.0, 6, 8), cells=1
            )
            draw_comb(page, field, str(int(label)), rng)
            cases.append((field, int(label)))
        readings = read_digit_fields(page, [f for f, _ in cases], PX)
        right += sum(readings[f.field_id].cells[0].digit == label for f, label in cases)
        total += len(cases)
        for f, label in cases:
            cell = readings[f.field_id].cells[0]
            confidences.append(cell.confidence)
            correct.append(cell.digit == label)
    return {
        "raw": float((raw == labels).mean()),
        "in_cells": right / total,
        "n": total,
        "ece": expected_calibration_error(confidences, correct),
    }


def expected_calibration_error(
    confidences: list[float], correct: list[bool], bins: int = 10
) -> float:
    """Expected calibration error: the gap between confidence and accuracy, averaged over
    `bins` equal-width confidence bins weighted by how many readings fall in each."""
    conf, ok = np.asarray(confidences, float), np.asarray(correct, float)
    if not len(conf):
        return 0.0
    index = np.minimum((conf * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        mine = index == b
        if mine.any():
            gap += mine.sum() / len(conf) * abs(conf[mine].mean() - ok[mine].mean())
    return float(gap)


def reliability(results: list[tuple[str, str | None, float, bool]], truths: list[str]) -> str:
    """Field confidence against field accuracy (fields with a value), and its ECE."""
    rows = [(r[2], r[1] == t) for r, t in zip(results, truths, strict=True) if r[1] is not None]
    conf = np.array([c for c, _ in rows])
    ok = np.array([o for _, o in rows], float)
    parts = []
    for low, high in ((0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.99), (0.99, 1.01)):
        mine = (conf >= low) & (conf < high)
        if mine.any():
            parts.append(f"[{low:.2f},{min(high, 1):.2f}) n={int(mine.sum())} "
                         f"conf {conf[mine].mean():.3f} right {ok[mine].mean():.3f}")  # fmt: skip
    ece = expected_calibration_error(list(conf), list(ok.astype(bool)))
    return f"field ECE {ece:.4f}; " + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer fields, Tesseract on a sample")
    parser.add_argument("--fields", type=int, default=600, help="fields per condition")
    parser.add_argument("--tesseract-fields", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.fields, args.tesseract_fields = 210, 45
    figures: dict[str, dict] = {"digits": digit_accuracy(args.seed)}
    digits = figures["digits"]
    print(
        f"held-out digits (n={digits['n']}): raw MNIST accuracy {digits['raw']:.4f}, "
        f"in comb cells {digits['in_cells']:.4f}, cell confidence ECE {digits['ece']:.4f}"
    )
    for condition in CONDITIONS:
        figures[condition] = run_condition(condition, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


# "corrections": degraded pages on which one field in CORRECTED_SHARE has a digit struck
# through or overwritten; a value read from such a field and accepted is a wrong value.
CONDITIONS = ("clean", "degraded", "corrections")
CORRECTED_SHARE = 0.2


def run_condition(condition: str, args: argparse.Namespace) -> dict[str, object]:
    """Read `args.fields` fields under one condition with both readers; print the curves."""
    rng = np.random.default_rng(args.seed + CONDITIONS.index(condition))
    corrections = CORRECTED_SHARE if condition == "corrections" else 0.0
    results, truths, seconds, cells = [], [], 0.0, 0
    tess_results, tess_truths, tess_seconds, tess_cells = [], [], 0.0, 0
    tess_digits: list[float] = [0, 0, 0.0]
    for start in range(0, args.fields, 60):
        page, cases = make_page(
            min(60, args.fields - start), rng, condition != "clean", corrections
        )
        found, elapsed = ours(page, cases)
        results += found
        truths += [c.truth for c in cases]
        seconds += elapsed
        cells += sum(c.field.cells for c in cases)
        if len(tess_truths) < args.tesseract_fields and not corrections:
            sample = cases[: args.tesseract_fields - len(tess_truths)]
            found_t, elapsed_t, n_cells = tesseract(page, sample)
            tess_results += found_t
            tess_truths += [c.truth for c in sample]
            tess_seconds += elapsed_t
            tess_cells += n_cells
            right, total, secs = tesseract_cells(page, sample)
            tess_digits = [tess_digits[0] + right, tess_digits[1] + total, tess_digits[2] + secs]
    mine, theirs = curves(results, truths), curves(tess_results, tess_truths)
    chosen = at_defaults(results, truths)
    print(
        f"\n== {condition}, test half, default thresholds {DEFAULT_THRESHOLDS}: "
        f"{chosen['wrong_among_auto']:.2%} wrong among auto-accepted fields, "
        f"{chosen['review_share']:.1%} sent to review (n={chosen['n']})"
    )
    if chosen["struck"]:
        print(f"  fields with a digit struck through: {chosen['struck_auto']} of "
              f"{chosen['struck']} auto-accepted (each one a wrong value)")  # fmt: skip
    print(f"  reliability ({condition}): {reliability(results, truths)}")
    print_table(f"{condition}: papermode ({seconds / cells * 1000:.2f} ms per cell)", mine)
    per_cell_t = tess_seconds / max(tess_cells, 1) * 1000
    if theirs:
        print_table(f"{condition}: tesseract psm 7 ({per_cell_t:.1f} ms per cell)", theirs)
    right, total, secs = tess_digits
    if total:
        print(
            f"  tesseract psm 10 per-digit accuracy {right / max(total, 1):.3f} "
            f"(n={int(total)}, {secs / max(total, 1) * 1000:.1f} ms per cell)"
        )
    return {
        "papermode": mine,
        "tesseract": theirs,
        "ms_per_cell": seconds / cells * 1000,
        "at_defaults": chosen,
    }


def at_defaults(
    results: list[tuple[str, str | None, float, bool]], truths: list[str]
) -> dict[str, float]:
    """Wrong among auto-accepted fields and share sent to review at DEFAULT_THRESHOLDS, and
    how many fields with a struck digit (truth STRUCK) were auto-accepted."""
    auto = [
        (value == truth, truth == STRUCK)
        for (kind, value, confidence, eligible), truth in zip(results, truths, strict=True)
        if eligible and confidence >= DEFAULT_THRESHOLDS[kind]
    ]
    return {
        "n": len(truths),
        "wrong_among_auto": sum(not ok for ok, _ in auto) / max(len(auto), 1),
        "review_share": 1 - len(auto) / max(len(truths), 1),
        "struck_auto": sum(struck for _, struck in auto),
        "struck": truths.count(STRUCK),
    }


if __name__ == "__main__":
    raise SystemExit(main())
