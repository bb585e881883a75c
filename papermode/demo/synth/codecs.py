"""Write synthetic captures the way phones and scanners do: JPEG (with EXIF), HEIC, PNG,
multi-page PDF and TIFF. Seeded choices (quality, orientation) are recorded in the Capture."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from papermode.demo.synth.degrade import Capture

EXTENSIONS = {
    "jpeg": "jpg",
    "jpeg_exif": "jpg",
    "heic": "heic",
    "png": "png",
    "pdf": "pdf",
    "tiff": "tiff",
}
ORIENTATION_TAG = 0x0112
FIXED_DATE = time.gmtime(1767225600)  # 2026-01-01T00:00:00Z
# EXIF Orientation -> quarter turns (counter-clockwise) of the stored pixels relative to
# the picture as seen: a viewer applying the tag turns them back.
STORED_TURNS = {1: 0, 3: 2, 6: 1, 8: 3}


def stored_pixels(seen: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores for a picture that displays as `seen` with `orientation`."""
    return np.ascontiguousarray(np.rot90(seen, STORED_TURNS[orientation]))


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "papermode-synth"  # Make
    exif[0x0110] = "virtual phone"  # Model
    exif[ORIENTATION_TAG] = orientation
    return exif


def save_photo(
    image: np.ndarray, path: Path, rng: np.random.Generator, *, fmt: str, capture: Capture
) -> Capture:
    """Encode a phone photo as `fmt` (jpeg, jpeg_exif, heic, png); the capture, completed."""
    quality = int(rng.integers(50, 96))
    params = dict(capture.params, format=fmt)
    if fmt in ("jpeg", "jpeg_exif"):
        orientation = int(rng.choice([6, 8, 3], p=[0.7, 0.2, 0.1])) if fmt == "jpeg_exif" else 1
        stored = Image.fromarray(stored_pixels(image, orientation))
        stored.save(path, "JPEG", quality=quality, exif=_exif(orientation))
        params.update(quality=quality, exif_orientation=orientation)
    elif fmt == "heic":
        import pillow_heif

        heif = pillow_heif.from_pillow(Image.fromarray(image))
        # x265 "ultrafast": the default preset takes ~30 s per 12 MP photo on one core.
        heif.save(str(path), quality=quality, enc_params={"preset": "ultrafast"})
        params.update(quality=quality)
    elif fmt == "png":
        Image.fromarray(image).save(path, "PNG", compress_level=1)
    else:
        raise ValueError(f"unknown photo format {fmt!r}")
    return replace(capture, params=params)


def save_scan(images: list[np.ndarray], path: Path, *, fmt: str, dpi: int) -> None:
    """Write scanned pages (grey or 0/255 black-and-white) as one multi-page PDF or TIFF."""
    pages = [_scan_image(image) for image in images]
    first, rest = pages[0], pages[1:]
    if fmt == "pdf":
        # Fixed dates: Pillow would stamp "now", and the same seed must give the same bytes.
        first.save(path, "PDF", save_all=True, append_images=rest, resolution=float(dpi),
                   title="scan", creationDate=FIXED_DATE, modDate=FIXED_DATE)  # fmt: skip
    elif fmt == "tiff":
        compression = "group4" if first.mode == "1" else "tiff_deflate"
        first.save(
            path, "TIFF", save_all=True, append_images=rest, dpi=(dpi, dpi), compression=compression
        )
    else:
        raise ValueError(f"unknown scan format {fmt!r}")


def _scan_image(image: np.ndarray) -> Image.Image:
    picture = Image.fromarray(image)
    if image.ndim == 2 and set(np.unique(image[::7, ::7]).tolist()) <= {0, 255}:
        return picture.convert("1")  # black-and-white scans are stored 1 bit deep
    return picture
