"""The multi-day MAR end to end: `prepare --days 3` -> ticks and initials on day-2 cells of
a rendered page -> a phone photo -> ingest -> the readings land on the right order and
date -> reconcile sees each dose on its own day (and a day-3 cell left blank is
"not documented", never given)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from papermode.census.snapshot import load_census, sample_census_path
from papermode.core.settings import load_settings
from papermode.export.run import export_store
from papermode.printing.prepare import prepare_forms
from papermode.reconcile.administrations import TIME_NOT_WRITTEN
from papermode.reconcile.categories import Category
from papermode.reconcile.service import reconcile_store
from papermode.review.queue import build_queue
from papermode.review.service import decide
from papermode.store.database import open_store

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as edge  # noqa: E402

START = datetime(2026, 11, 28, 0, 0)
DAY2 = date(2026, 11, 29)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mar-days")
    prepare_forms(sample_census_path(), folder / "forms", folder / "template.db", start=START,
                  hours=None, days=3, lang="en", paper="a4", settings_path=None)  # fmt: skip
    return folder


def _manifest(folder: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((folder / "forms" / "manifest.json").read_text())
    return manifest


def _mar_with_two_day2_orders(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A patient's MAR page with day-2 "given" boxes of two different orders."""
    for page in _manifest(folder)["pages"]:
        if page["template"] != "mar" or page["patient_id"] is None:
            continue
        given = [f for f in page["fields"] if f["role"] == "given"]
        day2 = [f for f in given if f["scheduled"].startswith(DAY2.isoformat())]
        orders = {f["order_id"] for f in day2}
        if len(orders) >= 2:
            first = {}
            for f in day2:
                first.setdefault(f["order_id"], f)
            return page, list(first.values())[:2]
    raise AssertionError("no MAR page with two orders due on day 2")


def _review(store_path: Path, page_id: str, truth: dict[str, str]) -> None:
    """Two reviewers settle whatever the machine queued on the page (initials are often
    queued: a small box): the truth where given, else the machine's value."""
    for _ in range(4):
        with open_store(store_path) as store:
            queue = [i for i in build_queue(store) if i.kind == "field" and i.page_id == page_id]
            if not queue:
                return
            for item in queue:
                reviewer = "A. Dupont" if item.needed == "first" else "B. Martin"
                value = truth.get(item.field_id or "") or item.value or "empty"
                kind = "confirm" if value == item.value and not item.blind else "correct"
                decide(store, item.item_id, kind=kind, reviewer=reviewer,
                       value=None if kind == "confirm" else value)  # fmt: skip
    raise AssertionError("the review queue never emptied")


def test_the_period_is_three_calendar_days_and_every_cell_is_tied(printed: Path) -> None:
    manifest = _manifest(printed)
    pages = [p for p in manifest["pages"] if p["template"] == "mar" and p["patient_id"]]
    assert pages
    assert manifest["snapshot"]["period_start"] == "2026-11-28T00:00"
    assert manifest["snapshot"]["period_end"] == "2026-12-01T00:00"
    cells = [f for p in pages for f in p["fields"] if f["role"] in ("given", "held", "refused")]
    dates = {f["scheduled"][:10] for f in cells}
    assert dates == {"2026-11-28", "2026-11-29", "2026-11-30"}
    assert all(f["order_id"] and f["kind"] == "checkbox" for f in cells)
    for page in pages:  # one cell per (order, scheduled time) on a page, nothing twice
        keys = [(f["order_id"], f["scheduled"], f["role"]) for f in page["fields"]
                if f["role"] in ("given", "initials", "reason")]  # fmt: skip
        assert len(keys) == len(set(keys)), page["page_id"]


def test_day2_ticks_are_read_on_their_order_and_date_and_reconciled(
    printed: Path, tmp_path: Path
) -> None:
    page, (first, second) = _mar_with_two_day2_orders(printed)
    fields = edge.fields_by_id(page)
    given_prefix = first["field_id"].rsplit(".", 1)[0]
    held_prefix = second["field_id"].rsplit(".", 1)[0]
    image = edge.render(printed, page)
    edge.tick(image, fields[f"{given_prefix}.given"], seed=1)
    edge.initials(image, fields[f"{given_prefix}.initials"], seed=2)
    edge.tick(image, fields[f"{held_prefix}.held"], seed=3)
    edge.initials(image, fields[f"{held_prefix}.initials"], seed=4)
    edge.write_digits(image, fields[f"{held_prefix}.reason"], "5", seed=5)
    store_path = edge.fresh_store(printed, tmp_path)
    summary = edge.ingest(store_path, edge.photo(image, tmp_path / "mar-day2.jpg"))
    assert summary.count("read") == 1, summary
    state = edge.state(store_path, page["page_id"])
    assert state[f"{given_prefix}.given"]["value"] == "ticked"
    assert state[f"{given_prefix}.held"]["value"] == "empty"
    assert state[f"{held_prefix}.held"]["value"] == "ticked"
    assert state[f"{held_prefix}.given"]["value"] == "empty"
    # The neighbouring day's cells of the same time stay empty: no mark spills over.
    for day in ("20261128", "20261130"):
        for prefix in (given_prefix, held_prefix):
            other = prefix.replace("20261129", day)
            if f"{other}.given" in state:
                assert state[f"{other}.given"]["value"] == "empty", other
    truth = {f"{given_prefix}.initials": "ink", f"{held_prefix}.initials": "ink",
             f"{held_prefix}.reason": "5"}  # fmt: skip
    _review(store_path, page["page_id"], truth)
    with open_store(store_path) as store:
        result, _ = reconcile_store(store, load_settings())
    items = {(i.order_id, i.scheduled_at): i for i in result.items if i.kind == "administration"}
    given = items[(first["order_id"], datetime.fromisoformat(first["scheduled"]))]
    held = items[(second["order_id"], datetime.fromisoformat(second["scheduled"]))]
    assert given.scheduled_at is not None and given.scheduled_at.date() == DAY2
    # No time comb on the multi-day cell: given at its scheduled time, said so, exportable.
    assert given.category == Category.GIVEN and given.exportable, given
    assert given.occurred_at == given.scheduled_at
    assert TIME_NOT_WRITTEN in given.notes, given.notes
    assert held.category == Category.HELD and held.scheduled_at is not None, held
    assert held.scheduled_at.date() == DAY2 and held.reason is not None, held
    day3 = datetime.fromisoformat(first["scheduled"].replace("2026-11-29", "2026-11-30"))
    if (first["order_id"], day3) in items:  # same order, same time, next day: left blank
        assert items[(first["order_id"], day3)].category == Category.NOT_DOCUMENTED


