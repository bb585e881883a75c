"""Synthetic filled forms: seeded, truthful, and degraded like real captures.

The pages are hand-made layouts rendered by the real PDF renderer and read back through
the real manifest, so these tests need neither a census nor the form templates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageOps

from papermode.core.errors import InputFileError
from papermode.core.model import PAPER_SIZES_MM, Box, Field, PageLayout, PrintedPage
from papermode.core.pageframe import MARKER_IDS
from papermode.core.pageid import new_page_id
from papermode.demo.synth import codecs
from papermode.demo.synth.corpus import make_corpus, printed_doses, read_truth
from papermode.demo.synth.degrade import Capture, phone_photo, scan_page
from papermode.demo.synth.fill import FillProfile, PageTruth, fill_page
from papermode.demo.synth.render import PageRenderer
from papermode.demo.synth.values import vital_value
from papermode.printing.manifest import SnapshotInfo, write_manifest
from papermode.printing.pdf import render_pdf

PX_PER_MM = 10.0
START = datetime(2026, 11, 28, 8, 0)
VITALS = (("hr", "8867-4", 3, 0), ("temp", "8310-5", 3, 1), ("spo2", "59408-5", 3, 0))


def _mar_fields() -> list[Field]:
    fields: list[Field] = []
    for row, order_id in enumerate(("o1", "o2", "o3")):
        for column, hours in enumerate((2, 6, 10, 14, 18)):
            when = START + timedelta(hours=hours)
            x, y = 40 + column * 32, 50 + row * 36
            base = f"mar.{order_id}.{when:%Y%m%dT%H%M}"
            for index, role in enumerate(("given", "held", "refused")):
                box = Box(x + index * 7.5, y, 5, 5)
                fields.append(
                    Field(f"{base}.{role}", "checkbox", box, role, order_id=order_id,
                          scheduled=when, group=base, value=role)
                )  # fmt: skip
            fields.append(Field(f"{base}.time", "digits", Box(x, y + 7.5, 20, 7), "time",
                                cells=4, order_id=order_id, scheduled=when))  # fmt: skip
            fields.append(Field(f"{base}.initials", "signature", Box(x, y + 17, 20, 7),
                                "initials", order_id=order_id, scheduled=when))  # fmt: skip
    return fields


def _other_fields() -> list[Field]:
    fields: list[Field] = []
    for column, hours in enumerate((0, 8, 16)):
        when = START + timedelta(hours=hours)
        for row, (name, code, cells, decimals) in enumerate(VITALS):
            box = Box(40 + column * 20, 160 + row * 10, 15, 7)
            field_id = f"vitals.{when:%Y%m%dT%H%M}.{name}"
            fields.append(Field(field_id, "digits", box, "vital", cells=cells,
                                decimals=decimals, code=code, scheduled=when))  # fmt: skip
    for row in range(3):
        y = 200 + row * 11
        fields.append(Field(f"prn.o9.{row + 1}.time", "digits", Box(20, y, 20, 7), "time",
                            cells=4, order_id="o9"))  # fmt: skip
        fields.append(Field(f"prn.o9.{row + 1}.initials", "signature", Box(45, y, 20, 7),
                            "initials", order_id="o9"))  # fmt: skip
        for index, route in enumerate(("PO", "IV", "SC")):
            fields.append(Field(f"prn.o9.{row + 1}.route.{route}", "checkbox",
                                Box(75 + index * 9, y + 1, 5, 5), "route",
                                group=f"prn.o9.{row + 1}.route", value=route))  # fmt: skip
    return fields


def make_layout(seed: str = "synth-1") -> PageLayout:
    return PageLayout(
        page_id=new_page_id(seed),
        template="mar",
        template_version="test",
        paper="a4",
        size_mm=PAPER_SIZES_MM["a4"],
        snapshot_id="snap-test",
        patient_id="p-1",
        mrn="MRN0001",
        ward="W1",
        page_number=1,
        page_count=1,
        fields=tuple(_mar_fields() + _other_fields()),
        period_start=START,
        period_end=START + timedelta(hours=24),
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepare-like folder: a real two-page PDF and its manifest."""
    folder = tmp_path_factory.mktemp("prepared")
    layouts = [make_layout("synth-1"), make_layout("synth-2")]
    render_pdf(layouts, folder / "ward.pdf")
    printed = [PrintedPage(layout, "ward.pdf", index + 1) for index, layout in enumerate(layouts)]
    snapshot = SnapshotInfo("snap-test", START, "test", START, START + timedelta(hours=24))
    write_manifest(folder / "manifest.json", printed, snapshot, paper="a4", lang="en",
                   generated_at=START)  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def blank(prepared: Path) -> tuple[np.ndarray, PageLayout]:
    renderer = PageRenderer(prepared, PX_PER_MM)
    printed = renderer.pages[0]
    return renderer.render(printed), printed.layout


