"""Two ingests of the same files at once record each file once.

Each file's SHA-256 is claimed in the store before it is read; the claim of a run that is
gone (killed) is taken over. Real processes, a real store.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from pathlib import Path

import cv2
import numpy as np

from papermode.ingest.pipeline import ingest_paths
from papermode.store.database import open_store


def _note(path: Path, text: str) -> Path:
    note = np.full((900, 700, 3), 245, np.uint8)
    cv2.putText(note, text, (40, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3)
    cv2.imwrite(str(path), note)
    return path


def _ingest(folder: Path, store: Path, start: multiprocessing.synchronize.Barrier) -> None:
    with open_store(store) as opened:
        start.wait()
        ingest_paths([folder], opened, workers=1)


def test_two_ingests_of_one_folder_at_once_record_each_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "DCIM"
    folder.mkdir()
    for n, word in enumerate(["Paracetamol", "Amoxicilline", "Morphine", "Heparine"]):
        _note(folder / f"IMG_{n}.jpg", word)
    store = tmp_path / "papermode.db"
    with open_store(store):
        pass
    context = multiprocessing.get_context("fork")
    start = context.Barrier(2)
    runs = [context.Process(target=_ingest, args=(folder, store, start)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=600)
        assert run.exitcode == 0
    with open_store(store) as opened:
        recorded = opened.db.execute(
            "SELECT sha256, COUNT(*) FROM ingests WHERE status != 'duplicate' GROUP BY sha256"
        ).fetchall()
        captures = opened.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
        claims = opened.db.execute("SELECT COUNT(*) FROM file_claims").fetchone()[0]
    assert len(recorded) == 4 and all(count == 1 for _, count in recorded)
    assert captures == 4
    assert claims == 0


def test_a_file_claimed_by_a_live_run_is_left_to_it(tmp_path: Path) -> None:
    photo = _note(tmp_path / "IMG_1.jpg", "Paracetamol")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    host = os.uname().nodename
    with open_store(tmp_path / "papermode.db") as store:
        assert store.claim_file(sha, f"{host}:{os.getppid()}:other-run")  # alive: our parent
        busy = ingest_paths([photo], store, workers=1)
        recorded = store.db.execute("SELECT COUNT(*) FROM ingests").fetchone()[0]
        assert [o.status for o in busy.outcomes] == ["duplicate"]
        assert "another papermode run is reading this file" in (busy.outcomes[0].message or "")
        assert recorded == 0
        store.db.execute("UPDATE file_claims SET owner = ?", [f"{host}:999999999:killed-run"])
        taken_over = ingest_paths([photo], store, workers=1)
        assert [o.status for o in taken_over.outcomes] == ["free"]
        assert store.db.execute("SELECT COUNT(*) FROM file_claims").fetchone()[0] == 0
