"""The image a reviewer sees beside a proposed order or a photo identity: the medication
line (or the whole screen) cut from the original photo kept as evidence."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np

from papermode.core.errors import PapermodeError
from papermode.reading.imaging import load_images_from_bytes
from papermode.review.items import QueueItem
from papermode.store.database import Store

log = logging.getLogger(__name__)
MARGIN_PX = 24
WHOLE_PHOTO_PX = 1400  # an identity item shows the whole screen, at most this wide


def photo_crop(store: Store, item: QueueItem) -> bytes | None:
    """PNG of the line a `proposed_order` item was read from (the whole photo for a
    `photo_identity` item, or when the line's boxes are unknown); None without evidence."""
    photo = store.db.execute(
        "SELECT f.evidence, p.page_index, p.to_original FROM free_photos p "
        "JOIN files f ON f.sha256 = p.file_sha256 WHERE p.capture_id = ?",
        [item.capture_id],
    ).fetchone()
    if photo is None or not photo[0]:
        return None
    pixels = _original(store.evidence_dir / photo[0], int(photo[1] or 0))
    if pixels is None:
        return None
    box = _line_box(store, item, photo[2], pixels.shape[:2])
    if box is not None:
        x, y, w, h = box
        pixels = pixels[y : y + h, x : x + w]
    elif pixels.shape[1] > WHOLE_PHOTO_PX:
        scale = WHOLE_PHOTO_PX / pixels.shape[1]
        pixels = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode(".png", pixels)
    return bytes(png.tobytes()) if ok else None


def _original(path: Path, frame: int) -> np.ndarray | None:
    try:
        images = load_images_from_bytes(path.read_bytes(), path.name)
    except (OSError, PapermodeError) as error:
        log.warning("photo crop: evidence %s not readable: %s", path.name, error)
        return None
    return images[frame].pixels if frame < len(images) else None


def _line_box(
    store: Store, item: QueueItem, to_original: str | None, shape: tuple[int, ...]
) -> tuple[int, int, int, int] | None:
    """The medication line's word boxes mapped to the original photo, with a margin."""
    if item.kind != "proposed_order" or not to_original:
        return None
    candidate_id = item.item_id.removeprefix("proposal:").rsplit(":", 1)[0]
    row = store.db.execute(
        "SELECT boxes FROM free_medication_candidates WHERE candidate_id = ?", [candidate_id]
    ).fetchone()
    boxes = json.loads(row[0]) if row and row[0] else []
    if not boxes:
        return None
    matrix = np.array(json.loads(to_original), dtype=np.float64).reshape(3, 3)
    corners = np.array(
        [[[x, y], [x + w, y], [x, y + h], [x + w, y + h]] for x, y, w, h in boxes],
        dtype=np.float64,
    ).reshape(-1, 1, 2)
    points = cv2.perspectiveTransform(corners, matrix).reshape(-1, 2)
    left, top = np.maximum(points.min(axis=0) - MARGIN_PX, 0).astype(int)
    right, bottom = points.max(axis=0) + MARGIN_PX
    right, bottom = min(int(right), shape[1]), min(int(bottom), shape[0])
    if right <= left or bottom <= top:
        return None
    return int(left), int(top), int(right - left), int(bottom - top)