def _ink_share(image: np.ndarray, box: Box, inset: float = 0.8) -> float:
    """Share of the box interior (border excluded) darker than paper and drop-out print."""
    inner = box.inset(inset)
    x0, y0 = int(inner.x * PX_PER_MM), int(inner.y * PX_PER_MM)
    x1, y1 = int((inner.x + inner.w) * PX_PER_MM), int((inner.y + inner.h) * PX_PER_MM)
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return float((grey < 200).mean())


# --------------------------------------------------------------------------- fill


def test_fill_is_seeded_and_leaves_the_blank_alone(blank) -> None:
    page, layout = blank
    before = page.copy()
    first, truth_a = fill_page(page, layout, PX_PER_MM, np.random.default_rng(5))
    second, truth_b = fill_page(page, layout, PX_PER_MM, np.random.default_rng(5))
    other, truth_c = fill_page(page, layout, PX_PER_MM, np.random.default_rng(6))
    assert np.array_equal(first, second) and truth_a == truth_b
    assert not np.array_equal(first, other)
    assert np.array_equal(page, before)
    assert not np.array_equal(first, page)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_truth_matches_the_ink_in_every_box(blank, seed: int) -> None:
    page, layout = blank
    profile = FillProfile(progress=0.8, correction_rate=0.2, contradiction_rate=0.1)
    filled, truth = fill_page(page, layout, PX_PER_MM, np.random.default_rng(seed), profile=profile)
    written = 0
    for item in layout.fields:
        value, flags = truth.fields[item.field_id], truth.flags.get(item.field_id, ())
        boxes = item.cell_boxes() or (item.box,)
        shares = [_ink_share(filled, box) for box in boxes]
        if "overshoot" in flags and value == "empty":
            continue  # a neighbour's tick reaches in on purpose
        if value == "empty":
            assert max(shares) == 0.0, item.field_id
        elif value == "filled":
            assert shares[0] > 0.2, item.field_id
        elif value == "ticked":
            assert shares[0] > 0.01, item.field_id
        elif item.kind == "digits":
            blanks = item.cells - len(value)
            inked = [share > 0.01 for share in shares[blanks:]]
            # A glyph drawn touching the comb's border (flag `touching`; a thin 1 from the
            # test half of the held-out digits) may lie entirely in the border margin.
            allowed = 1 if "touching" in flags else 0
            assert inked.count(False) <= allowed, item.field_id
        else:
            assert value == "ink" and shares[0] > 0.002, item.field_id
        written += value != "empty"
    assert written > 20


def test_truth_values_are_well_formed(blank) -> None:
    page, layout = blank
    _, truth = fill_page(page, layout, PX_PER_MM, np.random.default_rng(8))
    assert truth.page_id == layout.page_id
    assert set(truth.fields) == {item.field_id for item in layout.fields}
    for item in layout.fields:
        value = truth.fields[item.field_id]
        if item.kind == "checkbox":
            assert value in ("ticked", "empty", "filled")
        elif item.kind == "digits":
            assert value == "empty" or (value.isdigit() and len(value) <= item.cells)
        else:
            assert value in ("ink", "empty")
    assert PageTruth.from_dict(json.loads(json.dumps(truth.to_dict()))) == truth


