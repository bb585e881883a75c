"""Synthetic filled forms with known truth, degraded like real phone photos and scans.

Used by the demo, the tests and `papermode bench`. The main entry points:

- `fill_page(page_image, layout, px_per_mm, rng, profile=...) -> (image, PageTruth)`
- `phone_photo(page, rng, px_per_mm=..., bad=None) -> (image, Capture)` and `scan_page(...)`
- `make_corpus(prepared_dir, out_dir, count=..., seed=...) -> CorpusInfo`

Imports are lazy so that `import papermode.demo.synth.handwriting` stays cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "FillProfile": "papermode.demo.synth.sheet",
    "PageTruth": "papermode.demo.synth.sheet",
    "StrayMark": "papermode.demo.synth.sheet",
    "fill_page": "papermode.demo.synth.fill",
    "Capture": "papermode.demo.synth.degrade",
    "RETAKE_REASONS": "papermode.demo.synth.degrade",
    "phone_photo": "papermode.demo.synth.degrade",
    "scan_page": "papermode.demo.synth.degrade",
    "random_scan": "papermode.demo.synth.degrade",
    "CorpusInfo": "papermode.demo.synth.corpus",
    "make_corpus": "papermode.demo.synth.corpus",
    "read_truth": "papermode.demo.synth.corpus",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'papermode.demo.synth' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
