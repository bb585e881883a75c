"""The whole page in context: the straightened photo of an item's page, its box outlined.

The straightened page is made again from the kept original and the homography stored with
its capture (the capture whose crop the reviewer sees), so nothing beyond the store is
needed. A page a person cannot see in context is still reviewable from its crop.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from papermode.core.errors import StoreError
from papermode.reading.imaging import load_images_from_bytes
from papermode.review.items import QueueItem
from papermode.store.database import Store

PX_PER_MM = 4.0
OUTLINE_BGR = (0, 0, 220)


def context_capture(store: Store, item: QueueItem) -> str | None:
    """The read capture whose crop is the item's current crop (else the newest one)."""
    if not item.page_id:
        return None
    if item.kind == "sheet" and item.capture_id:
        return item.capture_id  # the sheet's own first photo, not another sheet's
    row = store.db.execute(
        "SELECT r.capture_id FROM readings r JOIN page_state s "
        "ON s.page_id = r.page_id AND s.field_id = r.field_id AND s.crop = r.crop "
        "WHERE r.page_id = ? AND r.field_id = ? LIMIT 1",
        [item.page_id, item.field_id],
    ).fetchone()
    if row:
        return str(row[0])
    newest = store.db.execute(
        "SELECT capture_id FROM captures WHERE page_id = ? AND status = 'read' "
        "AND homography IS NOT NULL ORDER BY captured_at DESC, capture_id DESC LIMIT 1",
        [item.page_id],
    ).fetchone()
    return str(newest[0]) if newest else None


def page_in_context(
    store: Store, item: QueueItem, capture_id: str, page: np.ndarray | None = None
) -> bytes:
    """JPEG of the straightened page of `capture_id` with the item's box outlined.

    `page` is that straightened page when the caller kept it (`straightened_page`).
    """
    if page is None:
        page = straightened_page(store, capture_id)
    picture = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    _outline(store, item, picture)
    ok, jpeg = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise StoreError(f"the page of capture {capture_id} cannot be drawn.")
    return bytes(jpeg.tobytes())


def straightened_page(store: Store, capture_id: str) -> np.ndarray:
    """The page of a read capture, straightened to layout mm at PX_PER_MM, gray."""
    capture = store.db.execute(
        "SELECT c.frame, c.homography, c.name, f.evidence, p.width_mm, p.height_mm "
        "FROM captures c JOIN files f USING (sha256) JOIN pages p ON p.page_id = c.page_id "
        "WHERE c.capture_id = ?",
        [capture_id],
    ).fetchone()
    if capture is None or capture[1] is None:
        raise StoreError(f"capture {capture_id} has no straightened page to show.")
    frame, homography_text, name, evidence, width_mm, height_mm = capture
    try:
        data = (store.evidence_dir / evidence).read_bytes()
    except OSError as error:
        raise StoreError(
            f"the kept original of capture {capture_id} cannot be read ({error.strerror}).",
            advice="Check that the evidence folder beside the store is complete.",
        ) from error
    gray = load_images_from_bytes(data, Path(name).name)[int(frame)].gray
    homography = np.array(json.loads(homography_text), dtype=np.float64)
    to_layout = np.diag([PX_PER_MM, PX_PER_MM, 1.0]) @ np.linalg.inv(homography)
    size = (int(round(width_mm * PX_PER_MM)), int(round(height_mm * PX_PER_MM)))
    page: np.ndarray = cv2.warpPerspective(
        gray, to_layout, size, flags=cv2.INTER_AREA, borderValue=255
    )
    return page


def _outline(store: Store, item: QueueItem, picture: np.ndarray) -> None:
    if not item.field_id:
        return
    box = store.db.execute(
        "SELECT x, y, w, h FROM fields WHERE page_id = ? AND field_id = ?",
        [item.page_id, item.field_id],
    ).fetchone()
    if box is None:
        return
    x, y, w, h = (value * PX_PER_MM for value in box)
    margin = 1.5 * PX_PER_MM
    cv2.rectangle(
        picture,
        (int(x - margin), int(y - margin)),
        (int(x + w + margin), int(y + h + margin)),
        OUTLINE_BGR,
        thickness=3,
    )
