"""The quality gate at the edges: blurred forms are retakes (never free photos), a chat-app
copy is told to send the original, and Tesseract has a time budget and a text test."""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402

from papermode.core.settings import SettingsError, load_settings  # noqa: E402
from papermode.demo.synth import degrade, screens  # noqa: E402
from papermode.free import capture as free_capture  # noqa: E402
from papermode.free import ocr  # noqa: E402
from papermode.free.ocr import Word  # noqa: E402
from papermode.reading import quality  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ep.prepare(tmp_path_factory.mktemp("quality"))


@pytest.fixture(scope="module")
def form_photo(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    page = ep.pages(prepared, "mar")[0]
    path = ep.photo(ep.render(prepared, page), tmp_path_factory.mktemp("photo") / "mar.jpg")
    return cv2.imread(str(path))


class RecordingEngine:
    """A fake OCR engine: records every call and its time budget."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def recognise(
        self,
        image: np.ndarray,
        *,
        langs: Sequence[str],
        psm: int,
        timeout: float,
        whitelist: str = "",
    ) -> list[Word]:
        self.timeouts.append(timeout)
        return [Word("PARACETAMOL", (10, 10, 80, 12), 0.9)]

    def languages(self) -> tuple[str, list[str]]:
        return "fake", ["eng", "fra"]


@pytest.fixture()
def engine() -> RecordingEngine:
    fake = RecordingEngine()
    previous = ocr.set_engine(fake)
    yield fake  # type: ignore[misc]
    ocr.set_engine(previous)


@pytest.mark.parametrize(("length", "angle"), [(12, 0), (16, 90), (20, 45), (20, 0)])
def test_motion_blurred_form_is_a_retake_for_blur_never_free(
    prepared: Path, form_photo: np.ndarray, tmp_path: Path, length: int, angle: float
) -> None:
    blurred = degrade.motion_blur(
        form_photo, np.random.default_rng(0), length=length, angle_deg=angle
    )
    path = tmp_path / "blurred.jpg"
    cv2.imwrite(str(path), blurred, [cv2.IMWRITE_JPEG_QUALITY, 90])
    summary = ep.ingest(ep.fresh_store(prepared, tmp_path), path)
    outcome = summary.outcomes[0]
    assert outcome.status == "retake", outcome
    assert outcome.message == quality.BLURRED


def test_chat_app_copy_is_told_to_send_the_original(
    prepared: Path, form_photo: np.ndarray, tmp_path: Path
) -> None:
    # A WhatsApp-like copy of a photo where the page fills the frame: ~2.7 px per mm.
    small = cv2.resize(form_photo, None, fx=0.33, fy=0.33, interpolation=cv2.INTER_AREA)
    path = tmp_path / "whatsapp.jpg"
    cv2.imwrite(str(path), small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    outcome = ep.ingest(ep.fresh_store(prepared, tmp_path), path).outcomes[0]
    assert outcome.status == "retake"
    assert "send the original photo" in (outcome.message or "")
    assert "move closer" not in (outcome.message or "")


def test_far_away_page_is_still_told_to_move_closer() -> None:
    report = quality.QualityReport(
        blur_mm=0.3, px_per_mm=2.0, paper_level=200, darkest_paper=190, black_level=30,
        glare_fraction=0.0, page_span=0.3, image_long_side=4000,
    )  # fmt: skip
    assert quality.reason_for(report) == quality.TOO_SMALL


def test_a_noise_photo_is_not_given_to_tesseract(engine: RecordingEngine) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    free = free_capture.read_free_image(noise, "auto", None)
    assert free.problem == free_capture.NO_TEXT
    assert engine.timeouts == []


def test_screen_and_note_photos_look_like_text() -> None:
    rng = random.Random(4)
    for index in range(6):
        patient = screens.make_patient(rng, index)
        meds = screens.make_medications(rng, "fr", 4)
        screen, _ = screens.render_screen(patient, meds, theme=rng.choice(["light", "dark"]))
        note, _ = screens.render_note(patient, meds, rng)
        assert free_capture.looks_like_text(screens.photograph(screen, rng, kind="screen"))
        assert free_capture.looks_like_text(screens.photograph(note, rng, kind="note"))
    assert not free_capture.looks_like_text(np.full((3000, 4000), 180, np.uint8))


def test_tesseract_gets_the_budget_of_the_setting(
    prepared: Path, tmp_path: Path, engine: RecordingEngine
) -> None:
    rng = random.Random(1)
    patient = screens.make_patient(rng, 0)
    screen, _ = screens.render_screen(patient, screens.make_medications(rng, "fr", 3))
    path = tmp_path / "screen.jpg"
    cv2.imwrite(str(path), screens.photograph(screen, rng, kind="screen"))
    store = ep.fresh_store(prepared, tmp_path)
    with ep.open_store(store) as opened:
        outcome = ep.ingest_paths([path], opened, ocr_seconds=7.0).outcomes[0]
    assert outcome.status == "free"
    assert engine.timeouts and set(engine.timeouts) == {7.0}


def test_free_photo_budget_is_a_checked_setting(tmp_path: Path) -> None:
    assert load_settings().ocr_free_photo_seconds == 20.0
    custom = tmp_path / "settings.toml"
    custom.write_text("[ocr]\nfree_photo_seconds = 5\n")
    assert load_settings(custom).ocr_free_photo_seconds == 5.0
    custom.write_text("[ocr]\nfree_photo_seconds = 0\n")
    with pytest.raises(SettingsError, match="free_photo_seconds"):
        load_settings(custom)
