"""Speed changes of ingest (bench/ingest_profile.py) that must not change one decision:
each faster path gives exactly the numbers of the plain one it replaces."""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import pytest
from PIL import Image, ImageOps, ImageSequence, PngImagePlugin

from papermode.core.model import Box, Field
from papermode.ingest import pipeline
from papermode.ingest.inputs import InputFile
from papermode.reading import imaging, washout


def _page_with_boxes(seed: int) -> tuple[np.ndarray, list[Field]]:
    """A noisy rectified page (8 px/mm) with printed boxes of a few sizes, some washed out,
    some at and over the page's edges (clipped strips), some tiny."""
    rng = np.random.default_rng(seed)
    page = rng.normal(235, 12, (700, 500)).clip(0, 255).astype(np.uint8)
    fields = []
    sizes = [(5.0, 5.0), (5.0, 5.0), (12.0, 7.0), (30.0, 6.0), (0.3, 0.3), (1.0, 9.0)]
    for n in range(120):
        w, h = sizes[n % len(sizes)]
        x, y = float(rng.uniform(-2, 62 - w / 2)), float(rng.uniform(-2, 87 - h / 2))
        fields.append(Field(f"f{n}", "checkbox", Box(round(x, 2), round(y, 2), w, h)))
        x0, y0 = max(int(x * 8), 0), max(int(y * 8), 0)
        x1, y1 = int((x + w) * 8), int((y + h) * 8)
        ink = int(rng.integers(120, 240))  # some borders fainter than the paper's noise
        page[y0 : y0 + 2, x0:x1] = page[y1 : y1 + 2, x0:x1] = ink
        page[y0:y1, x0 : x0 + 2] = page[y0:y1, x1 : x1 + 2] = ink
    page[:, 300:] = np.maximum(page[:, 300:], 250)  # glare on the right
    return page, fields


def test_batched_border_contrasts_are_the_plain_ones() -> None:
    for seed in range(4):
        page, fields = _page_with_boxes(seed)
        batched = washout.border_contrasts(page, fields, 8.0)
        plain = [washout.border_contrast(page, f, 8.0) for f in fields]
        assert batched == plain  # exactly, not approximately: no decision may move
        washed = {f.field_id for f, c in zip(fields, plain, strict=True) if c < 12.0}
        assert 0 < len(washed) < len(fields)  # both sides of the threshold are exercised
        assert set(washout.check_borders(page, fields, 8.0).washed_out) == washed


def _reference_pixels(data: bytes) -> list[np.ndarray]:
    """What `imaging` gave before: Pillow's exif_transpose, convert("RGB"), channels reversed."""
    pages = []
    with Image.open(io.BytesIO(data)) as image:
        for frame in ImageSequence.Iterator(image):
            upright = ImageOps.exif_transpose(frame) or frame
            if upright.mode == "L":
                pages.append(np.asarray(upright))
            else:
                pages.append(np.ascontiguousarray(np.asarray(upright.convert("RGB"))[:, :, ::-1]))
    return pages


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("kind", ["PNG", "HEIF", "TIFF"])
def test_pillow_pages_are_the_pixels_they_were(kind: str, orientation: int) -> None:
    """HEIC, PNG and TIFF pages without Pillow's copies: the same pixels, turned the same."""
    rng = np.random.default_rng(orientation)
    rgb = rng.integers(0, 256, (40, 64, 3), dtype=np.uint8)
    rgb[:8, :16] = (250, 10, 10)  # a red corner shows which way the page was turned
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    frames = [Image.fromarray(rgb), Image.fromarray(rgb[::-1].copy()).convert("L")]
    extra = {"save_all": True, "append_images": frames[1:]} if kind == "TIFF" else {}
    quality = {"quality": -1} if kind == "HEIF" else {}  # lossless: nothing to compare away
    frames[0].save(out, format=kind, exif=exif.tobytes(), **extra, **quality)
    data = out.getvalue()
    pages = imaging.load_images_from_bytes(data, f"page.{kind.lower()}")
    reference = _reference_pixels(data)
    assert len(pages) == len(reference) >= 1
    for page, expected in zip(pages, reference, strict=True):
        assert page.pixels.shape == expected.shape
        assert page.pixels.flags.c_contiguous
        assert np.array_equal(page.pixels, expected)
    if orientation in (6, 8):  # turned a quarter: the page is now tall
        assert pages[0].pixels.shape[:2] == (64, 40)


@pytest.mark.parametrize("where", ["exif_chunk", "raw_profile_text", "none"])
def test_png_capture_time_is_what_pillow_finds(where: str) -> None:
    """A PNG's EXIF date is read where Pillow reads it, and a PNG without one is not
    decoded whole to find that out (the file time is used, as before)."""
    exif = Image.Exif()
    exif[0x0132] = "2026:11:28 09:41:00"
    info = PngImagePlugin.PngInfo()
    extra: dict[str, object] = {}
    if where == "exif_chunk":
        extra["exif"] = exif.tobytes()
    elif where == "raw_profile_text":
        raw = exif.tobytes()
        info.add_text("Raw profile type exif", f"\nexif\n{len(raw):8}\n{raw.hex()}\n", zip=True)
    out = io.BytesIO()
    Image.fromarray(np.full((30, 40, 3), 200, np.uint8)).save(out, "PNG", pnginfo=info, **extra)
    item = InputFile("shot.png", mtime=datetime(2026, 11, 28, 7, 0).timestamp())
    with Image.open(io.BytesIO(out.getvalue())) as image:
        pillow_date = image.getexif().get(0x0132)
    taken = pipeline._captured_at(item, out.getvalue())
    if where == "none":
        assert pillow_date is None and taken == datetime(2026, 11, 28, 7, 0)
    else:
        assert pillow_date and taken == datetime(2026, 11, 28, 9, 41)


def test_pdf_capture_time_is_the_file_time() -> None:
    """Pillow opens no PDF: its capture time is the file's, as it was."""
    out = io.BytesIO()
    Image.fromarray(np.full((30, 40), 200, np.uint8)).save(out, "PDF")
    with pytest.raises(Exception):  # noqa: B017 - whatever Pillow raises: it cannot open one
        Image.open(io.BytesIO(out.getvalue()))
    item = InputFile("scan.pdf", mtime=datetime(2026, 11, 28, 7, 0).timestamp())
    assert pipeline._captured_at(item, out.getvalue()) == datetime(2026, 11, 28, 7, 0)
