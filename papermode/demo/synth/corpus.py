"""A seeded corpus of synthetic captures, with their truth, from a `prepare` output folder.

`make_corpus` picks pages from the folder's manifest, renders them from the real PDFs,
fills them (`fill.fill_page`), photographs or scans them (`degrade`), writes the files
(`capture-0001.jpg`, `.heic`, `.png`, `scan-0002.pdf`, `.tiff`) and `truth.json`: for each
file the page ids it holds, the expected outcome, the field truths and what was applied.
Same seed, same bytes (JPEG, PNG, PDF and TIFF; HEIC where the encoder allows).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from papermode.core.errors import InputFileError
from papermode.core.model import Box, PrintedPage
from papermode.demo.synth import codecs
from papermode.demo.synth.degrade import RETAKE_REASONS, Capture, phone_photo, scan_page
from papermode.demo.synth.fill import FillProfile, PageTruth, fill_page
from papermode.demo.synth.pen import draw_words, random_pen
from papermode.demo.synth.render import PageRenderer
from papermode.printing.manifest import MANIFEST_NAME, load_manifest_document
from papermode.store.database import open_store

TRUTH_NAME = "truth.json"
DEFAULT_MIX: dict[str, float] = {
    "phone_jpeg": 0.54,
    "phone_exif": 0.1,
    "phone_heic": 0.05,
    "phone_png": 0.03,
    "scan_pdf": 0.07,
    "scan_tiff": 0.05,
    "bad": 0.12,
    "free_note": 0.04,
}
LATER_CAPTURE_RATE = 0.3  # a photo is a later capture of a page already photographed
VANISH_RATE = 0.2  # ... and then sometimes a mark from the earlier capture is missing
FILL_PX_PER_MM = 10.0


@dataclass(frozen=True)
class CorpusInfo:
    """What `make_corpus` wrote."""

    out_dir: Path
    truth_path: Path
    files: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Timeline:
    """One page's state along the shift: how far it is filled, what it showed last."""

    seed: int
    progress: float
    last_file: str | None = None
    last_truth: PageTruth | None = None


