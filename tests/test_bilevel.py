"""1-bit (black-and-white) scans are read, never refused, and send to review every empty box
they cannot prove empty: a light pencil tick is lost at thresholds where the printed boxes
survive. Measured at thresholds 110-180 at 200 and 300 dpi (tools/measure_bilevel.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools"))
import edgepages as ep  # noqa: E402
import measure_bilevel  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ep.prepare(tmp_path_factory.mktemp("bilevel"))


@pytest.mark.parametrize(("dpi", "threshold"), [(200, 120), (200, 160), (300, 150), (300, 180)])
def test_one_bit_scan_is_read_and_nothing_unproven_is_auto(
    prepared: Path, tmp_path: Path, dpi: int, threshold: int
) -> None:
    (result,) = measure_bilevel.measure(prepared, tmp_path, dpis=(dpi,), thresholds=(threshold,))
    assert result.status == "read"
    assert result.scan_1bit
    assert result.ticks_read >= result.ticks_drawn - 1  # the light pencil tick may be lost
    assert result.wrong_auto == 0  # ... but then its box is never an auto-accepted "empty"
    assert result.empty_auto == 0


def test_one_bit_empties_carry_the_flag(prepared: Path, tmp_path: Path) -> None:
    page, image, ticked = measure_bilevel.filled_page(prepared)
    path = tmp_path / "scan.png"
    cv2.imwrite(str(path), measure_bilevel.one_bit(image, 300, 160))
    store = ep.fresh_store(prepared, tmp_path)
    assert ep.ingest(store, path).outcomes[0].status == "read"
    report = ep.readings(store, page["page_id"])
    assert report["scan_1bit"] is True
    empties = [f for f in report["fields"] if f["value"] == "empty"]
    assert empties and all("bilevel_empty_unproven" in f["flags"] for f in empties)
    assert all(f["status"] == "review" for f in empties)
