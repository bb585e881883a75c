"""The seeded fuzz campaign of `bench/fuzz.py`, bounded for `make test`: a few hundred bad
inputs (truncations, byte flips, wrong extensions, zero-byte files, pixel and zip bombs,
damaged PDFs and multi-frame TIFFs, evil zips, links, FIFOs, forged QR codes) in one real
ingest run with worker processes. 0 aborted runs, 0 tracebacks, 0 hangs, every path given
has an outcome, every original that was read or quarantined is kept byte for byte.

`bench/fuzz.py --count 10000` runs the same campaign at scale.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "fuzz.py"


def _fuzz_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("papermode_bench_fuzz", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_inputs_are_the_same_for_the_same_seed(tmp_path: Path) -> None:
    fuzz = _fuzz_module()
    seeds = fuzz.make_seeds(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    kinds = fuzz.make_inputs(5, 40, tmp_path / "a", seeds)
    assert kinds == fuzz.make_inputs(5, 40, tmp_path / "b", seeds)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        p.name for p in (tmp_path / "b").iterdir()
    )


def test_a_bounded_fuzz_campaign_never_aborts_a_run_or_loses_an_original(tmp_path: Path) -> None:
    fuzz = _fuzz_module()
    report = fuzz.campaign(20261128, 200, tmp_path, batch=200, workers=2, limit=1200)
    summary = report.as_json()
    assert report.inputs == 200 and report.runs == 1
    assert report.ok(), summary
    assert {"quarantined", "skipped"} <= set(report.statuses), summary
