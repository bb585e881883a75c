"""Day 2 of an outage, end to end: prepare -> day-1 paper (a new order, a stopped order, a
blank-pack admission, a discharge) photographed and ingested -> two reviewers confirm ->
`reprint` prints day 2 from the store alone -> a day-2 photo of a reprinted page is read
against its own new layout -> reconcile covers both days."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from papermode.census.snapshot import load_census, sample_census_path
from papermode.cli.main import main as cli
from papermode.core.errors import ExitCode
from papermode.core.settings import load_settings
from papermode.ingest.pipeline import ingest_paths
from papermode.printing.prepare import prepare_forms
from papermode.reconcile.paper_changes import paper_changes, reprint_forms
from papermode.reconcile.service import reconcile_store
from papermode.review.queue import build_queue
from papermode.review.service import decide
from papermode.store.database import open_store

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as edge  # noqa: E402

START = datetime(2026, 11, 28, 7, 0)
DAY2 = datetime(2026, 11, 29, 7, 0)
PATIENT = "p-101"  # Médecine interne 3B
STOPPED = "ord-1002"  # Amoxicilline 1 g TID
LEAVING = "p-102"
NEW_DRUG = "Metronidazole"
TEMP_NUMBER = "480213"
ADMITTED = "ZEBULON, Anna"


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
    for page in _pages(folder):
        if page["template"] == template and page["patient_id"] == patient:
            return page
    raise AssertionError(f"no {template} page for {patient}")


def _pdf_text(path: Path) -> str:
    document = pdfium.PdfDocument(str(path))
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    document.close()
    return text


def _fill_day1(forms: Path, shots: Path) -> tuple[list[Path], dict[tuple[str, str], str]]:
    """Day-1 paper: what the nurses wrote, and what a reviewer reads on it."""
    truth: dict[tuple[str, str], str] = {}
    paths = []
    # A new order on p-101's new-order sheet: Metronidazole 500 mg PO BID, read back.
    sheet = _page(forms, "new_orders", PATIENT)
    fields = edge.fields_by_id(sheet)
    image = _render(forms, sheet)
    edge.initials(image, fields["new.1.drug"], seed=1)
    edge.write_digits(image, fields["new.1.dose"], "500", seed=2)
    for field_id in ("new.1.unit.mg", "new.1.route.PO", "new.1.frequency.BID", "new.1.readback"):
        edge.tick(image, fields[field_id], seed=3)
        truth[(sheet["page_id"], field_id)] = "ticked"
    edge.initials(image, fields["new.1.prescriber"], seed=4)
    truth[(sheet["page_id"], "new.1.drug")] = NEW_DRUG
    truth[(sheet["page_id"], "new.1.dose")] = "500"
    paths.append(edge.photo(image, shots / "new-order.jpg"))
    # The amoxicillin stopped on p-101's MAR: the stop tick and initials.
    mar = _page(forms, "mar", PATIENT)
    fields = edge.fields_by_id(mar)
    image = _render(forms, mar)
    edge.tick(image, fields[f"mar.{STOPPED}.stop.box"], seed=5)
    edge.initials(image, fields[f"mar.{STOPPED}.stop.initials"], seed=6)
    truth[(mar["page_id"], f"mar.{STOPPED}.stop.box")] = "ticked"
    paths.append(edge.photo(image, shots / "mar-stop.jpg"))
    # A patient admitted on a blank pack of the ward: name, birth date, temporary number.
    blank = next(p for p in _pages(forms) if p["template"] == "mar" and p["patient_id"] is None
                 and p["pdf"] == mar["pdf"])  # fmt: skip
    fields = edge.fields_by_id(blank)
    image = _render(forms, blank)
    edge.initials(image, fields["blank.name"], seed=7)
    edge.write_digits(image, fields["blank.birth_date"], "02041961", seed=8)  # a comb ddmmyyyy
    edge.write_digits(image, fields["blank.temp_number"], TEMP_NUMBER, seed=9)
    truth[(blank["page_id"], "blank.name")] = ADMITTED
    truth[(blank["page_id"], "blank.birth_date")] = "02041961"
    truth[(blank["page_id"], "blank.temp_number")] = TEMP_NUMBER
    paths.append(edge.photo(image, shots / "blank-pack.jpg"))
    # p-102 discharged, ticked on the ward census sheet.
    census = next(p for p in _pages(forms) if p["template"] == "ward_census" and any(
        f["field_id"] == f"census.{LEAVING}.discharged" for f in p["fields"]))  # fmt: skip
    fields = edge.fields_by_id(census)
    image = _render(forms, census)
    edge.tick(image, fields[f"census.{LEAVING}.discharged"], seed=10)
    truth[(census["page_id"], f"census.{LEAVING}.discharged")] = "ticked"
    paths.append(edge.photo(image, shots / "census.jpg"))
    return paths, truth


def _review_all(
    store_path: Path, truth: dict[tuple[str, str], str], pages: set[str], rounds: int = 4
) -> int:
    """Two reviewers decide every queued box of `pages` (one stage per round): the truth
    where a person reads it, else the machine's value. Returns the number of decisions."""
    count = 0
    for _ in range(rounds):
        with open_store(store_path) as store:
            queue = [i for i in build_queue(store) if i.kind == "field" and i.page_id in pages]
            if not queue:
                return count
            for item in queue:
                reviewer = "A. Dupont" if item.needed == "first" else "B. Martin"
                value = truth.get((item.page_id or "", item.field_id or ""))
                if value is None:
                    value = item.value if item.value not in (None, "") else "empty"
                kind = "confirm" if value == item.value and not item.blind else "correct"
                decide(store, item.item_id, kind=kind, reviewer=reviewer,
                       value=None if kind == "confirm" else value)  # fmt: skip
                count += 1
    if rounds < 4:
        return count
    raise AssertionError("the review queue of the day-1 pages never emptied")


