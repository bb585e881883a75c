"""A page image the machine could not identify (its QR code and printed page id lost) is a
queue item; two reviewers name the page id shown on the paper (the second blind), then
the kept original is read against that page with every value sent to a person."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pagefactory as pf
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
import test_identity_pages as kit  # noqa: E402

from papermode.cli.review import review  # noqa: E402
from papermode.core.pageframe import frame_for  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.reconcile.service import reconcile_store  # noqa: E402
from papermode.store.database import open_store  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pf.prepare_sample_ward(tmp_path_factory.mktemp("prepared"), kit.START)


def _review(store_path: Path, *args: str) -> Any:
    return CliRunner().invoke(review, ["--store", str(store_path), *args])


def _unidentified_photo(
    prepared: Path, page: dict[str, Any], tmp_path: Path
) -> tuple[Path, list[str]]:
    image = kit.render(prepared, page)
    ticked = kit.tick_role(image, page, "given", 2)
    rows, cols = kit.qr_region(page["size_mm"])
    image[rows, cols] = 255  # the QR code torn off
    kit.white_out(image, frame_for((page["size_mm"][0], page["size_mm"][1])).page_id_text_box)
    h, w = image.shape[:2]
    photo = kit.canvas((image, 40, 40), size=(w + 80, h + 80))
    return kit.photograph(photo, tmp_path / "x.jpg"), ticked


def test_reviewers_attribute_an_unidentified_page_and_every_value_goes_to_a_person(
    prepared: Path, tmp_path: Path
) -> None:
    store_path = pf.copy_of_store(prepared, tmp_path)
    page = kit.page_of(prepared, "mar", 0)
    page_id = page["page_id"]
    photo, ticked = _unidentified_photo(prepared, page, tmp_path)
    captures = kit.ingest(store_path, photo)
    assert [(c["status"], c["page_id"]) for c in captures] == [("retake", None)]
    item_id = f"file:{captures[0]['capture_id']}"
    queue = json.loads(_review(store_path, "--list", "--json").output)["items"]
    assert [i["kind"] for i in queue if i["item_id"] == item_id] == ["retake"]

    typo = _review(store_path, "--decide", item_id, "--page", page_id[:-1] + "Z",
                   "--reviewer", "clerk A")  # fmt: skip
    assert typo.exit_code == 20 and "check value" in typo.output
    first = _review(store_path, "--decide", item_id, "--page", page_id.lower(),
                    "--reviewer", "clerk A")  # fmt: skip
    assert first.exit_code == 0 and "needs a second, different reviewer" in first.output
    assert kit.state_of(store_path, page_id) == []  # nothing read on one person's word
    same = _review(store_path, "--decide", item_id, "--page", page_id, "--reviewer", "clerk A")
    assert same.exit_code == 23
    peek = _review(store_path, "--decide", item_id, "--confirm", "--reviewer", "nurse B")
    assert peek.exit_code == 23 and "keyed blind" in peek.output
    listed = json.loads(_review(store_path, "--list", "--json").output)["items"]
    waiting = next(i for i in listed if i["item_id"] == item_id)
    assert waiting["needed"] == "second" and waiting["decided_value"] is None

    second = _review(store_path, "--decide", item_id, "--page", page_id, "--reviewer", "nurse B")
    assert second.exit_code == 0, second.output
    fields = kit.state_of(store_path, page_id)
    assert fields and all(
        f["status"] == "review" and "identity_by_reviewer" in f["flags"] for f in fields
    )
    assert {f["field_id"] for f in fields if f["value"] == "ticked"} == set(ticked)
    assert kit.auto_values(store_path) == 0
    listed = json.loads(_review(store_path, "--list", "--json").output)["items"]
    on_page = [i for i in listed if i["page_id"] == page_id and i["kind"] == "field"]
    assert len(on_page) == len(fields) and {i["level"] for i in on_page} == {"identity"}
    assert item_id not in {i["item_id"] for i in listed}  # decided
    with open_store(store_path) as store:
        result, _ = reconcile_store(store, load_settings())
        audit = [row["action"] for row in store.db.query("SELECT action FROM audit")]
    mine = [i for i in result.items if any(e.page_id == page_id for e in i.evidence)]
    assert mine and not any(i.exportable for i in mine)
    assert "attribute" in audit
