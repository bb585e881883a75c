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


@pytest.mark.parametrize(
    ("lang", "paper", "days"), [("en", "a4", None), ("fr", "a4", 3), ("nl", "letter", None)]
)
def test_no_printed_text_lies_where_the_reader_looks_for_a_correction_over_a_comb(
    tmp_path: Path, lang: str, paper: str, days: int | None
) -> None:
    """The digit reader takes ink just above a comb for a digit squeezed in over a struck-out
    one (`ink_outside`: review). A hint or label printed there would flag every written
    value, and hide a real correction among the false ones: on every form, the band above
    every comb holds no printed ink (measured by the reader's own function)."""
    from datetime import datetime

    import cv2
    import numpy as np

    from papermode.demo.synth.render import PageRenderer
    from papermode.printing.prepare import prepare_forms
    from papermode.reading.combs import field_cells

    census = Path(__file__).parents[1] / "papermode" / "data" / "sample_ward.json"
    prepare_forms(census, tmp_path / "out", tmp_path / "store.db", start=datetime(2026, 11, 28, 8),
                  hours=None if days else 24, lang=lang, paper=paper, settings_path=None,
                  days=days)  # fmt: skip
    renderer = PageRenderer(tmp_path / "out", 8.0)
    seen, printed_above = 0, []
    for page in renderer.pages:
        image = cv2.cvtColor(np.asarray(renderer.render(page)), cv2.COLOR_RGB2GRAY)
        for item in page.layout.fields:
            if item.kind != "digits":
                continue
            seen += 1
            if any(c.above_mm2 > 0 or c.written_above for c in field_cells(image, item, 8.0)):
                printed_above.append(f"{page.layout.template}:{item.field_id}")
    assert seen > 100
    assert printed_above == []
