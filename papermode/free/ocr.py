"""Tesseract, in one place: printed text as words with boxes and confidences.

Every call to Tesseract in papermode goes through this module, so that a missing binary or
language, a timeout or a crash becomes one clear `PapermodeError`, never a hang or a traceback.
The engine is a small protocol (`OcrEngine`), so tests can plug in a fake engine that fails
on purpose, the way OCRmyPDF tests its pipeline.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from papermode.core.errors import ExitCode, InstallationError, PapermodeError

logger = logging.getLogger(__name__)

INSTALL_ADVICE = (
    "Ask IT to install Tesseract and its languages: "
    "apt-get install tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng tesseract-ocr-nld"
)


# pytesseract writes each image it gives the `tesseract` program as a file `tess_*` under
# tempfile.gettempdir(): a picture of a page with a patient's name on it. It goes into a
# folder of our own, 0700, removed when the process ends, and on the next start when the
# process was killed. (Small crops are read in this process and never written.)
_TEMP_PREFIX = "papermode-ocr-"
log = logging.getLogger(__name__)
_private_tempdir: Path | None = None


def use_private_tempdir() -> Path:
    """Send this process's temporary files (and its children's) to a private 0700 folder.

    Idempotent per process. Folders left by papermode processes that were killed are
    removed first.
    """
    global _private_tempdir
    if (
        _private_tempdir is not None
        and _private_tempdir.is_dir()
        and tempfile.tempdir == str(_private_tempdir)
    ):
        return _private_tempdir
    system = Path(os.environ.get("PAPERMODE_SYSTEM_TMPDIR") or tempfile.gettempdir())
    remove_stale_tempdirs(system)
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-", dir=system))
    except OSError as error:  # no temporary folder of our own: Tesseract still works
        log.warning("no private temporary folder (%s); using %s", error.strerror, system)
        return system
    os.chmod(folder, 0o700)
    os.environ.setdefault("PAPERMODE_SYSTEM_TMPDIR", str(system))
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    _private_tempdir = folder
    atexit.register(_remove_tempdir, folder, os.getpid())
    return folder


def _remove_tempdir(folder: Path, pid: int) -> None:
    if os.getpid() == pid:  # a forked worker must not remove its parent's folder
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_tempdirs(system: Path) -> int:
    """Remove private temporary folders of papermode processes that no longer run."""
    removed = 0
    for folder in system.glob(f"{_TEMP_PREFIX}*"):
        pid_text = folder.name[len(_TEMP_PREFIX) :].split("-")[0]
        with contextlib.suppress(OSError):
            if folder.stat().st_uid != os.geteuid() or not pid_text.isdigit():
                continue
            if _alive(int(pid_text)):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OcrError(PapermodeError):
    """Tesseract ran but could not read an image (timeout, crash, unreadable image)."""

    exit_code = ExitCode.OCR


@dataclass(frozen=True)
class Word:
    """One word Tesseract read: its text, its box in pixels (x, y, w, h) and confidence 0..1."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float
    block: int = 0
    paragraph: int = 0
    line: int = 0
    word: int = 0

    @property
    def line_key(self) -> tuple[int, int, int]:
        return (self.block, self.paragraph, self.line)


@dataclass(frozen=True)
class TextLine:
    """Words of one printed line, left to right; `number` counts lines from 0, top down."""

    number: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> tuple[int, int, int, int]:
        return union_box(w.box for w in self.words)


class OcrEngine(Protocol):
    """What papermode needs from an OCR engine; `TesseractEngine` is the real one."""

    def recognise(
        self,
        image: np.ndarray,
        *,
        langs: Sequence[str],
        psm: int,
        timeout: float,
        whitelist: str = "",
    ) -> list[Word]: ...

    def languages(self) -> tuple[str, list[str]]:
        """(version text, installed languages); raises InstallationError when unusable."""
        ...


# Crops up to this size (a printed line, a banner box: a few hundred by a few tens of
# pixels) are read in this process; larger images (photos of screens and notes) by the
# `tesseract` program, which a time budget can stop at once (the API checks its deadline
# only while it recognises, not while it lays out a page: a noise photo can hold it for
# seconds).
IN_PROCESS_MAX_PIXELS = 400_000


class TesseractEngine:
    """Tesseract: small crops through its C++ API in this process (tesserocr), larger
    images through the `tesseract` program (pytesseract).

    Why the API for crops: a call to the program starts a process and loads the language
    models every time, about 0.1-0.6 s on this kind of laptop for a crop of one printed
    line; the API keeps them loaded and reads that crop in about 0.03 s. The banner MRN and
    the printed page id are read on every page, so this is most of what identity costs. It
    is the same engine with the same Debian language data, and it writes no temporary image
    (pytesseract writes each image, here a picture of a patient's banner, to a file).
    tesserocr ships wheels with Tesseract inside; the language data comes from the system
    (`tesseract-ocr-fra`, ...).
    """

    def recognise(
        self,
        image: np.ndarray,
        *,
        langs: Sequence[str],
        psm: int,
        timeout: float,
        whitelist: str = "",
    ) -> list[Word]:
        _, installed = self.languages()
        missing = [lang for lang in langs if lang not in installed]
        if missing:
            raise InstallationError(
                f"Tesseract has no data for the language(s): {', '.join(missing)}.",
                advice=INSTALL_ADVICE,
            )
        pixels = _as_uint8(image)
        if pixels.shape[0] * pixels.shape[1] <= IN_PROCESS_MAX_PIXELS:
            return _recognise_in_process(pixels, "+".join(langs), psm, timeout, whitelist)
        return _recognise_by_program(pixels, "+".join(langs), psm, timeout, whitelist)

    def languages(self) -> tuple[str, list[str]]:
        return _tesseract_languages()


