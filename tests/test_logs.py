"""Logs for IT: a full demo run logs its decisions with page and field ids, never a patient.

The patients are read from papermode/data/sample_ward.json here with `json`, independently
of the census code, so a bug there cannot hide a leak.
"""

from __future__ import annotations

import json
import logging
import re
import stat
import subprocess
import sys
import unicodedata
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import pytest

from papermode.core.pageframe import frame_for
from papermode.free.ocr import OcrError, ocr_words
from papermode.reading import page as capture
from papermode.reading.fields import PageContext
from papermode.reading.imaging import PageImage

sys.path.insert(0, str(Path(__file__).parent))
import pagefactory as pf  # noqa: E402

PAGE_ID = r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}"


def sample_ward_secrets() -> list[str]:
    """Every name (given and family), identifier and birth date of the sample ward."""
    bundle = json.loads(
        resources.files("papermode.data").joinpath("sample_ward.json").read_text("utf-8")
    )
    secrets: list[str] = []
    for entry in bundle["entry"]:
        patient = entry["resource"]
        if patient["resourceType"] != "Patient":
            continue
        for name in patient.get("name", []):
            parts = [name.get("family", ""), *name.get("given", [])]
            secrets += [part for part in parts if part]
            secrets += [word for part in parts for word in part.split() if len(word) >= 4]
        secrets += [identifier["value"] for identifier in patient.get("identifier", [])]
        born = patient.get("birthDate")
        if born:
            year, month, day = born.split("-")
            secrets += [
                born,
                f"{year}{month}{day}",
                f"{day}/{month}/{year}",
                f"{day}.{month}.{year}",
            ]
    assert len(secrets) > 50  # 12 patients: the sample ward was read
    return secrets


def _folded(text: str) -> str:
    """Lower case without accents: 'Hélène' is found as 'helene' too."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A whole demo, as IT would run it: `papermode --verbose --log-file LOG demo`."""
    work = tmp_path_factory.mktemp("logged-demo")
    log = work / "papermode.log"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from papermode.cli.main import main; main()",
            "--verbose",
            "--log-file",
            str(log),
            "demo",
            "--out",
            str(work / "demo"),
            "--photos",
            "4",  # with seed 7: a read MAR with values for review, a blurred photo, a scan
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    return log.read_text(encoding="utf-8"), done.stderr


def test_no_patient_name_mrn_or_birth_date_in_the_log(demo_log: tuple[str, str]) -> None:
    log, stderr = demo_log
    for text in (log, stderr):
        folded = _folded(text)
        for secret in sample_ward_secrets():
            pattern = rf"(?<!\w){re.escape(_folded(secret))}(?!\w)"
            assert not re.search(pattern, folded), f"a patient's {secret!r} is in the log"


def test_the_log_holds_the_decisions_with_their_ids(demo_log: tuple[str, str]) -> None:
    log, _stderr = demo_log
    lines = log.splitlines()
    # time, level, logger name on every line
    line_start = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) ")
    assert all(line_start.match(line) for line in lines), lines[:3]
    assert any(re.search(r"prepare: \d+ page\(s\), \d+ PDF\(s\)", line) for line in lines)
    retakes = [line for line in lines if "retake" in line]
    assert any("papermode.reading.page" in line and "frame 0: retake" in line for line in retakes)
    assert any(
        re.search(r"capture-\d+\.jpg retake: page None frame 0: the photo is", line)
        for line in retakes
    )
    review = re.compile(rf"page {PAGE_ID} field \S+ \(\w+ \w+\): review, confidence \d\.\d\d")
    assert any(review.search(line) for line in lines)
    assert any(re.search(rf"page {PAGE_ID}: id from qr, banner MRN check: \w+", x) for x in lines)
    assert any(re.search(r"field \S+: confidence \d\.\d\d, threshold 0\.\d+", x) for x in lines)
    assert any("papermode.ingest.pipeline" in x and " read: page " in x for x in lines)


def test_verbose_goes_to_stderr(demo_log: tuple[str, str]) -> None:
    _log, stderr = demo_log
    assert re.search(rf"INFO papermode.reading.fields: page {PAGE_ID} field", stderr)
    assert "DEBUG papermode.reading.digits: field" in stderr


# ---------------------------------------------------------------------- one page, in the reader


def test_a_page_read_from_its_printed_id_logs_why_and_never_the_mrn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout = pf.checkbox_layout(seed="logs-qr", mrn="30018842")
    page = pf.render_page(layout, tmp_path, 10.0)
    qr = frame_for(layout.size_mm).qr_box
    corner = (int(qr.x * 10) + 25, int(qr.y * 10) + 25)
    far = (int((qr.x + qr.w) * 10) - 25, int((qr.y + qr.h) * 10) - 25)
    cv2.rectangle(page, corner, far, (255, 255, 255), -1)  # coffee on the QR code
    rng = np.random.default_rng(3)
    by_id = {f.field_id: f for f in layout.fields}
    for field_id in ("cb-0-0", "cb-0-1"):  # given and held ticked: a contradiction
        pf.draw_mark(page, by_id[field_id].box, 10.0, "tick", rng)
    photo = pf.photograph(page, 10.0, rng, tilt_deg=8, photo_size=(2400, 3200))
    context = PageContext(layout, known_mrns=frozenset({"30018842", "30019107"}))
    with caplog.at_level(logging.DEBUG, logger="papermode"):
        outcome = capture.read_page_image(
            PageImage(0, photo.pixels, None, "photo"), lambda _page_id: context
        )
    assert outcome.status == "read" and outcome.page_id == layout.page_id
    text = caplog.text
    assert "QR code second try, straightened: not read" in text
    assert f"QR code not read: page id from the printed text: {layout.page_id}" in text
    assert f"page {layout.page_id}: id from printed, banner MRN check: match" in text
    assert "fields cb-0-0, cb-0-1: ticked in one group, a contradiction" in text
    assert re.search(rf"page {layout.page_id} field cb-0-0 \(checkbox given\): review", text)
    assert "30018842" not in text  # the banner was read and matched: still never logged


def test_a_tesseract_timeout_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    noisy = np.random.default_rng(0).integers(0, 255, (3000, 3000), dtype=np.uint8)
    with caplog.at_level(logging.INFO, logger="papermode"), pytest.raises(OcrError):
        ocr_words(noisy, timeout=0.05)
    assert [r.name for r in caplog.records] == ["papermode.free.ocr"]
    assert "Tesseract stopped after 0.05 s (timeout), psm 3" in caplog.text
