"""A picture of a read page: the straightened photo with every box outlined by what was read.

Colours say what a clerk needs to know at a glance:

- green: accepted by the machine with something on it (a tick, digits, ink); digits are
  written beside their box;
- grey: accepted as empty;
- orange: sent to a person for review;
- red: a conflict or an implausible value (a mark that disappeared, a written value that
  changed, two answers in one group, a value out of range).

The straightened page is made again from the kept original and the homography stored with
its capture, so nothing beyond the store is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from papermode.core.errors import PageIdError, StoreError
from papermode.core.flags import Flag
from papermode.core.private import private_dir, private_file
from papermode.reading.imaging import load_images_from_bytes
from papermode.store.database import Store

PX_PER_MM = 6.0
CONFLICT_FLAGS = frozenset({Flag.DISAPPEARED, Flag.CHANGED, Flag.CONTRADICTION, Flag.IMPLAUSIBLE})
COLOURS: dict[str, tuple[int, int, int]] = {
    "accepted": (0, 150, 60),
    "empty": (150, 150, 150),
    "review": (240, 140, 0),
    "conflict": (210, 30, 30),
}
LEGEND = (
    ("accepted", "accepted: ticked / value read"),
    ("empty", "accepted: empty"),
    ("review", "for review (a person looks)"),
    ("conflict", "conflict or implausible"),
)
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


@dataclass(frozen=True)
class FieldMark:
    """One box to draw: where it is (mm), its category and the value to print beside it."""

    x: float
    y: float
    w: float
    h: float
    category: str
    label: str | None = None


def category(value: str | None, status: str, flags: tuple[str, ...]) -> str:
    """Which colour a field's current state gets (see the module docstring)."""
    if CONFLICT_FLAGS.intersection(flags):
        return "conflict"
    if status not in ("auto", "confirmed", "corrected"):
        return "review"
    return "empty" if value in (None, "empty") else "accepted"


def field_marks(store: Store, page_id: str) -> list[FieldMark]:
    """The current state of every field of a page, ready to draw."""
    rows = store.db.query(
        "SELECT f.x, f.y, f.w, f.h, f.kind, s.value, s.status, s.flags FROM fields f "
        "JOIN page_state s ON s.page_id = f.page_id AND s.field_id = f.field_id "
        "WHERE f.page_id = ? ORDER BY f.position",
        [page_id],
    )
    marks = []
    for row in rows:
        flags = tuple(json.loads(row["flags"] or "[]"))
        kind_of = category(row["value"], row["status"], flags)
        label = (
            row["value"]
            if row["kind"] == "digits" and row["value"] not in (None, "empty")
            else None
        )
        marks.append(FieldMark(row["x"], row["y"], row["w"], row["h"], kind_of, label))
    return marks


def rectified_page(
    store: Store, page_id: str, px_per_mm: float = PX_PER_MM, capture_id: str | None = None
) -> np.ndarray:
    """A read capture of `page_id` (the newest, or `capture_id`), straightened to layout mm."""
    page = _row(store, "SELECT width_mm, height_mm FROM pages WHERE page_id = ?", page_id)
    only = " AND c.capture_id = ?" if capture_id else ""
    capture = _row(
        store,
        "SELECT c.frame, c.homography, c.name, f.evidence FROM captures c "
        "JOIN files f USING (sha256) WHERE c.page_id = ? AND c.status = 'read' "
        f"AND c.homography IS NOT NULL{only} ORDER BY c.captured_at DESC, c.capture_id DESC "
        "LIMIT 1",
        page_id,
        *([capture_id] if capture_id else []),
    )
    original = store.evidence_dir / capture["evidence"]
    try:
        images = load_images_from_bytes(original.read_bytes(), Path(capture["name"]).name)
    except OSError as error:
        raise StoreError(
            f"The kept original of page {page_id} cannot be read ({error.strerror}).",
            advice="Check that the evidence folder beside the store is complete.",
        ) from error
    gray = images[int(capture["frame"])].gray
    homography = np.array(json.loads(capture["homography"]), dtype=np.float64)
    to_layout = np.diag([px_per_mm, px_per_mm, 1.0]) @ np.linalg.inv(homography)
    size = (int(round(page["width_mm"] * px_per_mm)), int(round(page["height_mm"] * px_per_mm)))
    return cv2.warpPerspective(
        gray, to_layout, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )


def _row(store: Store, sql: str, page_id: str, *more: str) -> dict[str, Any]:
    row = next(iter(store.db.query(sql, [page_id, *more])), None)
    if row is None:
        raise PageIdError(
            f"Page {page_id} has no read capture in this store.",
            advice="Ingest a photo of the page first, or pick one `papermode readings` lists.",
        )
    return dict(row)


def draw_overlay(
    gray: np.ndarray, marks: list[FieldMark], px_per_mm: float = PX_PER_MM
) -> Image.Image:
    """The page (lightened, so the colours stand out) with every box outlined, and a legend."""
    page = Image.fromarray(gray).convert("RGB")
    page = Image.blend(page, Image.new("RGB", page.size, (255, 255, 255)), 0.35)
    draw = ImageDraw.Draw(page)
    font = _font(max(10, int(2.2 * px_per_mm)))
    width = max(2, int(px_per_mm / 3))
    for mark in marks:
        colour = COLOURS[mark.category]
        box = [
            mark.x * px_per_mm,
            mark.y * px_per_mm,
            (mark.x + mark.w) * px_per_mm,
            (mark.y + mark.h) * px_per_mm,
        ]
        draw.rectangle(box, outline=colour, width=width)
        if mark.label:
            # Under the box, on white: beside it would cover the next box of the row.
            where = (box[0], box[3] + 1)
            draw.rectangle(draw.textbbox(where, mark.label, font=font), fill="white")
            draw.text(where, mark.label, fill=colour, font=font)
    return _with_legend(page, font)


def _with_legend(
    page: Image.Image, font: ImageFont.ImageFont | ImageFont.FreeTypeFont
) -> Image.Image:
    row = int(font.size * 1.6) if hasattr(font, "size") else 18
    canvas = Image.new("RGB", (page.width, page.height + row * (len(LEGEND) + 1)), "white")
    canvas.paste(page, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for index, (name, text) in enumerate(LEGEND):
        top = page.height + row // 2 + index * row
        draw.rectangle([row // 2, top, row // 2 + row - 6, top + row - 6], fill=COLOURS[name])
        draw.text((row * 2, top), text, fill=(0, 0, 0), font=font)
    return canvas


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def write_overlay(store: Store, page_id: str, out_path: Path, px_per_mm: float = PX_PER_MM) -> Path:
    """Write the overlay PNG of a read page; returns its path."""
    image = draw_overlay(
        rectified_page(store, page_id, px_per_mm), field_marks(store, page_id), px_per_mm
    )
    private_dir(out_path.parent)
    image.save(private_file(out_path), format="PNG", optimize=False)
    return out_path


def most_telling_page(store: Store) -> str | None:
    """The read page with the most written (non-empty) fields: the best picture to show."""
    row = next(
        iter(
            store.db.query(
                "SELECT s.page_id, SUM(s.value IS NOT NULL AND s.value != 'empty') AS written "
                "FROM page_state s JOIN captures c ON c.page_id = s.page_id AND c.status = 'read' "
                "GROUP BY s.page_id ORDER BY written DESC, s.page_id LIMIT 1"
            )
        ),
        None,
    )
    return None if row is None else str(row["page_id"])
