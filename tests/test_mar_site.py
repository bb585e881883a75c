"""A MAR dose of an SC or IM order with its injection site written beside it: printed,
filled with the synthetic pen, photographed, ingested, reconciled and exported; the site
reaches the FHIR `dosage.site` and the back-entry worklist's notes, a number not in the
legend goes to review and never to the export."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402

from papermode.core.settings import load_settings  # noqa: E402
from papermode.export.fhir import build_bundle  # noqa: E402
from papermode.export.worklist_csv import write_worklist  # noqa: E402
from papermode.reconcile.categories import Category  # noqa: E402

NOW = datetime(2026, 12, 20, 9, 0)
SETTINGS = load_settings()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield ep.prepare(tmp_path_factory.mktemp("mar-site"))


def _site_cell(prepared: Path) -> tuple[dict[str, Any], str]:
    """A MAR page and the prefix of the first dose cell that has a site box."""
    for page in ep.pages(prepared, "mar"):
        for field in page["fields"]:
            if field["role"] == "site":
                return page, field["field_id"].removesuffix(".site")
    raise AssertionError("the sample ward has an SC order on a MAR page")


def _given(prepared: Path, tmp_path: Path, site: str) -> tuple[Path, str, str]:
    page, cell = _site_cell(prepared)
    fields, image = ep.fields_by_id(page), ep.render(prepared, page)
    ep.tick(image, fields[f"{cell}.given"], seed=1)
    ep.write_digits(image, fields[f"{cell}.time"], cell[-4:], seed=2)
    ep.write_digits(image, fields[f"{cell}.site"], site, seed=3)
    for role in ("initials", "second_initials"):
        if f"{cell}.{role}" in fields:
            ep.initials(image, fields[f"{cell}.{role}"], seed=4 + len(role))
    store_path = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store_path, ep.photo(image, tmp_path / "mar.jpg"))
    return store_path, page["page_id"], cell


def test_a_given_sc_dose_exports_the_site_written_beside_it(prepared: Path, tmp_path: Path) -> None:
    store_path, page_id, cell = _given(prepared, tmp_path, "4")
    assert ep.state(store_path, page_id)[f"{cell}.site"]["value"] == "4"
    result, source = ep.reconciled(store_path, page_id, cell, NOW)
    _, order_id, stamp = cell.split(".")
    item = next(i for i in result.items if i.item_id == f"mar:{order_id}:{stamp}")
    assert item.exportable and item.site == "thigh_right", item.notes
    assert "injection site: thigh, right" in item.notes
    bundle = build_bundle(result, source, exported_at=NOW)
    resource = next(
        e["resource"] for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
        and e["resource"]["identifier"][0]["value"].endswith(f"/{order_id}/{stamp}")
    )  # fmt: skip
    assert resource["dosage"]["site"] == {"text": "thigh, right"}
    worklist = write_worklist(result, source, SETTINGS, exported_at=NOW, chain_head="0" * 64)
    row = next(line for line in worklist.decode("utf-8").splitlines() if stamp[:8] in line
               and order_id in line and "injection site" in line)  # fmt: skip
    assert "thigh, right" in row


def test_a_site_number_not_in_the_legend_is_reviewed_and_not_exported(
    prepared: Path, tmp_path: Path
) -> None:
    store_path, page_id, cell = _given(prepared, tmp_path, "9")
    site = ep.state(store_path, page_id)[f"{cell}.site"]
    assert site["status"] == "review"
    result, _ = ep.reconciled(store_path, page_id, None, NOW)
    _, order_id, stamp = cell.split(".")
    item = next(i for i in result.items if i.item_id == f"mar:{order_id}:{stamp}")
    assert item.category is Category.PENDING and not item.exportable and item.site is None
