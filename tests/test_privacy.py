"""Nothing leaked: owner-only modes on everything papermode writes whatever the umask, the
Tesseract temporary images in a private folder that does not outlive the process, and not
one network socket opened by prepare, ingest, review, reconcile, export, backup and verify.

Real prepare into tmp_path, real photos ingested (worker processes included), real
Tesseract, real child processes.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_ingest import START, _ticked_photo

from papermode.census.snapshot import sample_census_path
from papermode.cli.main import main
from papermode.core.private import private_dir, private_file
from papermode.demo.overlay import write_overlay
from papermode.free import ocr
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.store.database import open_store


@pytest.fixture()
def open_umask() -> Iterator[None]:
    """The most careless umask there is: everything papermode does not protect is 0666/0777."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _prepare(folder: Path, store: Path) -> None:
    prepare_forms(
        sample_census_path(),
        folder,
        store,
        start=START,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )


def test_prepare_and_ingest_write_owner_only_whatever_the_umask(
    tmp_path: Path, open_umask: None
) -> None:
    printouts = tmp_path / "printouts" / "20261128-0700"
    store = tmp_path / "stores" / "ward" / "papermode.db"
    _prepare(printouts, store)
    written = [printouts.parent, printouts, *printouts.rglob("*")]
    assert any(p.suffix == ".pdf" and p.parent.name == "patients" for p in written)
    folders = {str(p): _mode(p) for p in written if p.is_dir()}
    files = {str(p): _mode(p) for p in written if p.is_file()}
    assert set(folders.values()) == {0o700}, folders
    assert set(files.values()) == {0o600}, files
    note = tmp_path / "list.jpg"
    note.write_text("not a photo")
    photo = _photo_of_first_mar(printouts, tmp_path)
    with open_store(store) as opened:
        summary = ingest_paths([note, photo], opened, workers=1)
        evidence = opened.evidence_dir
        page_id = next(o.page_id for o in summary.outcomes if o.status == "read")
        assert page_id is not None
        overlay = write_overlay(opened, page_id, tmp_path / "demo" / "overlay.png")
    assert _mode(store) == 0o600
    assert any(p.name.endswith(".rectified.jpg") for p in evidence.rglob("*"))
    for path in [store.parent, store.parent.parent, evidence, *evidence.rglob("*")]:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert (_mode(overlay.parent), _mode(overlay)) == (0o700, 0o600)


