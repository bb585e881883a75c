"""The signature legend: printed once on every MAR, PRN, vitals and new-order page, its boxes
in the manifest with their roles, read back as ink from a filled photo, and the performer
named only once a reviewer typed the handwritten name."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pagefactory as pf  # noqa: E402

from papermode.core.pageframe import frame_for  # noqa: E402
from papermode.ingest.pipeline import ingest_paths  # noqa: E402
from papermode.printing.layout.legend import LEGEND_FORMS, ROWS  # noqa: E402
from papermode.reconcile.inputs import Decision, load_input  # noqa: E402
from papermode.reconcile.performer import NOBODY, NOT_TYPED, page_legend  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

START = datetime(2026, 11, 28, 7, 0)
DPI = 200
ROLES = {"initials": "legend_initials", "name": "legend_name", "signature": "legend_signature"}
KINDS = {"initials": "signature", "name": "text", "signature": "signature"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pf.prepare_sample_ward(tmp_path_factory.mktemp("legend"), START)


def _legend_fields(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in page["fields"] if f["field_id"].startswith("legend.")]


def test_every_form_that_is_initialled_carries_one_legend(prepared: Path) -> None:
    pages = pf.manifest_pages(prepared)
    templates = Counter(p["template"] for p in pages)
    assert {"mar", "prn", "vitals", "new_orders"} <= set(templates) and LEGEND_FORMS
    for page in pages:
        fields = _legend_fields(page)
        if page["template"] not in LEGEND_FORMS:
            assert fields == [], page["template"]
            continue
        assert len(fields) == 3 * ROWS, page["page_id"]
        for row in range(1, ROWS + 1):
            for part, role in ROLES.items():
                field = next(f for f in fields if f["field_id"] == f"legend.{row}.{part}")
                assert field["role"] == role and field["kind"] == KINDS[part]
        # at the foot of the content, below every other field of the page
        content = frame_for(tuple(page["size_mm"])).content
        top = min(f["box_mm"][1] for f in fields)
        others = [f for f in page["fields"] if not f["field_id"].startswith("legend.")]
        assert all(f["box_mm"][1] + f["box_mm"][3] < top for f in others)
        assert max(f["box_mm"][1] + f["box_mm"][3] for f in fields) < content.y + content.h


def _render(prepared: Path, page: dict[str, Any]) -> np.ndarray:
    document = pypdfium2.PdfDocument(str(prepared / "forms" / page["pdf"]))
    bitmap = document[page["pdf_page"] - 1].render(scale=DPI / 72)
    image = bitmap.to_numpy()[:, :, :3].copy()
    document.close()
    return image


def _write(image: np.ndarray, box_mm: list[float], rng: np.random.Generator) -> None:
    """A few handwritten-looking strokes inside the box."""
    scale = DPI / 25.4
    x, y, w, h = box_mm
    points = [
        (x + w * u, y + h * v)
        for u, v in zip(np.linspace(0.15, 0.85, 6), rng.uniform(0.3, 0.75, 6), strict=True)
    ]
    pixels = np.array([(int(px * scale), int(py * scale)) for px, py in points], np.int32)
    cv2.polylines(image, [pixels], False, (140, 40, 20), 4, cv2.LINE_AA)


def _photo(image: np.ndarray, path: Path) -> Path:
    height, width = image.shape[:2]
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32(
        [[150, 90], [width + 80, 30], [width + 190, height + 70], [50, height + 160]]
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    photo = cv2.warpPerspective(image, matrix, (width + 300, height + 300),
                                borderValue=(70, 95, 125))  # fmt: skip
    cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return path


def test_a_filled_legend_row_is_read_as_ink_and_names_nobody_until_typed(
    prepared: Path, tmp_path: Path
) -> None:
    store_path = pf.copy_of_store(prepared, tmp_path)
    page = next(p for p in pf.manifest_pages(prepared) if p["template"] == "mar")
    image = _render(prepared, page)
    rng = np.random.default_rng(11)
    row = {f["field_id"]: f for f in _legend_fields(page)}
    for part in ROLES:
        _write(image, row[f"legend.2.{part}"]["box_mm"], rng)
    photo = _photo(image, tmp_path / "mar.jpg")
    with open_store(store_path) as store:
        summary = ingest_paths([photo], store, workers=1)
        assert [o.status for o in summary.outcomes] == ["read"]
        source = load_input(store)
        typed = load_input(
            store,
            decisions={
                (page["page_id"], "legend.2.name"): Decision(
                    "correct", "Marie Curie", ("clerk A",), datetime(2026, 11, 29, 9, 0)
                )
            },
        )
    (mar,) = [p for p in source.pages if p.page_id == page["page_id"]]
    states = {s.field.field_id: s for s in mar.states}
    assert states["legend.2.initials"].value == "ink"
    assert states["legend.2.signature"].value == "ink"
    name = states["legend.2.name"]
    # handwriting: read as ink, never as text, and kept for a reviewer with its crop
    assert name.value == "ink" and name.status == "review" and name.has_crop
    for other in (1, 3, 4):
        assert all(states[f"legend.{other}.{part}"].value == "empty" for part in ROLES)
    legend = page_legend(mar)
    assert legend is not None and legend.performer is None and legend.note == NOT_TYPED
    (mar_typed,) = [p for p in typed.pages if p.page_id == page["page_id"]]
    assert page_legend(mar_typed) == type(legend)("Marie Curie")


def test_an_empty_legend_names_nobody(prepared: Path, tmp_path: Path) -> None:
    store_path = pf.copy_of_store(prepared, tmp_path)
    page = next(p for p in pf.manifest_pages(prepared) if p["template"] == "prn")
    photo = _photo(_render(prepared, page), tmp_path / "prn.jpg")
    with open_store(store_path) as store:
        ingest_paths([photo], store, workers=1)
        source = load_input(store)
    (prn,) = [p for p in source.pages if p.page_id == page["page_id"]]
    legend = page_legend(prn)
    assert legend is not None and legend.performer is None and legend.note == NOBODY
