"""Test pages for the capture core: the real PDF rasterised, pen marks, phone-photo distortions.

A page is rendered by `papermode.printing.pdf.render_pdf` (the real renderer) and rasterised with
pypdfium2; pen marks are drawn in page pixels; `photograph` warps the page into a larger
photo with perspective, rotation, a background, uneven light, blur, noise and JPEG. Every
function returns the truth it needs (the homography page-mm -> photo-px) so tests can check.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2

from papermode.census.snapshot import sample_census_path
from papermode.core.model import PAPER_SIZES_MM, Box, Field, PageLayout, Text
from papermode.core.pageframe import MRN_TEXT_SIZE_PT, frame_for
from papermode.core.pageid import new_page_id
from papermode.printing.pdf import render_pdf
from papermode.printing.prepare import prepare_forms
from papermode.store.database import open_store

MARK_STYLES = ("tick", "cross", "faint", "scribble", "dot", "overshoot", "none")
EXPECTED = {
    "tick": "ticked",
    "cross": "ticked",
    "faint": "ticked",
    "scribble": "filled",
    "dot": "empty",
    "overshoot": "empty",
    "none": "empty",
}


def checkbox_layout(
    paper: str = "a4", seed: str = "test", box_mm: float = 5.0, mrn: str = "12345678"
) -> PageLayout:
    """A page with a grid of checkboxes (6 columns x 10 rows) and two signature boxes."""
    size = PAPER_SIZES_MM[paper]
    fields: list[Field] = []
    for row in range(10):
        for column in range(6):
            box = Box(30.0 + column * 28.0, 60.0 + row * 18.0, box_mm, box_mm)
            group = f"r{row}c{column // 2}"
            value = "given" if column % 2 == 0 else "held"
            fields.append(
                Field(f"cb-{row}-{column}", "checkbox", box, role=value, group=group, value=value)
            )
    fields.append(Field("sig-0", "signature", Box(30.0, 245.0, 40.0, 10.0), label="Initials"))
    fields.append(Field("sig-1", "signature", Box(90.0, 245.0, 40.0, 10.0), label="Initials"))
    mrn_box = frame_for(size).mrn_text_box
    banner = Text(
        mrn_box.x + 1.0,
        mrn_box.y + mrn_box.h - 1.2,
        f"MRN {mrn}",
        size=MRN_TEXT_SIZE_PT,
        bold=True,
        mono=True,
    )
    return PageLayout(
        page_id=new_page_id(seed),
        template="test",
        template_version="1",
        paper=paper,
        size_mm=size,
        snapshot_id="snap",
        patient_id="p1",
        mrn=mrn,
        ward="W1",
        page_number=1,
        page_count=1,
        fields=tuple(fields),
        drawings=(banner,),
    )


def render_page(layout: PageLayout, tmp_path: Path, px_per_mm: float = 10.0) -> np.ndarray:
    """The real PDF of `layout`, rasterised to BGR at `px_per_mm`."""
    pdf = tmp_path / f"{layout.page_id}.pdf"
    render_pdf([layout], pdf)
    document = pypdfium2.PdfDocument(str(pdf))
    bitmap = document[0].render(scale=px_per_mm * 25.4 / 72.0)
    pixels = np.array(bitmap.to_numpy()[:, :, :3], dtype=np.uint8)
    document.close()
    return pixels


def draw_mark(
    page: np.ndarray, box: Box, px_per_mm: float, style: str, rng: np.random.Generator
) -> None:
    """Draw a pen mark of `style` (see MARK_STYLES) in `box`, in place."""
    if style == "none":
        return
    colour = _pen_colour(rng, faint=style == "faint")
    width = max(1, int(round(rng.uniform(0.3, 0.6) * px_per_mm)))
    if style == "faint":
        width = max(1, int(round(0.3 * px_per_mm)))

    def point(u: float, v: float) -> tuple[int, int]:
        jitter = rng.normal(0, 0.03, 2)
        x = (box.x + (u + jitter[0]) * box.w) * px_per_mm
        y = (box.y + (v + jitter[1]) * box.h) * px_per_mm
        return int(round(x)), int(round(y))

    if style in ("tick", "faint"):
        pts = [point(0.15, 0.55), point(0.4, 0.85), point(0.95, 0.05)]
        cv2.polylines(page, [np.array(pts)], False, colour, width, cv2.LINE_AA)
    elif style == "cross":
        cv2.line(page, point(0.15, 0.15), point(0.85, 0.85), colour, width, cv2.LINE_AA)
        cv2.line(page, point(0.85, 0.15), point(0.15, 0.85), colour, width, cv2.LINE_AA)
    elif style == "scribble":
        _scribble(page, box, px_per_mm, colour, rng)
    elif style == "dot":
        centre = point(rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
        cv2.circle(page, centre, max(1, int(0.25 * px_per_mm)), colour, -1, cv2.LINE_AA)
    elif style == "overshoot":
        # The tail of a tick meant for the box on the left, ending 1 mm inside this one.
        start = point(-1.6, 0.9)
        end = (int((box.x + 1.0) * px_per_mm), int((box.y + 0.3 * box.h) * px_per_mm))
        cv2.line(page, start, end, colour, width, cv2.LINE_AA)


def _pen_colour(rng: np.random.Generator, faint: bool) -> tuple[int, int, int]:
    if faint:  # a pencil: neutral grey, light
        level = int(rng.uniform(110, 140))
        return (level, level, level)
    pens = [(140, 40, 20), (30, 30, 30), (20, 20, 170), (120, 60, 10)]  # BGR blue/black/red
    return pens[int(rng.integers(len(pens)))]


def _scribble(
    page: np.ndarray, box: Box, ppm: float, colour: tuple[int, int, int], rng: np.random.Generator
) -> None:
    width = max(2, int(round(rng.uniform(0.5, 0.8) * ppm)))
    steps = int(rng.integers(8, 15))
    pts = []
    for i in range(steps + 1):
        v = 0.05 + 0.9 * i / steps
        u = 0.05 if i % 2 == 0 else 0.95
        pts.append(((box.x + u * box.w) * ppm, (box.y + v * box.h) * ppm))
    pts_arr = np.array(pts, dtype=np.int32) + rng.integers(-1, 2, (len(pts), 2)).astype(np.int32)
    cv2.polylines(page, [pts_arr], False, colour, width, cv2.LINE_AA)


@dataclass(frozen=True)
class Photo:
    pixels: np.ndarray  # BGR
    homography: np.ndarray  # page mm -> photo px


def photograph(
    page: np.ndarray,
    page_ppm: float,
    rng: np.random.Generator,
    *,
    rotation_deg: float = 0.0,
    tilt_deg: float = 0.0,
    photo_size: tuple[int, int] = (3000, 4000),
    fill: float = 0.85,
    blur_sigma: float = 0.0,
    noise: float = 3.0,
    jpeg_quality: int = 85,
    uneven_light: bool = True,
    shift: tuple[float, float] = (0.0, 0.0),
    glare: tuple[float, float] | None = None,
    brightness: float = 1.0,
) -> Photo:
    """`page` as a phone would see it; fill < 1 leaves background, shift moves the page."""
    h, w = page.shape[:2]
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = _target_quad(w, h, rng, rotation_deg, tilt_deg, photo_size, fill, shift)
    homography = cv2.getPerspectiveTransform(source, target)
    background = _background(photo_size, rng)
    warped = cv2.warpPerspective(
        page,
        homography,
        photo_size,
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_TRANSPARENT,
        dst=background,
    )
    warped = np.clip(warped.astype(np.float32) * brightness, 0, 255).astype(np.uint8)
    image = _degrade(warped, rng, blur_sigma, noise, jpeg_quality, uneven_light, glare)
    scale = np.diag([page_ppm, page_ppm, 1.0])
    return Photo(image, homography @ scale)


def _target_quad(
    w: int,
    h: int,
    rng: np.random.Generator,
    rotation_deg: float,
    tilt_deg: float,
    photo_size: tuple[int, int],
    fill: float,
    shift: tuple[float, float],
) -> np.ndarray:
    corners = np.array(
        [[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]],
        dtype=np.float64,
    )
    axis = rng.uniform(0, 2 * np.pi)
    rvec = np.array([np.cos(axis), np.sin(axis), 0.0]) * np.radians(tilt_deg)
    rotation, _ = cv2.Rodrigues(rvec)
    distance = 1.2 * max(w, h)
    points = corners @ rotation.T + np.array([0, 0, distance])
    projected = points[:, :2] / points[:, 2:3] * distance
    angle = np.radians(rotation_deg)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    projected = projected @ turn.T
    span = projected.max(axis=0) - projected.min(axis=0)
    scale = fill * min(photo_size[0] / span[0], photo_size[1] / span[1])
    centre = (projected.max(axis=0) + projected.min(axis=0)) / 2
    offset = np.array(photo_size) / 2 + np.array(shift) * np.array(photo_size)
    return ((projected - centre) * scale + offset).astype(np.float32)


def _background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A wooden-ish table with a darker object (a hand, a phone) near an edge."""
    w, h = size
    base = np.array(rng.uniform(60, 140, 3), dtype=np.float32)
    grain = cv2.resize(rng.normal(0, 18, (h // 40 + 1, w // 40 + 1, 3)).astype(np.float32), (w, h))
    table = np.clip(base + grain, 0, 255).astype(np.uint8)
    cv2.ellipse(
        table, (int(w * 0.9), int(h * 0.5)), (w // 10, h // 6), 20, 0, 360, (70, 100, 160), -1
    )
    return table


def _add_glare(image: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """A lamp's reflection: a bright, saturated blob (centre as fractions of the photo)."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, radius = centre[0] * w, centre[1] * h, 0.07 * min(w, h)
    blob = np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2)))
    return image + 400.0 * blob[:, :, None]


def _degrade(
    image: np.ndarray,
    rng: np.random.Generator,
    blur_sigma: float,
    noise: float,
    jpeg_quality: int,
    uneven_light: bool,
    glare: tuple[float, float] | None = None,
) -> np.ndarray:
    result = image.astype(np.float32)
    if uneven_light:
        h, w = result.shape[:2]
        ys, xs = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
        gx, gy = rng.uniform(-0.2, 0.2, 2)
        light = 0.82 + gx * (xs / w - 0.5) + gy * (ys / h - 0.5)
        light = cv2.resize(light, (w, h))
        result *= light[:, :, None]
    if glare is not None:
        result = _add_glare(result, glare)
    if blur_sigma > 0:
        result = cv2.GaussianBlur(result, (0, 0), blur_sigma)
    result += rng.normal(0, noise, result.shape).astype(np.float32)
    out = np.clip(result, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def project_mm(homography: np.ndarray, points_mm: np.ndarray) -> np.ndarray:
    """Points in page mm through a 3x3 homography."""
    pts = np.asarray(points_mm, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, homography).reshape(-1, 2)


# ---------------------------------------------------------------------- the sample ward, printed


def prepare_sample_ward(folder: Path, start: datetime) -> Path:
    """The sample ward printed for 24 h into `folder` (forms + a template store)."""
    prepare_forms(
        sample_census_path(),
        folder / "forms",
        folder / "template.db",
        start=start,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    return folder


def copy_of_store(prepared: Path, tmp_path: Path) -> Path:
    """A fresh copy of the prepared template store, for one test."""
    path = tmp_path / "papermode.db"
    with open_store(prepared / "template.db") as template:
        template.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(prepared / "template.db", path)
    return path


def manifest_pages(prepared: Path) -> list[dict[str, Any]]:
    """The printed pages of `manifest.json`."""
    pages: list[dict[str, Any]] = json.loads((prepared / "forms" / "manifest.json").read_text())[
        "pages"
    ]
    return pages
