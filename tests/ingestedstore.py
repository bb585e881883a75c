"""A small real store for the verify and backup tests: the sample ward prepared, one MAR
photo read and one bad file quarantined (both kept as evidence), copied fresh per test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pagefactory as pf
from test_ingest import START, _ticked_photo

from papermode.ingest.pipeline import ingest_paths
from papermode.store.database import open_store


@dataclass(frozen=True)
class Ingested:
    """A store with one page read: the photo given, its page id, its evidence path."""

    store: Path
    photo: Path
    page_id: str
    evidence: Path


def make_ingested(folder: Path) -> Ingested:
    """Prepare the sample ward into `folder` and ingest one photo and one bad file."""
    prepared = pf.prepare_sample_ward(folder, START)
    store = prepared / "template.db"
    photo, page, _ = _ticked_photo(prepared, folder, "IMG_0001.jpg", 2)
    note = folder / "IMG_0002.jpg"
    note.write_text("not a photo")
    with open_store(store) as opened:
        summary = ingest_paths([photo, note], opened, workers=1)
        relative = opened.db.execute(
            "SELECT evidence FROM files WHERE first_name = ?", [str(photo)]
        ).fetchone()[0]
        evidence = opened.evidence_dir / relative
    assert sorted(o.status for o in summary.outcomes) == ["quarantined", "read"]
    return Ingested(store, photo, page["page_id"], evidence)


def copy_ingested(source: Ingested, tmp_path: Path) -> Ingested:
    """A copy of the store (SQLite file, evidence folder, audit head) in `tmp_path`."""
    with open_store(source.store) as opened:
        opened.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store = tmp_path / "papermode.db"
    shutil.copy(source.store, store)
    for extra in (".evidence", ".audit-head"):
        origin = source.store.with_name(source.store.name + extra)
        target = store.with_name(store.name + extra)
        if origin.is_dir():
            shutil.copytree(origin, target)
        elif origin.exists():
            shutil.copy(origin, target)
    evidence = store.with_name(store.name + ".evidence") / source.evidence.relative_to(
        source.store.with_name(source.store.name + ".evidence")
    )
    return Ingested(store, source.photo, source.page_id, evidence)