@pytest.fixture(scope="module")
def day2(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("reprint")
    store_path = folder / "papermode.db"
    prepare_forms(sample_census_path(), folder / "day1", store_path, start=START, hours=24,
                  lang="en", paper="a4", settings_path=None)  # fmt: skip
    shots = folder / "shots"
    shots.mkdir()
    paths, truth = _fill_day1(folder / "day1", shots)
    with open_store(store_path) as store:
        summary = ingest_paths(paths, store, workers=1)
    with open_store(store_path) as store:
        before = paper_changes(store, load_settings())
    # Printed before anyone reviewed: the paper's changes are on the cover sheet only.
    early = reprint_forms(store_path, folder / "day2-early", start=None, hours=24)
    pages = {page for page, _ in truth}
    decisions = _review_all(store_path, truth, pages, rounds=1)  # the first reviewer only
    with open_store(store_path) as store:
        one_reviewer = paper_changes(store, load_settings())
    decisions += _review_all(store_path, truth, pages)
    result = reprint_forms(store_path, folder / "day2", start=DAY2, hours=24)
    return {
        "early": early,
        "one_reviewer": one_reviewer,
        "folder": folder,
        "store": store_path,
        "summary": summary,
        "before": before,
        "decisions": decisions,
        "result": result,
        "truth": truth,
    }


def test_unconfirmed_paper_is_awaiting_not_printed(day2: dict[str, Any]) -> None:
    before = day2["before"]
    assert before.confirmed == 0, before
    texts = " | ".join(item.what for item in before.awaiting)
    assert "new order" in texts and "stop tick" in texts and "discharged tick" in texts
    assert "blank pack" in texts


def test_nothing_unconfirmed_is_printed_as_an_order(day2: dict[str, Any]) -> None:
    """The dangerous case: forms printed while the paper's changes still wait for people."""
    early = day2["early"]
    assert early.confirmed == 0 and early.awaiting >= 4
    assert early.added == () and early.stopped == () and early.left == () and not early.admitted
    patients = {p.name: p for p in (early.out_dir / "patients").glob("*.pdf")}
    own = _pdf_text(next(p for n, p in patients.items() if n.endswith(f"{PATIENT}.pdf")))
    assert "Amoxicilline" in own and NEW_DRUG not in own
    assert any(n.endswith(f"{LEAVING}.pdf") for n in patients)
    cover = _pdf_text(early.out_dir / "cover.pdf")
    assert "AWAITING CONFIRMATION (" in cover and "stop tick" in cover
    # One reviewer is not enough for an order change (the two-person rule).
    one = day2["one_reviewer"]
    assert one.new_orders == () and one.stops == () and one.leaves == ()


def test_day2_prints_the_confirmed_paper(day2: dict[str, Any]) -> None:
    result = day2["result"]
    out: Path = result.out_dir
    assert result.period_start == DAY2
    assert result.stopped == (STOPPED,)
    assert result.left == (LEAVING,)
    assert result.admitted == (f"temp-{TEMP_NUMBER}",)
    assert len(result.added) == 1 and result.awaiting == 0  # the blank pack holds no order
    patient_pdfs = {p.name: p for p in (out / "patients").glob("*.pdf")}
    own = _pdf_text(next(p for n, p in patient_pdfs.items() if n.endswith(f"{PATIENT}.pdf")))
    assert NEW_DRUG in own
    assert "Amoxicilline" not in own  # stopped on paper, confirmed by two people
    assert "paper orders confirmed up to" in own
    assert not any(n.endswith(f"{LEAVING}.pdf") for n in patient_pdfs)  # discharged
    admitted = next(p for n, p in patient_pdfs.items() if n.endswith(f"temp-{TEMP_NUMBER}.pdf"))
    admitted_text = _pdf_text(admitted)
    assert "ZEBULON" in admitted_text and TEMP_NUMBER in admitted_text
    cover = _pdf_text(out / "cover.pdf")
    assert "AWAITING CONFIRMATION" in cover and "orders as of" in cover


def test_day2_pages_are_new_and_registered(day2: dict[str, Any]) -> None:
    day1 = {p["page_id"] for p in _pages(day2["folder"] / "day1")}
    day2_pages = _pages(day2["result"].out_dir)
    assert day2_pages and not day1 & {p["page_id"] for p in day2_pages}
    with open_store(day2["store"]) as store:
        assert all(store.has_page(p["page_id"]) for p in day2_pages)
    for path in [day2["result"].out_dir, *day2["result"].out_dir.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path  # owner-only, like prepare


def test_day2_photo_is_read_and_reconcile_covers_both_days(day2: dict[str, Any]) -> None:
    out: Path = day2["result"].out_dir
    mar = _page(out, "mar", PATIENT)
    paper_id = day2["result"].added[0]
    fields = edge.fields_by_id(mar)
    cell = next(f for f in mar["fields"] if f.get("order_id") == paper_id and f["role"] == "given")
    prefix = cell["field_id"].rsplit(".", 1)[0]
    image = _render(out, mar)
    edge.tick(image, fields[f"{prefix}.given"], seed=11)
    edge.write_digits(image, fields[f"{prefix}.time"], cell["scheduled"][11:16].replace(":", ""))
    edge.initials(image, fields[f"{prefix}.initials"], seed=12)
    shot = edge.photo(image, day2["folder"] / "shots" / "day2-mar.jpg")
    with open_store(day2["store"]) as store:
        ingest_paths([shot], store, workers=1)
        rows = list(store.db.query("SELECT page_id, status FROM captures WHERE name LIKE ?",
                                   ["%day2-mar.jpg"]))  # fmt: skip
        assert rows and rows[0]["page_id"] == mar["page_id"] and rows[0]["status"] == "read"
        sql = "SELECT field_id, value FROM page_state WHERE page_id = ?"
        state = {r["field_id"]: r["value"] for r in store.db.query(sql, [mar["page_id"]])}
        assert state[f"{prefix}.given"] == "ticked"
        result, source = reconcile_store(store, load_settings())
    starts = {page.period_start for page in source.pages if page.captured}
    assert {START, datetime(2026, 11, 29, 7, 0)} <= starts
    kinds = {(item.kind, item.order_id) for item in result.items}
    assert ("administration", paper_id) in kinds  # the day-2 dose of the paper order
    assert any(item.kind == "new_order" and item.new_order for item in result.items)  # day 1


def test_cli_reprint_without_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["reprint", "--store", str(tmp_path / "none.db"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == ExitCode.STORE, result.output
    assert "there is no store" in result.output
    assert "Traceback" not in result.output


def test_cli_reprint_hours_and_days_exclusive(tmp_path: Path) -> None:
    with open_store(tmp_path / "papermode.db"):
        pass
    store = str(tmp_path / "papermode.db")
    args = ["--out", str(tmp_path / "o"), "--hours", "12", "--days", "2"]
    result = CliRunner().invoke(cli, ["reprint", "--store", store, *args])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--hours or --days, not both" in result.output
    assert not (tmp_path / "o").exists()


def test_cli_reprint_of_a_store_never_printed(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.db"):
        pass
    result = CliRunner().invoke(
        cli, ["reprint", "--store", str(tmp_path / "empty.db"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == ExitCode.STORE, result.output
    assert "nothing was ever printed from the store empty.db" in result.output
    assert "papermode prepare" in result.output


def test_cli_reprint_with_nothing_confirmed_says_so(tmp_path: Path) -> None:
    store_path = tmp_path / "papermode.db"
    prepare_forms(sample_census_path(), tmp_path / "day1", store_path, start=START, hours=24,
                  lang="en", paper="a4", settings_path=None)  # fmt: skip
    out = tmp_path / "day2"
    args = ["reprint", "--store", str(store_path), "--out", str(out), "--ward", "Chirurgie 2A"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    document = json.loads(result.output[result.output.index("{") : result.output.rindex("}") + 1])
    assert document["confirmed"] == 0 and document["period_start"] == "2026-11-29T07:00"
    assert any("nothing on paper is confirmed" in w for w in document["warnings"])
    assert "ZEBULON" not in result.output and not any(
        p.mrn in result.output for p in load_census(sample_census_path(), load_settings()).patients
    )  # ids and counts only
    assert (out / "cover.pdf").exists() and (out / "ward-chirurgie-2a.pdf").exists()
    assert not (out / "ward-medecine-interne-3b.pdf").exists()
    again = CliRunner().invoke(cli, [*args, "--ward", "No such ward"])
    assert again.exit_code == ExitCode.USAGE, again.output
    assert "no patient to print" in again.output
