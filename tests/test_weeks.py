"""Three days of downtime, end to end, from the store alone (issue 16).

prepare -> day-1 paper: a dose change of amoxicillin (STOPPED on the MAR + a new order of
500 mg), a new order of metronidazole, a patient admitted on a blank pack with an order on
the pack's own new-order sheet -> two reviewers -> reprint day 2: the new dose and not the
old one, metronidazole, the admission as a full pack with its order -> day-2 paper on the
reprinted forms (a dose given, a dose change of metronidazole) read against the new
layouts -> two reviewers -> reprint day 3: the day-2 dose change is printed -> reconcile
covers both days."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest

from papermode.census.snapshot import sample_census_path
from papermode.core.settings import load_settings
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.printing.reprint import ReprintPlan, plan_reprint, same_drug
from papermode.printing.reprint_run import cover_lines
from papermode.reconcile.paper_changes import paper_changes, reprint_forms
from papermode.reconcile.service import reconcile_store
from papermode.review.queue import build_queue
from papermode.review.service import decide
from papermode.store.database import open_store

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as edge  # noqa: E402

DAY1 = datetime(2026, 11, 28, 7, 0)
DAY2 = datetime(2026, 11, 29, 7, 0)
DAY3 = datetime(2026, 11, 30, 7, 0)
PATIENT = "p-101"  # Médecine interne 3B, 301 A
AMOXICILLIN = "ord-1002"  # Amoxicilline 1 g TID: changed to 500 mg on day 1
PRN = "ord-1004"  # Ondansetron 4 mg PRN
TEMP_NUMBER = "480217"
ADMITTED = "YSALDE, Marc"

Truth = dict[tuple[str, str], str]


def _render(folder: Path, page: dict[str, Any]) -> np.ndarray:
    document = pdfium.PdfDocument(str(folder / page["pdf"]))
    bitmap = document[page["pdf_page"] - 1].render(scale=edge.DPI / 72)
    image = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
    document.close()
    return image


def _pages(folder: Path) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = json.loads((folder / "manifest.json").read_text())["pages"]
    return pages


def _page(folder: Path, template: str, patient: str | None) -> dict[str, Any]:
    return next(p for p in _pages(folder) if p["template"] == template
                and p["patient_id"] == patient)  # fmt: skip


def _pdf_text(path: Path) -> str:
    document = pdfium.PdfDocument(str(path))
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    document.close()
    return text


def _patient_text(folder: Path, patient_id: str) -> str:
    return _pdf_text(next((folder / "patients").glob(f"*{patient_id}.pdf")))


def _write_order(
    image: np.ndarray,
    fields: dict[str, dict[str, Any]],
    truth: Truth,
    page_id: str,
    block: int,
    order: tuple[str, str, str, str, str],
) -> None:
    """One block of a new-order sheet: drug (written), dose (digits), unit, route and
    frequency ticked, read-back ticked, prescriber signed."""
    drug, dose, unit, route, frequency = order
    prefix = f"new.{block}"
    edge.initials(image, fields[f"{prefix}.drug"], seed=block)
    truth[(page_id, f"{prefix}.drug")] = drug
    edge.write_digits(image, fields[f"{prefix}.dose"], dose, seed=block + 1)
    truth[(page_id, f"{prefix}.dose")] = dose
    for field_id in (f"{prefix}.unit.{unit}", f"{prefix}.route.{route}",
                     f"{prefix}.frequency.{frequency}", f"{prefix}.readback"):  # fmt: skip
        edge.tick(image, fields[field_id], seed=block + 2)
        truth[(page_id, field_id)] = "ticked"
    edge.initials(image, fields[f"{prefix}.prescriber"], seed=block + 3)


def _stop(image: np.ndarray, fields: dict[str, dict[str, Any]], truth: Truth, page_id: str,
          order_id: str) -> None:  # fmt: skip
    edge.tick(image, fields[f"mar.{order_id}.stop.box"], seed=5)
    edge.initials(image, fields[f"mar.{order_id}.stop.initials"], seed=6)
    truth[(page_id, f"mar.{order_id}.stop.box")] = "ticked"


def _banner(image: np.ndarray, fields: dict[str, dict[str, Any]], truth: Truth,
            page_id: str) -> None:  # fmt: skip
    """The write-in banner of a blank-pack page: name, birth date, temporary number."""
    edge.initials(image, fields["blank.name"], seed=7)
    edge.initials(image, fields["blank.birth_date"], seed=8)
    edge.write_digits(image, fields["blank.temp_number"], TEMP_NUMBER, seed=9)
    truth[(page_id, "blank.name")] = ADMITTED
    truth[(page_id, "blank.birth_date")] = "14071958"
    truth[(page_id, "blank.temp_number")] = TEMP_NUMBER


def _day1_paper(forms: Path, shots: Path) -> tuple[list[Path], Truth]:
    truth: Truth = {}
    mar = _page(forms, "mar", PATIENT)
    image = _render(forms, mar)
    _stop(image, edge.fields_by_id(mar), truth, mar["page_id"], AMOXICILLIN)
    paths = [edge.photo(image, shots / "d1-mar.jpg")]
    sheet = _page(forms, "new_orders", PATIENT)
    image, fields = _render(forms, sheet), edge.fields_by_id(sheet)
    _write_order(image, fields, truth, sheet["page_id"], 1, ("Amoxicilline", "500", "mg", "PO",
                                                             "TID"))  # fmt: skip
    _write_order(image, fields, truth, sheet["page_id"], 2, ("Metronidazole", "500", "mg", "PO",
                                                             "BID"))  # fmt: skip
    paths.append(edge.photo(image, shots / "d1-new-orders.jpg"))
    blank_mar = next(p for p in _pages(forms) if p["template"] == "mar"
                     and p["patient_id"] is None and p["pdf"] == mar["pdf"])  # fmt: skip
    image = _render(forms, blank_mar)
    _banner(image, edge.fields_by_id(blank_mar), truth, blank_mar["page_id"])
    paths.append(edge.photo(image, shots / "d1-blank-mar.jpg"))
    blank_sheet = next(p for p in _pages(forms) if p["template"] == "new_orders"
                       and p["patient_id"] is None and p["pdf"] == mar["pdf"])  # fmt: skip
    image, fields = _render(forms, blank_sheet), edge.fields_by_id(blank_sheet)
    _banner(image, fields, truth, blank_sheet["page_id"])
    _write_order(image, fields, truth, blank_sheet["page_id"], 1, ("Ceftriaxone", "2", "g",
                                                                   "IV", "daily"))  # fmt: skip
    paths.append(edge.photo(image, shots / "d1-blank-new-orders.jpg"))
    return paths, truth


def _review(store_path: Path, truth: Truth) -> None:
    """Two reviewers decide every queued box of the pages in `truth`: the truth where a
    person reads it, else the machine's value."""
    pages = {page for page, _ in truth}
    for _ in range(4):
        with open_store(store_path) as store:
            queue = [i for i in build_queue(store) if i.kind == "field" and i.page_id in pages]
            if not queue:
                return
            for item in queue:
                reviewer = "A. Dupont" if item.needed == "first" else "B. Martin"
                value = truth.get((item.page_id or "", item.field_id or ""))
                if value is None:
                    value = item.value if item.value not in (None, "") else "empty"
                kind = "confirm" if value == item.value and not item.blind else "correct"
                decide(store, item.item_id, kind=kind, reviewer=reviewer,
                       value=None if kind == "confirm" else value)  # fmt: skip
    raise AssertionError("the review queue never emptied")


