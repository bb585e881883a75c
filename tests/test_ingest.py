"""Ingest end to end: real printed pages, rasterised, marked, photographed, read back.

Covers what the capture issue asks of ingest itself: identity, duplicates, quarantine of
bad files, retakes, free photos, transactional re-runs, merging repeated captures, and the
`readings --json` contract.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pagefactory as pf
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from papermode.census.snapshot import sample_census_path
from papermode.cli.main import main
from papermode.ingest import pipeline as ingest_module
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.state.readings import readings_report
from papermode.store.database import open_store

DPI = 200
START = datetime(2026, 11, 28, 7, 0)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ward, printed once for the module (forms + a template store)."""
    return pf.prepare_sample_ward(tmp_path_factory.mktemp("prepared"), START)


@pytest.fixture()
def store_path(prepared: Path, tmp_path: Path) -> Path:
    """A fresh copy of the prepared store for each test."""
    return pf.copy_of_store(prepared, tmp_path)


def _manifest(prepared: Path) -> list[dict[str, Any]]:
    return pf.manifest_pages(prepared)


def _mar_page(prepared: Path, index: int = 0) -> dict[str, Any]:
    return [p for p in _manifest(prepared) if p["template"] == "mar"][index]


def _render(prepared: Path, page: dict[str, Any]) -> np.ndarray:
    document = pdfium.PdfDocument(str(prepared / "forms" / page["pdf"]))
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


