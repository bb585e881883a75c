"""`kill -9` at any moment of a real ingest, then the same command again: the store is the
store of an uninterrupted run, no reader process is left running, no temporary file is left.

A driver process runs `ingest_paths` on a real folder (a photographed MAR page, a free
photo read by Tesseract, damaged files, a zip) with two worker processes, and kills itself
with SIGKILL at its N-th step: N counts fsyncs, renames and transaction boundaries of the
main process. Either the whole process group is killed (the laptop's power button, or
`kill -9 -PGID`) or the main process alone (its workers must then end by themselves).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from test_ingest import _ticked_photo, prepared, store_path  # noqa: F401

DRIVER = r"""
import contextlib, json, multiprocessing, os, signal, sys
from pathlib import Path

mode, point, folder, store_path, pids_file = sys.argv[1:]
point = int(point)
main_pid = os.getpid()
steps = {"n": 0}


def step(label):
    if os.getpid() != main_pid:
        return
    steps["n"] += 1
    if steps["n"] == point:
        kids = [child.pid for child in multiprocessing.active_children()]
        Path(pids_file).write_text(json.dumps(kids))
        if mode == "group":
            os.killpg(0, signal.SIGKILL)
        os.kill(main_pid, signal.SIGKILL)


def counted(function, label):
    def wrapper(*args, **kwargs):
        step(label + " before")
        result = function(*args, **kwargs)
        step(label + " after")
        return result
    return wrapper


os.fsync = counted(os.fsync, "fsync")
os.replace = counted(os.replace, "replace")

from papermode.store import database  # noqa: E402

real_transaction = database.Store.transaction


@contextlib.contextmanager
def transaction(self):
    step("begin")
    with real_transaction(self) as db:
        yield db
    step("committed")


database.Store.transaction = transaction

from papermode.ingest.pipeline import ingest_paths  # noqa: E402

with database.open_store(store_path) as store:
    summary = ingest_paths([Path(folder)], store, workers=2)
print(json.dumps({"steps": steps["n"], "statuses": sorted(o.status for o in summary.outcomes)}))
"""


def _note(path: Path, text: str) -> Path:
    note = np.full((900, 700, 3), 245, np.uint8)
    cv2.putText(note, text, (40, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3)
    cv2.imwrite(str(path), note)
    return path


@pytest.fixture(scope="module")
def ward_folder(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """A shift's files: a MAR photo, a free photo, damaged files and a zip."""
    folder = tmp_path_factory.mktemp("shift")
    _ticked_photo(prepared, folder, "a-mar.jpg", 2)
    _note(folder / "b-note.jpg", "Paracetamol 1 g")
    (folder / "c-list.jpg").write_text("not a photo")
    (folder / "d-scan.tif").write_bytes(b"II*\x00" + os.urandom(300))
    with zipfile.ZipFile(folder / "e-phone.zip", "w") as bundle:
        bundle.writestr(zipfile.ZipInfo("DCIM/IMG_7.jpg", (2026, 11, 28, 10, 0, 0)), b"junk")
    return folder


def _run_driver(
    tmp: Path, folder: Path, store: Path, *, mode: str = "none", point: int = 0
) -> subprocess.CompletedProcess[str]:
    driver = tmp / "driver.py"
    driver.write_text(DRIVER)
    environment = {
        **os.environ,
        "PAPERMODE_SYSTEM_TMPDIR": str(tmp / "system-tmp"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    environment.pop("PAPERMODE_DEBUG", None)
    (tmp / "system-tmp").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, str(driver), mode, str(point), str(folder), str(store), str(tmp / "pids")],
        capture_output=True,
        text=True,
        env=environment,
        start_new_session=True,  # its own process group: `killpg` kills it, not pytest
        timeout=600,
    )


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + 30  # generous: this is not a timing assertion
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    return [pid for pid in pids if _alive(pid)]


