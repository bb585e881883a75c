"""Synthetic filled forms with known truth, degraded like real phone photos and scans.

Used by the demo, the tests and `papermode bench`. The main entry points:

- `fill_page(page_image, layout, px_per_mm, rng, profile=...) -> (image, PageTruth)`
- `phone_photo(page, rng, px_per_mm=..., bad=None) -> (image, Capture)` and `scan_page(...)`
- `make_corpus(prepared_dir, out_dir, count=..., seed=...) -> CorpusInfo`

Imports are lazy so that `import papermode.synth.handwriting` stays cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "FillProfile": "papermode.synth.sheet",
    "PageTruth": "papermode.synth.sheet",
    "StrayMark": "papermode.synth.sheet",
    "fill_page": "papermode.synth.fill",
    "Capture": "papermode.synth.degrade",
    "RETAKE_REASONS": "papermode.synth.degrade",
    "phone_photo": "papermode.synth.degrade",
    "scan_page": "papermode.synth.degrade",
    "random_scan": "papermode.synth.degrade",
    "CorpusInfo": "papermode.synth.corpus",
    "make_corpus": "papermode.synth.corpus",
    "read_truth": "papermode.synth.corpus",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'papermode.synth' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
