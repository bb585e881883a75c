"""The layout manifest contract (docs/manifest.md): keys, values and an exact round trip."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papermode.census.snapshot import sample_census_path
from papermode.core.model import Box, Field, PrintedPage
from papermode.printing import manifest
from papermode.printing.prepare import prepare_forms

SNAPSHOT = manifest.SnapshotInfo(
    snapshot_id="snap-1",
    taken_at=datetime(2026, 11, 28, 11, 47, 12),
    source="census.json",
    period_start=datetime(2026, 11, 28, 12, 0),
    period_end=datetime(2026, 11, 29, 12, 0),
)
FIELD_KEYS = [
    "field_id",
    "kind",
    "box_mm",
    "cells",
    "decimals",
    "order_id",
    "scheduled",
    "role",
    "code",
    "group",
    "value",
    "label",
]
PAGE_KEYS = [
    "page_id",
    "qr",
    "pdf",
    "pdf_page",
    "also_in",
    "template",
    "template_version",
    "patient_id",
    "mrn",
    "ward",
    "page_number",
    "page_count",
    "size_mm",
    "fields",
]


def printed(pages) -> list[PrintedPage]:
    return [
        PrintedPage(page, "ward-4-west.pdf", n, (("patients/4-west-12-pat-1.pdf", n),))
        for n, page in enumerate(pages, start=1)
    ]


def write(tmp_path: Path, pages) -> Path:
    return manifest.write_manifest(
        tmp_path / "manifest.json",
        printed(pages),
        SNAPSHOT,
        paper="a4",
        lang="en",
        generated_at=datetime(2026, 11, 28, 12, 3, 4),
    )


def test_manifest_has_exactly_the_documented_keys(tmp_path: Path, handmade_pages) -> None:
    document = json.loads(write(tmp_path, handmade_pages).read_text(encoding="utf-8"))
    assert list(document) == [
        "manifest_version",
        "snapshot",
        "paper",
        "lang",
        "generated_at",
        "pages",
    ]
    assert document["manifest_version"] == 1
    assert document["snapshot"] == {
        "snapshot_id": "snap-1",
        "taken_at": "2026-11-28T11:47:12",
        "source": "census.json",
        "period_start": "2026-11-28T12:00",
        "period_end": "2026-11-29T12:00",
    }
    assert document["generated_at"] == "2026-11-28T12:03:04"
    first = document["pages"][0]
    assert list(first) == PAGE_KEYS
    assert first["qr"] == "PM1:" + first["page_id"]
    assert first["also_in"] == [{"pdf": "patients/4-west-12-pat-1.pdf", "pdf_page": 1}]
    assert (first["pdf"], first["pdf_page"], document["pages"][1]["pdf_page"]) == (
        "ward-4-west.pdf",
        1,
        2,
    )
    assert first["size_mm"] == [210.0, 297.0]
    assert (first["page_number"], first["page_count"], first["mrn"]) == (1, 2, "MRN00417")
    for entry in first["fields"]:
        assert list(entry) == FIELD_KEYS


def test_field_values_follow_the_contract(tmp_path: Path, handmade_pages) -> None:
    document = json.loads(write(tmp_path, handmade_pages).read_text(encoding="utf-8"))
    fields = {f["field_id"]: f for f in document["pages"][0]["fields"]}
    given_box = fields["o1-1400-given"]
    assert given_box["kind"] == "checkbox"
    assert given_box["scheduled"] == "2026-11-28T14:00"
    assert given_box["order_id"] == "o1" and given_box["role"] == "given"
    assert given_box["cells"] is None and given_box["decimals"] is None
    assert given_box["label"] is None and given_box["group"] is None
    dose = fields["o1-1400-dose"]
    assert (dose["cells"], dose["decimals"], dose["box_mm"][2]) == (4, 1, 20.25)
    assert fields["pulse"]["code"] == "8867-4" and fields["pulse"]["decimals"] == 0
    assert (fields["route-po"]["group"], fields["route-po"]["value"]) == ("route", "PO")
    assert fields["sign"]["label"] == "Signature"


def test_manifest_keeps_accents_readable(tmp_path: Path, make_handmade_page) -> None:
    page = make_handmade_page()
    odd = Field("note", "text", Box(10, 10, 50, 10), label="Remarque / opmerking é")
    page = type(page)(**{**page.__dict__, "fields": (*page.fields, odd)})
    text = write(tmp_path, [page]).read_text(encoding="utf-8")
    assert "Remarque / opmerking é" in text


def test_read_manifest_round_trips_fields_exactly(tmp_path: Path, handmade_pages) -> None:
    path = write(tmp_path, handmade_pages)
    back = manifest.read_manifest(path)
    assert [p.pdf_page for p in back] == [1, 2]
    for original, restored in zip(printed(handmade_pages), back, strict=True):
        assert restored.layout.fields == original.layout.fields
        assert restored.also_in == original.also_in
        # Everything but the drawings (which the manifest does not carry) comes back.
        assert restored.layout == type(original.layout)(
            **{**original.layout.__dict__, "drawings": ()}
        )


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path, handmade_pages) -> None:
    path = write(tmp_path, handmade_pages)
    path.write_text("old")
    write(tmp_path, handmade_pages)
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
    assert json.loads(path.read_text(encoding="utf-8"))["manifest_version"] == 1


def test_unreadable_manifests_raise_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "manifest.json"
    with pytest.raises(manifest.ManifestError, match="cannot read the manifest"):
        manifest.read_manifest(missing)
    missing.write_text('{"manifest_version": 2, "pages": []}')
    with pytest.raises(manifest.ManifestError, match="manifest_version 2 is not supported"):
        manifest.read_manifest(missing)
    missing.write_text('{"manifest_version": 1, "pages": [{}]}')
    with pytest.raises(manifest.ManifestError, match="the manifest is damaged"):
        manifest.read_manifest(missing)


coordinates = st.floats(min_value=0, max_value=300, allow_nan=False, allow_infinity=False)


@given(
    box=st.tuples(coordinates, coordinates, coordinates, coordinates),
    kind=st.sampled_from(["checkbox", "digits", "text", "signature"]),
    cells=st.integers(min_value=0, max_value=8),
    minute=st.integers(min_value=0, max_value=59),
    label=st.text(max_size=20),
)
def test_field_entry_round_trip_property(box, kind, cells, minute, label) -> None:
    item = Field(
        field_id="f",
        kind=kind,
        box=Box(*box),
        role="time",
        cells=cells,
        decimals=min(cells, 1),
        scheduled=datetime(2026, 11, 28, 14, minute),
        label=label,
    )
    entry = json.loads(json.dumps(manifest.field_entry(item)))
    assert manifest.field_from_entry(entry) == item


def test_the_manifest_writer_gives_each_page_exactly_its_entry(tmp_path: Path) -> None:
    """The writer shares the JSON text of fields that are the same object on many pages
    (banner, signature legend); each page's line must still be its own entry, exactly."""
    prepare_forms(sample_census_path(), tmp_path / "forms", tmp_path / "p.db",
                  start=datetime(2026, 11, 28, 7, 0), hours=24, lang="fr", paper="a4",
                  settings_path=None)  # fmt: skip
    printed = manifest.read_manifest(tmp_path / "forms" / "manifest.json")
    assert len(printed) > 50
    for page in printed:
        assert manifest.page_json(page) == json.dumps(manifest.page_entry(page), ensure_ascii=False)
