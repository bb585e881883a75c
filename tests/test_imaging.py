"""Loading every input a ward clerk may drop: photos, scans, PDFs, and files that are not."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from papermode.core.errors import InputFileError
from papermode.reading import imaging
from papermode.reading.imaging import load_images, load_images_from_bytes, sniff_kind


def _jpeg(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def _marked_image(width: int = 120, height: int = 80) -> Image.Image:
    """White with a red block at the top-left, so orientation can be checked."""
    image = Image.new("RGB", (width, height), "white")
    image.paste((255, 0, 0), (0, 0, 20, 20))
    return image


def test_jpeg_loads_as_bgr_photo(tmp_path: Path) -> None:
    path = tmp_path / "page.jpg"
    path.write_bytes(_jpeg(_marked_image(), quality=95))
    [page] = load_images(path)
    assert page.index == 0
    assert page.source == "photo"
    assert page.dpi is None
    assert page.pixels.dtype == np.uint8 and page.pixels.shape == (80, 120, 3)
    blue, green, red = page.pixels[5, 5]
    assert red > 200 and blue < 60 and green < 60  # BGR order
    assert page.gray.shape == (80, 120)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    exif[0x010F] = "PhoneMaker"
    data = _jpeg(_marked_image(), quality=95, exif=exif.tobytes())
    [page] = load_images_from_bytes(data, "IMG_0001.JPG")
    assert page.pixels.shape[:2] == (120, 80)
    # The red block moved from the top-left to the top-right.
    assert page.pixels[5, 74, 2] > 200 and page.pixels[5, 5, 2] > 200 and page.pixels[5, 5, 0] > 200


def test_multipage_tiff_scan_keeps_dpi() -> None:
    frames = [Image.new("L", (200, 300), value) for value in (250, 200, 150)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300))
    pages = load_images_from_bytes(buffer.getvalue(), "scan.tif")
    assert [p.index for p in pages] == [0, 1, 2]
    assert all(p.source == "scan" and p.dpi == pytest.approx(300) for p in pages)
    assert [int(p.pixels[0, 0]) for p in pages] == [250, 200, 150]
    assert pages[0].pixels.ndim == 2


def test_heic_photo_loads() -> None:
    from pillow_heif import from_pillow

    heif = from_pillow(_marked_image(128, 96))
    buffer = io.BytesIO()
    heif.save(buffer, quality=90)
    data = buffer.getvalue()
    assert sniff_kind(data) == "heif"
    [page] = load_images_from_bytes(data, "IMG_0002.HEIC")
    assert page.pixels.shape == (96, 128, 3)
    assert page.pixels[5, 5, 2] > 180


def test_sixteen_bit_palette_alpha_and_cmyk_become_8_bit() -> None:
    wide = Image.fromarray(np.full((10, 10), 65535, dtype=np.uint16))
    buffer = io.BytesIO()
    wide.save(buffer, "PNG")
    [page] = load_images_from_bytes(buffer.getvalue(), "16bit.png")
    assert page.pixels.dtype == np.uint8 and int(page.pixels.max()) == 255

    clear = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    buffer = io.BytesIO()
    clear.save(buffer, "PNG")
    [page] = load_images_from_bytes(buffer.getvalue(), "alpha.png")
    assert int(page.pixels.min()) == 255  # transparent is paper, not ink

    cmyk = Image.new("CMYK", (10, 10), (0, 0, 0, 255))
    [page] = load_images_from_bytes(_jpeg(cmyk), "cmyk.jpg")
    assert page.pixels.shape == (10, 10, 3) and int(page.pixels.max()) < 60

    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([10, 20, 30] + [0] * 765)
    buffer = io.BytesIO()
    palette.save(buffer, "BMP")
    [page] = load_images_from_bytes(buffer.getvalue(), "scan.bmp")
    assert tuple(int(v) for v in page.pixels[0, 0]) == (30, 20, 10)


def test_multipage_pdf_is_rendered_at_reading_resolution(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from pagefactory import checkbox_layout

    from papermode.printing.pdf import render_pdf

    pdf = tmp_path / "scan.pdf"
    render_pdf([checkbox_layout("a4", seed="p1"), checkbox_layout("letter", seed="p2")], pdf)
    pages = load_images(pdf)
    assert [p.index for p in pages] == [0, 1]
    assert all(p.source == "pdf" and p.dpi == pytest.approx(300, abs=1) for p in pages)
    assert np.allclose(pages[0].pixels.shape[:2], (3508, 2480), atol=2)  # A4 at 300 dpi
    assert np.allclose(pages[1].pixels.shape[:2], (3300, 2550), atol=2)  # Letter at 300 dpi


def test_large_pdf_pages_are_rendered_coarser() -> None:
    dpi = imaging.pdf_render_dpi(842 * 2, 1191 * 2)  # A1 poster
    width, height = 842 * 2 / 72 * dpi, 1191 * 2 / 72 * dpi
    assert dpi < 300
    assert width * height <= imaging.MAX_RENDER_PIXELS * 1.01


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "png"),
        (b"II*\x00rest", "tiff"),
        (b"MM\x00*rest", "tiff"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "heif"),
        (b"%PDF-1.7\n", "pdf"),
        (b"PK\x03\x04rest", "zip"),
        (b"hello", "unknown"),
    ],
)
def test_sniff_kind(data: bytes, expected: str) -> None:
    assert sniff_kind(data) == expected


def test_text_file_renamed_jpg_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_text("Patient list\nbed 4 ...\n")
    with pytest.raises(InputFileError) as raised:
        load_images(path)
    message = str(raised.value)
    assert "photo.jpg is not an image or PDF papermode can read (got a text file)" in message
    assert "photograph the page as jpeg, or scan it to pdf" in message.lower()


def test_zip_is_refused_with_its_kind() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    with pytest.raises(InputFileError, match="got a ZIP archive"):
        load_images_from_bytes(buffer.getvalue(), "photos.jpg")


def test_truncated_jpeg_is_refused() -> None:
    data = _jpeg(Image.effect_noise((400, 300), 60).convert("RGB"), quality=90)
    with pytest.raises(InputFileError, match="cut short"):
        load_images_from_bytes(data[: len(data) // 2], "page.jpg")


def test_damaged_pdf_is_refused() -> None:
    with pytest.raises(InputFileError, match="damaged"):
        load_images_from_bytes(b"%PDF-1.4\n1 0 obj garbage", "scan.pdf")


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: the shape of a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    crc = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    end = b"IEND" + b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + crc
        + struct.pack(">I", 0)
        + end
        + struct.pack(">I", zlib.crc32(end) & 0xFFFFFFFF)
    )


def test_decompression_bomb_is_refused() -> None:
    with pytest.raises(InputFileError, match="too large to be a page photo"):
        load_images_from_bytes(_png_header_only(60000, 60000), "bomb.png")


def test_real_compressed_bomb_is_refused() -> None:
    huge = Image.new("1", (11000, 10000), 1)  # 110 MP of white: a few kB as PNG
    buffer = io.BytesIO()
    huge.save(buffer, "PNG")
    assert len(buffer.getvalue()) < 200_000
    with pytest.raises(InputFileError, match="too large"):
        load_images_from_bytes(buffer.getvalue(), "bomb.png")


def test_limits_on_file_size_and_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = [Image.new("L", (20, 20), 200) for _ in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    monkeypatch.setattr(imaging, "MAX_PAGES", 2)
    with pytest.raises(InputFileError, match="has 3 pages"):
        load_images_from_bytes(buffer.getvalue(), "scan.tif")
    monkeypatch.setattr(imaging, "MAX_FILE_BYTES", 100)
    with pytest.raises(InputFileError, match="too large"):
        load_images_from_bytes(buffer.getvalue(), "scan.tif")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot be opened"):
        load_images(tmp_path / "gone.jpg")
