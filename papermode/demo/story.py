"""`papermode demo`: the whole story on the built-in sample ward, in one folder.

A sequence of small steps, each a function: prepare the forms -> synthesise a day of filled
captures (phone photos and scans, some bad ones to retake, a screen photo and a paper note)
-> ingest them -> summarise the readings and compare them with the synthetic truth -> draw
an overlay of one read page -> write a one-page PDF summary. Later stages (review,
reconcile, export) become more steps here as they arrive.

The library never prints: progress goes through a `DemoReporter` the caller provides.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import cv2

from papermode.census.snapshot import sample_census_path
from papermode.core.errors import ExitCode, PapermodeError, UsageError
from papermode.core.private import private_dir, private_file
from papermode.demo.overlay import category, most_telling_page, write_overlay
from papermode.demo.scoring import capture_report, score_digits, score_identity, score_ticks
from papermode.demo.summary_pdf import SummaryFigures, write_summary_pdf
from papermode.demo.synth.corpus import make_corpus, printed_doses, read_truth
from papermode.demo.synth.screens import synth_free_photo
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms, read_manifest_counts
from papermode.state.readings import readings_report
from papermode.store.database import open_store

MARKER = ".papermode-demo"
PIECES = {
    "papermode.printing.prepare": "printing the forms",
    "papermode.demo.synth.corpus": "synthesising filled photos",
    "papermode.ingest.pipeline": "reading photos",
    "papermode.state.readings": "summarising the readings",
}


class DemoError(PapermodeError):
    """A piece the demo needs is missing or failed."""

    exit_code = ExitCode.FAILED


class DemoReporter(Protocol):
    """Where the demo tells its story (the CLI prints it; tests may collect it)."""

    def step(self, text: str) -> None: ...

    def progress(self, label: str, total: int) -> Callable[[str], None]: ...

    def done(self) -> None: ...


class SilentReporter:
    """A reporter that keeps the steps and shows nothing."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    def step(self, text: str) -> None:
        self.steps.append(text)

    def progress(self, label: str, total: int) -> Callable[[str], None]:
        return lambda _name: None

    def done(self) -> None:
        pass


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced and the figures it measured."""

    out_dir: Path
    forms: tuple[tuple[Path, int], ...]
    store: Path
    captures_dir: Path
    overlay: Path | None
    summary_pdf: Path | None
    figures: dict[str, Any] = field(default_factory=dict)

    def produced(self) -> list[str]:
        """One line per thing produced, for the end of the demo."""
        lines = [f"forms: {pdf} ({pages} pages)" for pdf, pages in self.forms]
        lines.append(f"captures: {self.captures_dir} ({self.figures.get('files', 0)} files)")
        if self.overlay:
            lines.append(f"overlay: {self.overlay}")
        if self.summary_pdf:
            lines.append(f"summary: {self.summary_pdf}")
        lines.append(f"store: {self.store}")
        return lines


def check_pieces() -> None:
    """Fail clearly (not with a traceback) when a stage of the pipeline is missing."""
    for module, what in PIECES.items():
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise DemoError(
                f"The demo cannot run: {what} ({module}) is not available ({error}).",
                advice="Update the papermode checkout (or reinstall it) and run the demo again.",
            ) from error


def clear_output(out_dir: Path) -> None:
    """Make `out_dir` empty; only a folder an earlier demo wrote (or an empty one) is reused."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file; give a folder for the demo.")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise UsageError(
                f"--out {out_dir} holds other files; the demo replaces its whole folder.",
                advice="Choose a new folder, or one an earlier `papermode demo` wrote.",
            )
        shutil.rmtree(out_dir)
    private_dir(out_dir)  # synthetic patients, but real-looking: owner-only all the same
    private_file(out_dir / MARKER).write_text("written by papermode demo\n", encoding="utf-8")


