"""Two real laptops: one store printed by `prepare`, copied to two laptops before the
outage; each ingests its own photos of the same printed page; the later photo lost a tick
the earlier one had. After `papermode merge`, that box is a review item."""

from __future__ import annotations

from pathlib import Path

import pagefactory as pf
import pytest
from click.testing import CliRunner

from papermode.cli.main import main
from papermode.ingest.pipeline import ingest_paths
from papermode.review.queue import build_queue
from papermode.state.page_state import update_page_state
from papermode.store.database import open_existing_store
from papermode.store.stations import station_id
from tests.test_ingest import START, _mar_page, _photo, _render, _tick


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pf.prepare_sample_ward(tmp_path_factory.mktemp("prepared"), START)


def _laptop(prepared: Path, folder: Path, photo: Path, taken_at: str) -> Path:
    folder.mkdir()
    store_path = pf.copy_of_store(prepared, folder)
    with open_existing_store(store_path) as store:
        summary = ingest_paths([photo], store, workers=1)
        assert [o.status for o in summary.outcomes] == ["read"]
        with store.transaction() as db:  # when the clerk took it (no EXIF in these photos)
            db.execute("UPDATE captures SET captured_at = ?", [taken_at])
            update_page_state(store, summary.outcomes[0].page_id or "")
    return store_path


def test_two_laptops_merged_a_vanished_tick_goes_to_review(prepared: Path, tmp_path: Path) -> None:
    page = _mar_page(prepared)
    given = [f for f in page["fields"] if f["role"] == "given"]
    morning = _render(prepared, page)
    _tick(morning, given[0]["box_mm"])
    later = _render(prepared, page)  # the same page id, the first tick missing
    _tick(later, given[1]["box_mm"])
    a = _laptop(
        prepared, tmp_path / "a", _photo(morning, tmp_path / "a.jpg"), "2026-11-28T08:00:00"
    )
    b = _laptop(prepared, tmp_path / "b", _photo(later, tmp_path / "b.jpg"), "2026-11-28T10:00:00")
    with open_existing_store(a) as first, open_existing_store(b) as second:
        stations = (station_id(first.db), station_id(second.db))
        item = f"{page['page_id']}:{given[0]['field_id']}"
        alone = {i.item_id: i for i in build_queue(first)}
        assert "disappeared" not in alone[item].flags  # A alone: ticked (initials missing)
    assert None not in stations and stations[0] != stations[1]

    result = CliRunner().invoke(main, ["merge", str(b), "--store", str(a)])
    assert result.exit_code == 0, result.output
    assert f"(station {stations[1]}): 1 new captures" in result.output

    with open_existing_store(a) as store:
        queue = {i.item_id: i for i in build_queue(store)}
        assert item in queue
        assert "disappeared" in queue[item].flags and queue[item].value == "ticked"
        captures = store.db.execute("SELECT station, sha256 FROM captures ORDER BY station")
        kept = captures.fetchall()
        assert sorted(s for s, _ in kept) == sorted(stations)
        for _, sha in kept:  # both originals, byte for byte, in this store's evidence
            evidence = store.db.execute(
                "SELECT evidence FROM files WHERE sha256 = ?", [sha]
            ).fetchone()[0]
            assert (store.evidence_dir / evidence).is_file()
            assert oct((store.evidence_dir / evidence).stat().st_mode & 0o777) == "0o600"
    verify = CliRunner().invoke(main, ["audit", "verify", "--store", str(a)])
    assert verify.exit_code == 0, verify.output
    again = CliRunner().invoke(main, ["merge", str(b), "--store", str(a)])
    assert again.exit_code == 0 and "0 new captures" in again.output
