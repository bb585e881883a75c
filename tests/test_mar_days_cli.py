"""`--days` on `prepare` and `reprint` (usage errors, the `mar_days` setting, a reprint
that continues the dates already on paper) and the MAR's order column, which never cuts
a fact of the order, on the per-day and the multi-day MAR."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from papermode.census.schedule import doses_for_snapshot
from papermode.census.snapshot import load_census, sample_census_path
from papermode.cli.main import main
from papermode.core.errors import CensusError, ExitCode
from papermode.core.model import Text
from papermode.core.settings import load_settings
from papermode.printing.layout.kit import ELLIPSIS
from papermode.printing.layout.snapshot import layout_patient
from papermode.printing.prepare import prepare_forms
from papermode.printing.templates import load_templates
from papermode.reconcile.paper_changes import reprint_forms

START = datetime(2026, 11, 28, 0, 0)


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _mar_dates(folder: Path) -> set[str]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {f["scheduled"][:10] for p in manifest["pages"] if p["template"] == "mar"
            for f in p["fields"] if f.get("scheduled")}  # fmt: skip


# ---------------------------------------------------------------------- usage


def test_hours_and_days_together_are_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "forms"
    result = run("prepare", str(sample_census_path()), "--out", str(out), "--store",
                 str(tmp_path / "pm.db"), "--hours", "24", "--days", "2")  # fmt: skip
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Error: give --hours or --days, not both." in result.output
    assert not out.exists() and not (tmp_path / "pm.db").exists()


@pytest.mark.parametrize("days", ["0", "8"])
def test_days_outside_one_to_seven_are_a_usage_error(tmp_path: Path, days: str) -> None:
    result = run("prepare", str(sample_census_path()), "--out", str(tmp_path / "forms"),
                 "--store", str(tmp_path / "pm.db"), "--days", days)  # fmt: skip
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"--days must be a whole number of days from 1 to 7, not {days}." in result.output
    assert not (tmp_path / "forms").exists()


def test_check_with_days_shows_the_days_period(tmp_path: Path) -> None:
    result = run("prepare", str(sample_census_path()), "--check", "--days", "2",
                 "--start", "2026-11-28T00:00")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "period 2026-11-28 00:00 to 2026-11-30 00:00" in result.output


def test_the_setting_prints_the_multi_day_mar_and_hours_overrides_it(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("[schedule]\nmar_days = 2\n", encoding="utf-8")
    common = ["prepare", str(sample_census_path()), "--store", str(tmp_path / "pm.db"),
              "--settings", str(settings), "--start", "2026-11-28T00:00"]  # fmt: skip
    result = run(*common, "--out", str(tmp_path / "days"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["period_start"], summary["period_end"]) == (
        "2026-11-28T00:00", "2026-11-30T00:00")  # fmt: skip
    assert _mar_dates(tmp_path / "days") == {"2026-11-28", "2026-11-29"}
    result = run(*common, "--out", str(tmp_path / "hours"), "--hours", "12", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["period_end"] == "2026-11-28T12:00"
    assert _mar_dates(tmp_path / "hours") == {"2026-11-28"}


# ---------------------------------------------------------------------- reprint


def test_reprint_days_continues_the_dates_already_on_paper(tmp_path: Path) -> None:
    store_path = tmp_path / "papermode.db"
    prepare_forms(sample_census_path(), tmp_path / "days1-3", store_path, start=START,
                  hours=None, days=3, lang="en", paper="a4", settings_path=None)  # fmt: skip
    assert _mar_dates(tmp_path / "days1-3") == {"2026-11-28", "2026-11-29", "2026-11-30"}
    result = reprint_forms(store_path, tmp_path / "days4-7", start=None, hours=None, days=4)
    # No --start: the period starts where the last one printed ended (day 4, midnight).
    assert result.period_start == datetime(2026, 12, 1, 0, 0)
    assert result.period_end == datetime(2026, 12, 5, 0, 0)
    assert _mar_dates(result.out_dir) == {"2026-12-01", "2026-12-02", "2026-12-03",
                                          "2026-12-04"}  # fmt: skip
    # And the CLI: the next reprint continues again (day 8 on), dates not restarting.
    out = tmp_path / "days8-9"
    cli = run("reprint", "--store", str(store_path), "--out", str(out), "--days", "2", "--json")
    assert cli.exit_code == 0, cli.output
    document = json.loads(cli.output[cli.output.index("{") : cli.output.rindex("}") + 1])
    assert document["period_start"] == "2026-12-05T00:00"
    assert _mar_dates(out) == {"2026-12-05", "2026-12-06"}


def test_reprint_days_from_a_start_that_is_not_midnight_needs_fitting_dates(
    tmp_path: Path,
) -> None:
    """A 7-day chart from 14:00 touches 8 dates: refused with advice, nothing written."""
    store_path = tmp_path / "papermode.db"
    prepare_forms(sample_census_path(), tmp_path / "day1", store_path, start=START + timedelta(
        hours=14), hours=24, lang="en", paper="a4", settings_path=None)  # fmt: skip
    result = run("reprint", "--store", str(store_path), "--out", str(tmp_path / "o"),
                 "--days", "7")  # fmt: skip
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "touches 8 dates; one sheet holds at most 7" in result.output
    assert "--start YYYY-MM-DDT00:00" in result.output
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------- order column

LONG_SIG = (
    "take with a full glass of water, sitting upright, thirty minutes before breakfast and "
    "never with milk, antacids, calcium or iron; stay upright for thirty minutes after "
    "taking it; if a dose is missed skip it and take the next one as usual; call the "
    "prescriber on pager 4471 if chest pain or difficulty swallowing appears"
)
LONG_DRUG = "Acide alendronique (alendronate sodique trihydraté) 70 mg comprimé effervescent"


@pytest.mark.parametrize("mar_days", [0, 3])
def test_the_order_column_prints_every_word_in_full(mar_days: int) -> None:
    """The dangerous case: a long SIG and drug name. Every word is on the page, no line ends
    in an ellipsis, and the band is taller than the cells need (it grew, nothing was cut)."""
    settings = replace(load_settings(), mar_days=mar_days)
    snapshot = load_census(sample_census_path(), settings)
    order = next(o for o in snapshot.orders if not o.as_needed and not o.continuous
                 and not o.do_not_perform)  # fmt: skip
    long_order = replace(order, medication=LONG_DRUG, dosage_text=(LONG_SIG,))
    orders = tuple(long_order if o.order_id == order.order_id else o for o in snapshot.orders)
    snapshot = replace(snapshot, orders=orders)
    period = (START, START + timedelta(days=3 if mar_days else 1))
    doses = doses_for_snapshot(snapshot, period[0], period[1], settings)
    patient = snapshot.patient(order.patient_id)
    pages = layout_patient(patient, snapshot.orders, doses, snapshot, period=period,
                           paper="a4", lang="en", templates=load_templates(),
                           settings=settings)  # fmt: skip
    mar = [p for p in pages if p.template == "mar"]
    texts = [d.text for p in mar for d in p.drawings if isinstance(d, Text)]
    printed = " ".join(texts).split()
    for word in (LONG_SIG + " " + LONG_DRUG).replace(";", " ").split():
        assert any(word.strip(",") in w for w in printed), word
    assert not [t for t in texts if t.endswith(ELLIPSIS)]
    # The band grew: its stop box sits below the SIG's last line ("... appears").
    mar_fields = [f for p in mar for f in p.fields]
    stop = next(f for f in mar_fields if f.field_id == f"mar.{order.order_id}.stop.box")
    last = next(d for p in mar for d in p.drawings if isinstance(d, Text) and "appears" in d.text)
    assert stop.box.y > last.y


@pytest.mark.parametrize("mar_days", [0, 7])
def test_site_boxes_on_sc_cells_only_and_no_box_overlaps_another(mar_days: int) -> None:
    """Both MAR layouts: an SC / IM cell has a site box (a one-cell comb, role `site`, with
    the cell's order and time), other cells none, and no two boxes of a page overlap (a
    label or box inside another box would be read as ink)."""
    settings = replace(load_settings(), mar_days=mar_days)
    snapshot = load_census(sample_census_path(), settings)
    period = (START, START + timedelta(days=mar_days or 1))
    doses = doses_for_snapshot(snapshot, period[0], period[1], settings)
    routes = {o.order_id: o.route for o in snapshot.orders}
    seen = 0
    for patient in snapshot.patients:
        pages = layout_patient(patient, snapshot.orders, doses, snapshot, period=period,
                               paper="a4", lang="fr", templates=load_templates(),
                               settings=settings)  # fmt: skip
        for page in (p for p in pages if p.template == "mar"):
            fields = page.fields
            sites = {f.field_id.removesuffix(".site"): f for f in fields if f.role == "site"}
            for given in (f for f in fields if f.role == "given"):
                prefix = given.field_id.removesuffix(".given")
                injection = routes[given.order_id or ""] in ("SC", "IM")
                assert (prefix in sites) == injection, prefix
                if injection:
                    site = sites[prefix]
                    assert site.kind == "digits" and site.cells == 1
                    assert (site.order_id, site.scheduled) == (given.order_id, given.scheduled)
                    seen += 1
            boxes = [f.box for f in fields]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    overlap = (min(a.x + a.w, b.x + b.w) - max(a.x, b.x) > 0.01
                               and min(a.y + a.h, b.y + b.h) - max(a.y, b.y) > 0.01)  # fmt: skip
                    assert not overlap, (page.page_id, a, b)
    assert seen >= 8


@pytest.mark.parametrize("mar_days", [0, 3])
def test_an_order_longer_than_a_page_is_refused_by_name(mar_days: int) -> None:
    """The column grows, but never past the page's edge: a SIG no page can hold is refused
    (exit 3, nothing printed) naming the order, never cut by the paper."""
    settings = replace(load_settings(), mar_days=mar_days)
    snapshot = load_census(sample_census_path(), settings)
    order = next(o for o in snapshot.orders if not o.as_needed and not o.continuous
                 and not o.do_not_perform)  # fmt: skip
    endless = replace(order, dosage_text=(LONG_SIG * 12,))
    snapshot = replace(snapshot, orders=tuple(endless if o is order else o
                                              for o in snapshot.orders))  # fmt: skip
    period = (START, START + timedelta(days=3 if mar_days else 1))
    doses = doses_for_snapshot(snapshot, period[0], period[1], settings)
    with pytest.raises(CensusError) as caught:
        layout_patient(snapshot.patient(order.patient_id), snapshot.orders, doses, snapshot,
                       period=period, paper="a4", lang="en", templates=load_templates(),
                       settings=settings)  # fmt: skip
    assert caught.value.exit_code == ExitCode.CENSUS
    assert caught.value.problems == [
        f"order {order.order_id}: its text needs more than a page of the MAR's order column; "
        "shorten its instructions or dosage text in the record"
    ]
