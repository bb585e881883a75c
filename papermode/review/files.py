"""Queue items that are files and pages, not boxes: retakes never retaken, quarantined
files, and printed pages never photographed."""

from __future__ import annotations

from collections.abc import Iterable

from papermode.review.items import QueueItem
from papermode.store.database import Store

UNUSED_TEMPLATES = frozenset({"blank_admission"})  # spare packs are rightly never filled


def attributable(item: QueueItem) -> bool:
    """A page image whose identity the machine could not establish (an unknown or
    disagreeing page, a QR and printed id unread): reviewers may name its page id."""
    if not item.capture_id or not item.item_id.startswith("file:") or item.page_id:
        return False
    return item.kind in ("identity", "retake")


def capture_items(store: Store) -> Iterable[QueueItem]:
    """Retakes never retaken and quarantined page images."""
    rows = store.db.query(
        "SELECT c.*, p.ward, p.patient_id FROM captures c LEFT JOIN pages p USING (page_id) "
        "WHERE c.status IN ('retake', 'quarantined') ORDER BY c.ingested_at, c.capture_id"
    )
    for row in rows:
        if row["status"] == "retake":
            if row["page_id"] and _read_later(store, row["page_id"], row["ingested_at"]):
                continue
            level, kind = "retake", "retake"
        elif _read_again(store, row["sha256"], row["ingested_at"]):
            continue
        elif row["mrn_check"] == "mismatch" or not row["page_id"]:
            level, kind = "identity", "identity"
        else:
            level, kind = "quarantined", "quarantined"
        yield QueueItem(
            item_id=f"file:{row['capture_id']}",
            kind=kind,
            level=level,
            ward=row["ward"],
            patient_id=row["patient_id"],
            page_id=row["page_id"],
            capture_id=row["capture_id"],
            file=row["name"],
            message=(row["message"] or "").split("\n")[0] or None,
            sort_key=(row["ward"] or "", "", row["ingested_at"] or "", row["name"] or ""),
        )


def ingest_items(store: Store) -> Iterable[QueueItem]:
    """Files quarantined before any page image was read (damaged, unknown format)."""
    rows = store.db.query(
        "SELECT i.* FROM ingests i WHERE i.status = 'quarantined' AND NOT EXISTS "
        "(SELECT 1 FROM captures c WHERE c.sha256 = i.sha256) ORDER BY i.ingest_id"
    )
    for row in rows:
        if _read_again(store, row["sha256"], row["ingested_at"]):
            continue
        yield QueueItem(
            item_id=f"file:{row['sha256'][:16]}",
            kind="quarantined",
            level="quarantined",
            file=row["name"],
            message=(row["message"] or "").split("\n")[0] or None,
            sort_key=("", "", row["ingested_at"] or "", row["name"] or ""),
        )


def unphotographed_items(store: Store) -> Iterable[QueueItem]:
    """Pages of the newest print run with a patient and no read capture."""
    latest = store.db.execute(
        "SELECT snapshot_id FROM snapshots ORDER BY taken_at DESC, registered_at DESC LIMIT 1"
    ).fetchone()
    if latest is None:
        return
    rows = store.db.query(
        "SELECT * FROM pages p WHERE snapshot_id = ? AND patient_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM captures c WHERE c.page_id = p.page_id AND c.status = 'read')",
        [latest[0]],
    )
    for row in rows:
        if row["template"] in UNUSED_TEMPLATES:
            continue
        yield QueueItem(
            item_id=f"page:{row['page_id']}",
            kind="unphotographed",
            level="never_photographed",
            ward=row["ward"],
            patient_id=row["patient_id"],
            page_id=row["page_id"],
            template=row["template"],
            file=row["pdf"],
            message=f"printed page {row['pdf_page']} of {row['pdf']} was never photographed",
            sort_key=(row["ward"] or "", row["patient_id"] or "", row["pdf"], row["pdf_page"]),
        )


def _read_later(store: Store, page_id: str, since: str | None) -> bool:
    return (
        store.db.execute(
            "SELECT 1 FROM captures WHERE page_id = ? AND status = 'read' AND ingested_at >= ?",
            [page_id, since or ""],
        ).fetchone()
        is not None
    )


def _read_again(store: Store, sha: str, since: str | None) -> bool:
    """A quarantined file given again later and read (its page became known)."""
    return (
        store.db.execute(
            "SELECT 1 FROM ingests WHERE sha256 = ? AND status IN ('read', 'retake', 'free') "
            "AND ingested_at >= ?",
            [sha, since or ""],
        ).fetchone()
        is not None
    )
