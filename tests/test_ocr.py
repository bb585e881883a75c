"""Tesseract wrapper: real OCR of rendered screens, errors from a fake engine, timeouts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import pytest

from papermode.core.errors import InstallationError
from papermode.demo.synth.screens import make_medications, make_patient, render_screen
from papermode.free import ocr
from papermode.free.ocr import OcrError, Word, group_lines, ocr_line, ocr_words, tesseract_available


@pytest.fixture()
def engine() -> Iterator[None]:
    """Restore the real engine after a test that swaps it."""
    yield
    ocr.set_engine(None)


def _screen(lang: str, theme: str) -> np.ndarray:
    import random

    rng = random.Random(3)
    patient = make_patient(rng)
    image, _ = render_screen(patient, make_medications(rng, lang, 3), lang=lang, theme=theme)
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2GRAY)


def test_tesseract_is_available_with_languages() -> None:
    ok, details = tesseract_available()
    assert ok, details
    assert {"eng", "fra"} <= set(details[1:])


def test_real_tesseract_reads_a_rendered_french_screen() -> None:
    words = ocr_words(_screen("fr", "light"))
    text = " ".join(w.text for w in words)
    assert "Traitement" in text and "IPP:" in text
    assert all(0 <= w.confidence <= 1 and w.box[2] > 0 for w in words)


def test_real_tesseract_reads_an_english_screen_line_crop() -> None:
    gray = _screen("en", "light")
    words = ocr_words(gray, langs=("eng",))
    banner = next(w for w in words if w.text.startswith("MRN"))
    x, y, w, h = banner.box
    crop = gray[y - 6 : y + h + 6, max(0, x - 6) : x + w + 300]
    assert ocr_line(crop, langs=("eng",)).startswith("MRN")


def test_missing_language_says_what_to_install() -> None:
    with pytest.raises(InstallationError) as error:
        ocr_words(np.full((40, 40), 255, np.uint8), langs=("xyz",))
    assert "apt-get install tesseract-ocr" in str(error.value)


def test_timeout_is_a_clear_error_not_a_hang() -> None:
    noisy = np.random.default_rng(0).integers(0, 255, (3000, 3000), dtype=np.uint8)
    with pytest.raises(OcrError, match="longer than"):
        ocr_words(noisy, timeout=0.05)


class FailingEngine:
    """A fake engine, OCRmyPDF style: fails the way a broken install or a crash would."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def recognise(
        self,
        image: np.ndarray,
        *,
        langs: Sequence[str],
        psm: int,
        timeout: float,
        whitelist: str = "",
    ) -> list[Word]:
        raise self.error

    def languages(self) -> tuple[str, list[str]]:
        raise InstallationError("Tesseract is not installed.", advice=ocr.INSTALL_ADVICE)


def test_fake_engine_failure_gives_clear_errors(engine: None) -> None:
    ocr.set_engine(FailingEngine(OcrError("Tesseract failed: crashed", advice="retry")))
    with pytest.raises(OcrError, match="Tesseract failed"):
        ocr_words(np.zeros((10, 10), np.uint8))
    ok, details = tesseract_available()
    assert not ok and "apt-get install" in details[0]


def test_empty_image_is_refused() -> None:
    with pytest.raises(OcrError):
        ocr_words(np.zeros((0, 0), np.uint8))


def test_group_lines_joins_table_columns_into_rows() -> None:
    words = [
        Word("Morphine", (10, 100, 80, 20), 0.9, block=1, line=1),
        Word("Paracetamol", (10, 140, 110, 20), 0.9, block=1, line=2),
        Word("5", (300, 102, 10, 20), 0.9, block=2, line=1),
        Word("mg", (315, 102, 25, 20), 0.9, block=2, line=1),
        Word("1", (300, 141, 10, 20), 0.9, block=2, line=2),
        Word("g", (315, 141, 12, 20), 0.9, block=2, line=2),
    ]
    assert [line.text for line in group_lines(words)] == ["Morphine 5 mg", "Paracetamol 1 g"]


def test_a_crop_reads_the_same_in_process_and_by_the_program() -> None:
    """The in-process API (small crops) and the program (photos) are one engine: same words."""
    image = np.full((70, 520), 255, np.uint8)
    cv2.putText(image, "MRN 40213377", (12, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    inside = ocr._recognise_in_process(image, "eng", 7, 10.0, "")
    program = ocr._recognise_by_program(image, "eng", 7, 10.0, "")
    assert [w.text for w in inside] == [w.text for w in program] == ["MRN", "40213377"]


def test_a_large_photo_keeps_its_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A photo too large for the in-process API goes to the program, which a timeout stops
    at once (the API would lay the page out first, whatever its deadline)."""

    def in_process(*args: object) -> list[Word]:
        raise AssertionError("a photo must not be read in process")

    monkeypatch.setattr(ocr, "_recognise_in_process", in_process)
    # 3000 x 3000 noise: Tesseract lays it out for seconds, far beyond the 0.2 s budget
    noise = (np.random.default_rng(1).random((3000, 3000)) > 0.5).astype(np.uint8) * 255
    with pytest.raises(ocr.OcrError, match="longer than 0.2 s"):
        ocr.ocr_words(noise, langs=("eng",), psm=3, timeout=0.2)
