"""Helpers for the reading-safety tests: the sample ward printed, pages filled with the
synthetic pen, photographed, ingested into a real store and read back."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium

from papermode.census.snapshot import sample_census_path
from papermode.core.model import Box
from papermode.demo.synth import pen as pens
from papermode.ingest.pipeline import IngestSummary, ingest_paths

__all__ = ["ingest_paths", "open_store"]
from papermode.core.settings import load_settings
from papermode.printing.prepare import prepare_forms
from papermode.reconcile.inputs import Decision, ReconcileInput
from papermode.reconcile.items import Reconciliation
from papermode.reconcile.service import reconcile_store
from papermode.state.readings import readings_report
from papermode.store.database import open_store

DPI = 200
PPM = DPI / 25.4
START = datetime(2026, 11, 28, 7, 0)
PEN = pens.PENS["ballpoint_blue"]


def prepare(folder: Path) -> Path:
    """The sample ward printed into `folder` (forms + a template store)."""
    prepare_forms(
        sample_census_path(),
        folder / "forms",
        folder / "template.db",
        start=START,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    with open_store(folder / "template.db") as template:
        template.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder


def fresh_store(prepared: Path, tmp_path: Path) -> Path:
    path = tmp_path / "papermode.db"
    shutil.copy(prepared / "template.db", path)
    return path


def pages(prepared: Path, template: str) -> list[dict[str, Any]]:
    manifest = json.loads((prepared / "forms" / "manifest.json").read_text())
    return [p for p in manifest["pages"] if p["template"] == template]


def render(prepared: Path, page: dict[str, Any]) -> np.ndarray:
    """The printed page as RGB at DPI."""
    document = pdfium.PdfDocument(str(prepared / "forms" / page["pdf"]))
    bitmap = document[page["pdf_page"] - 1].render(scale=DPI / 72)
    image = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
    document.close()
    return image


def box(field: dict[str, Any]) -> Box:
    return Box(*field["box_mm"])


def tick(image: np.ndarray, field: dict[str, Any], seed: int = 0) -> None:
    pens.draw_tick(image, box(field), PEN, PPM, np.random.default_rng(seed), style="check")


def fill_in(image: np.ndarray, field: dict[str, Any], seed: int = 0) -> None:
    pens.draw_scribble(image, box(field), PEN, PPM, np.random.default_rng(seed))


def write_digits(image: np.ndarray, field: dict[str, Any], text: str, seed: int = 0) -> None:
    whole = box(field)
    cells = tuple(whole.cell(i, field["cells"]) for i in range(field["cells"]))
    pens.draw_digits(image, cells, text, PEN, PPM, np.random.default_rng(seed))


def initials(image: np.ndarray, field: dict[str, Any], seed: int = 0) -> None:
    pens.draw_initials(image, box(field), PEN, PPM, np.random.default_rng(seed))


def photo(image: np.ndarray, path: Path) -> Path:
    """A phone-like photo of the RGB page: perspective, background, JPEG."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    height, width = bgr.shape[:2]
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32(
        [[150, 90], [width + 80, 30], [width + 190, height + 70], [50, height + 160]]
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    shot = cv2.warpPerspective(bgr, matrix, (width + 300, height + 300), borderValue=(70, 95, 125))
    cv2.imwrite(str(path), shot, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def ingest(store_path: Path, *paths: Path) -> IngestSummary:
    with open_store(store_path) as store:
        return ingest_paths(list(paths), store)


def state(store_path: Path, page_id: str) -> dict[str, dict[str, Any]]:
    with open_store(store_path) as store:
        report = readings_report(store, page_id=page_id)
    return {f["field_id"]: f for f in report["pages"][0]["fields"]}


def fields_by_id(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["field_id"]: f for f in page["fields"]}


def readings(store_path: Path, page_id: str) -> dict[str, Any]:
    """The `readings` report entry of one page."""
    with open_store(store_path) as store:
        page: dict[str, Any] = readings_report(store, page_id=page_id)["pages"][0]
    return page


def reconciled(
    store_path: Path, page_id: str, prefix: str | None, now: datetime
) -> tuple[Reconciliation, ReconcileInput]:
    """Reconcile the store, two reviewers having confirmed every field of the entry or cell
    `prefix` of page `page_id` as read (None: nobody decided anything)."""
    decisions = {
        (page_id, field_id): Decision("confirm", row["value"], ("clerk A", "nurse B"), now)
        for field_id, row in state(store_path, page_id).items()
        if prefix is not None and field_id.startswith(prefix + ".")
    }
    with open_store(store_path) as store:
        return reconcile_store(store, load_settings(), decisions=decisions)
