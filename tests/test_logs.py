"""Logs for IT: a full demo run logs its decisions with page and field ids, never a patient.

The patients are read from papermode/data/sample_ward.json here with `json`, independently
of the census code, so a bug there cannot hide a leak.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import unicodedata
from importlib import resources

import pytest

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
