"""Finding the page in photos and scans, straightening it, and the quality gate's messages.

Pages are the real PDF (papermode.printing.pdf) rasterised, then photographed by `pagefactory`:
perspective, rotation, background, uneven light, noise, JPEG.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pagefactory as pf  # noqa: E402

from papermode.core.model import PageLayout  # noqa: E402
from papermode.core.pageframe import frame_for  # noqa: E402
from papermode.reading import locate, quality  # noqa: E402
from papermode.reading.onepage import MAX_REPROJECTION_MM, marker_groups  # noqa: E402

PAGE_PPM = 10.0
PHOTO = (2400, 3200)  # 7.7 MP keeps the suite fast; one test uses 12 MP


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[PageLayout, np.ndarray]]:
    folder = tmp_path_factory.mktemp("pages")
    result = {}
    for paper in ("a4", "letter"):
        layout = pf.checkbox_layout(paper, seed=f"locate-{paper}")
        result[paper] = (layout, pf.render_page(layout, folder, PAGE_PPM))
    return result


def _max_error_mm(location: locate.PageLocation, truth: np.ndarray, layout: PageLayout) -> float:
    """Worst distance, in layout mm, between where the fit and the truth put each box corner."""
    corners = np.array(
        [[f.box.x, f.box.y] for f in layout.fields]
        + [[f.box.x + f.box.w, f.box.y + f.box.h] for f in layout.fields]
    )
    assert location.homography is not None
    photo_px = pf.project_mm(truth, corners)
    back = pf.project_mm(np.linalg.inv(location.homography), photo_px)
    return float(np.linalg.norm(back - corners, axis=1).max())


@pytest.mark.parametrize(
    ("paper", "rotation", "tilt"),
    [
        ("a4", 0, 0),
        ("a4", 90, 18),
        ("a4", 180, 25),
        ("a4", 270, 12),
        ("a4", 37, 20),
        ("letter", 0, 22),
        ("letter", 90, 10),
        ("letter", 200, 25),
    ],
)
def test_photo_is_located_in_any_orientation(
    pages, paper: str, rotation: float, tilt: float
) -> None:
    layout, page = pages[paper]
    rng = np.random.default_rng(rotation + 7 * tilt)
    photo = pf.photograph(
        page,
        PAGE_PPM,
        rng,
        rotation_deg=rotation,
        tilt_deg=tilt,
        photo_size=PHOTO,
        fill=0.8,
        jpeg_quality=60,
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None
    assert location.page_id == layout.page_id
    assert location.qr_text == layout.qr_text
    assert location.size_mm == layout.size_mm and location.size_certain
    assert location.missing_corners == () and location.cut_off_corners == ()
    assert location.reprojection_mm < 0.3
    assert _max_error_mm(location, photo.homography, layout) < 0.5
    assert quality.retake_reason(photo.pixels, location) is None


def test_twelve_megapixel_photo_blurred_and_noisy(pages) -> None:
    layout, page = pages["a4"]
    rng = np.random.default_rng(12)
    photo = pf.photograph(
        page,
        PAGE_PPM,
        rng,
        rotation_deg=-8,
        tilt_deg=15,
        photo_size=(3024, 4032),
        blur_sigma=1.2,
        noise=6,
        jpeg_quality=50,
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None and location.page_id == layout.page_id
    assert _max_error_mm(location, photo.homography, layout) < 0.5


@pytest.mark.parametrize("dpi", [150, 300, 600])
def test_flatbed_scans_any_resolution_upside_down(pages, dpi: int) -> None:
    layout, page = pages["letter"]
    ppm = dpi / 25.4
    scan = cv2.resize(
        cv2.cvtColor(page, cv2.COLOR_BGR2GRAY),
        None,
        fx=ppm / PAGE_PPM,
        fy=ppm / PAGE_PPM,
        interpolation=cv2.INTER_AREA,
    )
    scan = cv2.rotate(scan, cv2.ROTATE_180)
    location = locate.locate_page(scan)
    assert location is not None and location.page_id == layout.page_id
    h, w = scan.shape
    flip = np.array([[-1, 0, w], [0, -1, h], [0, 0, 1.0]])
    truth = flip @ np.diag([ppm, ppm, 1.0])
    assert _max_error_mm(location, truth, layout) < 0.3


def test_fit_to_page_printing_is_absorbed(pages) -> None:
    layout, page = pages["a4"]
    shrink = 0.93  # the printer's "fit to page": everything 7% smaller, centred
    h, w = page.shape[:2]
    small = cv2.resize(page, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    printed = np.full_like(page, 255)
    top, left = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    printed[top : top + small.shape[0], left : left + small.shape[1]] = small
    photo = pf.photograph(
        printed, PAGE_PPM, np.random.default_rng(4), tilt_deg=15, photo_size=PHOTO
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None and location.page_id == layout.page_id
    fit = np.array([[shrink, 0, left / PAGE_PPM], [0, shrink, top / PAGE_PPM], [0, 0, 1.0]])
    assert _max_error_mm(location, photo.homography @ fit, layout) < 0.5


def test_size_hint_and_refit_fix_the_paper_size(pages) -> None:
    layout, page = pages["letter"]
    photo = pf.photograph(page, PAGE_PPM, np.random.default_rng(5), photo_size=PHOTO)
    hinted = locate.locate_page(photo.pixels, size_hint_mm=layout.size_mm)
    assert hinted is not None and hinted.size_mm == layout.size_mm
    wrong = locate.refit(hinted, (210.0, 297.0))
    right = locate.refit(wrong, layout.size_mm)
    assert wrong.reprojection_mm > 3 * right.reprojection_mm
    assert right.page_id == layout.page_id


def test_rectified_page_puts_boxes_at_their_mm(pages) -> None:
    layout, page = pages["a4"]
    photo = pf.photograph(
        page, PAGE_PPM, np.random.default_rng(6), rotation_deg=90, tilt_deg=20, photo_size=PHOTO
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None
    ppm = 8.0
    rectified = locate.rectify(photo.pixels, location, px_per_mm=ppm)
    assert rectified.shape == (round(297 * ppm), round(210 * ppm))
    # The printed QR code is where the frame says: its quiet zone is white, its centre dark.
    qr = frame_for(layout.size_mm).qr_box
    y0, y1 = int(qr.y * ppm), int((qr.y + qr.h) * ppm)
    x0, x1 = int(qr.x * ppm), int((qr.x + qr.w) * ppm)
    code = rectified[y0:y1, x0:x1]
    assert code[:, :4].mean() > 150 and code[:4, :].mean() > 150
    assert code[code.shape[0] // 4 : -code.shape[0] // 4, 12:-12].mean() < 170


def test_printed_page_id_and_banner_mrn_are_read(pages) -> None:
    layout, page = pages["a4"]
    blotted = page.copy()
    qr = frame_for(layout.size_mm).qr_box
    cv2.rectangle(
        blotted,
        (int(qr.x * PAGE_PPM) + 25, int(qr.y * PAGE_PPM) + 25),
        (int((qr.x + qr.w) * PAGE_PPM) - 25, int((qr.y + qr.h) * PAGE_PPM) - 25),
        (255, 255, 255),
        -1,
    )  # coffee stain on the QR code
    photo = pf.photograph(
        blotted, PAGE_PPM, np.random.default_rng(8), rotation_deg=180, tilt_deg=12, photo_size=PHOTO
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None and location.page_id is None and location.homography is not None
    rectified = locate.rectify(photo.pixels, location, 8.0)
    assert locate.read_printed_page_id(rectified, location.size_mm, 8.0) == layout.page_id
    assert locate.read_banner_mrn(rectified, location.size_mm, 8.0) == layout.mrn


def test_photo_without_markers_is_not_a_form() -> None:
    rng = np.random.default_rng(9)
    note = np.full((1500, 2000, 3), 235, np.uint8)
    for row in range(12):
        cv2.putText(
            note,
            "metoprolol 25 mg PO bid given 08:00",
            (60, 100 + row * 110),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.6,
            (40, 40, 40),
            3,
        )
    note = np.clip(note + rng.normal(0, 4, note.shape), 0, 255).astype(np.uint8)
    assert locate.locate_page(note) is None
    assert quality.retake_reason(note, None) is None


def test_three_markers_still_give_a_homography(pages) -> None:
    layout, page = pages["a4"]
    covered = page.copy()
    box = frame_for(layout.size_mm).marker_box("bottom_left")
    centre = (int((box.x + 6) * PAGE_PPM), int((box.y + 6) * PAGE_PPM))
    cv2.circle(covered, centre, int(10 * PAGE_PPM), (90, 120, 170), -1)  # a thumb
    photo = pf.photograph(
        covered, PAGE_PPM, np.random.default_rng(10), tilt_deg=10, photo_size=PHOTO
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None and location.page_id == layout.page_id
    assert location.missing_corners == ("bottom_left",) and location.cut_off_corners == ()
    # Three markers leave the perspective near the missing one less certain; the mark
    # reader's local re-registration (+-1.5 mm) absorbs this.
    assert _max_error_mm(location, photo.homography, layout) < 0.8
    assert quality.retake_reason(photo.pixels, location) is None


@pytest.mark.parametrize(
    ("rotation", "shift", "corner"),
    [
        (20, (-0.15, -0.05), "bottom-left"),
        (-20, (-0.14, 0.08), "top-left"),
        (-20, (0.14, -0.06), "bottom-right"),
    ],
)
def test_cut_off_corner_asks_to_step_back(pages, rotation, shift, corner: str) -> None:
    layout, page = pages["a4"]
    photo = pf.photograph(
        page,
        PAGE_PPM,
        np.random.default_rng(11),
        rotation_deg=rotation,
        shift=shift,
        photo_size=PHOTO,
        fill=0.8,
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None
    assert quality.retake_reason(photo.pixels, location) == (
        f"the {corner} corner of the page is outside the photo: step back and include the "
        "whole page"
    )


def test_half_the_page_outside_names_both_corners(pages) -> None:
    layout, page = pages["a4"]
    photo = pf.photograph(
        page, PAGE_PPM, np.random.default_rng(12), shift=(0.3, 0.0), photo_size=PHOTO
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None and location.homography is None
    assert quality.retake_reason(photo.pixels, location) == (
        "the top-right and bottom-right corners of the page are outside the photo: step back "
        "and include the whole page"
    )


def test_blurred_photo_is_retaken(pages) -> None:
    layout, page = pages["a4"]
    sharp = pf.photograph(page, PAGE_PPM, np.random.default_rng(13), photo_size=PHOTO)
    blurred = pf.photograph(
        page, PAGE_PPM, np.random.default_rng(13), photo_size=PHOTO, blur_sigma=6.0
    )
    for photo, expected in ((sharp, None), (blurred, quality.BLURRED)):
        location = locate.locate_page(photo.pixels)
        assert location is not None
        assert quality.retake_reason(photo.pixels, location) == expected
    assert quality.BLURRED == (
        "the photo is too blurred: hold the phone still, closer, in better light"
    )


def test_dark_photo_is_retaken(pages) -> None:
    layout, page = pages["a4"]
    photo = pf.photograph(
        page, PAGE_PPM, np.random.default_rng(14), photo_size=PHOTO, brightness=0.22
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None
    assert quality.retake_reason(photo.pixels, location) == (
        "the photo is too dark: turn on the light or move to a window"
    )


def test_glare_is_retaken(pages) -> None:
    layout, page = pages["a4"]
    photo = pf.photograph(
        page, PAGE_PPM, np.random.default_rng(15), photo_size=PHOTO, glare=(0.45, 0.55)
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None
    assert quality.retake_reason(photo.pixels, location) == (
        "glare covers part of the page: tilt the phone to avoid reflections"
    )


def test_tiny_page_in_photo_asks_to_move_closer(pages) -> None:
    layout, page = pages["a4"]
    photo = pf.photograph(
        page, PAGE_PPM, np.random.default_rng(16), photo_size=(1600, 1200), fill=0.6
    )
    location = locate.locate_page(photo.pixels)
    assert location is not None
    report = quality.measure_quality(photo.pixels, location)
    assert report.px_per_mm < quality.MIN_PX_PER_MM
    assert quality.reason_for(report) == (
        "the page is too small in the photo: move closer so the page fills the photo"
    )


def test_black_and_white_scan_is_located_and_read_not_refused(pages) -> None:
    """1-bit scans are read (their empties go to review: tests/test_bilevel.py)."""
    layout, page = pages["a4"]
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    bilevel = np.where(gray < 150, 0, 255).astype(np.uint8)  # a 1-bit scanner setting
    location = locate.locate_page(bilevel)
    assert location is not None and location.page_id == layout.page_id
    assert quality.measure_quality(bilevel, location).bilevel
    assert quality.retake_reason(bilevel, location) is None
    assert quality.retake_reason(gray, locate.locate_page(gray)) is None


def test_two_pages_side_by_side_are_one_page_per_photo(pages, tmp_path: Path) -> None:
    """Every marker of both pages is found; no group of four is taken as one page."""
    layout, page = pages["a4"]
    other = pf.render_page(pf.checkbox_layout("a4", seed="locate-other"), tmp_path, PAGE_PPM)
    h, w = page.shape[:2]
    desk = np.full((h + 200, 2 * w + 300, 3), (90, 110, 130), np.uint8)
    desk[100 : 100 + h, 100 : 100 + w] = page
    desk[100 : 100 + h, w + 200 : 2 * w + 200] = other
    location = locate.locate_page(cv2.resize(desk, None, fx=0.5, fy=0.5))
    assert location is not None
    assert location.conflict is not None and "one page per photo" in location.conflict
    assert location.page_id is None
    assert location.qr_codes == 2


def test_markers_of_two_pages_never_fit_as_one() -> None:
    """A group mixing two pages' markers is either not convex or far off the page model."""
    frame = frame_for((210.0, 297.0))
    found: dict[int, list[np.ndarray]] = {}
    for shift in (0.0, 230.0):  # two A4 pages side by side, 1 px per mm
        for marker_id in range(4):
            corners = np.array(frame.marker_corners(marker_id)) + [shift, 0.0]
            found.setdefault(marker_id, []).append(corners * 5.0)
    groups = list(marker_groups(found))
    fits = [locate._fit((2000, 3000), g, None, (210.0, 297.0)) for g in groups]
    good = [f for f in fits if f.reprojection_mm <= MAX_REPROJECTION_MM]
    assert len(good) == 2  # each page alone, never a mix
    assert all(f.reprojection_mm < 0.01 for f in good)