def test_sc_doses_have_a_site_box_read_like_the_reason_box(printed: Path, tmp_path: Path) -> None:
    """Enoxaparine SC: every cell has a one-digit site box (IV cells have none); a site of
    the legend is read, a number outside it (9) goes to review, never accepted."""
    pages = [p for p in _manifest(printed)["pages"] if p["template"] == "mar" and p["patient_id"]]
    page = next(p for p in pages if any(f["role"] == "site" for f in p["fields"]))
    givens = [f for f in page["fields"] if f["role"] == "given"]
    sites = {f["field_id"].rsplit(".", 1)[0] for f in page["fields"] if f["role"] == "site"}
    assert sites and sites < {f["field_id"].rsplit(".", 1)[0] for f in givens}
    snapshot = load_census(sample_census_path(), load_settings())
    routes = {o.order_id: o.route for o in snapshot.orders}
    for field in givens:  # a site box exactly on the cells of SC / IM orders
        prefix = field["field_id"].rsplit(".", 1)[0]
        assert (prefix in sites) == (routes[field["order_id"]] in ("SC", "IM")), prefix
    fields = edge.fields_by_id(page)
    day2, day3 = sorted(p for p in sites if "20261129T" in p or "20261130T" in p)[:2]
    image = edge.render(printed, page)
    for prefix, site, seed in ((day2, "3", 1), (day3, "9", 4)):
        edge.tick(image, fields[f"{prefix}.given"], seed=seed)
        edge.initials(image, fields[f"{prefix}.initials"], seed=seed + 1)
        edge.write_digits(image, fields[f"{prefix}.site"], site, seed=seed + 2)
    store_path = edge.fresh_store(printed, tmp_path)
    assert edge.ingest(store_path, edge.photo(image, tmp_path / "sc.jpg")).count("read") == 1
    state = edge.state(store_path, page["page_id"])
    assert state[f"{day2}.site"]["value"] == "3" and state[f"{day2}.site"]["status"] == "auto"
    nine = state[f"{day3}.site"]
    assert nine["status"] == "review" and "implausible" in nine["flags"], nine


def test_an_order_written_in_during_the_outage_is_a_by_hand_item(
    printed: Path, tmp_path: Path
) -> None:
    """The write-in block at the end of the multi-day MAR: a drug written by hand, the
    prescriber's initials, a time and a day-2 initials box. Read as ink / text, never a
    dose of a census order; reconcile lists it for back-entry by hand under the patient."""
    pages = [p for p in _manifest(printed)["pages"] if p["template"] == "mar" and p["patient_id"]]
    page = next(p for p in pages if any(f["field_id"] == "mar.new1.drug" for f in p["fields"]))
    block = [f for f in page["fields"] if f["field_id"].startswith("mar.new1.")]
    assert all(f.get("order_id") is None and f.get("scheduled") is None for f in block)
    assert {f["kind"] for f in block} == {"text", "signature"}
    fields = edge.fields_by_id(page)
    image = edge.render(printed, page)
    for n, field_id in enumerate(("mar.new1.drug", "mar.new1.prescriber", "mar.new1.t1.time",
                                  "mar.new1.t1.20261129.initials")):  # fmt: skip
        edge.initials(image, fields[field_id], seed=20 + n)
    store_path = edge.fresh_store(printed, tmp_path)
    assert edge.ingest(store_path, edge.photo(image, tmp_path / "writein.jpg")).count("read") == 1
    state = edge.state(store_path, page["page_id"])
    assert state["mar.new1.t1.20261129.initials"]["value"] == "ink"
    assert state["mar.new1.t1.20261128.initials"]["value"] == "empty"
    _review(store_path, page["page_id"], {"mar.new1.drug": "Paracetamol 1 g PO QID"})
    with open_store(store_path) as store:
        result, _ = reconcile_store(store, load_settings())
    written = [i for i in result.items if i.kind == "write_in"]
    assert len(written) == 1, written
    item = written[0]
    assert item.category == Category.BY_HAND and not item.exportable
    assert item.patient_id == page["patient_id"] and "back-enter it by hand" in item.notes[0]
    assert {e.field_id for e in item.evidence} >= {"mar.new1.drug", "mar.new1.prescriber"}
    # The worklist and the report name it; the FHIR export does not hold it.
    with open_store(store_path) as store:
        for fmt in ("csv", "pdf", "fhir"):
            export_store(store, load_settings(), fmt=fmt, out=tmp_path / f"out.{fmt}")
    worklist = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert "1 items" in worklist and "mar.new1.drug" in worklist
    assert "Paracetamol" not in (tmp_path / "out.fhir").read_text(encoding="utf-8")