def test_stray_dots_are_outside_every_field_and_really_drawn(blank) -> None:
    page, layout = blank
    profile = FillProfile(progress=0.0, stray_dots=3)
    found = 0
    for seed in range(6):
        filled, truth = fill_page(
            page, layout, PX_PER_MM, np.random.default_rng(seed), profile=profile
        )
        assert set(truth.fields.values()) == {"empty"}
        for mark in truth.stray_marks:
            box = Box(*mark.box_mm)
            assert _ink_share(filled, box, inset=0.0) > 0
            assert not any(_overlap(box, item.box) for item in layout.fields)
            found += 1
    assert found > 0


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def test_a_later_capture_is_a_superset_and_a_vanished_mark_is_empty(blank) -> None:
    page, layout = blank
    early_image, early = fill_page(page, layout, PX_PER_MM, np.random.default_rng(3),
                                   profile=FillProfile(progress=0.3))  # fmt: skip
    _, late = fill_page(page, layout, PX_PER_MM, np.random.default_rng(3),
                        profile=FillProfile(progress=0.9))  # fmt: skip
    marked = {key: value for key, value in early.fields.items() if value != "empty"}
    assert marked and all(late.fields[key] == value for key, value in marked.items())
    assert sum(v != "empty" for v in late.fields.values()) > len(marked)
    gone = sorted(key for key, value in marked.items() if value == "ticked")[0]
    profile = FillProfile(progress=0.3, erase=frozenset({gone}))
    erased_image, erased = fill_page(page, layout, PX_PER_MM, np.random.default_rng(3),
                                     profile=profile)  # fmt: skip
    assert erased.fields[gone] == "empty" and "vanished" in erased.flags[gone]
    box = layout.field(gone).box
    assert _ink_share(early_image, box) > 0.01 and _ink_share(erased_image, box) == 0.0


def test_vital_values_fit_their_cells() -> None:
    rng = np.random.default_rng(0)
    for name, code, cells, decimals in VITALS:
        item = Field(f"v.{name}", "digits", Box(0, 0, 15, 7), "vital", cells=cells,
                     decimals=decimals, code=code)  # fmt: skip
        for _ in range(200):
            cell_text, number = vital_value(item, rng)
            assert len(cell_text) == cells
            assert cell_text.replace(" ", "") == number.replace(".", "")
            value = float(number)
            if code == "8310-5":
                assert 36.0 <= value <= 39.5 and "." in number
            if code == "59408-5":
                assert 88 <= value <= 100


# --------------------------------------------------------------------------- degrade


def _markers(image: np.ndarray) -> set[int]:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
    _, ids, _ = detector.detectMarkers(small)
    return set() if ids is None else {int(i) for i in ids.ravel()}


@pytest.fixture(scope="module")
def filled(blank) -> np.ndarray:
    page, layout = blank
    return fill_page(page, layout, PX_PER_MM, np.random.default_rng(1))[0]


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_phone_photo_is_realistic_and_its_markers_are_found(filled, seed: int) -> None:
    image, capture = phone_photo(filled, np.random.default_rng(seed), px_per_mm=PX_PER_MM)
    height, width = image.shape[:2]
    assert 7.5e6 <= height * width <= 12.6e6 and image.dtype == np.uint8
    assert capture.kind == "phone" and capture.expected == "read"
    assert _markers(image) == set(MARKER_IDS.values())


def test_a_cut_off_corner_loses_exactly_its_marker(filled) -> None:
    image, capture = phone_photo(filled, np.random.default_rng(11), px_per_mm=PX_PER_MM,
                                 bad="corner_cut")  # fmt: skip
    assert capture.expected == "retake:corner_cut"
    assert _markers(image) == set(MARKER_IDS.values()) - {capture.params["cut_corner"]}


