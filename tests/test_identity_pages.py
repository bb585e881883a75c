"""Identity is the agreement of one page's markers, its own QR code and its printed text.

Real printed pages of the sample ward are rasterised, ticked, composed with PIL-like numpy
paste onto one photo (two pages side by side, a page with another page's QR code pasted on
or beside it) and ingested through the whole pipeline into a real store. One page's boxes
must never be stored under another page's id.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pagefactory as pf
import pypdfium2 as pdfium
import pytest

from papermode.core.pageframe import frame_for
from papermode.ingest.pipeline import ingest_paths
from papermode.state.readings import readings_report
from papermode.store.database import open_store

DPI = 150
SCALE = DPI / 25.4  # px per mm
START = datetime(2026, 11, 28, 7, 0)
TABLE = (70, 95, 125)  # BGR of the desk around the pages


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pf.prepare_sample_ward(tmp_path_factory.mktemp("prepared"), START)


@pytest.fixture()
def store_path(prepared: Path, tmp_path: Path) -> Path:
    return pf.copy_of_store(prepared, tmp_path)


def manifest_pages(prepared: Path) -> list[dict[str, Any]]:
    return pf.manifest_pages(prepared)


def page_of(
    prepared: Path, template: str, index: int = 0, *, blank: bool = False
) -> dict[str, Any]:
    pages = [
        p
        for p in manifest_pages(prepared)
        if p["template"] == template and (p["patient_id"] is None) == blank
    ]
    return pages[index]


def render(prepared: Path, page: dict[str, Any]) -> np.ndarray:
    document = pdfium.PdfDocument(str(prepared / "forms" / page["pdf"]))
    bitmap = document[page["pdf_page"] - 1].render(scale=DPI / 72)
    image = bitmap.to_numpy()[:, :, :3].copy()
    document.close()
    return image


def tick(image: np.ndarray, box_mm: list[float]) -> None:
    x, y, w, h = box_mm
    points = [
        (x + w * 0.2, y + h * 0.55),
        (x + w * 0.42, y + h * 0.85),
        (x + w * 0.85, y + h * 0.1),
    ]
    pixels = [(int(px * SCALE), int(py * SCALE)) for px, py in points]
    cv2.line(image, pixels[0], pixels[1], (140, 40, 20), 3, cv2.LINE_AA)
    cv2.line(image, pixels[1], pixels[2], (140, 40, 20), 3, cv2.LINE_AA)


def tick_role(image: np.ndarray, page: dict[str, Any], role: str, count: int) -> list[str]:
    fields = [f for f in page["fields"] if f["role"] == role][:count]
    for field in fields:
        tick(image, field["box_mm"])
    return [f["field_id"] for f in fields]


def qr_region(size_mm: list[float]) -> tuple[slice, slice]:
    box = frame_for((size_mm[0], size_mm[1])).qr_box
    rows = slice(int(box.y * SCALE), int((box.y + box.h) * SCALE))
    cols = slice(int(box.x * SCALE), int((box.x + box.w) * SCALE))
    return rows, cols


def white_out(image: np.ndarray, box: Any) -> None:
    """Cover a printed box (a Box in mm) with white paper."""
    x0, y0 = int(box.x * SCALE), int(box.y * SCALE)
    x1, y1 = int((box.x + box.w) * SCALE) + 1, int((box.y + box.h) * SCALE) + 1
    image[y0:y1, x0:x1] = 255


def canvas(*placed: tuple[np.ndarray, int, int], size: tuple[int, int]) -> np.ndarray:
    """The images pasted on a desk at (x, y) px; size is (width, height)."""
    desk = np.zeros((size[1], size[0], 3), np.uint8)
    desk[:] = TABLE
    for image, x, y in placed:
        h, w = image.shape[:2]
        desk[y : y + h, x : x + w] = image
    return desk


def photograph(image: np.ndarray, path: Path) -> Path:
    """A phone-like photo of the desk: a little perspective, JPEG."""
    height, width = image.shape[:2]
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32([[40, 25], [width - 10, 0], [width, height - 20], [0, height]])
    matrix = cv2.getPerspectiveTransform(source, target)
    photo = cv2.warpPerspective(image, matrix, (width, height), borderValue=TABLE)
    cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def ingest(store_path: Path, photo: Path) -> list[dict[str, Any]]:
    with open_store(store_path) as store:
        ingest_paths([photo], store, workers=1)
        return list(store.db.query("SELECT * FROM captures ORDER BY captured_at"))


def state_of(store_path: Path, page_id: str) -> list[dict[str, Any]]:
    with open_store(store_path) as store:
        pages = readings_report(store, page_id=page_id)["pages"]
    return pages[0]["fields"] if pages else []


def auto_values(store_path: Path) -> int:
    with open_store(store_path) as store:
        row = store.db.execute("SELECT COUNT(*) FROM page_state WHERE status = 'auto'").fetchone()
    return int(row[0])


# ---------------------------------------------------------------------- two pages in one photo


def test_two_whole_mar_pages_in_one_photo_are_retaken(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    first, second = page_of(prepared, "mar", 0), page_of(prepared, "mar", 1)
    front = render(prepared, first)
    tick_role(front, first, "given", 4)
    beside = render(prepared, second)
    h, w = front.shape[:2]
    photo = photograph(
        canvas((front, 40, 60), (beside, w + 120, 30), size=(2 * w + 180, h + 120)),
        tmp_path / "two-pages.jpg",
    )
    captures = ingest(store_path, photo)
    assert [c["status"] for c in captures] == ["retake"]
    assert "one page per photo" in captures[0]["message"]
    assert state_of(store_path, first["page_id"]) == []
    assert state_of(store_path, second["page_id"]) == []


def test_two_blank_pack_pages_in_one_photo_are_retaken(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    first = page_of(prepared, "mar", 0, blank=True)
    second = page_of(prepared, "mar", 1, blank=True)
    assert first["page_id"] != second["page_id"]
    left, right = render(prepared, first), render(prepared, second)
    tick_role(left, first, "given", 6)
    h, w = left.shape[:2]
    photo = photograph(
        canvas((left, 30, 40), (right, w + 90, 70), size=(2 * w + 150, h + 140)),
        tmp_path / "two-blank-pages.jpg",
    )
    captures = ingest(store_path, photo)
    assert [c["status"] for c in captures] == ["retake"]
    assert "one page per photo" in captures[0]["message"]
    assert auto_values(store_path) == 0


def test_whole_page_with_a_partial_page_beside_is_read_as_itself(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    """Page 2's right half (its QR code and two markers) lies beside a whole page 1."""
    first, second = page_of(prepared, "mar", 0), page_of(prepared, "mar", 1)
    front = render(prepared, first)
    ticked = tick_role(front, first, "given", 3)
    other = render(prepared, second)
    h, w = front.shape[:2]
    half = other[:, int(w * 0.55) :]
    photo = photograph(
        canvas(
            (half, 20, 50), (front, half.shape[1] + 80, 30), size=(half.shape[1] + w + 120, h + 90)
        ),
        tmp_path / "page-and-half.jpg",
    )
    captures = ingest(store_path, photo)
    assert [(c["status"], c["page_id"]) for c in captures] == [("read", first["page_id"])]
    marked = {
        f["field_id"] for f in state_of(store_path, first["page_id"]) if f["value"] == "ticked"
    }
    assert marked == set(ticked)
    assert state_of(store_path, second["page_id"]) == []


