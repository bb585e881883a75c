"""A quarantined page attributed by its reviewers: its kept original read against the page
they named (`papermode.reading.attributed`), stored as a new capture of that page.

Runs inside the caller's transaction (the review decision that completed the attribution),
so the decision and the reading are recorded together or not at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from papermode.core.errors import PageIdError, ReviewError, StoreError
from papermode.core.flags import FileStatus
from papermode.core.settings import load_settings
from papermode.reading.attributed import IDENTITY_SOURCE, read_attributed
from papermode.reading.fields import PageContext
from papermode.reading.imaging import load_images_from_bytes
from papermode.state.page_state import update_page_state
from papermode.store.database import Store
from papermode.store.rows import now_text

logger = logging.getLogger(__name__)
SUFFIX = "-by-reviewer"


def page_context(store: Store, page_id: str) -> PageContext:
    """What the reader needs of a printed page; ReviewError when this store never printed it."""
    try:
        layout = store.page_layout(page_id)
    except PageIdError as error:
        raise ReviewError(
            f"there is no printed page {page_id} in this store.",
            advice="Type the page id printed at the bottom of the paper (like K3QX-9M2A-7C).",
        ) from error
    snapshot = layout.snapshot_id
    return PageContext(
        layout, store.order_doses(snapshot), store.medicines(snapshot), store.known_mrns()
    )


def attribute_capture(
    store: Store, capture_id: str, page_id: str, *, reviewers: Sequence[str]
) -> str:
    """Read capture `capture_id`'s kept original against `page_id`; the new capture's id.

    Every field of the new capture is in review, flagged `identity_by_reviewer`.
    ReviewError when the photo cannot be read against that page (say retake).
    """
    capture = _capture(store, capture_id)
    data = _original(store, capture)
    image = load_images_from_bytes(data, Path(capture["name"] or "photo").name)[
        int(capture["frame"] or 0)
    ]
    settings = load_settings()
    outcome = read_attributed(
        image,
        page_context(store, page_id),
        thresholds=settings.reading,
        plausibility_limits=settings.plausibility,
    )
    if outcome.status != FileStatus.READ:
        raise ReviewError(
            f"capture {capture_id} cannot be read as page {page_id}.",
            advice=outcome.message or "Photograph the paper again.",
        )
    new_id = capture_id + SUFFIX
    with store.transaction() as db:
        db.table("captures").upsert(
            {
                "capture_id": new_id, "sha256": capture["sha256"], "frame": capture["frame"],
                "name": capture["name"], "page_id": page_id, "status": FileStatus.READ,
                "message": "page named by its reviewers", "captured_at": capture["captured_at"],
                "ingested_at": now_text(), "identity_source": IDENTITY_SOURCE,
                "mrn_check": capture["mrn_check"],
                "homography": json.dumps(outcome.homography),
                "reprojection_mm": outcome.reprojection_mm,
                "quality": json.dumps(outcome.quality),
                "seconds": round(sum(outcome.seconds.values()), 4),
            },
            pk="capture_id",
        )  # fmt: skip
        if outcome.rectified_jpeg:
            store.put_evidence(outcome.rectified_jpeg, suffix=".rectified.jpg")
        db.table("readings").upsert_all(
            [
                {
                    "capture_id": new_id, "page_id": page_id, "field_id": r.reading.field_id,
                    "value": r.reading.value, "confidence": r.reading.confidence,
                    "status": r.reading.status, "flags": json.dumps(list(r.reading.flags)),
                    "crop": r.crop_png, "suggestion": r.suggestion,
                }
                for r in outcome.fields
            ],
            pk=("capture_id", "field_id"),
        )  # fmt: skip
        update_page_state(store, page_id)
        store.audit(
            "attribute", new_id, {"page": page_id, "fields": len(outcome.fields)},
            actor=", ".join(reviewers),
        )  # fmt: skip
    logger.info("capture %s read as page %s on its reviewers' word", capture_id, page_id)
    return new_id


def _capture(store: Store, capture_id: str) -> dict[str, Any]:
    rows = list(
        store.db.query(
            "SELECT c.*, f.evidence FROM captures c JOIN files f USING (sha256) "
            "WHERE c.capture_id = ?",
            [capture_id],
        )
    )
    if not rows:
        raise ReviewError(f"capture {capture_id} has no kept original in this store.")
    return rows[0]


def _original(store: Store, capture: dict[str, Any]) -> bytes:
    try:
        return (store.evidence_dir / str(capture["evidence"])).read_bytes()
    except OSError as error:
        raise StoreError(
            f"the kept original of capture {capture['capture_id']} cannot be read "
            f"({error.strerror}).",
            advice="Check that the evidence folder beside the store is complete.",
        ) from error