def test_bad_captures_are_blurred_dark_or_washed_out(filled) -> None:
    def sharpness(image: np.ndarray) -> float:
        # Downscaled first, so sensor grain does not count as detail.
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        return float(cv2.Laplacian(small, cv2.CV_64F).var())

    good, _ = phone_photo(filled, np.random.default_rng(11), px_per_mm=PX_PER_MM)
    blurred, blur = phone_photo(filled, np.random.default_rng(11), px_per_mm=PX_PER_MM, bad="blur")
    dark, _ = phone_photo(filled, np.random.default_rng(11), px_per_mm=PX_PER_MM, bad="dark")
    glared, glare = phone_photo(filled, np.random.default_rng(11), px_per_mm=PX_PER_MM, bad="glare")
    assert blur.expected == "retake:blur" and sharpness(blurred) < sharpness(good) / 5
    assert dark.mean() < 40 < good.mean()
    x, y = glare.params["glare"]["centre"]
    assert glared[y - 20 : y + 20, x - 20 : x + 20].min() > 235


def test_a_scan_has_the_size_of_its_dpi_and_black_and_white_is_binary(filled) -> None:
    grey, capture = scan_page(filled, np.random.default_rng(2), px_per_mm=PX_PER_MM, dpi=200,
                              mode="grey", skew_deg=2.0)  # fmt: skip
    assert grey.ndim == 2 and abs(grey.shape[1] - 1654) <= 2 and abs(grey.shape[0] - 2339) <= 2
    assert capture.params["skew_deg"] == 2.0
    black_white, _ = scan_page(filled, np.random.default_rng(2), px_per_mm=PX_PER_MM, dpi=150,
                               mode="bw")  # fmt: skip
    assert set(np.unique(black_white).tolist()) == {0, 255}


# --------------------------------------------------------------------------- files


def test_exif_rotated_jpeg_displays_upright(tmp_path: Path) -> None:
    seen = np.zeros((300, 200, 3), np.uint8)
    seen[:50] = 255  # a white band at the top of the picture as seen
    done = codecs.save_photo(seen, tmp_path / "a.jpg", np.random.default_rng(4), fmt="jpeg_exif",
                             capture=Capture("phone", "read"))  # fmt: skip
    with Image.open(tmp_path / "a.jpg") as stored:
        orientation = stored.getexif()[codecs.ORIENTATION_TAG]
        assert orientation == done.params["exif_orientation"] and orientation in (3, 6, 8)
        upright = np.asarray(ImageOps.exif_transpose(stored))
    assert upright.shape == seen.shape
    assert np.abs(upright.astype(int) - seen).mean() < 8


def test_heic_is_readable_with_pillow_heif(tmp_path: Path, filled) -> None:
    small = np.ascontiguousarray(filled[::4, ::4])
    codecs.save_photo(small, tmp_path / "a.heic", np.random.default_rng(1), fmt="heic",
                      capture=Capture("phone", "read"))  # fmt: skip
    heif = pillow_heif.open_heif(str(tmp_path / "a.heic"))
    assert heif.size == (small.shape[1], small.shape[0])


def test_multi_page_pdf_and_tiff_hold_every_page(tmp_path: Path, filled) -> None:
    pages = [
        scan_page(filled, np.random.default_rng(k), px_per_mm=PX_PER_MM, dpi=150, mode="grey")[0]
        for k in range(3)
    ]
    codecs.save_scan(pages, tmp_path / "s.pdf", fmt="pdf", dpi=150)
    codecs.save_scan(pages, tmp_path / "s.tiff", fmt="tiff", dpi=150)
    assert len(pdfium.PdfDocument(str(tmp_path / "s.pdf"))) == 3
    with Image.open(tmp_path / "s.tiff") as tiff:
        assert getattr(tiff, "n_frames", 1) == 3 and round(tiff.info["dpi"][0]) == 150
    bw = [np.where(page < 128, 0, 255).astype(np.uint8) for page in pages[:2]]
    codecs.save_scan(bw, tmp_path / "bw.tiff", fmt="tiff", dpi=150)
    with Image.open(tmp_path / "bw.tiff") as tiff:
        assert getattr(tiff, "n_frames", 1) == 2 and tiff.mode == "1"


