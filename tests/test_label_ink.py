"""A box's printed label is not ink: the labels are dark grey (they survive a photocopy),
so the reader leaves out the area `papermode.core.labels.label_area` gives, and still sees
initials written in the box."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as edge  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return edge.prepare(tmp_path_factory.mktemp("labels"))


def test_empty_labelled_boxes_read_empty_and_initials_read_ink(
    prepared: Path, tmp_path: Path
) -> None:
    mar = next(p for p in edge.pages(prepared, "mar") if p["patient_id"])
    fields = edge.fields_by_id(mar)
    labelled = [f for f in mar["fields"] if f["kind"] in ("signature", "text") and f["label"]]
    small = [f for f in labelled if f["box_mm"][3] < 6.0]  # no label band cut in these
    assert small, "the MAR has low labelled boxes (the stop initials)"
    written = small[0]
    image = edge.render(prepared, mar)
    edge.initials(image, fields[written["field_id"]], seed=3)
    store = edge.fresh_store(prepared, tmp_path)
    edge.ingest(store, edge.photo(image, tmp_path / "mar.jpg"))
    read = edge.state(store, mar["page_id"])
    assert read[written["field_id"]]["value"] == "ink"
    wrong = [
        f["field_id"]
        for f in labelled
        if f["field_id"] != written["field_id"] and read[f["field_id"]]["value"] != "empty"
    ]
    assert wrong == []
