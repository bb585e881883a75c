"""Synthetic station stores for the merge tests: pages, captures, readings and decisions
written with the library directly (no image is read), and the content two stores must share."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papermode.review.decisions import NewDecision
from papermode.review.queue import build_queue
from papermode.review.records import append_decision, ensure_schema
from papermode.state.page_state import update_page_state
from papermode.store.database import Store, open_store
from papermode.store.merge_stores import decision_keys
from papermode.store.stations import name_station

PAGES = ("PAGE-ONE", "PAGE-TWO")
FIELDS = (("f1", "checkbox"), ("f2", "digits"))


@dataclass(frozen=True)
class Photo:
    """One synthetic photo of a page, as a station read it."""

    photo: int  # the same number on two stations is the same file (the same SHA-256)
    page: int
    minute: int  # when it was taken
    ingested_minute: int
    tick: str  # f1
    time: str  # f2
    confidence: float


@dataclass(frozen=True)
class Decided:
    """One decision a station's reviewer made on a field of a page."""

    page: int
    field: str
    kind: str  # confirm, correct, withdraw (of this station's last decision)
    value: str
    reviewer: str


def new_station(path: Path, name: str) -> Store:
    """A store as `prepare` leaves it (the same two printed pages everywhere), named `name`."""
    store = open_store(path)
    with store.transaction() as db:
        for number, page_id in enumerate(PAGES, start=1):
            db.table("pages").insert(
                {"page_id": page_id, "template": "mar", "template_version": "1", "paper": "a4",
                 "pdf": "ward.pdf", "pdf_page": number, "page_number": number,
                 "width_mm": 210.0, "height_mm": 297.0, "registered_at": "2026-12-01T08:00:00"}
            )  # fmt: skip
            db.table("fields").insert_all(
                {"page_id": page_id, "field_id": field_id, "kind": kind, "x": 10.0 + n,
                 "y": 20.0, "w": 5.0, "h": 5.0, "position": n}
                for n, (field_id, kind) in enumerate(FIELDS)
            )  # fmt: skip
        store.audit("pages", "prepare", {"count": len(PAGES)})
        name_station(db, name)
    return store


def add_photo(store: Store, photo: Photo) -> str:
    """Keep the photo's bytes as evidence, record its capture and readings, rebuild its page."""
    data = f"synthetic photo {photo.photo}".encode()
    with store.transaction() as db:
        sha, path = store.put_evidence(data, suffix=".jpg")
        db.table("files").insert(
            {"sha256": sha, "size": len(data), "media_kind": "jpeg", "first_name": "x.jpg",
             "first_seen": f"2026-12-02T{photo.ingested_minute // 60 + 9:02d}:"
             f"{photo.ingested_minute % 60:02d}:00",
             "evidence": str(path.relative_to(store.evidence_dir))},
            ignore=True,
        )  # fmt: skip
        capture_id = f"{sha[:16]}-0"
        page_id = PAGES[photo.page]
        db.table("captures").upsert(
            {"capture_id": capture_id, "sha256": sha, "frame": 0, "name": "x.jpg",
             "page_id": page_id, "status": "read",
             "captured_at": f"2026-12-02T{photo.minute // 60 + 8:02d}:{photo.minute % 60:02d}:00",
             "ingested_at": f"2026-12-02T{photo.ingested_minute // 60 + 9:02d}:"
             f"{photo.ingested_minute % 60:02d}:00"},
            pk="capture_id",
        )  # fmt: skip
        status = "auto" if photo.confidence >= 0.9 else "review"
        db.table("readings").upsert_all(
            [{"capture_id": capture_id, "page_id": page_id, "field_id": field_id,
              "value": value, "confidence": photo.confidence, "status": status,
              "flags": "[]", "crop": None}
             for field_id, value in (("f1", photo.tick), ("f2", photo.time))],
            pk=("capture_id", "field_id"),
        )  # fmt: skip
        update_page_state(store, page_id)
        store.audit("ingest", sha, {"status": "read", "pages": 1})
    return capture_id


def add_decision(store: Store, decided: Decided) -> None:
    """Append one decision as the review service would (no rule checked: events only)."""
    ensure_schema(store.db)
    item_id = f"{PAGES[decided.page]}:{decided.field}"
    with store.transaction() as db:
        withdraws = None
        kind = decided.kind
        if kind == "withdraw":
            last = db.execute(
                "SELECT max(decision_id) FROM review_decisions WHERE item_id = ? "
                "AND kind != 'withdraw'",
                [item_id],
            ).fetchone()[0]
            if last is None:
                kind = "confirm"
            withdraws = last
        value = None if kind == "withdraw" else decided.value
        seen = db.execute(
            "SELECT value FROM page_state WHERE page_id = ? AND field_id = ?",
            [PAGES[decided.page], decided.field],
        ).fetchone()
        decision = NewDecision(
            item_id,
            kind,
            value,
            decided.reviewer,
            1,
            seen[0] if seen else None,
            withdraws,  # type: ignore[arg-type]
        )
        made = append_decision(
            db, decision, page_id=PAGES[decided.page], field_id=decided.field,
            crop_sha256=None, first_reviewer=None,
        )  # fmt: skip
        store.audit("review", item_id, {"decision": made.decision_id}, actor=decided.reviewer)


def build_station(folder: Path, name: str, photos: list[Photo], decisions: list[Decided]) -> Path:
    path = folder / f"{name}.db"
    with new_station(path, name) as store:
        for photo in photos:
            add_photo(store, photo)
        for decided in decisions:
            add_decision(store, decided)
    return path


def copy_store(source: Path, target: Path) -> Path:
    """A copy of a closed store: its file, its evidence folder and its audit head file."""
    shutil.copy2(source, target)
    evidence = source.with_name(source.name + ".evidence")
    if evidence.is_dir():
        shutil.copytree(evidence, target.with_name(target.name + ".evidence"))
    head = source.with_name(source.name + ".audit-head")
    if head.exists():
        shutil.copy2(head, target.with_name(target.name + ".audit-head"))
    return target


def content(store: Store) -> dict[str, Any]:
    """What every store must agree on after the same merges, in any order."""
    db = store.db
    ensure_schema(db)
    keys = decision_keys(db)
    captures = sorted(
        tuple(row.values())
        for row in db.query(
            "SELECT capture_id, sha256, page_id, status, captured_at, ingested_at, station "
            "FROM captures"
        )
    )
    readings = sorted(
        tuple(row.values())
        for row in db.query(
            "SELECT capture_id, field_id, value, confidence, status, flags FROM readings"
        )
    )
    decisions = sorted(
        (
            keys[row["decision_id"]], row["item_id"], row["kind"], row["value"],
            row["reviewer"], row["stage"], keys.get(row["withdraws"]) if row["withdraws"] else None,
        )
        for row in db.query("SELECT * FROM review_decisions")
    )  # fmt: skip
    state = sorted(
        tuple(v for k, v in row.items() if k != "updated_at")
        for row in db.query("SELECT * FROM page_state")
    )
    queue = [
        json.dumps({k: v for k, v in item.as_json().items() if k != "priority"}, sort_keys=True)
        for item in build_queue(store, include_decided=True)
    ]
    files = sorted(tuple(row.values()) for row in db.query("SELECT * FROM files"))
    evidence = sorted(p.name for p in store.evidence_dir.glob("*/*"))
    return {
        "captures": captures,
        "readings": readings,
        "decisions": decisions,
        "page_state": state,
        "queue": queue,
        "files": files,
        "evidence": evidence,
    }