def _orders(store_path: Path, snapshot_id: str, patient_id: str) -> list[tuple[str, float]]:
    with open_store(store_path) as store:
        rows = store.db.query("SELECT medication, dose_value FROM orders WHERE snapshot_id = ? "
                              "AND patient_id = ?", [snapshot_id, patient_id])  # fmt: skip
        return [(row["medication"], row["dose_value"]) for row in rows]


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("weeks")
    store_path = folder / "papermode.db"
    prepare_forms(sample_census_path(), folder / "day1", store_path, start=DAY1, hours=24,
                  lang="en", paper="a4", settings_path=None)  # fmt: skip
    shots = folder / "shots"
    shots.mkdir()
    paths, truth = _day1_paper(folder / "day1", shots)
    with open_store(store_path) as store:
        ingest_paths(paths, store, workers=1)
    sheet = _page(folder / "day1", "new_orders", PATIENT)["page_id"]
    _review(store_path, {key: value for key, value in truth.items() if key[0] != sheet})
    half = _plan(store_path)  # the stop confirmed, its replacement still in review
    _review(store_path, truth)
    day2 = reprint_forms(store_path, folder / "day2", start=None, hours=24)
    return {"folder": folder, "store": store_path, "day2": day2, "shots": shots, "half": half}


def _plan(store_path: Path) -> ReprintPlan:
    """What reprint would print now (decided, not printed or registered)."""
    settings = load_settings()
    with open_store(store_path) as store:
        base = store.latest_snapshot()
        assert base is not None
        changes = paper_changes(store, settings)
    return plan_reprint(base, changes, period=(DAY2, DAY3), settings=settings)


