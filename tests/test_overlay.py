"""The overlay picture: colour rules, drawing, and a real read page from a real store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from papermode.core.errors import PageIdError
from papermode.demo.overlay import COLOURS, FieldMark, category, draw_overlay
from papermode.store.database import Store, open_store


def test_category_follows_status_flags_and_value() -> None:
    assert category("ticked", "auto", ()) == "accepted"
    assert category("0815", "auto", ()) == "accepted"
    assert category("empty", "auto", ()) == "empty"
    assert category("ticked", "review", ("correction",)) == "review"
    assert category(None, "review", ()) == "review"
    assert category("empty", "review", ("disappeared",)) == "conflict"
    assert category("39.9", "auto", ("implausible",)) == "conflict"
    assert category("ticked", "confirmed", ()) == "accepted"


def _colour_at(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    return tuple(np.asarray(image.convert("RGB"))[y, x])  # type: ignore[return-value]


def test_draw_overlay_outlines_each_box_in_its_colour() -> None:
    gray = np.full((300, 200), 255, np.uint8)
    marks = [
        FieldMark(2, 2, 10, 5, "accepted", "37.8"),
        FieldMark(2, 15, 10, 5, "review"),
        FieldMark(2, 25, 10, 5, "conflict"),
        FieldMark(20, 2, 5, 5, "empty"),
    ]
    image = draw_overlay(gray, marks, px_per_mm=6.0)
    assert image.height > 300  # the legend is below the page
    assert _colour_at(image, 12, 12) == COLOURS["accepted"]  # top edge of the first box
    assert _colour_at(image, 12, 90) == COLOURS["review"]
    assert _colour_at(image, 12, 150) == COLOURS["conflict"]
    assert _colour_at(image, 130, 12) == COLOURS["empty"]
    inside = np.asarray(image.convert("RGB"))[20:26, 20:50]
    assert (inside > 240).all()  # the box itself is not painted over


@pytest.fixture(scope="module")
def read_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from papermode.census.snapshot import sample_census_path
    from papermode.demo.synth.corpus import make_corpus
    from papermode.ingest.pipeline import ingest_paths
    from papermode.printing.prepare import prepare_forms

    folder = tmp_path_factory.mktemp("overlay")
    store_path = folder / "papermode.db"
    prepare_forms(
        sample_census_path(),
        folder / "forms",
        store_path,
        start=datetime(2026, 11, 28, 8),
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    corpus = make_corpus(
        folder / "forms", folder / "captures", count=2, seed=5, mix={"phone_jpeg": 1.0}
    )
    with open_store(store_path) as store:
        ingest_paths([folder / "captures" / n for n in corpus.files], store, workers=1)
    return store_path


def _store(path: Path) -> Store:
    return open_store(path)


def test_overlay_of_a_read_page(read_store: Path, tmp_path: Path) -> None:
    from papermode.demo.overlay import most_telling_page, write_overlay

    with _store(read_store) as store:
        page_id = most_telling_page(store)
        assert page_id is not None
        size = next(
            iter(
                store.db.query("SELECT width_mm, height_mm FROM pages WHERE page_id = ?", [page_id])
            )
        )
        path = write_overlay(store, page_id, tmp_path / "overlay.png")
    image = Image.open(path)
    assert image.format == "PNG"
    assert image.width == round(size["width_mm"] * 6)
    pixels = np.asarray(image.convert("RGB")).astype(int)
    page = pixels[: round(size["height_mm"] * 6)]
    green = (page[..., 1] > page[..., 0] + 60) & (page[..., 1] > page[..., 2] + 40)
    assert green.sum() > 200  # accepted fields of the page itself, not only the legend
    # The page underneath is the real photo: dark ink and print, not a blank canvas.
    assert (page.mean(axis=2) < 100).sum() > 1000


def test_overlay_of_an_unread_page_says_so(read_store: Path, tmp_path: Path) -> None:
    from papermode.demo.overlay import write_overlay

    with _store(read_store) as store, pytest.raises(PageIdError, match="no read capture"):
        write_overlay(store, "ZZZZ-ZZZZ-ZZ", tmp_path / "none.png")
