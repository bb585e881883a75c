"""Choose the digit thresholds and decide the digit flags on the CALIBRATION half only.

The held-out digits are split into a calibration half and a test half
(`papermode.demo.synth.handwriting.heldout_part`, seed in docs/digits.md). This tool writes
calibration digits into comb fields (the benchmark's pages: clean and degraded, plus
left-aligned numbers, and degraded pages written with faint pens only), reads them back and
prints, per field type, the lowest threshold with at most 0.5 % wrong among auto-accepted
fields in every condition (and one step above it, the margin docs/digits.md explains), the
error among auto-accepted fields and the share sent to review at each threshold, and for
each flag the error among fields that carry it and would otherwise be accepted.
`bench/digits_bench.py` then reports on the test half only.

    python tools/calibrate_digits.py [--fields 1200] [--seed 3]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import digits_bench as bench  # noqa: E402

from papermode.core.model import Box  # noqa: E402
from papermode.demo.synth.handwriting import drawing_from  # noqa: E402
from papermode.reading.digits import (  # noqa: E402
    BLOCKING_FLAGS,
    DEFAULT_THRESHOLDS,
    field_type,
    read_digit_fields,
)
from papermode.reading.plausibility import check  # noqa: E402

MEASURED_FLAGS = ("faint", "ink_outside", "left_aligned", "leading_blank")
OTHER_BLOCKING = BLOCKING_FLAGS - set(MEASURED_FLAGS)


def left_aligned(cases: list[bench.Case]) -> list[bench.Case]:
    """The same doses written from the left ("5   "), as some nurses do."""
    return [
        bench.Case(c.field, c.truth, c.truth.ljust(c.field.cells), c.order_dose)
        if c.field.role == "dose"
        else c
        for c in cases
    ]


def faint_page(count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[bench.Case]]:
    """A degraded benchmark page on which every pen is faint (gray 110-140): enough faint
    fields to measure the `faint` flag's error, which the benchmark's 30 % faint pens do not
    give."""
    page = bench.blank_page((210.0, 297.0), bench.PX)
    cases = []
    for index in range(count):
        kind = ("time", "vital", "dose")[index % 3]
        case = bench.make_case(index, kind, rng, 8 + (index % 5) * 40.0, 10 + (index // 5) * 12.0)
        shift = rng.uniform(0.5, 1.0) * rng.choice([-1, 1], 2)
        box = case.field.box
        printed = replace(case.field, box=Box(box.x + shift[0], box.y + shift[1], box.w, box.h))
        pen = bench.Pen(gray=int(rng.integers(110, 140)), stroke=int(rng.integers(-1, 2)))
        bench.draw_comb(page, printed, case.written, rng, pen=pen)
        cases.append(case)
    page = bench.degrade(
        page, rng, blur=rng.uniform(0.6, 1.2), noise=6.0, jpeg=int(rng.integers(50, 80))
    )
    return page, cases


def measure(fields: int, seed: int) -> dict[str, list[tuple[str, bool, float, bool, set[str]]]]:
    """Per condition: (type, right, confidence, eligible apart from measured flags, flags)."""
    rows: dict[str, list[tuple[str, bool, float, bool, set[str]]]] = defaultdict(list)
    for condition in ("clean", "degraded", "left_aligned", "faint", "corrections"):
        rng = np.random.default_rng(seed + len(condition))
        for start in range(0, fields, 60):
            if condition == "faint":
                page, cases = faint_page(min(60, fields - start), rng)
            elif condition == "corrections":  # degraded, a digit struck through in 1 of 5
                page, cases = bench.make_page(
                    min(60, fields - start), rng, True, bench.CORRECTED_SHARE
                )
            else:
                page, cases = bench.make_page(min(60, fields - start), rng, condition == "degraded")
            if condition == "left_aligned":
                page = bench.blank_page((210.0, 297.0), bench.PX)
                cases = left_aligned(cases)
                for case in cases:
                    bench.draw_comb(page, case.field, case.written, rng, pen=bench._pen(rng, False))
            readings = read_digit_fields(page, [c.field for c in cases], bench.PX)
            for case in cases:
                reading = readings[case.field.field_id]
                verdict = check(
                    case.field, reading.value, period=bench.PERIOD, order_dose=case.order_dose
                )
                flags = set(reading.flags)
                eligible = reading.value is not None and verdict.ok and not OTHER_BLOCKING & flags
                if condition == "corrections" and case.truth != bench.STRUCK:
                    continue  # only the struck fields: their accepted values are all wrong
                rows[condition].append(
                    (
                        field_type(case.field),
                        reading.value == case.truth,
                        verdict.apply(reading.confidence),
                        eligible,
                        flags,
                    )
                )
    return rows


MAX_WRONG = 0.005  # the goal: at most 0.5 % wrong among auto-accepted fields


def sweep(
    rows: dict[str, list[tuple[str, bool, float, bool, set[str]]]],
) -> dict[tuple[str, str, float], tuple[int, int, int]]:
    """(condition, type, threshold) -> (auto-accepted, wrong among them, fields)."""
    table = {}
    for condition, results in rows.items():
        for kind in ("time", "vital", "dose"):
            mine = [r for r in results if r[0] == kind]
            for threshold in bench.THRESHOLDS:
                auto = [r for r in mine if r[3] and r[2] >= threshold and not _measured(r[4])]
                table[condition, kind, threshold] = (
                    len(auto),
                    sum(not r[1] for r in auto),
                    len(mine),
                )
    return table


def choose(
    table: dict[tuple[str, str, float], tuple[int, int, int]], conditions: list[str]
) -> dict[str, float]:
    """Per type, the lowest threshold with at most MAX_WRONG wrong among auto-accepted fields
    in EVERY calibration condition (the rule DEFAULT_THRESHOLDS follow)."""
    chosen = {}
    for kind in ("time", "vital", "dose"):
        for threshold in bench.THRESHOLDS:
            if all(
                table[c, kind, threshold][1] <= MAX_WRONG * table[c, kind, threshold][0]
                for c in conditions
            ):
                chosen[kind] = threshold
                break
    return chosen


def _next(threshold: float) -> float:
    """The next threshold of the sweep: a margin against calibration noise."""
    steps = list(bench.THRESHOLDS)
    return steps[min(steps.index(threshold) + 1, len(steps) - 1)]


def report(rows: dict[str, list[tuple[str, bool, float, bool, set[str]]]]) -> None:
    table = sweep(rows)
    # A digit struck through and read with confidence is not a threshold's error (no
    # threshold catches it): the corrections condition is reported, not used by the rule.
    chosen = choose(table, [c for c in rows if c != "corrections"])
    print(f"\nlowest threshold with <= {MAX_WRONG:.1%} wrong in every condition: {chosen}")
    margin = {kind: _next(threshold) for kind, threshold in chosen.items()}
    print(f"one step above it (a margin against calibration noise, docs/digits.md): {margin}")
    for kind, threshold in chosen.items():
        parts = []
        for condition in rows:
            n_auto, n_wrong, total = table[condition, kind, threshold]
            share = 1 - n_auto / max(total, 1)
            parts.append(f"{condition} {n_wrong}/{n_auto} wrong, {share:.1%} review")
        print(f"  {kind} at {threshold}: " + "; ".join(parts))
    for condition, results in rows.items():
        print(f"\n== calibration, {condition} ({len(results)} fields)")
        for kind in ("time", "vital", "dose"):
            mine = [r for r in results if r[0] == kind]
            if not mine:
                continue
            line = []
            for threshold in bench.THRESHOLDS:
                auto = [r for r in mine if r[3] and r[2] >= threshold and not _measured(r[4])]
                wrong = sum(not r[1] for r in auto)
                share = 1 - len(auto) / len(mine)
                line.append(f"{threshold}:{wrong / max(len(auto), 1):.3%}/{share:.0%}")
            print(f"  {kind:6s} err|auto / review  " + "  ".join(line))
        for flag in MEASURED_FLAGS:
            flagged = [
                r for r in results if flag in r[4] and r[3] and r[2] >= DEFAULT_THRESHOLDS[r[0]]
            ]
            wrong = sum(not r[1] for r in flagged)
            print(
                f"  flag {flag:13s} fields {len(flagged):4d} that would be accepted at the default "
                f"thresholds: "
                f"{wrong} wrong ({wrong / max(len(flagged), 1):.2%})"
            )


def _measured(flags: set[str]) -> bool:
    """A measured flag that still blocks: the sweep leaves its fields to review."""
    return bool(flags & set(MEASURED_FLAGS) & BLOCKING_FLAGS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fields", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with drawing_from("calibration"):
        report(measure(args.fields, args.seed))


if __name__ == "__main__":
    main()