def test_stop_confirmed_replacement_in_review_prints_neither_and_says_so(
    weeks: dict[str, Any],
) -> None:
    """The dangerous case, from the store: the old dose is stopped, the new one waits."""
    half: ReprintPlan = weeks["half"]
    assert half.stopped == (AMOXICILLIN,)
    printed = {o.medication for o in half.snapshot.orders if o.patient_id == PATIENT}
    assert not any(same_drug(name, "Amoxicilline") for name in printed)
    cover = "\n".join(cover_lines(half))
    assert "neither dose is on these forms" in cover and "Amoxicilline 1 g" in cover
    assert "301 / A" in cover  # the bed, so the nurse finds the patient


def test_day2_prints_the_new_dose_not_the_old(weeks: dict[str, Any]) -> None:
    day2 = weeks["day2"]
    assert day2.period_start == DAY2 and day2.stopped == (AMOXICILLIN,)
    orders = _orders(weeks["store"], day2.snapshot_id, PATIENT)
    amoxicillin = [o for o in orders if same_drug(o[0], "Amoxicilline")]
    assert amoxicillin == [("Amoxicilline", 500.0)]  # one amoxicillin: the new dose
    assert ("Metronidazole", 500.0) in orders
    text = _patient_text(day2.out_dir, PATIENT)
    assert "Amoxicilline 1 g" not in text and "Amoxicilline" in text and "500 mg" in text
    cover = _pdf_text(day2.out_dir / "cover.pdf")
    assert "dose changed on paper: Amoxicilline 1 g (1 g) stopped, Amoxicilline (500 mg)" in cover


def test_day2_prints_the_blank_pack_admission_with_its_orders(weeks: dict[str, Any]) -> None:
    day2 = weeks["day2"]
    admitted = f"temp-{TEMP_NUMBER}"
    assert day2.admitted == (admitted,)
    assert _orders(weeks["store"], day2.snapshot_id, admitted) == [("Ceftriaxone", 2.0)]
    text = _patient_text(day2.out_dir, admitted)
    assert "YSALDE" in text and TEMP_NUMBER in text and "Ceftriaxone" in text
    mar = _page(day2.out_dir, "mar", admitted)
    assert any(f["role"] == "given" for f in mar["fields"])  # scheduled, on its own MAR
    assert day2.awaiting == 0  # everything written on day 1 is confirmed and printed


def test_day2_prn_record_restarts(weeks: dict[str, Any]) -> None:
    def entries(folder: Path) -> tuple[str, int]:
        page = next(p for p in _pages(folder) if p["template"] == "prn"
                    and any(f.get("order_id") == PRN for f in p["fields"]))  # fmt: skip
        return page["page_id"], sum(f.get("order_id") == PRN for f in page["fields"])

    day1_page, day1_entries = entries(weeks["folder"] / "day1")
    day2_page, day2_entries = entries(weeks["day2"].out_dir)
    assert day2_page != day1_page and day2_entries == day1_entries > 0
    with open_store(weeks["store"]) as store:
        sql = "SELECT COUNT(*) FROM page_state WHERE page_id = ?"
        assert store.db.execute(sql, [day2_page]).fetchone()[0] == 0  # nothing carried over


