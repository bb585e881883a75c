"""The PDF renderer: rasterise real PDFs and find every marker, QR code, box and word."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp

from papermode.core.model import Box, Field, PageLayout
from papermode.core.pageframe import MARKER_IDS, frame_for
from papermode.printing import pdf

DPI = 200
MM_PER_PX = 25.4 / DPI
TOLERANCE_MM = 0.5


def rasterise(path: Path, dpi: int = DPI) -> list[np.ndarray]:
    """Every page of `path` as an RGB array."""
    document = pdfium.PdfDocument(str(path))
    try:
        return [
            np.asarray(page.render(scale=dpi / 72).to_pil().convert("RGB")) for page in document
        ]
    finally:
        document.close()


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def detect_markers(image: np.ndarray) -> dict[int, np.ndarray]:
    """ArUco marker id -> its 4 corners in mm (OpenCV order TL, TR, BR, BL)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(gray)
    assert ids is not None
    # OpenCV gives pixel-centre coordinates: +0.5 px turns them into edge positions in mm.
    return {
        int(i): (c.reshape(4, 2) + 0.5) * MM_PER_PX
        for i, c in zip(ids.ravel(), corners, strict=True)
    }


def border_mask(image: np.ndarray) -> np.ndarray:
    """Pixels printed in the border grey (`pdf.BORDER_GREY`, neutral): the field borders.

    Black print (text, markers) and its anti-aliased rim are left out.
    """
    red, green, blue = (image[..., i].astype(int) for i in range(3))
    level = int(round(pdf.BORDER_GREY * 255))
    neutral = (np.abs(red - green) < 12) & (np.abs(red - blue) < 12)
    black = cv2.dilate((red < level - 30).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return neutral & (red > level - 30) & (red < 235) & ~black


def edge_position(mask: np.ndarray, expected_mm: float, span: tuple[float, float], axis: int):
    """Where a drawn line lies near `expected_mm` (mm), the line running along `span`.

    axis=1: a vertical line (search x); axis=0: a horizontal line (search y).
    """
    lo, hi = (int(round(v / MM_PER_PX)) for v in span)
    centre = expected_mm / MM_PER_PX
    start, stop = int(centre - 1.5 / MM_PER_PX), int(centre + 1.5 / MM_PER_PX) + 1
    if axis == 1:
        window = mask[lo:hi, start:stop].sum(axis=0)
    else:
        window = mask[start:stop, lo:hi].sum(axis=1)
    assert window.max() > 0.5 * (hi - lo), "no drawn line near the manifest box edge"
    strong = window >= 0.5 * window.max()
    positions = np.arange(start, stop)[strong] + 0.5  # pixel centres
    return float(np.average(positions, weights=window[strong])) * MM_PER_PX


def assert_box_drawn(mask: np.ndarray, box: Box) -> None:
    # Measure each edge along its middle half, away from corners, dots and neighbours.
    rows = (box.y + box.h * 0.25, box.y + box.h * 0.75)
    cols = (box.x + box.w * 0.25, box.x + box.w * 0.75)
    assert edge_position(mask, box.x, rows, axis=1) == pytest.approx(box.x, abs=TOLERANCE_MM)
    right = box.x + box.w
    assert edge_position(mask, right, rows, axis=1) == pytest.approx(right, abs=TOLERANCE_MM)
    assert edge_position(mask, box.y, cols, axis=0) == pytest.approx(box.y, abs=TOLERANCE_MM)
    bottom = box.y + box.h
    assert edge_position(mask, bottom, cols, axis=0) == pytest.approx(bottom, abs=TOLERANCE_MM)


def check_page_raster(image: np.ndarray, layout: PageLayout) -> None:
    """QR text, the four markers at their corners, and every field box where it is declared."""
    height_px, width_px = image.shape[:2]
    assert width_px * MM_PER_PX == pytest.approx(layout.size_mm[0], abs=0.3)
    assert height_px * MM_PER_PX == pytest.approx(layout.size_mm[1], abs=0.3)
    codes = [c for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert [c.text for c in codes] == [layout.qr_text]
    assert codes[0].ec_level in ("M", "Q")
    frame = frame_for(layout.size_mm)
    markers = detect_markers(image)
    assert sorted(markers) == sorted(MARKER_IDS.values())
    for marker_id, corners in markers.items():
        expected = np.array(frame.marker_corners(marker_id))
        assert np.abs(corners - expected).max() < TOLERANCE_MM, marker_id
    mask = border_mask(image)
    for item in layout.fields:
        assert_box_drawn(mask, item.box)


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_markers_qr_and_every_box_land_where_the_layout_says(
    tmp_path: Path, make_handmade_page, paper: str
) -> None:
    pages = [make_handmade_page(paper=paper, page_number=n) for n in (1, 2)]
    path = tmp_path / "ward.pdf"
    pdf.render_pdf(pages, path)
    images = rasterise(path)
    assert len(images) == 2
    for image, layout in zip(images, pages, strict=True):
        check_page_raster(image, layout)


def test_page_size_follows_each_layout(tmp_path: Path, make_handmade_page) -> None:
    pages = [make_handmade_page(paper="a4"), make_handmade_page(paper="letter", seed="x")]
    path = tmp_path / "mixed.pdf"
    pdf.render_pdf(pages, path)
    document = pdfium.PdfDocument(str(path))
    sizes = [tuple(round(v / 72 * 25.4, 1) for v in page.get_size()) for page in document]
    document.close()
    assert sizes == [(210.0, 297.0), (215.9, 279.4)]


def test_text_is_extractable_with_accents_and_non_latin1_letters(
    tmp_path: Path, make_handmade_page
) -> None:
    names = ["DUPONT, Hélène", "ØDEGAARD, Zoë", "WAŁĘSA, Łukasz"]
    pages = [make_handmade_page(seed=name, name=name) for name in names]
    path = tmp_path / "names.pdf"
    pdf.render_pdf(pages, path)
    text = pdf_text(path)
    for name in names:
        assert name in text
    for page in pages:
        assert page.page_id in text  # the OCR fallback under the QR code
    assert "page 1 of 2" in text
    assert "orders as of 2026-11-28 12:00" in text
    assert "Paracétamol 1 g PO q6h" in text
    assert "MRN MRN00417" in text
    assert "Signature" in text and "initials" in text  # labels of text/signature boxes


def test_fonts_are_embedded_truetype(tmp_path: Path, make_handmade_page) -> None:
    path = tmp_path / "fonts.pdf"
    pdf.render_pdf([make_handmade_page()], path)
    fonts = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout
    family = pdf.font_family()
    assert family in fonts
    assert "Helvetica" not in fonts  # no non-embedded base-14 font that lacks Ł
    if Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf").exists():
        assert family == "DejaVu" and "DejaVuSansMono-Bold" in fonts


def test_output_is_deterministic(tmp_path: Path, handmade_pages) -> None:
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    pdf.render_pdf(handmade_pages, first)
    pdf.render_pdf(handmade_pages, second)
    assert first.read_bytes() == second.read_bytes()


def test_comb_draws_decimal_point_and_time_colon(tmp_path: Path, make_handmade_page) -> None:
    layout = make_handmade_page()
    path = tmp_path / "comb.pdf"
    pdf.render_pdf([layout], path)
    mask = border_mask(rasterise(path)[0])

    def dots_on_divider(item: Field, index: int) -> int:
        """Drop-out pixels on the divider before cell `index`, beside the line itself."""
        x = item.box.x + index * item.box.w / item.cells
        left = int((x - 0.7) / MM_PER_PX)
        right = int((x + 0.7) / MM_PER_PX)
        top, bottom = (
            int(v / MM_PER_PX) for v in (item.box.y + 0.4, item.box.y + item.box.h - 0.4)
        )
        line = int(x / MM_PER_PX)
        beside = np.concatenate(
            [mask[top:bottom, left : line - 2], mask[top:bottom, line + 3 : right]], axis=1
        )
        return int(beside.sum())

    time, dose, pulse = (layout.field(f) for f in ("o1-1400-time", "o1-1400-dose", "pulse"))
    assert dots_on_divider(time, 2) > 4  # the colon of HH:MM
    assert dots_on_divider(time, 1) == 0
    assert dots_on_divider(dose, 3) > 2  # the decimal point before the last cell
    assert dots_on_divider(dose, 2) == 0
    assert dots_on_divider(pulse, 1) == dots_on_divider(pulse, 2) == 0


def test_qr_falls_back_to_level_m_when_q_cannot_hold_the_text() -> None:
    long_text = "PM1:" + "A" * 30
    assert len(pdf.qr_modules(long_text)) >= 21
    assert len(pdf.qr_modules("PM1:K3QX-9M2A-7C")) == 21  # version 1 at level Q


def test_empty_page_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        pdf.render_pdf([], tmp_path / "none.pdf")
    assert not (tmp_path / "none.pdf").exists()


def test_the_raster_check_catches_a_box_drawn_1mm_off(tmp_path: Path, make_handmade_page) -> None:
    """The proof above is only worth something if a misplaced box fails it."""
    from dataclasses import replace

    layout = make_handmade_page()
    moved = replace(
        layout.fields[0], box=replace(layout.fields[0].box, x=layout.fields[0].box.x + 1)
    )
    drawn = replace(layout, fields=(moved, *layout.fields[1:]))
    path = tmp_path / "off.pdf"
    pdf.render_pdf([drawn], path)
    with pytest.raises(AssertionError):
        check_page_raster(rasterise(path)[0], layout)
    check_page_raster(rasterise(path)[0], drawn)


def test_falls_back_to_bundled_vera_without_dejavu(
    tmp_path: Path, make_handmade_page, monkeypatch
) -> None:
    monkeypatch.setattr(pdf, "DEJAVU_DIR", tmp_path / "no-fonts-here")
    pdf.fonts.cache_clear()
    try:
        assert pdf.font_family() == "Vera"
        path = tmp_path / "vera.pdf"
        layout = make_handmade_page(name="WAŁESA, Zoë")  # Vera has Ł, not Ę
        pdf.render_pdf([layout], path)
        assert "WAŁESA, Zoë" in pdf_text(path)
        check_page_raster(rasterise(path)[0], layout)
    finally:
        pdf.fonts.cache_clear()  # the next caller registers the real fonts again


def test_printed_page_id_reads_back_with_tesseract(tmp_path: Path, make_handmade_page) -> None:
    """The page id under the QR code is the fallback when the QR is torn or smudged."""
    import pytesseract

    from papermode.core.pageid import normalise

    layouts = [make_handmade_page(seed=f"ocr{n}") for n in range(3)]
    path = tmp_path / "ocr.pdf"
    pdf.render_pdf(layouts, path)
    for image, layout in zip(rasterise(path, dpi=300), layouts, strict=True):
        box = frame_for(layout.size_mm).page_id_text_box.inset(-1.0)
        scale = 300 / 25.4
        crop = image[
            int(box.y * scale) : int((box.y + box.h) * scale),
            int(box.x * scale) : int((box.x + box.w) * scale),
        ]
        text = pytesseract.image_to_string(
            crop,
            config="--psm 7 -c tessedit_char_whitelist=0123456789ABCDEFGHJKMNPQRSTVWXYZ-",
        )
        assert normalise(text) == layout.page_id


def test_markers_and_qr_survive_a_phone_like_photo(tmp_path: Path, make_handmade_page) -> None:
    """Perspective, rotation, blur, dim light and JPEG: the furniture must still be found."""
    layout = make_handmade_page(paper="letter")
    path = tmp_path / "photo.pdf"
    pdf.render_pdf([layout], path)
    page = rasterise(path, dpi=150)[0]
    height, width = page.shape[:2]
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    seen = np.float32([[90, 60], [width - 30, 140], [width - 120, height - 20], [20, height - 90]])
    warp = cv2.getPerspectiveTransform(corners, seen)
    photo = cv2.warpPerspective(page, warp, (width + 40, height + 40), borderValue=(90, 80, 70))
    photo = cv2.GaussianBlur(photo, (5, 5), 1.2)
    photo = (photo.astype(np.float32) * 0.75 + 20).clip(0, 255).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 70])
    photo = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    codes = zxingcpp.read_barcodes(photo)
    assert [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode] == [layout.qr_text]
    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
    found, ids, _ = detector.detectMarkers(gray)
    assert ids is not None and sorted(ids.ravel().tolist()) == [0, 1, 2, 3]
    # The markers' corners map back onto the layout's millimetres through the photo's warp.
    frame = frame_for(layout.size_mm)
    px_per_mm = 150 / 25.4
    for marker_id, quad in zip(ids.ravel(), found, strict=True):
        expected = np.float32(frame.marker_corners(int(marker_id))) * px_per_mm
        projected = cv2.perspectiveTransform(expected.reshape(-1, 1, 2), warp).reshape(4, 2)
        assert np.abs(quad.reshape(4, 2) + 0.5 - projected).max() < 3.0  # pixels
