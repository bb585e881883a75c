"""Check the installation: each check says what is wrong and how to fix it."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REQUIRED_LANGUAGES = ("eng", "fra")
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def run_checks(store_path: Path) -> list[Check]:
    """Every check, in the order a newcomer would fix them."""
    checks: list[Callable[[], Check]] = [
        check_tesseract,
        check_opencv,
        check_barcodes,
        check_imaging,
        check_fonts,
        check_digit_model,
        lambda: check_store(store_path),
    ]
    return [check() for check in checks]


def check_tesseract() -> Check:
    binary = shutil.which("tesseract")
    if not binary:
        return Check(
            "tesseract",
            False,
            "the tesseract program is not installed",
            "sudo apt-get install -y tesseract-ocr tesseract-ocr-fra",
        )
    try:
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=20
        ).stdout.splitlines()[0]
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=20
        ).stdout.split()
    except (OSError, subprocess.SubprocessError, IndexError) as error:
        return Check(
            "tesseract",
            False,
            f"tesseract does not run: {error}",
            "sudo apt-get install --reinstall -y tesseract-ocr",
        )
    missing = [lang for lang in REQUIRED_LANGUAGES if lang not in listed]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang}" for lang in missing)
        return Check(
            "tesseract",
            False,
            f"{version}; languages missing: {', '.join(missing)}",
            f"sudo apt-get install -y {packages}",
        )
    languages = ", ".join(lang for lang in listed if len(lang) == 3)
    return Check("tesseract", True, f"{version} (languages: {languages})")


def _module_check(name: str, module: str, detail: Callable[[object], str], fix: str) -> Check:
    try:
        imported = importlib.import_module(module)
    except Exception as error:  # any import failure is the same advice for the user
        return Check(name, False, f"cannot import {module}: {error}", fix)
    return Check(name, True, detail(imported))


def check_opencv() -> Check:
    def detail(cv2: object) -> str:
        version = getattr(cv2, "__version__", "?")
        if not hasattr(cv2, "aruco"):
            raise RuntimeError("OpenCV has no aruco module")
        return f"OpenCV {version} with ArUco markers"

    try:
        return _module_check(
            "opencv", "cv2", detail, "reinstall: .venv/bin/pip install opencv-python-headless"
        )
    except RuntimeError as error:
        return Check(
            "opencv", False, str(error), "install opencv-python-headless >= 4.8 (it includes ArUco)"
        )


def check_barcodes() -> Check:
    return _module_check(
        "qr codes",
        "zxingcpp",
        lambda m: "zxing-cpp reads QR codes",
        "reinstall: .venv/bin/pip install zxing-cpp",
    )


def check_imaging() -> Check:
    return _module_check(
        "photos",
        "pillow_heif",
        lambda m: "Pillow with HEIC/HEIF support (iPhone photos)",
        "reinstall: .venv/bin/pip install pillow-heif",
    )


def check_fonts() -> Check:
    if (FONT_DIR / "DejaVuSans.ttf").exists():
        return Check("fonts", True, f"DejaVu fonts in {FONT_DIR} (all accented names print)")
    return Check(
        "fonts",
        False,
        "DejaVu fonts missing: forms fall back to Vera, which lacks some letters (Ł, Ő, ...)",
        "sudo apt-get install -y fonts-dejavu-core",
    )


def check_digit_model() -> Check:
    data = Path(__file__).resolve().parent.parent / "data"
    models = sorted(data.glob("digits_model.*"))
    if not models:
        return Check(
            "digit model",
            False,
            "the handwritten-digit model file is missing",
            "reinstall papermode from its repository (the model is committed)",
        )
    return Check("digit model", True, f"{models[0].name} ({models[0].stat().st_size} bytes)")


def check_store(store_path: Path) -> Check:
    folder = store_path.resolve().parent
    if not folder.exists():
        return Check(
            "store",
            False,
            f"the folder {folder} does not exist",
            "create it, or pass --store with a path in an existing folder",
        )
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".papermode-check-"):
            pass
    except OSError as error:
        return Check(
            "store",
            False,
            f"cannot write in {folder}: {error.strerror}",
            "use a folder this user can write to (--store PATH)",
        )
    state = "exists" if store_path.exists() else "will be created"
    if store_path.exists() and not os.access(store_path, os.W_OK):
        return Check(
            "store",
            False,
            f"{store_path} is read-only for this user",
            "run papermode as the user who owns the store",
        )
    return Check("store", True, f"{store_path} ({state}, owner-only)")