def test_another_pages_qr_beside_a_page_whose_own_code_is_hidden_is_retaken(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    """The page's own QR code is covered; another patient's page's code lies beside it."""
    page, foreign = page_of(prepared, "vitals", 0), page_of(prepared, "vitals", 1)
    image = render(prepared, page)
    rows, cols = qr_region(page["size_mm"])
    sticker = render(prepared, foreign)[rows, cols].copy()
    image[rows, cols] = 255
    frame = frame_for((page["size_mm"][0], page["size_mm"][1]))
    white_out(image, frame.page_id_text_box)
    h, w = image.shape[:2]
    photo = photograph(
        canvas(
            (image, 30, 40), (sticker, w + 60, 80), size=(w + 60 + sticker.shape[1] + 40, h + 80)
        ),
        tmp_path / "code-beside.jpg",
    )
    captures = ingest(store_path, photo)
    assert [c["status"] for c in captures] == ["retake"]
    assert all(c["page_id"] != foreign["page_id"] for c in captures)
    assert state_of(store_path, foreign["page_id"]) == []


def test_another_patients_qr_pasted_over_the_printed_one_is_never_attributed(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    """The banner MRN is not readable (covered); the printed page id under the QR still is."""
    page, foreign = page_of(prepared, "vitals", 0), page_of(prepared, "vitals", 1)
    assert page["mrn"] != foreign["mrn"]
    image = render(prepared, page)
    rows, cols = qr_region(page["size_mm"])
    image[rows, cols] = render(prepared, foreign)[rows, cols]
    frame = frame_for((page["size_mm"][0], page["size_mm"][1]))
    white_out(image, frame.mrn_text_box)
    h, w = image.shape[:2]
    photo = photograph(canvas((image, 40, 40), size=(w + 80, h + 80)), tmp_path / "pasted.jpg")
    captures = ingest(store_path, photo)
    assert [c["status"] for c in captures] in (["quarantined"], ["retake"])
    assert all(c["page_id"] != foreign["page_id"] for c in captures)
    assert state_of(store_path, foreign["page_id"]) == []
    assert auto_values(store_path) == 0


def test_a_page_alone_is_read_with_qr_and_mrn_agreeing(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = page_of(prepared, "mar", 0)
    image = render(prepared, page)
    ticked = tick_role(image, page, "given", 2)
    h, w = image.shape[:2]
    photo = photograph(canvas((image, 40, 40), size=(w + 80, h + 80)), tmp_path / "alone.jpg")
    captures = ingest(store_path, photo)
    assert [(c["status"], c["page_id"]) for c in captures] == [("read", page["page_id"])]
    marked = {
        f["field_id"] for f in state_of(store_path, page["page_id"]) if f["value"] == "ticked"
    }
    assert marked == set(ticked)


def _identities(store_path: Path, page_id: str) -> list[str]:
    with open_store(store_path) as store:
        pages = readings_report(store, page_id=page_id)["pages"]
    return [c["identity"] for c in pages[0]["captures"]]


def test_readings_say_how_identity_was_established(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    """QR + banner MRN on a patient page; QR + printed id on a blank page and on a patient
    page whose MRN is covered; every one still read, none quarantined."""
    patient = page_of(prepared, "mar", 0)
    covered = page_of(prepared, "vitals", 2)
    blank = page_of(prepared, "vitals", 0, blank=True)
    photos = []
    for name, page in (("patient", patient), ("covered", covered), ("blank", blank)):
        image = render(prepared, page)
        if name == "covered":
            white_out(image, frame_for((page["size_mm"][0], page["size_mm"][1])).mrn_text_box)
        h, w = image.shape[:2]
        photos.append(
            photograph(canvas((image, 40, 40), size=(w + 80, h + 80)), tmp_path / f"{name}.jpg")
        )
    for photo in photos:
        ingest(store_path, photo)
    assert _identities(store_path, patient["page_id"]) == ["qr+mrn"]
    assert _identities(store_path, covered["page_id"]) == ["qr+printed-id"]
    assert _identities(store_path, blank["page_id"]) == ["qr+printed-id"]
