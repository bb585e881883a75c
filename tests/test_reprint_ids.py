"""A printed page's layout is immutable: a page id names one exact layout forever.

`prepare` run again with the same census and --start but other --hours, language, settings
or templates gives the changed pages new ids; the pages printed before keep their fields in
the store, and a photo of the FIRST printout is still read against the layout it was printed
with. The same run twice gives the same ids.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from papermode.census.snapshot import sample_census_path
from papermode.core.errors import PageIdError
from papermode.core.model import Box
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.state.readings import readings_report
from papermode.store.database import open_store

START = datetime(2026, 11, 28, 7, 0)
DPI = 200


def _prepare(
    folder: Path,
    store: Path,
    *,
    hours: int = 24,
    lang: str = "en",
    settings: Path | None = None,
) -> list[dict[str, Any]]:
    prepare_forms(
        sample_census_path(),
        folder,
        store,
        start=START,
        hours=hours,
        lang=lang,
        paper="a4",
        settings_path=settings,
    )
    pages: list[dict[str, Any]] = json.loads((folder / "manifest.json").read_text())["pages"]
    return pages


def _ids(pages: list[dict[str, Any]], template: str | None = None) -> set[str]:
    return {p["page_id"] for p in pages if template is None or p["template"] == template}


def _stored_fields(store_path: Path, page_id: str) -> list[tuple[Any, ...]]:
    with open_store(store_path) as store:
        layout = store.page_layout(page_id)
    return [(f.field_id, f.order_id, f.scheduled, f.box.as_list()) for f in layout.fields]


def _manifest_fields(page: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            f["field_id"],
            f.get("order_id"),
            datetime.fromisoformat(f["scheduled"]) if f.get("scheduled") else None,
            [round(v, 2) for v in f["box_mm"]],
        )
        for f in page["fields"]
    ]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("first")
    pages = _prepare(folder / "forms", folder / "template.db")
    return folder, pages


@pytest.fixture()
def store_path(first_run: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> Path:
    folder, _ = first_run
    with open_store(folder / "template.db") as template:
        template.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp_path / "papermode.db"
    shutil.copy(folder / "template.db", path)
    return path


def test_same_run_twice_gives_the_same_ids(
    first_run: tuple[Path, list[dict[str, Any]]], store_path: Path, tmp_path: Path
) -> None:
    _, pages = first_run
    again = _prepare(tmp_path / "again", store_path)
    assert [p["page_id"] for p in again] == [p["page_id"] for p in pages]
    mar = next(p for p in pages if p["template"] == "mar")
    assert _stored_fields(store_path, mar["page_id"]) == _manifest_fields(mar)


def test_other_hours_give_new_ids_and_old_pages_keep_their_layout(
    first_run: tuple[Path, list[dict[str, Any]]], store_path: Path, tmp_path: Path
) -> None:
    _, pages = first_run
    second = _prepare(tmp_path / "second", store_path, hours=48)
    assert _ids(pages, "mar") and not _ids(pages, "mar") & _ids(second, "mar")
    assert not _ids(pages, "vitals") & _ids(second, "vitals")
    for page in pages:
        if page["template"] in ("mar", "vitals", "prn"):
            assert _stored_fields(store_path, page["page_id"]) == _manifest_fields(page)


def test_other_language_gives_new_ids(
    first_run: tuple[Path, list[dict[str, Any]]], store_path: Path, tmp_path: Path
) -> None:
    _, pages = first_run
    french = _prepare(tmp_path / "fr", store_path, lang="fr")
    assert not _ids(pages) & _ids(french)


def test_other_settings_give_the_changed_pages_new_ids(
    first_run: tuple[Path, list[dict[str, Any]]], store_path: Path, tmp_path: Path
) -> None:
    _, pages = first_run
    settings = tmp_path / "settings.toml"
    settings.write_text("[vitals]\nevery_hours = 2\n", encoding="utf-8")
    other = _prepare(tmp_path / "settings", store_path, settings=settings)
    charts = [p for p in pages if p["patient_id"] is not None]  # a blank pack's is undated
    assert _ids(charts, "vitals") and not _ids(charts, "vitals") & _ids(other, "vitals")
    # Pages the setting does not touch keep their ids (and their fields): the blank packs,
    # whose vital-signs columns have their times written by hand. (A patient's other pages
    # get new ids too: a 2-hourly chart takes a second page, and "page i of n" changes.)
    blank = {p["page_id"] for p in pages
             if p["template"] in ("mar", "vitals") and not p["patient_id"]}  # fmt: skip
    assert blank and blank <= _ids(other)


def test_a_changed_template_gives_new_ids(
    first_run: tuple[Path, list[dict[str, Any]]],
    store_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, pages = first_run
    forms = tmp_path / "forms-copy"
    shutil.copytree(Path(__file__).resolve().parents[1] / "forms", forms)
    mar = forms / "mar.toml"
    mar.write_text(
        mar.read_text(encoding="utf-8").replace('version = "2026.1"', 'version = "2026.2"'),
        encoding="utf-8",
    )
    monkeypatch.setenv("PAPERMODE_FORMS", str(forms))
    changed = _prepare(tmp_path / "template", store_path)
    assert _ids(pages, "mar") and not _ids(pages, "mar") & _ids(changed, "mar")
    assert _ids(pages, "vitals") == _ids(changed, "vitals")


def test_the_store_refuses_to_redefine_a_page_id(store_path: Path) -> None:
    with open_store(store_path) as store:
        printed = next(p for p in store.printed_pages() if p.layout.template == "mar")
        before = store.page_layout(printed.layout.page_id).fields
        moved = replace(before[0], box=Box(1.0, 1.0, 5.0, 5.0))
        redefined = replace(printed, layout=replace(printed.layout, fields=(moved, *before[1:])))
        with pytest.raises(PageIdError, match="printed before with another layout"):
            store.register_pages([redefined])
        assert store.page_layout(printed.layout.page_id).fields == before
        store.register_pages([printed])  # the same layout again is fine
        assert store.page_layout(printed.layout.page_id).fields == before


def _render(forms: Path, page: dict[str, Any]) -> np.ndarray:
    document = pdfium.PdfDocument(str(forms / page["pdf"]))
    bitmap = document[page["pdf_page"] - 1].render(scale=DPI / 72)
    image = bitmap.to_numpy()[:, :, :3].copy()
    document.close()
    return image


def _tick(image: np.ndarray, box_mm: list[float]) -> None:
    scale = DPI / 25.4
    x, y, w, h = box_mm
    points = [
        (x + w * 0.2, y + h * 0.55),
        (x + w * 0.42, y + h * 0.85),
        (x + w * 0.85, y + h * 0.1),
    ]
    pixels = [(int(px * scale), int(py * scale)) for px, py in points]
    cv2.line(image, pixels[0], pixels[1], (140, 40, 20), 4, cv2.LINE_AA)
    cv2.line(image, pixels[1], pixels[2], (140, 40, 20), 4, cv2.LINE_AA)


def _photo(image: np.ndarray, path: Path) -> Path:
    height, width = image.shape[:2]
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32(
        [[150, 90], [width + 80, 30], [width + 190, height + 70], [50, height + 160]]
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    photo = cv2.warpPerspective(
        image, matrix, (width + 300, height + 300), borderValue=(70, 95, 125)
    )
    cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return path


def test_a_photo_of_the_first_printout_is_read_against_the_first_layout(
    first_run: tuple[Path, list[dict[str, Any]]], store_path: Path, tmp_path: Path
) -> None:
    """Render page 1 of run 1, print run 2 (--hours 48) into the same store, then ingest."""
    folder, pages = first_run
    page = next(p for p in pages if p["template"] == "mar")
    given = [f for f in page["fields"] if f["role"] == "given"]
    ticked = [given[-1], given[len(given) // 2]]
    image = _render(folder / "forms", page)
    for field in ticked:
        _tick(image, field["box_mm"])
    photo = _photo(image, tmp_path / "first-printout.jpg")
    _prepare(tmp_path / "second", store_path, hours=48)
    with open_store(store_path) as store:
        ingest_paths([photo], store, workers=1)
        report = readings_report(store, page_id=page["page_id"])
    fields = report["pages"][0]["fields"]
    marked = {
        (f["field_id"], f["order_id"], f["scheduled"]) for f in fields if f["value"] == "ticked"
    }
    assert marked == {(f["field_id"], f["order_id"], f["scheduled"]) for f in ticked}
    assert len(fields) == len(page["fields"])