class _Corpus:
    """The state of one corpus run: pages, their timelines, the truth entries."""

    def __init__(
        self,
        prepared_dir: Path,
        out_dir: Path,
        seed: int,
        order_doses: Mapping[str, float | None] | None = None,
        first: Sequence[str] = (),
    ) -> None:
        self.order_doses = order_doses or {}
        self.first = list(first)  # page ids the first phone photos show, in this order
        self.renderer = PageRenderer(prepared_dir, FILL_PX_PER_MM)
        self.pages = self.renderer.pages
        self.out_dir = out_dir
        self.seed = seed
        self.timelines: dict[str, _Timeline] = {}
        self.entries: list[dict[str, Any]] = []

    def fill(
        self, printed: PrintedPage, rng: np.random.Generator, *, later: bool
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Fill `printed` at its next point in time; the page entry for truth.json."""
        page_id = printed.layout.page_id
        timeline = self.timelines.get(page_id)
        if timeline is None or not later:
            timeline = _Timeline(int(rng.integers(2**31)), float(rng.uniform(0.15, 0.7)))
            self.timelines[page_id] = timeline
        else:
            timeline.progress = min(1.0, timeline.progress + float(rng.uniform(0.1, 0.35)))
        erase = _vanishing_mark(timeline.last_truth, rng) if later else frozenset()
        profile = FillProfile(progress=timeline.progress, erase=erase)
        blank = self.renderer.render(printed)
        image, truth = fill_page(
            blank,
            printed.layout,
            FILL_PX_PER_MM,
            np.random.default_rng(timeline.seed),
            profile=profile,
            doses=self.order_doses,
        )
        entry = {
            "page_id": page_id,
            "progress": round(timeline.progress, 4),
            "later_of": timeline.last_file if later else None,
            "vanished": sorted(erase),
            "truth": truth.to_dict(),
        }
        timeline.last_truth = truth
        return image, entry


def _vanishing_mark(truth: PageTruth | None, rng: np.random.Generator) -> frozenset[str]:
    """Sometimes one mark of the earlier capture is missing now (a merge conflict)."""
    if truth is None or rng.random() >= VANISH_RATE:
        return frozenset()
    marked = sorted(key for key, value in truth.fields.items() if value == "ticked")
    if not marked:
        return frozenset()
    return frozenset({marked[int(rng.integers(len(marked)))]})


def make_corpus(
    prepared_dir: Path,
    out_dir: Path,
    *,
    count: int,
    seed: int,
    mix: dict[str, float] | None = None,
    order_doses: Mapping[str, float | None] | None = None,
    first: Sequence[str] = (),
) -> CorpusInfo:
    """Write `count` synthetic capture files and `truth.json` into `out_dir`.

    `mix` weighs the kinds of file (keys of DEFAULT_MIX); unknown kinds are an error.
    `order_doses` (order id -> the dose printed, `printed_doses`) lets PRN entries carry
    the ordered dose; without it they are random numbers the reader sends to review.
    `first` (page ids) makes the first phone photos show those pages, in that order, so a
    test can count on a page kind being there; the draw goes on as usual after them.
    Raises `InputFileError` when `prepared_dir` has no usable manifest or PDFs.
    """
    weights = _weights(mix)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = _Corpus(prepared_dir, out_dir, seed, order_doses, first)
    rng = np.random.default_rng(seed)
    kinds = list(weights)
    probabilities = np.array([weights[kind] for kind in kinds])
    files: list[str] = []
    for number in range(1, count + 1):
        kind = kinds[int(rng.choice(len(kinds), p=probabilities / probabilities.sum()))]
        item_rng = np.random.default_rng([seed, number])
        entry = _MAKERS[kind](corpus, number, item_rng)
        entry["kind"] = kind
        corpus.entries.append(entry)
        files.append(entry["file"])
    truth_path = out_dir / TRUTH_NAME
    document = {
        "generator": "papermode.demo.synth",
        "seed": seed,
        "count": count,
        "files": corpus.entries,
    }
    truth_path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for entry in corpus.entries:
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    return CorpusInfo(out_dir, truth_path, tuple(files), counts)


def printed_doses(prepared_dir: Path, store_path: Path) -> dict[str, float | None]:
    """Each order's dose as `prepare` printed it into `prepared_dir` (from its store)."""
    snapshot = load_manifest_document(prepared_dir / MANIFEST_NAME).get("snapshot") or {}
    if not snapshot.get("snapshot_id"):
        return {}
    with open_store(store_path, readonly=True) as store:
        return store.order_doses(str(snapshot["snapshot_id"]))


def _weights(mix: dict[str, float] | None) -> dict[str, float]:
    weights = dict(mix) if mix is not None else dict(DEFAULT_MIX)
    unknown = sorted(set(weights) - set(DEFAULT_MIX))
    if unknown or not weights or sum(weights.values()) <= 0:
        raise ValueError(f"corpus mix: unknown kinds {unknown} or no positive weight")
    return {kind: float(value) for kind, value in weights.items() if value > 0}


# --------------------------------------------------------------------------- makers


def _pick(corpus: _Corpus, rng: np.random.Generator) -> tuple[PrintedPage, bool]:
    """A page to capture: often one already captured (a later capture), else any page.

    Any page may be one already captured: then it is filled afresh with its own seed, which
    is another sheet of paper with the same page id (a photocopy, as units make when they
    run out of forms). Its truth entry starts a new `later_of` chain: the truth of a page
    is per sheet (`papermode.demo.scoring` scores copies merged and split by those chains).
    """
    if corpus.first:
        page_id = corpus.first.pop(0)
        printed = next((p for p in corpus.pages if p.layout.page_id == page_id), None)
        if printed is None:
            raise ValueError(f"corpus: page {page_id} is not in the prepared folder")
        return printed, page_id in corpus.timelines
    seen = [p for p in corpus.pages if p.layout.page_id in corpus.timelines]
    if seen and rng.random() < LATER_CAPTURE_RATE:
        return seen[int(rng.integers(len(seen)))], True
    return corpus.pages[int(rng.integers(len(corpus.pages)))], False


def _phone(corpus: _Corpus, number: int, rng: np.random.Generator, fmt: str) -> dict[str, Any]:
    printed, later = _pick(corpus, rng)
    filled, page_entry = corpus.fill(printed, rng, later=later)
    image, capture = phone_photo(filled, rng, px_per_mm=FILL_PX_PER_MM)
    name = f"capture-{number:04d}.{codecs.EXTENSIONS[fmt]}"
    capture = codecs.save_photo(image, corpus.out_dir / name, rng, fmt=fmt, capture=capture)
    timeline = corpus.timelines[printed.layout.page_id]
    timeline.last_file = name
    return _entry(name, capture, [page_entry])


def _bad(corpus: _Corpus, number: int, rng: np.random.Generator) -> dict[str, Any]:
    printed = corpus.pages[int(rng.integers(len(corpus.pages)))]
    reason = str(rng.choice(RETAKE_REASONS))
    # A retake does not move the page's timeline: it is the same moment, photographed badly.
    timeline = _Timeline(int(rng.integers(2**31)), float(rng.uniform(0.2, 0.8)))
    blank = corpus.renderer.render(printed)
    filled, truth = fill_page(
        blank,
        printed.layout,
        FILL_PX_PER_MM,
        np.random.default_rng(timeline.seed),
        profile=FillProfile(progress=timeline.progress),
        doses=corpus.order_doses,
    )
    image, capture = phone_photo(filled, rng, px_per_mm=FILL_PX_PER_MM, bad=reason)
    name = f"capture-{number:04d}.jpg"
    capture = codecs.save_photo(image, corpus.out_dir / name, rng, fmt="jpeg", capture=capture)
    page_entry = {
        "page_id": printed.layout.page_id,
        "progress": round(timeline.progress, 4),
        "later_of": None,
        "vanished": [],
        "truth": truth.to_dict(),
    }
    return _entry(name, capture, [page_entry])


def _scan(corpus: _Corpus, number: int, rng: np.random.Generator, fmt: str) -> dict[str, Any]:
    sheets = min(int(rng.integers(1, 5)), len(corpus.pages))
    chosen = rng.choice(len(corpus.pages), size=sheets, replace=False)
    # One scanner setting per file, as a scanner job has.
    dpi = int(rng.choice([150, 200, 300], p=[0.2, 0.5, 0.3]))
    mode = "bw" if rng.random() < 0.3 else "grey"
    images, entries, captures = [], [], []
    for index in chosen:
        printed = corpus.pages[int(index)]
        filled, page_entry = corpus.fill(
            printed, rng, later=printed.layout.page_id in corpus.timelines
        )
        skew = float(rng.uniform(-3.0, 3.0))
        image, capture = scan_page(
            filled, rng, px_per_mm=FILL_PX_PER_MM, dpi=dpi, mode=mode, skew_deg=skew
        )
        images.append(image)
        entries.append(page_entry)
        captures.append(capture.params)
    name = f"scan-{number:04d}.{codecs.EXTENSIONS[fmt]}"
    codecs.save_scan(images, corpus.out_dir / name, fmt=fmt, dpi=dpi)
    for printed_index in chosen:
        corpus.timelines[corpus.pages[int(printed_index)].layout.page_id].last_file = name
    # 1-bit scans are read; an empty box whose light printed border the scanner's threshold
    # erased proves nothing and goes to review (flag `bilevel_empty_unproven`).
    expected = "read"
    capture = Capture("scan", expected, {"format": fmt, "pages": captures})
    return _entry(name, capture, entries)


def _free_note(corpus: _Corpus, number: int, rng: np.random.Generator) -> dict[str, Any]:
    """A photo of a free paper note (no markers, no QR): to be filed as a free photo."""
    note = np.full((int(148 * FILL_PX_PER_MM), int(105 * FILL_PX_PER_MM), 3), 250, np.uint8)
    pen = random_pen(rng)
    for line in range(int(rng.integers(3, 9))):
        box = Box(8.0, 10.0 + line * 14.0, float(rng.uniform(40, 90)), 10.0)
        draw_words(note, box, pen, FILL_PX_PER_MM, rng)
    image, capture = phone_photo(note, rng, px_per_mm=FILL_PX_PER_MM)
    capture = Capture("free", "free", capture.params)
    name = f"capture-{number:04d}.jpg"
    capture = codecs.save_photo(image, corpus.out_dir / name, rng, fmt="jpeg", capture=capture)
    return _entry(name, capture, [])


def _entry(name: str, capture: Capture, pages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "file": name,
        "expected": capture.expected,
        "capture": capture.to_dict(),
        "pages": pages,
        "page_ids": [page["page_id"] for page in pages],
    }


_MAKERS: dict[str, Callable[[_Corpus, int, np.random.Generator], dict[str, Any]]] = {
    "phone_jpeg": lambda c, n, r: _phone(c, n, r, "jpeg"),
    "phone_exif": lambda c, n, r: _phone(c, n, r, "jpeg_exif"),
    "phone_heic": lambda c, n, r: _phone(c, n, r, "heic"),
    "phone_png": lambda c, n, r: _phone(c, n, r, "png"),
    "scan_pdf": lambda c, n, r: _scan(c, n, r, "pdf"),
    "scan_tiff": lambda c, n, r: _scan(c, n, r, "tiff"),
    "bad": _bad,
    "free_note": _free_note,
}


def read_truth(out_dir: Path) -> dict[str, Any]:
    """The truth.json of a corpus folder."""
    path = out_dir / TRUTH_NAME
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise InputFileError(
            f"{path}: no readable corpus truth ({type(error).__name__}).",
            advice="Generate the corpus again with make_corpus (papermode synth).",
        ) from error