def _photo(image: np.ndarray, path: Path, *, rotate: int | None = None) -> Path:
    """A phone-like photo: perspective, background, JPEG."""
    height, width = image.shape[:2]
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32(
        [[150, 90], [width + 80, 30], [width + 190, height + 70], [50, height + 160]]
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    photo = cv2.warpPerspective(
        image, matrix, (width + 300, height + 300), borderValue=(70, 95, 125)
    )
    if rotate is not None:
        photo = cv2.rotate(photo, rotate)
    cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return path


def _ticked_photo(
    prepared: Path, tmp_path: Path, name: str, count: int, page_index: int = 0
) -> tuple[Path, dict[str, Any], list[str]]:
    page = _mar_page(prepared, page_index)
    image = _render(prepared, page)
    given = [f for f in page["fields"] if f["role"] == "given"][:count]
    for field in given:
        _tick(image, field["box_mm"])
    return _photo(image, tmp_path / name), page, [f["field_id"] for f in given]


def _state(store_path: Path, page_id: str) -> dict[str, dict[str, Any]]:
    with open_store(store_path) as store:
        report = readings_report(store, page_id=page_id)
    return {f["field_id"]: f for f in report["pages"][0]["fields"]}


def test_photo_is_identified_and_every_tick_box_read(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    photo, page, ticked = _ticked_photo(prepared, tmp_path, "mar.jpg", 3)
    with open_store(store_path) as store:
        summary = ingest_paths([photo], store)
    assert [o.status for o in summary.outcomes] == ["read"]
    assert summary.outcomes[0].page_id == page["page_id"]
    state = _state(store_path, page["page_id"])
    for field in page["fields"]:
        if field["kind"] != "checkbox":
            continue
        expected = "ticked" if field["field_id"] in ticked else "empty"
        assert state[field["field_id"]]["value"] == expected, field["field_id"]


def test_sideways_photo_is_read(prepared: Path, store_path: Path, tmp_path: Path) -> None:
    page = _mar_page(prepared, 1)
    image = _render(prepared, page)
    photo = _photo(image, tmp_path / "sideways.jpg", rotate=cv2.ROTATE_90_CLOCKWISE)
    with open_store(store_path) as store:
        summary = ingest_paths([photo], store)
    assert summary.outcomes[0].page_id == page["page_id"]


def test_same_file_twice_is_a_duplicate_and_not_read_again(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    photo, page, _ = _ticked_photo(prepared, tmp_path, "a.jpg", 1)
    copy = tmp_path / "copy-of-a.jpg"
    shutil.copy(photo, copy)
    with open_store(store_path) as store:
        first = ingest_paths([photo], store)
        again = ingest_paths([photo, copy], store)
        captures = store.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    assert [o.status for o in first.outcomes] == ["read"]
    assert [o.status for o in again.outcomes] == ["duplicate", "duplicate"]
    assert captures == 1


def test_bad_files_are_quarantined_with_their_originals(store_path: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a photo")
    truncated = tmp_path / "truncated.jpg"
    ok, jpeg = cv2.imencode(".jpg", np.full((400, 300, 3), 255, np.uint8))
    truncated.write_bytes(jpeg.tobytes()[:200])
    with open_store(store_path) as store:
        summary = ingest_paths([text, truncated], store)
        evidence = [
            store.evidence_dir / row["evidence"]
            for row in store.db.query("SELECT evidence FROM files")
        ]
    assert [o.status for o in summary.outcomes] == ["quarantined", "quarantined"]
    assert all(o.message for o in summary.outcomes)
    assert sorted(p.read_bytes() for p in evidence) == sorted(
        [text.read_bytes(), truncated.read_bytes()]
    )


def test_zip_of_photos_is_opened(prepared: Path, store_path: Path, tmp_path: Path) -> None:
    photo, page, _ = _ticked_photo(prepared, tmp_path, "in-zip.jpg", 2)
    archive = tmp_path / "shift.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(photo, "DCIM/in-zip.jpg")
        bundle.writestr("DCIM/readme.txt", "not a photo")
    with open_store(store_path) as store:
        summary = ingest_paths([archive], store)
    statuses = sorted((o.file.split("/")[-1], o.status) for o in summary.outcomes)
    assert statuses == [("in-zip.jpg", "read"), ("readme.txt", "quarantined")]


def test_cut_off_corner_asks_for_a_retake(prepared: Path, store_path: Path, tmp_path: Path) -> None:
    page = _mar_page(prepared)
    image = _render(prepared, page)
    height, width = image.shape[:2]
    cropped = image[: int(height * 0.88), :]  # the bottom markers are outside the photo
    path = tmp_path / "cut.jpg"
    cv2.imwrite(str(path), cropped)
    with open_store(store_path) as store:
        summary = ingest_paths([path], store)
    outcome = summary.outcomes[0]
    assert outcome.status == "retake"
    assert outcome.message and "bottom" in outcome.message


def test_photo_without_markers_is_a_free_page(store_path: Path, tmp_path: Path) -> None:
    note = np.full((1200, 900, 3), 245, np.uint8)
    cv2.putText(
        note, "Paracetamol 1 g x4/j", (60, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3
    )
    path = tmp_path / "note.jpg"
    cv2.imwrite(str(path), note)
    with open_store(store_path) as store:
        summary = ingest_paths([path], store)
    assert [o.status for o in summary.outcomes] == ["free"]


def test_interrupted_run_leaves_nothing_half_written(
    prepared: Path, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo, page, _ = _ticked_photo(prepared, tmp_path, "b.jpg", 2)

    def power_cut(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with open_store(store_path) as store:
        monkeypatch.setattr(ingest_module, "update_page_state", power_cut)
        with pytest.raises(KeyboardInterrupt):
            ingest_paths([photo], store, workers=1)
        for table in ("files", "captures", "readings", "page_state", "ingests"):
            assert store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
        monkeypatch.undo()
        summary = ingest_paths([photo], store, workers=1)
    assert [o.status for o in summary.outcomes] == ["read"]


def test_later_capture_adds_marks_and_a_vanished_mark_goes_to_review(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = _mar_page(prepared)
    given = [f for f in page["fields"] if f["role"] == "given"]
    morning = _render(prepared, page)
    _tick(morning, given[0]["box_mm"])
    evening = morning.copy()
    _tick(evening, given[1]["box_mm"])
    blank = _render(prepared, page)  # a photo of an earlier printout without the first tick
    _tick(blank, given[1]["box_mm"])
    paths = [
        _photo(image, tmp_path / f"{n}.jpg") for n, image in enumerate([morning, evening, blank])
    ]
    with open_store(store_path) as store:
        for n, path in enumerate(paths[:2]):
            ingest_paths([path], store)
            store.db.execute(
                "UPDATE captures SET captured_at = ? WHERE name = ?",
                [f"2026-11-28T0{8 + n}:00:00", str(path)],
            )
        ingest_module.update_page_state(store, page["page_id"])
    state = _state(store_path, page["page_id"])
    assert state[given[0]["field_id"]]["value"] == "ticked"
    assert state[given[1]["field_id"]]["value"] == "ticked"
    assert len(state[given[1]["field_id"]]["captures"]) == 2

    with open_store(store_path) as store:
        ingest_paths([paths[2]], store)
    state = _state(store_path, page["page_id"])
    vanished = state[given[0]["field_id"]]
    assert vanished["value"] == "ticked" and vanished["status"] == "review"
    assert "disappeared" in vanished["flags"]


def test_page_from_another_store_is_reported(prepared: Path, tmp_path: Path) -> None:
    photo, page, _ = _ticked_photo(prepared, tmp_path, "elsewhere.jpg", 1)
    with open_store(tmp_path / "empty.db") as store:
        summary = ingest_paths([photo], store)
    outcome = summary.outcomes[0]
    assert outcome.status == "quarantined"
    assert outcome.message and "not known to this store" in outcome.message


def test_multi_page_pdf_scan(prepared: Path, store_path: Path, tmp_path: Path) -> None:
    pages = [_mar_page(prepared, 0), _mar_page(prepared, 1)]
    images = [_render(prepared, page) for page in pages]
    from PIL import Image

    frames = [Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)) for img in images]
    scan = tmp_path / "scan.pdf"
    frames[0].save(scan, save_all=True, append_images=frames[1:], resolution=DPI)
    with open_store(store_path) as store:
        summary = ingest_paths([scan], store)
    assert [(o.frame, o.page_id) for o in summary.outcomes] == [
        (0, pages[0]["page_id"]),
        (1, pages[1]["page_id"]),
    ]


def test_readings_json_contract(prepared: Path, store_path: Path, tmp_path: Path) -> None:
    photo, page, ticked = _ticked_photo(prepared, tmp_path, "c.jpg", 2)
    runner = CliRunner()
    ingest_result = runner.invoke(
        main, ["ingest", str(photo), "--store", str(store_path), "--json"]
    )
    assert ingest_result.exit_code == 0, ingest_result.output
    assert json.loads(ingest_result.output)["counts"]["read"] == 1
    result = runner.invoke(main, ["readings", "--store", str(store_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"pages", "files", "free_photos"}  # free_photos: docs/readings.md
    entry = report["pages"][0]
    assert entry["page_id"] == page["page_id"]
    field = next(f for f in entry["fields"] if f["field_id"] == ticked[0])
    assert set(field) >= {"field_id", "value", "confidence", "status", "captures", "flags"}
    assert field["value"] == "ticked" and field["status"] in ("auto", "review")
    assert report["files"][0] == {
        "file": str(photo),
        "sha256": report["files"][0]["sha256"],
        "frame": 0,
        "page_id": page["page_id"],
        "status": "read",
        "message": None,
        "ingested_at": report["files"][0]["ingested_at"],
    }


def test_readings_for_unknown_page_id_format_says_what_to_do(store_path: Path) -> None:
    result = CliRunner().invoke(main, ["readings", "--store", str(store_path), "--page", "X1"])
    assert result.exit_code == 8
    assert "is not a papermode page id" in result.output


def test_ingest_missing_path_says_so(store_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["ingest", str(tmp_path / "nope.jpg"), "--store", str(store_path)]
    )
    assert result.exit_code == 6
    assert "does not exist" in result.output


def test_zip_member_bytes_are_kept(store_path: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("x.txt", "hello")
    archive = tmp_path / "x.zip"
    archive.write_bytes(buffer.getvalue())
    with open_store(store_path) as store:
        ingest_paths([archive], store)
        kept = list(store.evidence_dir.rglob("*.zip"))
    assert kept and kept[0].read_bytes() == buffer.getvalue()


def test_new_order_goes_to_review_with_a_drug_name_suggestion(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = next(p for p in _manifest(prepared) if p["template"] == "new_orders")
    image = _render(prepared, page)
    scale = DPI / 25.4
    drug = next(f for f in page["fields"] if f["role"] == "drug")
    x, y, w, h = drug["box_mm"]
    cv2.putText(
        image,
        "Amoxicilline",
        (int((x + 3) * scale), int((y + h * 0.75) * scale)),
        cv2.FONT_HERSHEY_DUPLEX,
        1.5,
        (120, 40, 20),
        3,
        cv2.LINE_AA,
    )
    route = next(f for f in page["fields"] if f["role"] == "route" and f["value"] == "PO")
    _tick(image, route["box_mm"])
    photo = _photo(image, tmp_path / "order.jpg")
    with open_store(store_path) as store:
        ingest_paths([photo], store)
    state = _state(store_path, page["page_id"])
    assert state[drug["field_id"]]["value"] == "ink"
    assert state[drug["field_id"]]["status"] == "review"
    assert state[drug["field_id"]]["suggestion"] in ("amoxicilline", "amoxicillin")
    ticked = state[route["field_id"]]
    assert ticked["value"] == "ticked" and ticked["status"] == "review"
    assert "new_order" in ticked["flags"]


def test_screen_photo_is_linked_searchable_and_compared(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    from papermode.census.snapshot import load_census
    from papermode.demo.synth.screens import MedicationTruth, render_screen

    snapshot = load_census(sample_census_path())
    patient = snapshot.patients[0]
    meds = (
        MedicationTruth(
            "Amoxicilline 1 g PO 3x/j",
            ("Amoxicilline", "1 g", "PO", "3x/j"),
            "amoxicillin",
            1.0,
            "g",
            "PO",
            "3x/d",
        ),
        MedicationTruth(
            "Paracétamol 1 g PO 4x/j",
            ("Paracétamol", "1 g", "PO", "4x/j"),
            "paracetamol",
            1.0,
            "g",
            "PO",
            "4x/d",
        ),
    )
    screen, _ = render_screen(patient, meds, lang="fr")
    path = tmp_path / "screen.png"
    screen.save(path)
    runner = CliRunner()
    result = runner.invoke(
        main, ["ingest", str(path), "--kind", "screen", "--store", str(store_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["free"] == 1
    found = runner.invoke(main, ["search", "amoxicilline", "--store", str(store_path), "--json"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output)
    assert hits and hits[0]["mrn"] == patient.mrn


def test_pages_of_an_older_snapshot_stay_readable(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    """prepare runs every few hours: yesterday's printout must still be read."""
    bundle = json.loads(sample_census_path().read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "MedicationRequest":
            dose = resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
            dose["value"] = dose["value"] * 2  # the orders changed since
            break
    newer = tmp_path / "census-later.json"
    newer.write_text(json.dumps(bundle), encoding="utf-8")
    prepare_forms(
        newer,
        tmp_path / "later",
        store_path,
        start=START,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    with open_store(store_path) as store:
        assert store.db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 2
    photo, page, ticked = _ticked_photo(prepared, tmp_path, "older.jpg", 1)
    with open_store(store_path) as store:
        summary = ingest_paths([photo], store)
    assert [(o.status, o.page_id) for o in summary.outcomes] == [("read", page["page_id"])]
    assert _state(store_path, page["page_id"])[ticked[0]]["value"] == "ticked"


def test_readings_without_a_store_says_where_to_point(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["readings", "--store", str(tmp_path / "none.db")])
    assert result.exit_code == 5
    assert "there is no store at" in result.output
    assert not (tmp_path / "none.db").exists()


def test_clerk_is_told_which_photo_to_retake_and_why(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = _mar_page(prepared)
    image = _render(prepared, page)
    cut = tmp_path / "IMG_0042.jpg"
    cv2.imwrite(str(cut), image[: int(image.shape[0] * 0.88), :])
    text = tmp_path / "list.jpg"
    text.write_text("not a photo")
    result = CliRunner().invoke(main, ["ingest", str(cut), str(text), "--store", str(store_path)])
    assert result.exit_code == 7, result.output  # some files need a person
    lines = result.output.splitlines()
    assert any(
        line.startswith(f"RETAKE: {cut}: the bottom")
        and "step back and include the whole page" in line
        for line in lines
    ), result.output
    assert any(line.startswith(f"QUARANTINED: {text}: list.jpg is not an image") for line in lines)
    assert lines[-1].startswith(
        "0 page(s) read, 1 to retake, 0 free photo(s), 0 duplicate(s), 1 quarantined"
    )


def test_a_bug_in_reading_costs_one_page_not_the_file(
    prepared: Path, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papermode.reading import page as capture

    photo, _, _ = _ticked_photo(prepared, tmp_path, "bug.jpg", 1)

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError

    monkeypatch.delenv("PAPERMODE_DEBUG", raising=False)
    monkeypatch.setattr(capture, "read_page_image", broken)
    with open_store(store_path) as store:
        summary = ingest_paths([photo], store, workers=1)
        kept = [
            store.evidence_dir / row["evidence"]
            for row in store.db.query("SELECT evidence FROM files")
        ]
    outcome = summary.outcomes[0]
    assert outcome.status == "quarantined" and "ZeroDivisionError" in (outcome.message or "")
    assert kept[0].read_bytes() == photo.read_bytes()


def test_a_quarantined_page_is_read_once_its_store_knows_it(prepared: Path, tmp_path: Path) -> None:
    photo, page, _ = _ticked_photo(prepared, tmp_path, "early.jpg", 1)
    laptop = tmp_path / "laptop.db"
    with open_store(laptop) as store:
        first = ingest_paths([photo], store)
    assert first.outcomes[0].status == "quarantined"
    # The same census printed into this store: it now knows the page.
    prepare_forms(
        sample_census_path(),
        tmp_path / "reprint",
        laptop,
        start=START,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    with open_store(laptop) as store:
        second = ingest_paths([photo], store)  # quarantined before: read again
        third = ingest_paths([photo], store)  # read: now a duplicate
    assert [(o.status, o.page_id) for o in second.outcomes] == [("read", page["page_id"])]
    assert third.outcomes[0].status == "duplicate"
