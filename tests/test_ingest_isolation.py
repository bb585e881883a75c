"""One bad file never stops a ward: every failure while reading one file is that file's
quarantine (its name, its reason, its original kept), never the end of the batch.

Real printed pages photographed, real damaged files (a truncated multi-page TIFF, a zip
with corrupt deflate data), a reader process that really dies (SIGKILL), a real store.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image
from test_ingest import _ticked_photo, prepared, store_path  # noqa: F401

from papermode.ingest import pipeline, workers
from papermode.ingest.pipeline import PageOutcome, ingest_paths
from papermode.store.database import open_store


def _truncated_tiff(path: Path) -> Path:
    frames = [Image.fromarray(np.full((300, 200), v, np.uint8)) for v in (10, 128, 250)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    path.write_bytes(buffer.getvalue()[:500])  # Pillow's n_frames raises TypeError on it
    return path


def _corrupt_zip(path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("IMG_9.jpg", b"\xff\xd8\xff" + b"A" * 20000 + os.urandom(4000))
    data = bytearray(buffer.getvalue())
    start = data.index(b"IMG_9.jpg") + len("IMG_9.jpg")
    data[start + 20 : start + 60] = b"\xff" * 40  # inside the deflate stream
    path.write_bytes(bytes(data))
    return path


def _note(path: Path, text: str = "Paracetamol 1 g") -> Path:
    """A photo of a paper note (no markers): a free photo, OCRed."""
    note = np.full((1200, 900, 3), 245, np.uint8)
    cv2.putText(note, text, (60, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3)
    cv2.imwrite(str(path), note)
    return path


def _evidence(path: Path) -> dict[str, bytes]:
    with open_store(path) as store:
        return {
            row["first_name"]: (store.evidence_dir / row["evidence"]).read_bytes()
            for row in store.db.query("SELECT first_name, evidence FROM files")
        }


def test_damaged_files_in_a_folder_cost_themselves_only(
    prepared: Path,  # noqa: F811
    store_path: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "shift"
    folder.mkdir()
    tiff = _truncated_tiff(folder / "a-scan.tif")
    archive = _corrupt_zip(folder / "b-phone.zip")
    locked = folder / "c-locked.jpg"
    locked.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    photo, page, _ = _ticked_photo(prepared, folder, "d-mar.jpg", 1)
    real_open = builtins.open

    def refuse(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.delenv("PAPERMODE_DEBUG", raising=False)
    with open_store(store_path) as store:
        summary = ingest_paths([folder], store, workers=2)
    outcomes = {Path(o.file).name: o for o in summary.outcomes}
    assert outcomes["a-scan.tif"].status == "quarantined"
    assert "a-scan.tif" in (outcomes["a-scan.tif"].message or "")
    assert outcomes["IMG_9.jpg"].status == "quarantined"
    assert "damaged in the archive" in (outcomes["IMG_9.jpg"].message or "")
    assert outcomes["c-locked.jpg"].status == "skipped"
    assert "Permission denied" in (outcomes["c-locked.jpg"].message or "")
    assert (outcomes["d-mar.jpg"].status, outcomes["d-mar.jpg"].page_id) == (
        "read",
        page["page_id"],
    )
    kept = _evidence(store_path)
    assert kept[str(tiff)] == tiff.read_bytes()
    assert archive.read_bytes() in kept.values()
    assert summary.exit_code == 7


def _crash_on(marker: str) -> Any:
    real = workers.load_images_from_bytes

    def load(data: bytes, name: str) -> Any:
        if marker in name:
            os.kill(os.getpid(), signal.SIGKILL)  # what the kernel does when memory runs out
        return real(data, name)

    return load


def test_a_reader_that_dies_costs_its_file_only(
    prepared: Path,  # noqa: F811
    store_path: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "shift"
    folder.mkdir()
    (folder / "a.txt").write_text("not a photo")
    (folder / "b-crash.jpg").write_bytes(b"\xff\xd8\xff" + b"1" * 300)
    (folder / "c.txt").write_text("another note")
    photo, page, _ = _ticked_photo(prepared, folder, "d-mar.jpg", 1)
    monkeypatch.setattr(workers, "load_images_from_bytes", _crash_on("crash"))
    with open_store(store_path) as store:
        summary = ingest_paths([folder], store, workers=2)
        quarantined = store.db.execute(
            "SELECT name, message FROM ingests WHERE status = 'quarantined'"
        ).fetchall()
    outcomes = {Path(o.file).name: o for o in summary.outcomes}
    assert outcomes["b-crash.jpg"].status == "quarantined"
    assert "reader stopped" in (outcomes["b-crash.jpg"].message or "")
    assert outcomes["d-mar.jpg"].status == "read"
    assert outcomes["a.txt"].status == outcomes["c.txt"].status == "quarantined"
    assert "not an image" in (outcomes["a.txt"].message or "")
    assert sorted(Path(name).name for name, _ in quarantined) == ["a.txt", "b-crash.jpg", "c.txt"]


def test_a_bug_while_storing_one_file_quarantines_it_and_goes_on(
    store_path: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _note(tmp_path / "first.jpg")
    second = _note(tmp_path / "second.jpg", "Amoxicilline")
    real = pipeline._store_capture
    calls = []

    def broken(store: Any, item: Any, *args: Any) -> Any:
        calls.append(item.name)
        if item.name == str(first):
            raise sqlite3.IntegrityError("a bug")
        return real(store, item, *args)

    monkeypatch.delenv("PAPERMODE_DEBUG", raising=False)
    monkeypatch.setattr(pipeline, "_store_capture", broken)
    with open_store(store_path) as store:
        summary = ingest_paths([first, second], store, workers=1)
        captures = store.db.execute("SELECT name FROM captures").fetchall()
    assert [o.status for o in summary.outcomes] == ["quarantined", "free"]
    assert "IntegrityError" in (summary.outcomes[0].message or "")
    assert captures == [(str(second),)]  # the first file's transaction was rolled back
    assert _evidence(store_path)[str(first)] == first.read_bytes()


def test_the_clerk_is_told_only_what_is_committed(
    store_path: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    photo = _note(tmp_path / "note.jpg")
    (tmp_path / "list.jpg").write_text("not a photo")
    seen: list[tuple[str, int]] = []

    def told(outcome: PageOutcome) -> None:
        other = sqlite3.connect(store_path)  # another connection sees only what is committed
        count = other.execute(
            "SELECT COUNT(*) FROM ingests WHERE name = ?", [outcome.file]
        ).fetchone()[0]
        other.close()
        seen.append((outcome.status, count))

    with open_store(store_path) as store:
        ingest_paths([photo, tmp_path / "list.jpg"], store, workers=1, on_outcome=told)
    assert seen == [("free", 1), ("quarantined", 1)]


def test_exit_codes_of_a_run(tmp_path: Path) -> None:
    from papermode.ingest.pipeline import IngestSummary

    def summary(*statuses: str) -> IngestSummary:
        return IngestSummary(
            outcomes=[PageOutcome("f", "", 0, status) for status in statuses]  # type: ignore[arg-type]
        )

    assert summary("read", "duplicate", "free").exit_code == 0
    assert summary("read", "quarantined").exit_code == 7
    assert summary("skipped").exit_code == 7
    assert summary("quarantined", "retake").exit_code == 7


def test_a_file_that_never_finishes_is_stopped_and_quarantined(
    store_path: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    folder = tmp_path / "shift"
    folder.mkdir()
    (folder / "a.txt").write_text("not a photo")
    (folder / "b-loops.jpg").write_bytes(b"\xff\xd8\xff" + b"2" * 300)
    (folder / "c.txt").write_text("another note")
    real = workers.load_images_from_bytes

    def loops(data: bytes, name: str) -> Any:
        while "loops" in name:  # an image library stuck on a damaged file
            time.sleep(0.05)
        return real(data, name)

    monkeypatch.setattr(workers, "load_images_from_bytes", loops)
    monkeypatch.setattr(pipeline, "FILE_LIMIT_S", 2.0)
    with open_store(store_path) as store:
        summary = ingest_paths([folder], store, workers=2)
    outcomes = {Path(o.file).name: o for o in summary.outcomes}
    assert outcomes["b-loops.jpg"].status == "quarantined"
    assert "took too long and was stopped" in (outcomes["b-loops.jpg"].message or "")
    assert "not an image" in (outcomes["a.txt"].message or "")
    assert "not an image" in (outcomes["c.txt"].message or "")
