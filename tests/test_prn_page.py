"""The PRN page a nurse can trust: the printed title, units and HIGH ALERT band (real PDF
text and pixels), every entry's boxes, the completeness rules, and one entry filled in,
photographed, ingested, read and reconciled into a FHIR MedicationAdministration.

Controlled drugs: `papermode.census.drug_classes.is_controlled` is a stub (always False)
until its table lands; these tests monkeypatch it to say morphine and oxycodone are
controlled (the table will surely hold both), so they pass before and after.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402

from papermode.census.snapshot import load_census, sample_census_path  # noqa: E402
from papermode.core.model import Box, Line, PageLayout, Reading, Shade, Timing  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.core.sites import SITES  # noqa: E402
from papermode.export.fhir import PERFORM_FUNCTION, build_bundle  # noqa: E402
from papermode.printing import pdf  # noqa: E402
from papermode.printing.layout import prn  # noqa: E402
from papermode.printing.layout.snapshot import _context, layout_patient  # noqa: E402
from papermode.printing.manifest import MANIFEST_NAME, read_manifest  # noqa: E402
from papermode.printing.templates import load_templates  # noqa: E402
from papermode.reading.completeness import check_completeness  # noqa: E402
from papermode.reconcile.categories import Category  # noqa: E402
from papermode.reconcile.inputs import Decision  # noqa: E402
from papermode.reconcile.prn import NO_DATE  # noqa: E402
from papermode.reconcile.service import item_json, reconcile_store  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

MORPHINE, INSULIN, ONDANSETRON = "ord-1025", "ord-1022", "ord-1032"  # patient p-103
START = datetime(2026, 11, 28, 8, 0)
PERIOD = (START, START + timedelta(hours=72))
NOW = datetime(2026, 12, 20, 9, 0)


def _controlled(order: Any) -> bool:
    return order.medication.lower().startswith(("morphine", "oxycodone"))


@pytest.fixture(autouse=True)
def controlled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prn, "is_controlled", _controlled)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample ward printed (24 h from 07:00: the dates 28/11 and 29/11)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prn, "is_controlled", _controlled)
        yield ep.prepare(tmp_path_factory.mktemp("prn"))


def _pages_72h(lang: str = "en") -> list[PageLayout]:
    snapshot = load_census(sample_census_path())
    patient = next(p for p in snapshot.patients if p.patient_id == "p-103")
    orders = [o for o in snapshot.orders if o.patient_id == "p-103"]
    options = {"period": PERIOD, "paper": "a4", "lang": lang, "templates": load_templates()}
    return layout_patient(patient, orders, {}, snapshot, **options)  # type: ignore[arg-type]


def _prn_page(pages: list[PageLayout], order_id: str) -> PageLayout:
    return next(
        p for p in pages if p.template == "prn" and any(f.order_id == order_id for f in p.fields)
    )


def _pdf_text(pages: list[PageLayout], path: Path) -> list[str]:
    pdf.render_pdf(pages, path)
    document = pdfium.PdfDocument(str(path))
    texts = [page.get_textpage().get_text_range() for page in document]
    document.close()
    return texts


# --------------------------------------------------------------------------- printed


def test_title_prints_the_strength_once_the_dose_unit_and_the_bands(tmp_path: Path) -> None:
    pages = [p for p in _pages_72h() if p.template == "prn"]
    texts = _pdf_text(pages, tmp_path / "prn.pdf")
    morphine = texts[pages.index(_prn_page(pages, MORPHINE))]
    insulin = texts[pages.index(_prn_page(pages, INSULIN))]
    flat = " ".join(morphine.split())
    assert "2 mg 2 mg" not in flat and "Morphine 2 mg IV" in flat  # was "Morphine 2 mg 2 mg IV"
    assert "max 6 doses / 24 h" in flat and "at most every 4 hours" in flat
    assert "HIGH ALERT" in flat and "CONTROLLED DRUG" in flat
    assert flat.count("dose (mg)") >= 6 and "2nd check" in flat and "witness" in flat
    assert "28/11" in flat and "01/12" in flat  # a 72 h page: four dates to tick
    insulin_flat = " ".join(insulin.split())
    assert "dose (units)" in insulin_flat and "(__)" not in insulin_flat
    assert "Injection site" in insulin_flat and "CONTROLLED DRUG" not in insulin_flat
    for site in SITES:  # the legend lists every code the reader accepts
        assert f"{site.number} " in insulin_flat.split("Injection site", 1)[1][:200]
    whole = " ".join(" ".join(texts).split())  # ondansetron (neither) shares a page
    assert whole.count("HIGH ALERT") == 2 and whole.count("CONTROLLED DRUG") == 1
    assert "Ondansetron 4 mg IV" in whole


def test_the_units_are_localised() -> None:
    page = _prn_page(_pages_72h("fr"), INSULIN)
    assert "dose (unités)" in [d.text for d in page.drawings if hasattr(d, "text")]


def _band(page: PageLayout) -> tuple[float, float, float, float]:
    lines = [d for d in page.drawings if isinstance(d, Line) and d.width == prn._BAND_MM]
    assert len(lines) == 4, "the band is a black frame of four lines"
    xs = [v for d in lines for v in (d.x1, d.x2)]
    ys = [v for d in lines for v in (d.y1, d.y2)]
    return min(xs), min(ys), max(xs), max(ys)


def _background(image: np.ndarray, box: tuple[float, float, float, float]) -> tuple[int, float]:
    """The most common grey inside `box` (mm, inset 1.2 mm) and its share of mid greys."""
    scale = ep.PPM
    x1, y1, x2, y2 = (
        int(v * scale) for v in (box[0] + 1.2, box[1] + 1.2, box[2] - 1.2, box[3] - 1.2)
    )
    crop = image[y1:y2, x1:x2].mean(axis=2)
    mode = int(np.bincount(crop.astype(np.uint8).ravel()).argmax())
    return mode, float(((crop > 90) & (crop < 215)).mean())


def _raster(pages: list[PageLayout], path: Path, index: int) -> np.ndarray:
    pdf.render_pdf(pages, path)
    document = pdfium.PdfDocument(str(path))
    bitmap = document[index].render(scale=ep.DPI / 72)
    image = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
    document.close()
    return image


def test_the_high_alert_band_is_black_text_on_white(tmp_path: Path) -> None:
    pages = _pages_72h()
    page = _prn_page(pages, MORPHINE)
    assert not [d for d in page.drawings if isinstance(d, Shade) and d.grey < 1.0]
    image = _raster(pages, tmp_path / "p.pdf", pages.index(page))
    mode, mid_grey = _background(image, _band(page))
    assert mode == 255 and mid_grey < 0.04, (mode, mid_grey)
    # The frame itself is black ink: a 1-bit scan keeps it.
    x1, y1, _, _ = _band(page)
    frame = image[int((y1 + 3) * ep.PPM), int((x1 - 0.2) * ep.PPM) : int((x1 + 0.4) * ep.PPM)]
    assert frame.min() < 60
    # The same measure catches a grey fill (the MAR's high-alert column had one before the
    # forms were made black-and-white proof): the band's page with a grey fill added under it.
    x1, y1, x2, y2 = _band(page)
    grey = Shade(Box(x1, y1, x2 - x1, y2 - y1), grey=0.78)
    shaded = replace(page, drawings=(grey, *page.drawings))
    swapped = [shaded if p is page else p for p in pages]
    assert (
        _background(_raster(swapped, tmp_path / "g.pdf", pages.index(page)), _band(page))[0] < 230
    )


def test_each_entry_has_the_boxes_its_order_asks_for() -> None:
    pages = _pages_72h()

    def roles(order_id: str) -> dict[str, list[Any]]:
        page = _prn_page(pages, order_id)
        found: dict[str, list[Any]] = {}
        for f in page.fields:
            if f.field_id.startswith(f"prn.{order_id}.1."):
                found.setdefault(f.role, []).append(f)
        return found

    morphine, insulin, ondansetron = roles(MORPHINE), roles(INSULIN), roles(ONDANSETRON)
    base = {"date", "time", "dose", "initials", "prn_reason", "effect_time", "effect"}
    assert set(morphine) == base | {"second_initials", "witness"}  # IV, high-alert, controlled
    assert set(insulin) == base | {"second_initials", "site"}  # SC, high-alert
    assert set(ondansetron) == base
    dates = morphine["date"]
    assert [d.value for d in dates] == ["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"]
    assert {d.group for d in dates} == {f"prn.{MORPHINE}.1.date"} and dates[0].kind == "checkbox"
    assert insulin["site"][0].cells == 1 and insulin["site"][0].kind == "digits"
    assert (
        morphine["witness"][0].kind == "signature" and morphine["witness"][0].order_id == MORPHINE
    )
    boxes = [f.box for f in _prn_page(pages, MORPHINE).fields]
    for i, a in enumerate(boxes):  # no two boxes closer than the reader's crop margin
        for b in boxes[i + 1 :]:
            gap = max(a.x - (b.x + b.w), b.x - (a.x + a.w), a.y - (b.y + b.h), b.y - (a.y + a.h))
            assert gap >= 2.0, (a, b)


def test_an_as_needed_timing_prints_no_interval() -> None:
    snapshot = load_census(sample_census_path())
    order = next(o for o in snapshot.orders if o.order_id == MORPHINE)
    page = _prn_page(_pages_72h(), MORPHINE)
    ctx_texts = [d.text for d in page.drawings if hasattr(d, "text")]
    assert any("at most every 4 hours" in t for t in ctx_texts)
    bare = replace(order, timing=Timing(code="PRN"))
    assert prn._interval(_ctx(), bare) == ""
    assert prn._interval(_ctx(), replace(order, timing=Timing(times_of_day=(time(8),)))) == ""


def _ctx() -> Any:
    return _context(load_census(sample_census_path()), PERIOD, "a4", "en", load_templates(), None)


def test_name_without_dose_keeps_a_concentration() -> None:
    assert prn.name_without_dose("Morphine 2 mg", ["2 mg"]) == "Morphine"
    assert prn.name_without_dose("Enoxaparin 40 mg/0.4 mL", ["40 mg"]) == "Enoxaparin 40 mg/0.4 mL"
    assert prn.name_without_dose("Paracétamol 1 g", ["1 g"]) == "Paracétamol"


# --------------------------------------------------------------------------- completeness


def _layout(prepared: Path, order_id: str) -> PageLayout:
    return next(
        p.layout
        for p in read_manifest(prepared / "forms" / MANIFEST_NAME)
        if p.layout.template == "prn" and any(f.order_id == order_id for f in p.layout.fields)
    )


def _checked(layout: PageLayout, values: dict[str, str]) -> dict[str, Reading]:
    readings = {f.field_id: Reading(f.field_id, "empty", 0.99, "auto") for f in layout.fields}
    for part, value in values.items():
        field_id = f"{part}"
        readings[field_id] = Reading(field_id, value, 0.99, "auto")
    return check_completeness(layout, readings)


def test_a_dose_without_initials_second_check_or_witness_goes_to_review(prepared: Path) -> None:
    layout = _layout(prepared, MORPHINE)
    entry = f"prn.{MORPHINE}.1"
    done = {f"{entry}.d20261128": "ticked", f"{entry}.time": "1430", f"{entry}.dose": "2"}
    checked = _checked(layout, done)
    assert checked[f"{entry}.time"].status == "review"
    assert {"missing_initials", "no_second_check", "no_witness"} <= set(
        checked[f"{entry}.dose"].flags
    )
    assert "no_second_check" in checked[f"{entry}.second_initials"].flags
    assert "no_witness" in checked[f"{entry}.witness"].flags
    signed = {**done, **{f"{entry}.{p}": "ink" for p in ("initials", "second_initials", "witness")}}
    complete = _checked(layout, signed)
    assert all(complete[i].status == "auto" for i in signed), "a complete entry stays auto"
    undated = {k: v for k, v in signed.items() if ".d2026" not in k}
    flags = _checked(layout, undated)[f"{entry}.time"].flags
    assert "missing_date" in flags and "no_witness" not in flags


def test_a_sc_dose_without_its_site_goes_to_review(prepared: Path) -> None:
    entry = f"prn.{INSULIN}.2"
    values = {f"{entry}.d20261129": "ticked", f"{entry}.time": "0610", f"{entry}.dose": "4"}
    values |= {f"{entry}.initials": "ink", f"{entry}.second_initials": "ink"}
    checked = _checked(_layout(prepared, INSULIN), values)
    assert "missing_site" in checked[f"{entry}.site"].flags
    assert "no_witness" not in checked[f"{entry}.dose"].flags  # insulin: no witness box
    values[f"{entry}.site"] = "3"
    assert _checked(_layout(prepared, INSULIN), values)[f"{entry}.dose"].status == "auto"


# --------------------------------------------------------------------------- end to end


def _filled_photo(prepared: Path, tmp_path: Path) -> tuple[str, Path]:
    """Morphine PRN page: entry 1 complete (second check and witness), entry 2 without
    initials, entry 3 complete but undated."""
    page = next(
        p
        for p in ep.pages(prepared, "prn")
        if any(f.get("order_id") == MORPHINE for f in p["fields"])
    )
    fields = ep.fields_by_id(page)
    image = ep.render(prepared, page)
    for number, clock, dated, signed in ((1, "1430", True, True), (2, "1815", True, False),
                                        (3, "2150", False, True)):  # fmt: skip
        entry = f"prn.{MORPHINE}.{number}"
        if dated:
            ep.tick(image, fields[f"{entry}.d20261128"], seed=number)
        ep.write_digits(image, fields[f"{entry}.time"], clock, seed=10 + number)
        ep.write_digits(image, fields[f"{entry}.dose"], "   2", seed=20 + number)
        if signed:
            for part in ("initials", "second_initials", "witness"):
                ep.initials(image, fields[f"{entry}.{part}"], seed=30 + number + len(part))
    return page["page_id"], ep.photo(image, tmp_path / "prn.jpg")


def test_an_insulin_entry_exports_its_site_and_unit(prepared: Path, tmp_path: Path) -> None:
    page = next(
        p
        for p in ep.pages(prepared, "prn")
        if any(f.get("order_id") == INSULIN for f in p["fields"])
    )
    fields, image = ep.fields_by_id(page), ep.render(prepared, page)
    entry = f"prn.{INSULIN}.1"
    ep.tick(image, fields[f"{entry}.d20261129"], seed=1)
    ep.write_digits(image, fields[f"{entry}.time"], "0610", seed=2)
    ep.write_digits(image, fields[f"{entry}.dose"], "   6", seed=3)
    ep.write_digits(image, fields[f"{entry}.site"], "3", seed=4)
    for part in ("initials", "second_initials"):
        ep.initials(image, fields[f"{entry}.{part}"], seed=5 + len(part))
    store_path = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store_path, ep.photo(image, tmp_path / "insulin.jpg"))
    state = ep.state(store_path, page["page_id"])
    assert state[f"{entry}.site"]["value"] == "3"
    result, source = ep.reconciled(store_path, page["page_id"], entry, NOW)
    item = next(i for i in result.items if i.item_id.endswith(entry))
    assert item.exportable and item.occurred_at == datetime(2026, 11, 29, 6, 10), item.notes
    assert item.site == "thigh_left" and Category.NO_WITNESS not in item.concerns
    bundle = build_bundle(result, source, exported_at=NOW)
    resource = next(
        e["resource"] for e in bundle["entry"]
        if e["resource"].get("request", {}).get("reference") == f"MedicationRequest/{INSULIN}"
    )  # fmt: skip
    assert resource["dosage"]["site"] == {"text": "thigh, left"}
    assert resource["dosage"]["dose"] == {"value": 6, "unit": "units"}  # as printed by the comb


def test_a_filled_prn_entry_is_read_and_reconciled_into_fhir(
    prepared: Path, tmp_path: Path
) -> None:
    store_path = ep.fresh_store(prepared, tmp_path)
    page_id, photo = _filled_photo(prepared, tmp_path)
    ep.ingest(store_path, photo)
    state = ep.state(store_path, page_id)
    first, second, third = (f"prn.{MORPHINE}.{n}" for n in (1, 2, 3))
    assert state[f"{first}.d20261128"]["value"] == "ticked"
    assert state[f"{first}.time"]["value"] == "1430" and state[f"{first}.time"]["status"] == "auto"
    assert state[f"{first}.witness"]["value"] == "ink"
    assert "missing_initials" in state[f"{second}.time"]["flags"]
    assert state[f"{second}.time"]["status"] == "review"
    assert "missing_date" in state[f"{third}.time"]["flags"]

    # A high-alert order's every mark waits for a person (review/queue.py): two reviewers
    # confirm entries 1 and 3 as read; entry 2 (no initials) stays in the queue.
    decisions = {
        (page_id, field_id): Decision("confirm", row["value"], ("clerk A", "nurse B"), NOW)
        for field_id, row in state.items()
        if field_id.startswith((first + ".", third + "."))
    }
    with open_store(store_path) as store:
        result, source = reconcile_store(store, load_settings(), decisions=decisions)
    items = {item.item_id.rsplit(":", 1)[1]: item for item in result.items if item.kind == "prn"}
    given = items[first]
    assert given.category != "pending", given.notes
    assert given.exportable and given.occurred_at == datetime(2026, 11, 28, 14, 30)
    assert given.checked_by == ("verifier", "witness") and given.quantity == 2
    assert not items[second].exportable and items[second].category == "pending"
    assert item_json(given, source)["checked_by"] == ["verifier", "witness"]
    assert not items[third].exportable and items[third].category == "pending"
    assert items[third].notes == (NO_DATE,), "confirmed undated: still never exported"

    bundle = build_bundle(result, source, exported_at=NOW)
    administrations = [
        e["resource"] for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
        and e["resource"]["request"]["reference"] == f"MedicationRequest/{MORPHINE}"
    ]  # fmt: skip
    assert len(administrations) == 1, "the undated and the unsigned entries are not exported"
    resource = administrations[0]
    assert resource["effectiveDateTime"].startswith("2026-11-28T14:30:00")
    assert resource["dosage"]["dose"] == {"value": 2, "unit": "mg"}
    functions = [p["function"]["coding"][0] for p in resource["performer"] if "function" in p]
    assert [(c["system"], c["code"]) for c in functions] == [
        (PERFORM_FUNCTION, "verifier"),
        (PERFORM_FUNCTION, "witness"),
    ]
