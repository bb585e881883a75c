"""How fast a keyboard reviewer gets through a 20-patient ward's day: the machine's own
upper bound (Playwright presses the keys; a person reads each crop first).

Not part of the normal run (it ingests a whole day): set PAPERMODE_MEASURE_REVIEW=1.
It prints items per minute and the items per page a person is asked about, and writes
them to `review-throughput.json` in the test's folder. Nothing is asserted on time.
"""

from __future__ import annotations

import csv
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import test_export_checks as checks
import test_web
from test_web import CHROMIUM, Served, _start

from papermode.census.snapshot import sample_census_path
from papermode.core.settings import load_settings
from papermode.demo.synth.corpus import make_corpus
from papermode.export.run import export_store
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.reconcile.service import reconcile_store
from papermode.review.queue import build_queue
from papermode.store.database import open_store

pytestmark = pytest.mark.skipif(
    not os.environ.get("PAPERMODE_MEASURE_REVIEW") or not CHROMIUM.exists(),
    reason="a measurement: set PAPERMODE_MEASURE_REVIEW=1 (needs /usr/bin/chromium)",
)
browser = test_web.browser  # the same headless chromium fixture
WARD = "Médecine interne 3B"
PATIENTS = 20
PHOTOS = int(os.environ.get("PAPERMODE_MEASURE_PHOTOS", "60"))


def _twenty_patient_ward(folder: Path) -> Path:
    """The sample CSV census made one ward of 20 patients (8 more, with their orders)."""
    source = sample_census_path().parent / "sample_csv"
    folder.mkdir(parents=True)
    patients = list(csv.DictReader((source / "patients.csv").open(encoding="utf-8")))
    orders = list(csv.DictReader((source / "orders.csv").open(encoding="utf-8")))
    extra = []
    for number, patient in enumerate(patients[: PATIENTS - len(patients)], start=1):
        twin = {**patient, "patient_id": f"p-2{number:02d}", "mrn": f"3009{number:04d}"}
        twin.update(room=f"4{number:02d}", bed="A", encounter=f"V26-9{number:03d}")
        extra.append((patient["patient_id"], twin))
    for patient in patients:
        patient["ward"] = WARD
    more_orders = []
    for original, twin in extra:
        twin["ward"] = WARD
        for order in orders:
            if order["patient_id"] == original:
                more_orders.append(
                    {**order, "order_id": "x" + order["order_id"], "patient_id": twin["patient_id"]}
                )
    _write(folder / "patients.csv", patients + [twin for _, twin in extra])
    _write(folder / "orders.csv", orders + more_orders)
    (folder / "allergies.csv").write_text(
        (source / "allergies.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return folder


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _review_all(page: Any) -> int:
    """Key through every item this reviewer may decide; the number decided."""
    count = 0
    while page.locator("#item").count():
        if page.locator("#blind").count():
            page.keyboard.type("1")
        elif test_web._later_sheet(page):  # a photocopy's later sheet: a separate record
            page.keyboard.type("4711")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        count += 1
    return count


def _reconcile_and_export(store_path: Path, folder: Path) -> dict[str, Any]:
    """After the review: reconcile + the three exports, timed; counts and validation."""
    settings = load_settings()
    figures: dict[str, Any] = {}
    with open_store(store_path) as store:
        started = time.perf_counter()
        result, _ = reconcile_store(store, settings)
        figures["reconcile_seconds"] = round(time.perf_counter() - started, 2)
        for fmt in ("fhir", "csv", "pdf"):
            started = time.perf_counter()
            export_store(store, settings, fmt=fmt, out=folder / f"export.{fmt}")  # type: ignore[arg-type]
            figures[f"export_{fmt}_seconds"] = round(time.perf_counter() - started, 2)
    bundle = json.loads((folder / "export.fhir").read_text(encoding="utf-8"))
    figures["categories"] = {k: v for k, v in result.counts().items() if v}
    figures["items"], figures["exportable"] = len(result.items), len(result.exportable())
    figures["pending"] = len(result.pending())
    figures["bundle_entries"] = len(bundle["entry"])
    figures["bundle_problems"] = checks.validate_bundle(bundle)
    return figures


def test_measure_review_throughput(browser: Any, tmp_path: Path) -> None:
    census = _twenty_patient_ward(tmp_path / "census")
    store_path = tmp_path / "papermode.db"
    prepare_forms(
        census, tmp_path / "forms", store_path, start=datetime(2026, 11, 28, 8, 0), hours=24,
        lang="en", paper="a4", settings_path=None,
    )  # fmt: skip
    info = make_corpus(tmp_path / "forms", tmp_path / "captures", count=PHOTOS, seed=11)
    with open_store(store_path) as store:
        ingest_paths([tmp_path / "captures" / n for n in info.files], store, workers=2)
        queue = build_queue(store)
        pages_read = store.db.execute("SELECT COUNT(DISTINCT page_id) FROM page_state").fetchone()[
            0
        ]
        captures_read = store.db.execute(
            "SELECT COUNT(*) FROM captures WHERE status = 'read'"
        ).fetchone()[0]
    fields = [i for i in queue if i.kind == "field"]
    served = Served(store_path)
    try:
        ana = _start(browser, served, "ana")
        started = time.perf_counter()
        first = _review_all(ana)
        ben = _start(browser, served, "ben")
        second = _review_all(ben)
        seconds = time.perf_counter() - started
    finally:
        served.stop()
    figures = {
        "patients": PATIENTS,
        "photos": PHOTOS,
        "captures_read": captures_read,
        "pages_read": pages_read,
        "field_items": len(fields),
        "sheet_items": sum(1 for i in queue if i.kind == "sheet"),
        "two_person_items": sum(1 for i in fields if i.two_person),
        "file_items": sum(1 for i in queue if i.kind in ("identity", "retake", "quarantined")),
        "unphotographed_pages": sum(1 for i in queue if i.kind == "unphotographed"),
        "field_items_per_page_read": round(len(fields) / max(pages_read, 1), 2),
        "field_items_per_capture": round(len(fields) / max(captures_read, 1), 2),
        "decisions": first + second,
        "seconds": round(seconds, 1),
        "decisions_per_minute": round(60 * (first + second) / seconds, 1),
    }
    figures |= _reconcile_and_export(store_path, tmp_path)
    (tmp_path / "review-throughput.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    assert first >= len(fields)  # every field item had its first review
