"""Photocopies: one page id on two sheets of paper is two records until a person decides.

Real printed pages (a blank pack's MAR page, a patient's MAR page) are rasterised, filled
as two different sheets (another temporary number, other ticks), photographed and ingested
one after the other into a real store.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pagefactory as pf
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
import test_identity_pages as kit  # noqa: E402

from papermode.cli.review import review  # noqa: E402
from papermode.core.model import Box, Field  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.demo.synth.handwriting import Pen, draw_comb, draw_glyph, initials_glyph  # noqa: E402
from papermode.ingest.pipeline import ingest_paths  # noqa: E402
from papermode.reconcile.service import reconcile_store  # noqa: E402
from papermode.state.readings import readings_report  # noqa: E402
from papermode.state.sheets import CaptureMarks, group_sheets  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

T0 = datetime(2026, 11, 28, 9, 0).timestamp()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pf.prepare_sample_ward(tmp_path_factory.mktemp("prepared"), kit.START)


@pytest.fixture()
def store_path(prepared: Path, tmp_path: Path) -> Path:
    return pf.copy_of_store(prepared, tmp_path)


def _write_temp_number(image: np.ndarray, page: dict[str, Any], number: str, seed: int) -> None:
    spec = next(f for f in page["fields"] if f["role"] == "temp_number")
    comb = Field(spec["field_id"], "digits", Box(*spec["box_mm"]), cells=spec["cells"])
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    draw_comb(gray, comb, number, np.random.default_rng(seed), px_per_mm=kit.SCALE)
    image[:] = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _photo_at(image: np.ndarray, path: Path, minutes: int) -> Path:
    h, w = image.shape[:2]
    kit.photograph(kit.canvas((image, 40, 40), size=(w + 80, h + 80)), path)
    os.utime(path, (T0 + 60 * minutes, T0 + 60 * minutes))
    return path


def _ingest(store_path: Path, *photos: Path) -> dict[str, Any]:
    with open_store(store_path) as store:
        for photo in photos:
            ingest_paths([photo], store, workers=1)
        report: dict[str, Any] = readings_report(store)
    return report


def _page(report: dict[str, Any], page_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(p for p in report["pages"] if p["page_id"] == page_id)
    return entry


def _ticked(fields: list[dict[str, Any]]) -> set[str]:
    return {f["field_id"] for f in fields if f["value"] == "ticked"}


def _given(page: dict[str, Any]) -> list[str]:
    return [f["field_id"] for f in page["fields"] if f["role"] == "given"]


def _assert_two_sheets(entry: dict[str, Any], first: set[str], second: set[str]) -> None:
    assert entry["copies"] == 2
    assert [c["sheet"] for c in entry["captures"]] == [1, 2]
    assert all(f["status"] == "review" and "copy_of_page" in f["flags"] for f in entry["fields"])
    sheets = entry["sheets"]
    assert _ticked(sheets[0]["fields"]) == first
    assert _ticked(sheets[1]["fields"]) == second
    assert all(f["status"] == "review" for s in sheets for f in s["fields"])


def test_two_photocopies_of_a_blank_pack_for_two_patients_are_never_merged(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = kit.page_of(prepared, "mar", 0, blank=True)
    given = _given(page)
    photos = []
    for index, (number, ticks) in enumerate([("4711", given[:3]), ("5826", given[3:5])]):
        image = kit.render(prepared, page)
        _write_temp_number(image, page, number, seed=index)
        for field in page["fields"]:
            if field["field_id"] in ticks:
                kit.tick(image, field["box_mm"])
        photos.append(_photo_at(image, tmp_path / f"copy-{index}.jpg", minutes=10 * index))
    report = _ingest(store_path, *photos)
    entry = _page(report, page["page_id"])
    _assert_two_sheets(entry, set(given[:3]), set(given[3:5]))
    with open_store(store_path) as store:
        auto = store.db.execute(
            "SELECT COUNT(*) FROM page_state WHERE page_id = ? AND status = 'auto'",
            [page["page_id"]],
        ).fetchone()[0]
    assert auto == 0


def test_two_copies_of_a_mar_page_with_other_ticks_are_two_sheets(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = kit.page_of(prepared, "mar", 0)
    given = _given(page)
    photos = []
    for index, ticks in enumerate([given[:2], given[2:4]]):
        image = kit.render(prepared, page)
        for field in page["fields"]:
            if field["field_id"] in ticks:
                kit.tick(image, field["box_mm"])
        photos.append(_photo_at(image, tmp_path / f"mar-copy-{index}.jpg", minutes=30 * index))
    report = _ingest(store_path, *photos)
    _assert_two_sheets(_page(report, page["page_id"]), set(given[:2]), set(given[2:4]))


def test_the_same_sheet_photographed_again_with_more_ticks_is_one_sheet(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = kit.page_of(prepared, "mar", 0)
    given = _given(page)
    image = kit.render(prepared, page)
    photos = []
    for index, ticks in enumerate([given[:2], given[2:4]]):
        for field in page["fields"]:
            if field["field_id"] in ticks:
                kit.tick(image, field["box_mm"])  # the same paper: marks only add up
        photos.append(_photo_at(image, tmp_path / f"again-{index}.jpg", minutes=30 * index))
    report = _ingest(store_path, *photos)
    entry = _page(report, page["page_id"])
    assert entry["copies"] == 1
    assert [c["sheet"] for c in entry["captures"]] == [1, 1]
    assert "fields" not in entry["sheets"][0]
    assert not any("copy_of_page" in f["flags"] for f in entry["fields"])
    assert _ticked(entry["fields"]) == set(given[:4])


def test_blank_pack_copies_told_apart_by_their_temporary_numbers_alone(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    """Copy B has every tick copy A has, and more: only the temporary number differs."""
    page = kit.page_of(prepared, "mar", 1, blank=True)
    given = _given(page)
    photos = []
    for index, (number, ticks) in enumerate([("3094", given[:2]), ("8261", given[:4])]):
        image = kit.render(prepared, page)
        _write_temp_number(image, page, number, seed=10 + index)
        for field in page["fields"]:
            if field["field_id"] in ticks:
                kit.tick(image, field["box_mm"])
        photos.append(_photo_at(image, tmp_path / f"temp-{index}.jpg", minutes=10 * index))
    report = _ingest(store_path, *photos)
    entry = _page(report, page["page_id"])
    _assert_two_sheets(entry, set(given[:2]), set(given[:4]))
    numbers = [
        next(f["value"] for f in sheet["fields"] if f["field_id"] == "blank.temp_number")
        for sheet in entry["sheets"]
    ]
    # Handwritten digits are read as written or sent to a person; the two sheets differ.
    assert len(set(numbers)) == 2 and numbers[1] == "8261"


def _marks(
    capture: str,
    minute: int,
    ticked: set[str],
    digits: dict[str, str] | None = None,
    **identity: str,
) -> CaptureMarks:
    fields = {f"f{i}" for i in range(6)}
    values: dict[str, str | None] = {f: "ticked" if f in ticked else "empty" for f in fields}
    when = datetime(2026, 11, 28, 9, minute)
    return CaptureMarks(capture, when, values, frozenset(fields), identity, digits or {})


def test_sheet_rules_marks_only_add_up_on_one_sheet() -> None:
    growing = [_marks("a", 0, {"f0"}), _marks("b", 5, {"f0", "f1"}), _marks("c", 9, {"f0", "f1"})]
    assert group_sheets(growing) == [("a", "b", "c")]
    vanished = [_marks("a", 0, {"f0", "f1"}), _marks("b", 5, {"f0"})]  # merge's conflict
    assert group_sheets(vanished) == [("a", "b")]
    crossed = [
        _marks("a", 0, {"f0", "f1"}),
        _marks("b", 5, {"f2", "f3"}),
        _marks("c", 7, {"f0", "f1", "f4"}),
    ]
    assert group_sheets(crossed) == [("a", "c"), ("b",)]
    # One mark lost while others appear: the merge's "disappeared" conflict, one sheet.
    one_lost = [_marks("a", 0, {"f0", "f1"}), _marks("b", 5, {"f0", "f2"})]
    assert group_sheets(one_lost) == [("a", "b")]
    numbers = [_marks("a", 0, set(), temp_number="4711"), _marks("b", 5, set(), temp_number="5826")]
    assert group_sheets(numbers) == [("a",), ("b",)]
    unread = [_marks("a", 0, set(), temp_number="4711"), _marks("b", 5, {"f0"})]
    assert group_sheets(unread) == [("a", "b")]
    # Ink does not change on one sheet: two times written differently are another sheet,
    # one digit read two ways is the merge's "changed" conflict.
    times = {"t1": "0815", "t2": "1200"}
    other = [_marks("a", 0, {"f0"}, times), _marks("b", 5, {"f0"}, {"t1": "0845", "t2": "1210"})]
    assert group_sheets(other) == [("a",), ("b",)]
    misread = [_marks("a", 0, {"f0"}, times), _marks("b", 5, {"f0"}, {**times, "t1": "0816"})]
    assert group_sheets(misread) == [("a", "b")]


def test_a_copy_that_adds_only_doubtful_ink_or_nothing_is_another_sheet() -> None:
    """Found by the capture bench on the multi-day MAR: a photocopy filled by another nurse
    lost two confident marks of the first sheet and added only ink read with doubt (the
    signature legend, a drug written in), and a blank copy photographed after the first
    sheet was filled lost all of them; both were merged into the first sheet."""
    first = _marks("a", 0, {"f0", "f1"})
    doubtful = CaptureMarks(
        "b", datetime(2026, 11, 28, 9, 5), {"f0": "empty", "f1": "empty", "f5": "ink"},
        frozenset({"f0", "f1"}),  # f5 is read, with doubt
    )  # fmt: skip
    assert group_sheets([first, doubtful]) == [("a",), ("b",)]
    many = {f"f{i}" for i in range(6)}
    blank = [_marks("a", 0, many), _marks("b", 5, set())]
    assert group_sheets(blank) == [("a",), ("b",)]
    # the same sheet: one confident mark gone (glare) and doubtful ink added stays one sheet
    glare = CaptureMarks(
        "b", datetime(2026, 11, 28, 9, 5), {"f0": "ticked", "f1": "empty", "f5": "ink"},
        frozenset({"f0", "f1"}),
    )  # fmt: skip
    assert group_sheets([first, glare]) == [("a", "b")]


def test_a_later_photo_joins_the_copy_whose_marks_it_holds() -> None:
    """Two sheets of one page id; the later photo of the second agrees with both (the
    first's marks that it lacks were read with doubt), and joined the first: it belongs to
    the one whose marks it holds."""
    first = _marks("a", 0, {"f0", "f1"})
    second = _marks("b", 5, {"f2", "f3", "f4"})  # lost f0 and f1, gained: another sheet
    doubt = CaptureMarks(
        "c", datetime(2026, 11, 28, 9, 9),
        {"f0": "empty", "f2": "ticked", "f3": "ticked", "f4": "ticked", "f5": "ticked"},
        frozenset({"f2", "f3", "f4", "f5"}),  # f0 read empty with doubt, f1 not read
    )  # fmt: skip
    assert group_sheets([first, second, doubt]) == [("a",), ("b", "c")]


def _write_in(image: np.ndarray, page: dict[str, Any], role: str, seed: int) -> None:
    """Handwriting (pen strokes like letters) across a write-in box of the banner."""
    spec = next(f for f in page["fields"] if f["role"] == role)
    x, y, w, h = spec["box_mm"]
    rng = np.random.default_rng(seed)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    left = x + 1.5
    while left < x + w - 8.0:
        glyph = initials_glyph(rng)
        cell = Box(left, y + 1.0, 7.0 * glyph.shape[1] / 56.0, h - 2.0)
        draw_glyph(gray, glyph, cell, Pen(height=0.8), rng, px_per_mm=kit.SCALE)
        left += cell.w + 1.0
    image[:] = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def test_blank_pack_copies_with_the_same_ticks_told_apart_by_the_handwritten_name(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    """No temporary number, the same ticks: only the name and birth date differ."""
    page = kit.page_of(prepared, "mar", 2, blank=True)
    photos = []
    for index in range(2):
        image = kit.render(prepared, page)
        _write_in(image, page, "name", seed=100 + index)
        _write_in(image, page, "birth_date", seed=200 + index)
        photos.append(_photo_at(image, tmp_path / f"named-{index}.jpg", minutes=10 * index))
    again = kit.render(prepared, page)  # the first sheet later, one vital sign written
    _write_in(again, page, "name", seed=100)
    _write_in(again, page, "birth_date", seed=200)
    kit.tick(again, next(f for f in page["fields"] if f["kind"] == "checkbox")["box_mm"])
    photos.append(_photo_at(again, tmp_path / "named-again.jpg", minutes=30))
    report = _ingest(store_path, *photos)
    entry = _page(report, page["page_id"])
    assert entry["copies"] == 2
    assert [c["sheet"] for c in entry["captures"]] == [1, 2, 1]
    assert all("copy_of_page" in f["flags"] for f in entry["fields"])


# ---------------------------------------------------------------------- review: one item a sheet


def _review(store_path: Path, *args: str) -> Any:
    return CliRunner().invoke(review, ["--store", str(store_path), *args])


def _page_queue(store_path: Path, page_id: str) -> list[dict[str, Any]]:
    listed = _review(store_path, "--list", "--json", "--all")
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.output)["items"]
    return [i for i in items if i["page_id"] == page_id and i["kind"] in ("field", "sheet")]


def _page_items(store_path: Path, page_id: str) -> list[Any]:
    with open_store(store_path) as store:
        result, _ = reconcile_store(store, load_settings())
        pages = {i.item_id: {e.page_id for e in i.evidence} for i in result.items if i.evidence}
        return [i for i in result.items if page_id in pages.get(i.item_id, set())]


def test_a_photocopied_page_is_one_identity_item_per_sheet_decided_by_a_person(
    prepared: Path, store_path: Path, tmp_path: Path
) -> None:
    page = kit.page_of(prepared, "mar", 0)
    given = _given(page)
    photos = []
    for index, ticks in enumerate([given[:2], given[2:4]]):
        image = kit.render(prepared, page)
        for field in page["fields"]:
            if field["field_id"] in ticks:
                kit.tick(image, field["box_mm"])
        photos.append(_photo_at(image, tmp_path / f"mar-copy-{index}.jpg", minutes=30 * index))
    _ingest(store_path, *photos)
    page_id = page["page_id"]
    queued = _page_queue(store_path, page_id)
    # Two sheets: two items, not one per box (every box of the page is covered by them).
    assert [(i["kind"], i["level"], i["needed"]) for i in queued] == [
        ("sheet", "identity", "first"),
        ("sheet", "identity", "first"),
    ]
    items = _page_items(store_path, page_id)
    assert items and all(i.category.value == "pending" and not i.exportable for i in items)

    first, second = (i["item_id"] for i in queued)
    assert _review(store_path, "--decide", first, "--unreadable", "--reviewer", "A").exit_code
    done = _review(store_path, "--decide", first, "--confirm", "--reviewer", "clerk A")
    assert done.exit_code == 0, done.output
    twice = _review(store_path, "--decide", second, "--confirm", "--reviewer", "clerk B")
    assert twice.exit_code != 0 and "already the printed page's record" in twice.output
    apart = _review(store_path, "--decide", second, "--value", "4711", "--reviewer", "clerk B")
    assert apart.exit_code == 0, apart.output

    # The first sheet's boxes now follow the normal thresholds: the doubtful ones (a tick
    # without initials) are items again, the empty cells are "not documented", not pending.
    fields = [i for i in _page_queue(store_path, page_id) if i["kind"] == "field"]
    assert fields and all("copy_of_page" not in i["flags"] for i in fields)
    assert {i["field_id"] for i in fields if i["role"] == "given"} == set(given[:2])
    after = _page_items(store_path, page_id)
    pending = [i for i in after if i.category.value == "pending"]
    assert 0 < len(pending) < len(after)
    assert any(i.category.value == "not_documented" for i in after)
    # A box of the second sheet (ticked only there) is never on the printed page's record.
    assert not any(
        e.field_id in given[2:4] and e.value == "ticked" for i in after for e in i.evidence
    )