def _timed_out(timeout: float, psm: int) -> OcrError:
    logger.info("Tesseract stopped after %g s (timeout), psm %d", timeout, psm)
    return OcrError(
        f"Tesseract took longer than {timeout:g} s on one image and was stopped.",
        advice="Retake the photo closer to the text, or ingest it again later.",
    )


def _recognise_in_process(
    image: np.ndarray, langs: str, psm: int, timeout: float, whitelist: str
) -> list[Word]:
    api = _api(langs)
    api.SetPageSegMode(int(psm))
    api.SetVariable("tessedit_char_whitelist", whitelist)
    api.SetImage(Image.fromarray(image))
    try:
        if not api.Recognize(timeout=max(1, int(timeout * 1000))):
            raise _timed_out(timeout, psm)
        return _words_from_api(api)
    finally:
        api.Clear()


def _recognise_by_program(
    image: np.ndarray, langs: str, psm: int, timeout: float, whitelist: str
) -> list[Word]:
    import pytesseract

    use_private_tempdir()
    config = f"--psm {int(psm)}"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    try:
        data = pytesseract.image_to_data(
            image, lang=langs, config=config, output_type=pytesseract.Output.DICT, timeout=timeout
        )
    except pytesseract.TesseractNotFoundError as error:
        raise InstallationError("Tesseract is not installed.", advice=INSTALL_ADVICE) from error
    except RuntimeError as error:  # pytesseract signals its timeout as RuntimeError
        if "timeout" in str(error).lower():
            raise _timed_out(timeout, psm) from error
        raise OcrError(f"Tesseract failed: {error}", advice=INSTALL_ADVICE) from error
    return _words_from_data(data)


_TESSDATA_PLACES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)


@functools.lru_cache(maxsize=1)
def tessdata_folder() -> str:
    """The folder of Tesseract's language data: $TESSDATA_PREFIX, else Debian's place."""
    places = [os.environ.get("TESSDATA_PREFIX", ""), *_TESSDATA_PLACES]
    for place in places:
        if place and any(Path(place).glob("*.traineddata")):
            return place.rstrip("/") + "/"
    raise InstallationError(
        "Tesseract's language data is not installed (no *.traineddata found).",
        advice=INSTALL_ADVICE,
    )


@functools.lru_cache(maxsize=1)
def _tesseract_languages() -> tuple[str, list[str]]:
    try:
        import tesserocr
    except ImportError as error:  # a broken installation: the wheel is a dependency
        raise InstallationError(
            "tesserocr (papermode's link to Tesseract) is not installed.",
            advice="Reinstall papermode: pip install --force-reinstall papermode",
        ) from error
    version = tesserocr.tesseract_version().splitlines()[0]
    _, langs = tesserocr.get_languages(tessdata_folder())
    return version, sorted(langs)


# One API per language set and process: each holds its models loaded (tens of MB). A
# forked worker must not use its parent's, so the process id is part of the key.
_apis: dict[tuple[int, str], Any] = {}


def _api(langs: str) -> Any:
    key = (os.getpid(), langs)
    api = _apis.get(key)
    if api is None:
        import tesserocr

        api = tesserocr.PyTessBaseAPI(path=tessdata_folder(), lang=langs)
        _apis[key] = api
    return api


def _words_from_api(api: Any) -> list[Word]:
    """Every word with its box, confidence and block / paragraph / line / word numbers."""
    import tesserocr

    level = tesserocr.RIL.WORD
    iterator = api.GetIterator()
    words: list[Word] = []
    if iterator is None:
        return words
    block = paragraph = line = number = 0
    for item in tesserocr.iterate_level(iterator, level):
        if item.Empty(level):
            continue
        if item.IsAtBeginningOf(tesserocr.RIL.BLOCK):
            block, paragraph, line = block + 1, 0, 0
        if item.IsAtBeginningOf(tesserocr.RIL.PARA):
            paragraph, line = paragraph + 1, 0
        if item.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
            line, number = line + 1, 0
        number += 1
        text = (item.GetUTF8Text(level) or "").strip()
        box = item.BoundingBox(level)
        if not text or box is None:
            continue
        x0, y0, x1, y1 = box
        confidence = round(max(0.0, float(item.Confidence(level))) / 100.0, 4)
        words.append(
            Word(text, (x0, y0, x1 - x0, y1 - y0), confidence, block, paragraph, line, number)
        )
    return words