@pytest.fixture(scope="module")
def day3(weeks: dict[str, Any]) -> dict[str, Any]:
    """Day-2 paper on the reprinted forms: the new amoxicillin dose given at its first
    time; metronidazole changed to 250 mg (STOPPED + a new order); then reprint day 3."""
    out, store_path, truth = weeks["day2"].out_dir, weeks["store"], {}
    mar = _page(out, "mar", PATIENT)
    fields = edge.fields_by_id(mar)
    image = _render(out, mar)
    by_drug = {f["order_id"]: f for f in mar["fields"] if f["role"] == "given"}
    with open_store(store_path) as store:
        names = dict(
            store.db.execute(
                "SELECT order_id, medication FROM orders WHERE snapshot_id = ?",
                [weeks["day2"].snapshot_id],
            ).fetchall()
        )
    amoxicillin = next(o for o in by_drug if names.get(o) == "Amoxicilline")
    metronidazole = next(o for o in by_drug if names.get(o) == "Metronidazole")
    cell = by_drug[amoxicillin]
    prefix = cell["field_id"].rsplit(".", 1)[0]
    edge.tick(image, fields[f"{prefix}.given"], seed=11)
    edge.write_digits(image, fields[f"{prefix}.time"], cell["scheduled"][11:16].replace(":", ""))
    edge.initials(image, fields[f"{prefix}.initials"], seed=12)
    truth[(mar["page_id"], f"{prefix}.given")] = "ticked"
    _stop(image, fields, truth, mar["page_id"], metronidazole)
    paths = [edge.photo(image, weeks["shots"] / "d2-mar.jpg")]
    sheet = _page(out, "new_orders", PATIENT)
    image = _render(out, sheet)
    _write_order(image, edge.fields_by_id(sheet), truth, sheet["page_id"], 1,
                 ("Metronidazole", "250", "mg", "PO", "BID"))  # fmt: skip
    paths.append(edge.photo(image, weeks["shots"] / "d2-new-orders.jpg"))
    with open_store(store_path) as store:
        summary = ingest_paths(paths, store, workers=1)
    _review(store_path, truth)
    result = reprint_forms(store_path, weeks["folder"] / "day3", start=None, hours=24)
    return {"result": result, "summary": summary, "mar": mar, "amoxicillin": amoxicillin,
            "metronidazole": metronidazole, **weeks}  # fmt: skip


def test_day2_photos_are_read_against_the_new_layouts(day3: dict[str, Any]) -> None:
    with open_store(day3["store"]) as store:
        rows = list(store.db.query("SELECT c.page_id, c.status FROM captures c WHERE c.name "
                                   "LIKE '%/d2-%' ORDER BY c.name"))  # fmt: skip
    assert [r["status"] for r in rows] == ["read", "read"]
    day2_pages = {p["page_id"] for p in _pages(day3["day2"].out_dir)}
    assert {r["page_id"] for r in rows} <= day2_pages


def test_day3_prints_the_dose_changed_on_day2(day3: dict[str, Any]) -> None:
    result = day3["result"]
    assert result.period_start == DAY3 and day3["metronidazole"] in result.stopped
    orders = _orders(day3["store"], result.snapshot_id, PATIENT)
    assert [o for o in orders if same_drug(o[0], "Metronidazole")] == [("Metronidazole", 250.0)]
    assert [o for o in orders if same_drug(o[0], "Amoxicilline")] == [("Amoxicilline", 500.0)]
    admitted = _orders(day3["store"], result.snapshot_id, f"temp-{TEMP_NUMBER}")
    assert admitted == [("Ceftriaxone", 2.0)]  # carried once, not twice
    text = _patient_text(result.out_dir, PATIENT)
    assert "250 mg" in text and "Amoxicilline 1 g" not in text


def test_reconcile_covers_both_days(day3: dict[str, Any]) -> None:
    with open_store(day3["store"]) as store:
        result, source = reconcile_store(store, load_settings())
    starts = {page.period_start for page in source.pages if page.captured}
    assert {DAY1, DAY2} <= starts
    kinds = {(item.kind, item.order_id) for item in result.items}
    assert ("administration", day3["amoxicillin"]) in kinds  # the day-2 dose of the new order
    new_orders = [i for i in result.items if i.kind == "new_order" and i.new_order]
    assert {i.new_order.drug for i in new_orders if i.new_order} >= {
        "Amoxicilline",
        "Metronidazole",
    }