# --------------------------------------------------------------------------- corpus

MIX = {"phone_jpeg": 2, "phone_exif": 1, "phone_png": 0.5, "scan_pdf": 1, "scan_tiff": 1,
       "bad": 1, "free_note": 0.5}  # fmt: skip


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_corpus_is_reproducible_and_its_truth_lists_every_file(
    prepared: Path, tmp_path: Path
) -> None:
    info = make_corpus(prepared, tmp_path / "a", count=7, seed=21, mix=MIX)
    again = make_corpus(prepared, tmp_path / "b", count=7, seed=21, mix=MIX)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert info.files == again.files and len(info.files) == 7
    truth = read_truth(tmp_path / "a")
    assert [entry["file"] for entry in truth["files"]] == list(info.files)
    page_ids = {page.layout.page_id for page in PageRenderer(prepared, 2.0).pages}
    for entry in truth["files"]:
        assert (tmp_path / "a" / entry["file"]).is_file()
        assert (
            entry["expected"] == "read"
            or entry["expected"] in ("free",)
            or entry["expected"].startswith("retake:")
        )
        assert set(entry["page_ids"]) <= page_ids
        for page in entry["pages"]:
            assert PageTruth.from_dict(page["truth"]).page_id == page["page_id"]


def test_corpus_refuses_an_unknown_kind_and_a_folder_without_manifest(
    prepared: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="unknown kinds"):
        make_corpus(prepared, tmp_path / "x", count=1, seed=1, mix={"fax": 1.0})
    with pytest.raises(InputFileError):
        make_corpus(tmp_path, tmp_path / "y", count=1, seed=1)


# --------------------------------------------------------------------------- real forms


def test_every_real_form_fills_with_truth_matching_its_ink(tmp_path: Path) -> None:
    """The forms `prepare` prints from the sample census: every template, ink where truth says."""
    from papermode.printing.prepare import prepare_forms

    census = Path(__file__).parents[1] / "papermode" / "data" / "sample_ward.json"
    prepare_forms(census, tmp_path / "out", tmp_path / "store.db", start=START, hours=24,
                  lang="en", paper="a4", settings_path=None)  # fmt: skip
    renderer = PageRenderer(tmp_path / "out", PX_PER_MM)
    first_of_each = {p.layout.template: p for p in reversed(renderer.pages) if p.layout.fields}
    assert {"mar", "vitals"} <= set(first_of_each)
    written = 0
    for printed in first_of_each.values():
        blank_page = renderer.render(printed)
        profile = FillProfile(progress=0.9, correction_rate=0.2)
        image, truth = fill_page(blank_page, printed.layout, PX_PER_MM, np.random.default_rng(2),
                                 profile=profile)  # fmt: skip
        for item in printed.layout.fields:
            value = truth.fields[item.field_id]
            if "overshoot" in truth.flags.get(item.field_id, ()):
                continue
            boxes = item.cell_boxes() or (item.box,)
            new_ink = max(_new_ink(blank_page, image, box) for box in boxes)
            assert (new_ink > 0) == (value != "empty"), item.field_id
            written += value != "empty"
    assert written > 30


def _new_ink(before: np.ndarray, after: np.ndarray, box: Box) -> float:
    """Share of the box interior that the pen darkened (printed labels do not count)."""
    inner = box.inset(0.8)
    x0, y0 = int(inner.x * PX_PER_MM), int(inner.y * PX_PER_MM)
    x1, y1 = int((inner.x + inner.w) * PX_PER_MM), int((inner.y + inner.h) * PX_PER_MM)
    grey_before = before[y0:y1, x0:x1].astype(int).mean(axis=2)
    grey_after = after[y0:y1, x0:x1].astype(int).mean(axis=2)
    return float((grey_before - grey_after > 50).mean())


