"""`papermode doctor` says what is installed and what to fix."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from papermode.cli.main import main
from papermode.core.doctor import check_store, check_tesseract


def test_doctor_reports_every_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["doctor", "--store", str(tmp_path / "p.db")])
    for name in ("tesseract", "opencv", "qr codes", "photos", "fonts", "digit model", "store"):
        assert f"] {name}:" in result.output
    assert result.exit_code in (0, 1)


def test_tesseract_found_with_languages() -> None:
    check = check_tesseract()
    assert check.ok, check.detail
    assert "fra" in check.detail and "eng" in check.detail


def test_missing_tesseract_says_what_to_install(monkeypatch: object) -> None:
    import papermode.core.doctor as doctor

    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)  # type: ignore[attr-defined]
    check = doctor.check_tesseract()
    assert not check.ok and check.fix == "sudo apt-get install -y tesseract-ocr tesseract-ocr-fra"


def test_store_in_missing_folder_is_reported(tmp_path: Path) -> None:
    check = check_store(tmp_path / "nowhere" / "p.db")
    assert not check.ok and "does not exist" in check.detail