def test_private_helpers_under_an_open_umask(tmp_path: Path, open_umask: None) -> None:
    deep = private_dir(tmp_path / "a" / "b" / "c")
    assert [_mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", deep)] == [0o700] * 3
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    private_dir(existing / "new")
    assert _mode(existing) == 0o755  # a folder that was there is not ours to change
    picture = private_file(tmp_path / "overlay.png")
    picture.write_bytes(b"\x89PNG")
    assert _mode(picture) == 0o600


@pytest.fixture()
def temporary_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of every temporary file made (by papermode or pytesseract) during a test."""
    import pytesseract

    seen: list[str] = []
    real = tempfile.NamedTemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        handle = real(*args, **kwargs)
        seen.append(handle.name)
        return handle

    monkeypatch.setattr(pytesseract.pytesseract, "NamedTemporaryFile", spy, raising=False)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", spy)
    return seen


def test_tesseract_temporary_images_stay_in_a_private_folder(temporary_files: list[str]) -> None:
    import numpy as np

    image = np.full((700, 700), 255, np.uint8)  # a photo: read by the tesseract program
    assert image.size > ocr.IN_PROCESS_MAX_PIXELS
    ocr.ocr_words(image, langs=("eng",), psm=7)
    private = Path(tempfile.gettempdir())
    assert private.name.startswith("papermode-ocr-") and _mode(private) == 0o700
    assert temporary_files and all(Path(name).parent == private for name in temporary_files)
    assert all(not Path(name).exists() for name in temporary_files)


def test_a_small_crop_is_read_without_a_temporary_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temporary_files: list[str]
) -> None:
    """A banner or page-id crop is read from memory: no picture of it reaches a disk."""
    import numpy as np

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    image = np.full((80, 300), 255, np.uint8)
    image[30:50, 20:280] = 0
    ocr.ocr_words(image, langs=("eng",), psm=7)
    assert temporary_files == []
    assert list(tmp_path.iterdir()) == []


def test_the_private_temporary_folder_goes_with_its_process(tmp_path: Path) -> None:
    system = tmp_path / "tmp"
    system.mkdir()
    stale = system / "papermode-ocr-999999999-abc"
    stale.mkdir()
    (stale / "tess_x_input.PNG").write_bytes(b"a patient's banner")
    code = "from papermode.free.ocr import use_private_tempdir; print(use_private_tempdir())"
    environment = {**os.environ, "PAPERMODE_SYSTEM_TMPDIR": str(system)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )
    folder = Path(result.stdout.strip())
    assert folder.parent == system
    assert not folder.exists()  # removed when the process ended
    assert not stale.exists()  # a killed process's folder: removed on the next start


@pytest.fixture()
def network_attempts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Networking blocked: every attempt to open a socket is refused and written to the
    returned file (which worker processes write to too); it exists only if one was tried."""
    attempts = tmp_path / "network-attempts"
    real_socket = socket.socket

    class Guarded(real_socket):  # type: ignore[misc, valid-type]
        def __init__(self, family: int = -1, *args: Any, **kwargs: Any) -> None:
            if family in (socket.AF_INET, socket.AF_INET6, -1):
                with open(attempts, "a") as log:  # seen from worker processes too
                    log.write(f"{os.getpid()} socket({family})\n")
                raise OSError("network blocked by the test")
            super().__init__(family, *args, **kwargs)

    def no_network(*args: Any, **kwargs: Any) -> Any:
        with open(attempts, "a") as log:
            log.write(f"{os.getpid()} {args!r}\n")
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket, "socket", Guarded)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    return attempts


def test_prepare_and_ingest_open_no_network_socket(tmp_path: Path, network_attempts: Path) -> None:
    printouts = tmp_path / "forms"
    store = tmp_path / "papermode.db"
    _prepare(printouts, store)
    note = tmp_path / "b.jpg"
    note.write_text("not a photo")
    with open_store(store) as opened:
        summary = ingest_paths([_photo_of_first_mar(printouts, tmp_path), note], opened, workers=2)
    assert sorted(o.status for o in summary.outcomes) == ["quarantined", "read"]
    assert not network_attempts.exists(), network_attempts.read_text()


def test_review_reconcile_export_backup_and_verify_open_no_network_socket(
    tmp_path: Path, network_attempts: Path
) -> None:
    printouts = tmp_path / "forms"
    store = tmp_path / "papermode.db"
    _prepare(printouts, store)
    with open_store(store) as opened:
        ingest_paths([_photo_of_first_mar(printouts, tmp_path)], opened, workers=1)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, [*args, "--store", str(store)])
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    queue = json.loads(run("review", "--list", "--json"))["items"]
    item = next(i["item_id"] for i in queue if not i["two_person"])
    run("review", "--decide", item, "--confirm", "--reviewer", "A. Dupont")
    run("reconcile", "--json")
    for kind, name in (("csv", "worklist.csv"), ("fhir", "bundle.json"), ("pdf", "report.pdf")):
        run("export", "--format", kind, "--out", str(tmp_path / "out" / name))
    run("backup", str(tmp_path / "backup"))
    run("verify")
    assert (tmp_path / "out" / "report.pdf").exists()
    assert not network_attempts.exists(), network_attempts.read_text()


def _photo_of_first_mar(printouts: Path, tmp_path: Path) -> Path:
    """A photo of the first MAR page of `printouts`, one dose ticked."""
    link = tmp_path / "as-prepared"
    link.mkdir(exist_ok=True)
    if not (link / "forms").exists():
        (link / "forms").symlink_to(printouts, target_is_directory=True)
    photo, _, _ = _ticked_photo(link, tmp_path, "a.jpg", 1)
    return photo
