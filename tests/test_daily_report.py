"""`papermode report`: the crisis cell's daily report, on a real store (the sample ward
printed, a day of synthetic captures ingested), its figures checked against the store."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from papermode.cli.report import report_command
from papermode.core.settings import load_settings
from papermode.export.daily.figures import daily_report
from papermode.review.queue import build_queue
from papermode.store.database import open_existing_store
from tests.test_review_queue import built_review_store, copy_store

DAY = date(2026, 11, 28)
LATE = datetime(2026, 11, 28, 23, 0)


@pytest.fixture()
def store_path(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return copy_store(built_review_store(tmp_path_factory), tmp_path / "store")


def test_figures_agree_with_the_store(store_path: Path) -> None:
    with open_existing_store(store_path) as store:
        report = daily_report(store, load_settings(None), day=DAY, now=LATE)
        printed = store.db.execute(
            "SELECT COUNT(*) FROM pages WHERE patient_id IS NOT NULL AND snapshot_id = "
            "(SELECT snapshot_id FROM snapshots ORDER BY taken_at DESC, registered_at DESC "
            "LIMIT 1)"
        ).fetchone()[0]
        read = store.db.execute(
            "SELECT COUNT(DISTINCT c.page_id) FROM captures c JOIN pages p USING (page_id) "
            "WHERE c.status = 'read' AND p.patient_id IS NOT NULL"
        ).fetchone()[0]
        patients = store.db.execute("SELECT COUNT(DISTINCT patient_id) FROM patients").fetchone()[0]
        queue = [i for i in build_queue(store) if i.needed != "none"]
    total = report.hospital
    assert total.pages_printed == printed > 0
    assert total.pages_photographed == read > 0
    assert total.pages_never_photographed == printed - read
    assert total.patients_on_paper == patients
    levels = [i.level for i in queue]
    assert total.backlog["identity"] == levels.count("identity") > 0  # the stranger's page
    assert total.backlog_total == sum(
        levels.count(lv)
        for lv in ("identity", "new_order", "high_alert", "conflict", "implausible", "other")
    )
    assert total.doses_due > 0 and total.doses_not_documented > 0
    assert total.doses_not_documented <= total.doses_due
    assert sum(w.pages_printed for w in report.wards) == total.pages_printed
    assert total.oldest_waiting_hours is not None and total.oldest_waiting_hours >= 0


def test_doses_due_later_are_not_yet_missing(store_path: Path) -> None:
    with open_existing_store(store_path) as store:
        settings = load_settings(None)
        morning = daily_report(store, settings, day=DAY, now=datetime(2026, 11, 28, 9, 0))
        night = daily_report(store, settings, day=DAY, now=LATE)
    assert morning.hospital.doses_due < night.hospital.doses_due
    assert morning.hospital.doses_not_documented <= night.hospital.doses_not_documented


def test_report_command_writes_the_folder_without_names_in_the_hospital_summary(
    store_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        report_command, ["--store", str(store_path), "--out", str(out), "--date", "2026-11-28"]
    )
    assert result.exit_code == 0, result.output
    folder = out / "report-2026-11-28"
    names = sorted(p.name for p in folder.iterdir())
    assert {"hospital.pdf", "hospital.csv", "hospital.json"} <= set(names)
    wards = [n for n in names if n.startswith("ward-")]
    assert wards
    assert folder.stat().st_mode & 0o777 == 0o700
    assert all((folder / n).stat().st_mode & 0o777 == 0o600 for n in names)
    with open_existing_store(store_path) as store:
        people = store.db.execute("SELECT family, mrn FROM patients").fetchall()
        audited = store.db.execute("SELECT COUNT(*) FROM audit WHERE action = 'report'").fetchone()
    assert audited[0] == 1
    hospital_text = subprocess.run(
        ["pdftotext", str(folder / "hospital.pdf"), "-"], capture_output=True, text=True
    ).stdout
    summary = (folder / "hospital.json").read_text() + (folder / "hospital.csv").read_text()
    ward_text = subprocess.run(
        ["pdftotext", str(folder / wards[0]), "-"], capture_output=True, text=True
    ).stdout
    assert "hospital summary" in hospital_text
    for family, mrn in people:
        assert family not in hospital_text and family not in summary
        assert mrn not in hospital_text and mrn not in summary
    assert any(family in ward_text for family, _ in people)  # the ward's page names them
    data = json.loads((folder / "hospital.json").read_text())
    rows = list(csv.reader(line for line in (folder / "hospital.csv").read_text().splitlines()
                           if not line.startswith("#")))  # fmt: skip
    assert rows[-1][0] == "hospital"
    assert int(rows[-1][rows[0].index("pages_printed")]) == data["hospital"]["pages_printed"]


def test_a_report_made_again_replaces_the_day_whole(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    args = ["--store", str(store_path), "--out", str(out), "--date", "2026-11-28"]
    assert CliRunner().invoke(report_command, args).exit_code == 0
    (out / "report-2026-11-28" / "stale.txt").write_text("left by hand")
    assert CliRunner().invoke(report_command, args).exit_code == 0
    assert not (out / "report-2026-11-28" / "stale.txt").exists()
    assert [p.name for p in out.iterdir()] == ["report-2026-11-28"]  # no .part left