def run_demo(
    out_dir: Path,
    *,
    seed: int = 7,
    photos: int = 40,
    workers: int | None = None,
    reporter: DemoReporter | None = None,
) -> DemoResult:
    """Run the whole story into `out_dir`; returns what was produced and the figures."""
    if photos < 1:
        raise UsageError(f"--photos must be at least 1, not {photos}.")
    say = reporter or SilentReporter()
    check_pieces()
    clear_output(out_dir)
    store = out_dir / "papermode.db"
    forms = _step(say, "Printing the sample ward's forms", lambda: prepare_step(out_dir, store))
    captures = _step(
        say,
        f"Synthesising {photos} filled captures",
        lambda: capture_step(out_dir, seed=seed, photos=photos),
    )
    files, truth = captures
    summary = _step(
        say, f"Reading {len(files)} files", lambda: ingest_step(store, files, workers, say)
    )
    figures = _step(
        say, "Comparing the readings with the truth", lambda: figures_step(store, summary, truth)
    )
    overlay = _step(
        say, "Drawing the overlay of one read page", lambda: overlay_step(out_dir, store)
    )
    result = DemoResult(out_dir, forms, store, out_dir / "captures", overlay, None, figures)
    pdf = _step(say, "Writing the one-page summary", lambda: summary_step(result))
    return DemoResult(out_dir, forms, store, out_dir / "captures", overlay, pdf, figures)


def _step(say: DemoReporter, text: str, action: Callable[[], Any]) -> Any:
    say.step(text)
    try:
        return action()
    except PapermodeError:
        raise
    except ImportError as error:
        raise DemoError(
            f"The demo stopped at '{text}': a piece is missing ({error}).",
            advice="Update the papermode checkout and run the demo again.",
        ) from error
    except Exception as error:
        if os.environ.get("PAPERMODE_DEBUG"):
            raise
        # A stage still being built may fail: say which one, not a traceback.
        raise DemoError(
            f"The demo stopped at '{text}': {type(error).__name__}: {error}.",
            advice="This stage of papermode failed. Run again with PAPERMODE_DEBUG=1 and "
            "report the output to IT.",
        ) from error


# ---------------------------------------------------------------------- steps