_engine: OcrEngine = TesseractEngine()


def set_engine(engine: OcrEngine | None) -> OcrEngine:
    """Replace the OCR engine (tests); None restores Tesseract. Returns the previous engine."""
    global _engine
    previous = _engine
    _engine = engine if engine is not None else TesseractEngine()
    return previous


def tesseract_available() -> tuple[bool, list[str]]:
    """(True, [version, languages...]) when Tesseract runs, else (False, [what to install])."""
    try:
        version, langs = _engine.languages()
    except InstallationError as error:
        return False, [str(error)]
    return True, [version, *langs]


def ocr_words(
    image: np.ndarray,
    *,
    langs: Sequence[str] = ("fra", "eng"),
    psm: int = 3,
    timeout: float = 30,
    whitelist: str = "",
) -> list[Word]:
    """Read every word of a page or screen image (grayscale or BGR), top to bottom.

    `whitelist` limits the characters Tesseract may read (a page id, an MRN). Raises
    InstallationError (Tesseract or a language missing) or OcrError (timeout, crash).
    """
    if image.size == 0:
        raise OcrError("The image to read is empty.", advice="Retake the photo.")
    words = _engine.recognise(
        image, langs=tuple(langs), psm=psm, timeout=timeout, whitelist=whitelist
    )
    return [w for w in words if w.text.strip()]


def ocr_line(
    image: np.ndarray,
    *,
    langs: Sequence[str] = ("fra", "eng"),
    timeout: float = 10,
    whitelist: str = "",
) -> str:
    """Read a small crop holding one line of printed text (psm 7); '' when nothing is read."""
    words = ocr_words(image, langs=langs, psm=7, timeout=timeout, whitelist=whitelist)
    return " ".join(w.text for w in words).strip()


def ocr_batch(
    images: Iterable[np.ndarray],
    *,
    langs: Sequence[str] = ("fra", "eng"),
    psm: int = 3,
    timeout: float = 30,
) -> list[list[Word]]:
    """Read several images one after the other (the laptop has few cores; Tesseract threads)."""
    return [ocr_words(image, langs=langs, psm=psm, timeout=timeout) for image in images]


def group_lines(words: Sequence[Word]) -> list[TextLine]:
    """Group words into printed lines, top to bottom, words left to right.

    Tesseract's own lines follow skew but split table rows into one line per column; lines
    that sit side by side at the same height are joined back into one row.
    """
    by_key: dict[tuple[int, int, int], list[Word]] = {}
    for word in words:
        by_key.setdefault(word.line_key, []).append(word)
    rows: list[list[Word]] = []
    for segment in sorted(by_key.values(), key=lambda ws: min(w.box[0] for w in ws)):
        row = next((r for r in rows if _same_row(r, segment)), None)
        if row is None:
            rows.append(list(segment))
        else:
            row.extend(segment)
    rows.sort(key=lambda ws: (union_box(w.box for w in ws)[1], min(w.box[0] for w in ws)))
    return [
        TextLine(number, tuple(sorted(ws, key=lambda w: w.box[0])))
        for number, ws in enumerate(rows)
    ]


def _same_row(row: list[Word], segment: list[Word]) -> bool:
    """The segment starts right of the row's last word and overlaps it mostly in height."""
    last = max(row, key=lambda w: w.box[0] + w.box[2])
    first = min(segment, key=lambda w: w.box[0])
    if first.box[0] < last.box[0] + last.box[2] - 2:
        return False
    a, b = union_box(w.box for w in row), union_box(w.box for w in segment)
    overlap = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return overlap >= 0.5 * min(a[3], b[3])


def union_box(boxes: Iterable[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """The smallest box holding all `boxes` (x, y, w, h)."""
    items = list(boxes)
    if not items:
        return (0, 0, 0, 0)
    x0 = min(b[0] for b in items)
    y0 = min(b[1] for b in items)
    x1 = max(b[0] + b[2] for b in items)
    y1 = max(b[1] + b[3] for b in items)
    return (x0, y0, x1 - x0, y1 - y0)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    return np.clip(image, 0, 255).astype(np.uint8)


def _words_from_data(data: dict[str, list[Any]]) -> list[Word]:
    words = []
    for i, text in enumerate(data.get("text", [])):
        conf = float(data["conf"][i])
        if conf < 0 or not str(text).strip():
            continue  # layout rows (blocks, lines) carry conf -1 and no text
        words.append(
            Word(
                text=str(text).strip(),
                box=(
                    int(data["left"][i]),
                    int(data["top"][i]),
                    int(data["width"][i]),
                    int(data["height"][i]),
                ),
                confidence=round(conf / 100.0, 4),
                block=int(data["block_num"][i]),
                paragraph=int(data["par_num"][i]),
                line=int(data["line_num"][i]),
                word=int(data["word_num"][i]),
            )
        )
    return words