def test_the_filler_writes_what_a_nurse_writes_on_the_real_forms(tmp_path: Path) -> None:
    """Realistic values, or the capture bench measures the filler, not the reader: a PRN
    dose is the ordered dose, a vitals column has one ACVPU and one air/O2 answer (the O2
    flow only on oxygen) and its NEWS2 total is the sum of its scores, a used blank pack has
    its identity, a new order's date and time are a DDMM day of the page and an HHMM time."""
    from papermode.printing.prepare import prepare_forms
    from papermode.reading import news2
    from papermode.reading.plausibility import parse_hhmm, written_day

    census = Path(__file__).parents[1] / "papermode" / "data" / "sample_ward.json"
    prepare_forms(census, tmp_path / "out", tmp_path / "store.db", start=START, hours=24,
                  lang="en", paper="a4", settings_path=None)  # fmt: skip
    doses = printed_doses(tmp_path / "out", tmp_path / "store.db")
    assert doses and all(v is None or v > 0 for v in doses.values())
    renderer = PageRenderer(tmp_path / "out", PX_PER_MM)
    profile = FillProfile(progress=1.0, row_rate=1.0, identity_rate=1.0)
    seen = {"prn_dose": 0, "column": 0, "identity": 0, "order_date": 0}
    for printed in renderer.pages:
        layout = printed.layout
        if layout.template == "ward_census":
            continue
        _, truth = fill_page(renderer.render(printed), layout, PX_PER_MM,
                             np.random.default_rng(5), profile=profile, doses=doses)  # fmt: skip
        written = {k: v for k, v in truth.fields.items() if v != "empty"}
        by_id = {f.field_id: f for f in layout.fields}
        for field_id, item in by_id.items():
            number = truth.numbers.get(field_id)
            if item.role == "dose" and field_id.startswith("prn.") and number is not None:
                ordered = doses.get(item.order_id or "")
                if ordered is not None and ordered == int(ordered):
                    assert float(number) == ordered, field_id
                    seen["prn_dose"] += 1
            if item.role == "order_date" and number is not None:
                period = (layout.period_start, layout.period_end)
                assert written_day(truth.fields[field_id], period) is not None, field_id
                seen["order_date"] += 1
            if item.role in ("order_time", "obs_time") and number is not None:
                assert parse_hhmm(truth.fields[field_id]) is not None, field_id
        columns: dict[str, dict[str, str]] = {}
        for field_id, value in written.items():
            item = by_id[field_id]
            if item.role == "vital" and item.code and item.kind != "text":
                column = columns.setdefault((item.group or field_id).rsplit(".", 1)[0], {})
                key = item.code if item.kind == "digits" else f"{item.code}:{item.value}"
                column[key] = truth.numbers.get(field_id, value)
        for column in columns.values():
            acvpu = [k for k in column if k.startswith(news2.CONSCIOUSNESS + ":")]
            device = [k.split(":")[1] for k in column if k.startswith(news2.O2_DEVICE + ":")]
            assert len(acvpu) == 1 and len(device) == 1
            assert ("3151-8" in column) == (device[0] != news2.ON_AIR)
            if news2.TOTAL in column:
                vitals = news2.Vitals(
                    respiration=float(column[news2.RESPIRATION]),
                    spo2=float(column[news2.SPO2]),
                    on_oxygen=device[0] != news2.ON_AIR,
                    systolic=float(column[news2.SYSTOLIC]),
                    pulse=float(column[news2.PULSE]),
                    consciousness=acvpu[0].split(":")[1],
                    temperature=float(column[news2.TEMPERATURE]),
                    scale=2 if f"{news2.SPO2_SCALE}:2" in column else 1,
                )
                assert abs(int(column[news2.TOTAL]) - news2.news2(vitals).total) <= 1
                seen["column"] += 1
        if layout.patient_id is None and any(not k.startswith("blank.") for k in written):
            for role in ("name", "birth_date", "temp_number"):
                assert f"blank.{role}" in written, (layout.template, role)
            born = truth.fields["blank.birth_date"]
            assert datetime.strptime(born, "%d%m%Y").year >= 1930
            seen["identity"] += 1
    assert all(count > 0 for count in seen.values()), seen