def prepare_step(out_dir: Path, store: Path) -> tuple[tuple[Path, int], ...]:
    """Print the sample ward's forms into out/forms; register the pages in the store."""
    start = datetime.now().replace(hour=8, minute=0, second=0, microsecond=0)
    result = prepare_forms(
        sample_census_path(),
        out_dir / "forms",
        store,
        start=start,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    counts = read_manifest_counts(result.manifest)
    return tuple((pdf, counts.get(pdf.name, 0)) for pdf in result.ward_pdfs)


def capture_step(out_dir: Path, *, seed: int, photos: int) -> tuple[list[Path], dict[str, Any]]:
    """A seeded corpus of captures, plus one screen photo and one paper note (free photos)."""
    captures = out_dir / "captures"
    doses = printed_doses(out_dir / "forms", out_dir / "papermode.db")
    info = make_corpus(out_dir / "forms", captures, count=photos, seed=seed, order_doses=doses)
    files = [captures / name for name in info.files]
    truth = read_truth(captures)
    for kind in ("screen", "note"):
        extra = _free_photo(captures, kind, seed)
        if extra is not None:
            files.append(extra)
            truth["files"].append({"file": extra.name, "expected": "free", "pages": []})
    return files, truth


def _free_photo(folder: Path, kind: str, seed: int) -> Path | None:
    """A photo of a record-system screen or a paper note."""
    photo, _truth = synth_free_photo(seed, kind=kind, lang="en")
    path = private_file(folder / f"{kind}-photo.jpg")
    cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return path


def ingest_step(store: Path, files: list[Path], workers: int | None, say: DemoReporter) -> Any:
    """Ingest every capture file, with a progress bar."""
    advance = say.progress("Reading files", len(files))
    try:
        with open_store(store) as opened:
            return ingest_paths(files, opened, workers=workers, progress=advance)
    finally:
        say.done()


def figures_step(store: Path, summary: Any, truth: dict[str, Any]) -> dict[str, Any]:
    """Readings by status and ward, captures by outcome, and the scores against the truth."""
    with open_store(store) as opened:
        report = readings_report(opened)
        captures = capture_report(opened)
    by_status, by_ward = readings_counts(report)
    counts = summary.as_json()
    identity = score_identity(truth, captures, captures["patient_of"])
    return {
        "files": len(truth["files"]),
        "captures_by_outcome": counts["counts"],
        "readings_by_status": by_status,
        "readings_by_ward": by_ward,
        "pages_read": len(report["pages"]),
        "identity": identity.as_json(),
        "ticks": score_ticks(truth, captures).as_json(),
        "digits": score_digits(truth, captures).as_json(),
        "attention": attention(summary),
    }


def attention(summary: Any) -> list[dict[str, str]]:
    """Photos the clerk must act on (retake, quarantined), with the reason, as ingest says."""
    entries = [
        {"file": Path(o.file).name, "status": o.status, "message": (o.message or "").split("\n")[0]}
        for o in summary.outcomes
        if o.status in ("retake", "quarantined")
    ]
    # A multi-page scan sent back for one reason is one thing to do, not one per page.
    unique = {tuple(entry.values()): entry for entry in entries}
    return list(unique.values())


def readings_counts(report: dict[str, Any]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Current field states by status (auto, review, conflict) overall and per ward."""
    by_status: dict[str, int] = {"auto": 0, "empty": 0, "review": 0, "conflict": 0}
    by_ward: dict[str, dict[str, int]] = {}
    for page in report["pages"]:
        ward = by_ward.setdefault(page["ward"] or "no ward", dict.fromkeys(by_status, 0))
        for reading in page["fields"]:
            name = category(reading["value"], reading["status"], tuple(reading["flags"]))
            name = {"accepted": "auto"}.get(name, name)
            by_status[name] += 1
            ward[name] += 1
    return by_status, by_ward


def overlay_step(out_dir: Path, store: Path) -> Path | None:
    """The overlay PNG of the read page with the most writing on it (None: no page read)."""
    with open_store(store) as opened:
        page_id = most_telling_page(opened)
        if page_id is None:
            return None
        return write_overlay(opened, page_id, out_dir / f"overlay-{page_id}.png")


def summary_step(result: DemoResult) -> Path:
    """The one-page PDF summary."""
    figures = result.figures
    caption = (
        f"Overlay of page {result.overlay.stem.removeprefix('overlay-')}" if result.overlay else ""
    )
    summary = SummaryFigures(
        title="papermode demo: a day of downtime paper, read back",
        subtitle=f"Sample ward, {figures['files']} capture files; generated "
        f"{datetime.now():%Y-%m-%d %H:%M}. Green: accepted; orange: review; red: conflict.",
        readings_by_status=figures["readings_by_status"],
        readings_by_ward=figures["readings_by_ward"],
        captures_by_outcome=figures["captures_by_outcome"],
        figures=figure_lines(figures),
        overlay_png=result.overlay,
        overlay_caption=caption,
    )
    return write_summary_pdf(summary, private_file(result.out_dir / "summary.pdf"))


def figure_lines(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """The key figures as (label, value) rows, for the terminal and the PDF."""
    outcome, identity = figures["captures_by_outcome"], figures["identity"]
    ticks, digits = figures["ticks"], figures["digits"]
    status = figures["readings_by_status"]
    return [
        ("page images read", str(outcome.get("read", 0))),
        ("photos to retake", str(outcome.get("retake", 0))),
        ("free photos (screens, notes)", str(outcome.get("free", 0))),
        ("quarantined", str(outcome.get("quarantined", 0))),
        ("fields accepted (with a value)", str(status.get("auto", 0))),
        ("fields accepted as empty", str(status.get("empty", 0))),
        ("fields for review", str(status.get("review", 0))),
        ("fields in conflict", str(status.get("conflict", 0))),
        ("page identity (right page)", _share(identity["identified"], identity["expected_pages"])),
        ("wrong-patient pages", str(identity["wrong_patient"])),
        ("tick boxes right", _share(ticks["correct"], ticks["total"])),
        ("digit fields right", _share(digits["correct"], digits["total"])),
        ("accepted values that were wrong", str(ticks["auto_wrong"] + digits["auto_wrong"])),
        ("retakes caught", _share(identity["retakes_caught"], identity["retakes_expected"])),
    ]


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "n/a"


def figures_json(result: DemoResult) -> str:
    """The demo's figures and outputs as JSON."""
    return json.dumps(
        {"produced": result.produced(), "figures": result.figures}, indent=2, default=str
    )