def _picture(store: Path) -> dict[str, Any]:
    """What the store holds, without the times of day that differ between runs."""
    db = sqlite3.connect(store)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {
            "files": "SELECT sha256, size, media_kind, first_name, evidence FROM files",
            "ingests": "SELECT DISTINCT sha256, name, status, message FROM ingests "
            "WHERE status != 'duplicate'",
            "captures": "SELECT capture_id, sha256, frame, name, page_id, status, message, "
            "captured_at, identity_source FROM captures",
            "readings": "SELECT capture_id, field_id, value, confidence, status, flags "
            "FROM readings",
            "page_state": "SELECT page_id, field_id, value, status, flags, captures "
            "FROM page_state",
            "claims": "SELECT * FROM file_claims",
        }
        picture: dict[str, Any] = {
            name: sorted(map(repr, db.execute(sql).fetchall())) for name, sql in tables.items()
        }
    finally:
        db.close()
    evidence = store.with_name(store.name + ".evidence")
    picture["evidence"] = sorted(
        str(p.relative_to(evidence)) for p in evidence.rglob("*") if p.is_file()
    )
    return picture


def _fresh_store(template: Path, tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "papermode.db"
    shutil.copy(template, path)
    return path


@pytest.fixture(scope="module")
def uninterrupted(
    prepared: Path,  # noqa: F811
    ward_folder: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[int, dict[str, Any], Path]:
    """Steps of a whole run, the store it leaves, and the template store."""
    template = tmp_path_factory.mktemp("template") / "papermode.db"
    raw = sqlite3.connect(prepared / "template.db")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    shutil.copy(prepared / "template.db", template)
    tmp = tmp_path_factory.mktemp("whole")
    store = _fresh_store(template, tmp)
    done = _run_driver(tmp, ward_folder, store)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["statuses"] == ["free", "quarantined", "quarantined", "quarantined", "read"]
    return report["steps"], _picture(store), template


def _kill_and_rerun(
    tmp: Path, folder: Path, template: Path, mode: str, point: int, expected: dict[str, Any]
) -> None:
    store = _fresh_store(template, tmp)
    killed = _run_driver(tmp, folder, store, mode=mode, point=point)
    assert killed.returncode == -9, (point, killed.stdout, killed.stderr)
    assert "Traceback" not in killed.stderr
    workers = json.loads((tmp / "pids").read_text()) if (tmp / "pids").exists() else []
    assert _wait_gone(workers) == [], f"reader processes alive after kill at step {point}"
    again = _run_driver(tmp, folder, store)
    assert again.returncode == 0, (point, again.stderr)
    assert _picture(store) == expected, f"store differs after a kill at step {point} ({mode})"
    left = [
        p
        for p in [*(tmp / "system-tmp").rglob("*"), *store.parent.rglob("*.part")]
        if p.name != "pids"
    ]
    assert left == [], f"temporary files left after a kill at step {point}: {left}"


def _points(steps: int, count: int) -> list[int]:
    return sorted({max(1, round(steps * (n + 0.5) / count)) for n in range(count)})


def test_kill_at_three_points_then_rerun_gives_the_uninterrupted_store(
    ward_folder: Path, uninterrupted: tuple[int, dict[str, Any], Path], tmp_path: Path
) -> None:
    steps, expected, template = uninterrupted
    for n, point in enumerate(_points(steps, 3)):
        mode = "main" if n % 2 == 0 else "group"
        _kill_and_rerun(tmp_path / f"p{point}", ward_folder, template, mode, point, expected)


@pytest.mark.slow
def test_kill_at_twenty_points_then_rerun_gives_the_uninterrupted_store(
    ward_folder: Path, uninterrupted: tuple[int, dict[str, Any], Path], tmp_path: Path
) -> None:
    steps, expected, template = uninterrupted
    points = _points(steps, 22)
    assert len(points) >= 20, steps
    for n, point in enumerate(points):
        mode = "main" if n % 2 == 0 else "group"
        _kill_and_rerun(tmp_path / f"p{point}", ward_folder, template, mode, point, expected)
