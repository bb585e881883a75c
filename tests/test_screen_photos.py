"""Forms from photos of screens (docs/screen-photos.md): synthetic screen photos of a ward's
orders -> ingest --kind screen -> proposed orders in the review queue -> two reviewers ->
prepare --from-photos -> the printed orders are the orders on the screens."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from papermode.cli.main import main
from papermode.demo.synth.screens import FreePhotoTruth, synth_free_photo
from papermode.free.identity import read_identity
from papermode.review.from_photos import provenance_line
from papermode.review.proposals import BLIND_PARTS
from papermode.review.queue import build_queue
from papermode.review.service import decide
from papermode.store.database import open_store

START = "2026-11-28T08:00"
CONFIRMED_SEEDS = (1, 6)  # both reviewers confirm everything (6 shows morphine)
HALF_SEED = 3  # only the first reviewer looked at this photo


def _truth_values(truth: FreePhotoTruth, line: int) -> dict[str, str]:
    med = truth.medications[line]
    return {
        "drug": med.drug,
        "dose": f"{med.dose_value:g}",
        "unit": med.dose_unit,
        "route": med.route,
        "frequency": med.frequency,
        "times": "-",
    }


def _identity_values(truth: FreePhotoTruth) -> dict[str, str]:
    patient = truth.patient
    assert patient.birth_date is not None
    return {
        "family": patient.family,
        "given": patient.given,
        "mrn": patient.mrn,
        "birth_date": patient.birth_date.isoformat(),
    }


def _nameless_screen(path: Path) -> None:
    """A screen photo whose banner (name, MRN, birth date) is out of the picture."""
    photo, _ = synth_free_photo(9, kind="screen", lang="en", distort=False, medications=2)
    cv2.rectangle(photo, (0, 55), (photo.shape[1], 105), (250, 250, 250), thickness=-1)
    cv2.imwrite(str(path), photo)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("screens")
    truths: dict[int, FreePhotoTruth] = {}
    files = []
    for seed in (*CONFIRMED_SEEDS, HALF_SEED):
        photo, truth = synth_free_photo(
            seed, kind="screen", lang="en", distort=False, medications=3
        )
        path = folder / f"screen-{seed}.png"
        cv2.imwrite(str(path), photo)
        truths[seed] = truth
        files.append(str(path))
    _nameless_screen(folder / "screen-nameless.png")
    files.append(str(folder / "screen-nameless.png"))
    store = folder / "ward.db"
    result = CliRunner().invoke(
        main,
        ["ingest", *files, "--kind", "screen", "--new-store", "--store", str(store), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["free"] == 4
    return {"store": store, "truths": truths, "folder": folder}


def _photo_of(store_path: Path, file_name: str) -> str:
    with sqlite3.connect(store_path) as db:
        row = db.execute(
            "SELECT capture_id FROM free_photos WHERE file_name LIKE ?", [f"%{file_name}"]
        ).fetchone()
    return str(row[0])


def _expected(item_id: str, truth: FreePhotoTruth) -> str:
    part = item_id.rsplit(":", 1)[1]
    if item_id.startswith("photo:"):
        return _identity_values(truth)[part]
    line = int(item_id.rsplit(":", 2)[1])
    return _truth_values(truth, line)[part]


def test_no_store_is_made_without_new_store(tmp_path: Path) -> None:
    path = tmp_path / "screen.png"
    _nameless_screen(path)
    missing = tmp_path / "typo.db"
    result = CliRunner().invoke(
        main, ["ingest", str(path), "--kind", "screen", "--store", str(missing)]
    )
    assert result.exit_code != 0
    assert "there is no store at" in result.output
    assert not missing.exists()


def test_identity_is_read_from_the_banner_never_guessed() -> None:
    found = read_identity("LAMBERT, Jean  MRN: 2058756  DOB: 16/08/1993\nAmlodipine 5 mg PO")
    assert (found.family, found.given, found.mrn, found.birth_date) == (
        "LAMBERT",
        "Jean",
        "2058756",
        "1993-08-16",
    )
    nothing = read_identity("Amlodipine 5 mg PO TID\nFurosemide 40 mg PO")
    assert not nothing.anything
    two = read_identity("MRN: 2058756 then MRN: 3058756, 01/01/1950 and 02/02/1960")
    assert two.mrn is None and two.birth_date is None  # two readings: a person keys it


def test_proposals_are_two_person_items_with_blind_numbers(ingested: dict[str, Any]) -> None:
    with open_store(ingested["store"]) as store:
        items = [i for i in build_queue(store) if i.kind in ("proposed_order", "photo_identity")]
    nameless = _photo_of(ingested["store"], "screen-nameless.png")
    assert items and all(i.two_person for i in items)
    assert {i.field_id for i in items if i.blind} == BLIND_PARTS
    assert not [i for i in items if i.capture_id == nameless]  # no patient, no proposal
    per_photo = {i.capture_id for i in items if i.kind == "photo_identity"}
    assert len(per_photo) == 3
    # what the machine read on the clean screens is the truth, or nothing (a part OCR
    # missed, like a route: the first reviewer keys it); never another value
    right = missed = 0
    for seed, truth in ingested["truths"].items():
        capture = _photo_of(ingested["store"], f"screen-{seed}.png")
        for item in (i for i in items if i.capture_id == capture):
            assert item.value in (_expected(item.item_id, truth), None), item.item_id
            right, missed = right + (item.value is not None), missed + (item.value is None)
    assert right >= 0.9 * (right + missed)


def _review_all(ingested: dict[str, Any]) -> None:
    """alice then bob on the confirmed photos (bob keys numbers blind); one mis-read dose
    is corrected by both; on the half photo only alice decides."""
    store_path = ingested["store"]
    with sqlite3.connect(store_path) as db:  # the OCR misread 40 mg as 400 mg on one line
        capture = _photo_of(store_path, f"screen-{CONFIRMED_SEEDS[0]}.png")
        db.execute(
            "UPDATE free_medication_candidates SET dose_value = dose_value * 10 "
            "WHERE candidate_id = ?",
            [f"{capture}:0"],
        )
    captures = {_photo_of(store_path, f"screen-{s}.png"): s for s in ingested["truths"]}
    with open_store(store_path) as store:
        items = [i for i in build_queue(store) if i.capture_id in captures]
    runner = CliRunner()
    for item in items:
        truth = ingested["truths"][captures[str(item.capture_id)]]
        right = _expected(item.item_id, truth)
        with open_store(store_path) as store:
            if item.value == right:
                decide(store, item.item_id, kind="confirm", reviewer="alice")
            else:  # through the CLI, as a clerk does
                result = runner.invoke(
                    main,
                    [
                        "review",
                        "--decide",
                        item.item_id,
                        "--value",
                        right,
                        "--reviewer",
                        "alice",
                        "--store",
                        str(store_path),
                    ],
                )
                assert result.exit_code == 0, result.output
            if captures[str(item.capture_id)] == HALF_SEED:
                continue
            if item.blind or item.value != right:  # bob keys what the image shows
                decide(store, item.item_id, kind="correct", value=right, reviewer="bob")
            else:
                decide(store, item.item_id, kind="confirm", reviewer="bob")


@pytest.fixture(scope="module")
def printed(ingested: dict[str, Any]) -> dict[str, Any]:
    _review_all(ingested)
    out = ingested["folder"] / "forms"
    result = CliRunner().invoke(
        main,
        [
            "prepare",
            "--from-photos",
            "--out",
            str(out),
            "--store",
            str(ingested["store"]),
            "--start",
            START,
            "--ward",
            "3 North",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return {"summary": json.loads(result.output), "out": out, **ingested}


def _pdf_pages(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def test_printed_orders_equal_the_orders_on_the_screens(printed: dict[str, Any]) -> None:
    with sqlite3.connect(printed["store"]) as db:
        rows = db.execute(
            "SELECT p.mrn, o.medication, o.dose_value, o.dose_unit, o.route FROM orders o "
            "JOIN patients p ON p.snapshot_id = o.snapshot_id AND p.patient_id = o.patient_id "
            "WHERE o.snapshot_id = ?",
            [printed["summary"]["snapshot_id"]],
        ).fetchall()
    on_screens = {
        (t.patient.mrn, m.drug, m.dose_value, m.dose_unit, m.route)
        for seed in CONFIRMED_SEEDS
        for t in (printed["truths"][seed],)
        for m in t.medications
    }
    assert set(rows) == on_screens  # the mis-read dose is printed as corrected
    with sqlite3.connect(printed["store"]) as db:
        high_alert = dict(
            db.execute(
                "SELECT medication, high_alert FROM orders WHERE snapshot_id = ?",
                [printed["summary"]["snapshot_id"]],
            ).fetchall()
        )
    assert high_alert["morphine"] and not high_alert["amlodipine"]  # as an export's would be
    manifest = json.loads((printed["out"] / "manifest.json").read_text())
    mrns = {p["mrn"] for p in manifest["pages"] if p["mrn"]}
    assert mrns == {printed["truths"][s].patient.mrn for s in CONFIRMED_SEEDS}
    for seed in CONFIRMED_SEEDS:
        truth = printed["truths"][seed]
        pdf = next(p for p in manifest["pages"] if p["mrn"] == truth.patient.mrn)["pdf"]
        text = " ".join(_pdf_pages(printed["out"] / pdf)).lower()
        for med in truth.medications:
            assert med.drug.lower() in text
            assert f"{med.dose_value:g} {med.dose_unit}".lower() in text


def test_every_page_says_from_photos_and_who_confirmed(printed: dict[str, Any]) -> None:
    line = provenance_line(["alice", "bob"])
    assert line == "from photos of screens, confirmed by alice and bob"
    assert printed["summary"]["source"] == line
    ward_pdfs = [printed["out"] / entry["pdf"] for entry in printed["summary"]["ward_pdfs"]]
    pages = [text for pdf in ward_pdfs for text in _pdf_pages(pdf)]
    assert pages and all(line in " ".join(text.split()) for text in pages)


def test_unconfirmed_and_unlinked_photos_print_no_named_pack(printed: dict[str, Any]) -> None:
    half = printed["truths"][HALF_SEED]
    manifest_text = (printed["out"] / "manifest.json").read_text()
    assert half.patient.mrn not in manifest_text
    for pdf in printed["out"].rglob("*.pdf"):
        text = " ".join(_pdf_pages(pdf))
        assert half.patient.family not in text
        for med in half.medications:  # the half-confirmed orders are nowhere
            assert med.drug.lower() not in text.lower() or any(
                med.drug == m.drug
                for s in CONFIRMED_SEEDS
                for m in printed["truths"][s].medications
            )
    not_printed = printed["summary"]["not_printed"]
    assert any(
        n.startswith("screen-3.png: patient not printed: identity not confirmed")
        for n in not_printed
    )
    assert any(
        n.startswith("screen-nameless.png: patient not printed: no name or MRN")
        for n in not_printed
    )
    assert printed["summary"]["patients"] == len(CONFIRMED_SEEDS)
    assert printed["summary"]["blank_pages"] > 0  # the blank packs for the others


def test_an_order_one_reviewer_confirmed_is_not_printed(
    printed: dict[str, Any], tmp_path: Path
) -> None:
    """Undo bob's decision on one dose: the next print leaves that order off."""
    store_path = printed["store"]
    capture = _photo_of(store_path, f"screen-{CONFIRMED_SEEDS[1]}.png")
    item_id = f"proposal:{capture}:1:dose"
    with open_store(store_path) as store:
        item = next(i for i in build_queue(store, include_decided=True) if i.item_id == item_id)
        assert item.state is not None and item.state.second is not None
        decide(
            store, item_id, kind="withdraw", reviewer="bob", edit_of=item.state.second.decision_id
        )
    out = tmp_path / "forms"
    result = CliRunner().invoke(
        main,
        [
            "prepare",
            "--from-photos",
            "--out",
            str(out),
            "--store",
            str(store_path),
            "--start",
            START,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    waiting = f"screen-{CONFIRMED_SEEDS[1]}.png: order, line 2 not printed: awaiting "
    assert waiting + "confirmation (dose)" in summary["not_printed"]
    with sqlite3.connect(store_path) as db:
        printed_drugs = {
            r[0]
            for r in db.execute(
                "SELECT medication FROM orders WHERE snapshot_id = ? AND order_id LIKE ?",
                [summary["snapshot_id"], f"photo-{capture}-%"],
            )
        }
    truth = printed["truths"][CONFIRMED_SEEDS[1]]
    assert printed_drugs == {m.drug for n, m in enumerate(truth.medications) if n != 1}
    with open_store(store_path) as store:  # bob decides again (blind) for the other tests
        decide(
            store,
            item_id,
            kind="correct",
            value=f"{truth.medications[1].dose_value:g}",
            reviewer="bob",
        )


def test_readings_json_lists_free_photos_with_link_and_candidates(
    ingested: dict[str, Any],
) -> None:
    result = CliRunner().invoke(main, ["readings", "--json", "--store", str(ingested["store"])])
    assert result.exit_code == 0, result.output
    photos = json.loads(result.output)["free_photos"]
    assert {Path(p["file"]).name for p in photos} == {
        "screen-1.png",
        "screen-6.png",
        "screen-3.png",
        "screen-nameless.png",
    }
    first = next(p for p in photos if p["file"].endswith("/screen-1.png"))
    assert first["kind"] == "screen"
    assert set(first["link"]) == {"patient_id", "mrn", "evidence", "confidence"}
    drugs = [c["drug"] for c in first["candidates"]]
    assert drugs == [m.drug for m in ingested["truths"][1].medications]
    assert {"dose_value", "dose_unit", "route", "frequency", "times", "status"} <= set(
        first["candidates"][0]
    )


def test_prepare_from_photos_refuses_a_census_argument(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["prepare", "census.json", "--from-photos", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code != 0
    assert "--from-photos reads the store, not a CENSUS export" in result.output
    assert "Traceback" not in result.output


def test_nothing_confirmed_is_a_clear_refusal(tmp_path: Path) -> None:
    path = tmp_path / "screen.png"
    photo, _ = synth_free_photo(4, kind="screen", lang="en", distort=False, medications=1)
    cv2.imwrite(str(path), np.ascontiguousarray(photo))
    store = tmp_path / "s.db"
    runner = CliRunner()
    result = runner.invoke(
        main, ["ingest", str(path), "--kind", "screen", "--new-store", "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["prepare", "--from-photos", "--out", str(tmp_path / "o"), "--store", str(store)]
    )
    assert result.exit_code == 3  # CENSUS: there is no census to print
    assert "no patient and no order from photos of screens is confirmed yet" in result.output
    assert "screen.png: patient not printed: identity not confirmed" in result.output
    assert not (tmp_path / "o").exists()


def _asgi(app: Any, method: str, path: str, cookie: str = "", form: str = "") -> Any:
    """One request to the ASGI app, no network and no HTTP client package."""
    target, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1:8765"), (b"cookie", cookie.encode())]
    if form:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
    scope = {
        "type": "http",
        "method": method,
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "scheme": "http",
        "server": ("127.0.0.1", 8765),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "http_version": "1.1",
    }
    sent: list[dict[str, Any]] = []
    body = [{"type": "http.request", "body": form.encode(), "more_body": False}]

    async def receive() -> dict[str, Any]:
        return body.pop(0) if body else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    cookies = [v.decode().split(";")[0] for k, v in start["headers"] if k == b"set-cookie"]
    headers["set-cookie"] = "; ".join(cookies)
    return start["status"], headers, content


def test_the_review_app_shows_the_photo_line_beside_a_proposed_order(
    ingested: dict[str, Any],
) -> None:
    from urllib.parse import quote

    from papermode.web.app import ReviewApp

    store_path = ingested["store"]
    capture = _photo_of(store_path, f"screen-{HALF_SEED}.png")
    item_id = f"proposal:{capture}:0:drug"
    review = ReviewApp(store_path, keep_sessions=False)
    app = review.asgi
    status, headers, _ = _asgi(app, "GET", f"/?token={review.token}")
    cookie = headers["set-cookie"]
    assert cookie, headers
    status, headers, content = _asgi(app, "GET", "/", cookie)
    assert status == 200, content
    cookie = "; ".join(c for c in (cookie, headers["set-cookie"]) if c)
    csrf = re.search(r'name="csrf" value="([^"]+)"', content.decode())
    assert csrf is not None
    form = f"csrf={quote(csrf.group(1))}&reviewer=carol"
    status, _, _ = _asgi(app, "POST", "/reviewer", cookie, form)
    assert status == 303
    status, _, content = _asgi(app, "GET", f"/item/{item_id}", cookie)
    assert status == 200, content
    assert f'src="/crop/{item_id}' in content.decode()
    assert 'id="btn-correct"' in content.decode()
    status, headers, content = _asgi(app, "GET", f"/crop/{item_id}", cookie)
    assert status == 200 and headers["content-type"] == "image/png"
    line = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
    photo = cv2.imread(str(ingested["folder"] / f"screen-{HALF_SEED}.png"))
    assert 0 < line.shape[0] < photo.shape[0] / 4  # one line of the screen, not all of it
    assert line.shape[1] > 100


def test_the_new_store_and_the_forms_are_owner_only(printed: dict[str, Any]) -> None:
    for path in (printed["store"], printed["out"], printed["out"] / "manifest.json"):
        assert path.stat().st_mode & 0o077 == 0, path
    for pdf in printed["out"].rglob("*.pdf"):
        assert pdf.stat().st_mode & 0o077 == 0, pdf
