"""Layout engine: every page is a complete, non-overlapping, readable form."""

from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from papermode.core.errors import TemplateError
from papermode.core.model import (
    PAPER_SIZES_MM,
    Allergy,
    Box,
    Line,
    Order,
    PageLayout,
    Patient,
    ScheduledDose,
    Shade,
    Snapshot,
    Text,
    Timing,
    Weight,
)
from papermode.core.pageframe import MARKER_IDS, MARKER_QUIET_MM, MRN_TEXT_SIZE_PT, frame_for
from papermode.core.pageid import is_valid
from papermode.printing.layout.kit import PT_MM, text_width
from papermode.printing.layout.snapshot import (
    layout_blank_packs,
    layout_patient,
    layout_snapshot,
    layout_ward_census,
)
from papermode.printing.templates import (
    GEOMETRY,
    LANGUAGES,
    MAXIMUM,
    TemplateSet,
    _check_room,
    _geometry,
    load_templates,
)

START = datetime(2026, 11, 28, 13, 0)
PERIOD = (START, START + timedelta(hours=24))
TEMPLATES = load_templates()
BANNER_FIELDS = {"blank.name", "blank.birth_date", "blank.temp_number"}


# --------------------------------------------------------------------------- helpers


def _patient(number: int = 1, **changes: object) -> Patient:
    patient = Patient(
        patient_id=f"pat-{number}",
        mrn=f"MRN{number:05d}",
        family="Dubois-Ødegaard",
        given="Hélène",
        birth_date=date(1950, 3, 2),
        sex="F",
        ward="3B",
        room=str(10 - number % 10),
        bed="A",
        allergies=(Allergy("penicillin", "anaphylaxis"),),
        weight=Weight(72.5, date(2026, 11, 20)),
    )
    return replace(patient, **changes)  # type: ignore[arg-type]


def _order(order_id: str, patient_id: str = "pat-1", **changes: object) -> Order:
    order = Order(
        order_id=order_id,
        patient_id=patient_id,
        medication="paracetamol",
        dose_value=1000.0,
        dose_unit="mg",
        route="PO",
        timing=Timing(code="q6h"),
        requester="Dr Lee",
    )
    return replace(order, **changes)  # type: ignore[arg-type]


def _doses(order_id: str, hours: list[int]) -> list[ScheduledDose]:
    return [ScheduledDose(order_id, START + timedelta(hours=h)) for h in hours]


def _snapshot(patients: list[Patient], orders: list[Order], sid: str = "snap-1") -> Snapshot:
    return Snapshot(sid, datetime(2026, 11, 28, 12, 55), "test", tuple(patients), tuple(orders))


def _layout(patient: Patient, orders: list[Order], doses: dict, **options: object) -> list:
    snapshot = _snapshot([patient], orders)
    kwargs = {"period": PERIOD, "paper": "a4", "lang": "en", "templates": TEMPLATES}
    kwargs.update(options)
    return layout_patient(patient, orders, doses, snapshot, settings=None, **kwargs)  # type: ignore[arg-type]


def _texts(page: PageLayout) -> list[str]:
    return [d.text for d in page.drawings if isinstance(d, Text)]


def _gap(a: Box, b: Box) -> float:
    """Distance between two rectangles (negative when they overlap)."""
    dx = max(a.x - (b.x + b.w), b.x - (a.x + a.w))
    dy = max(a.y - (b.y + b.h), b.y - (a.y + a.h))
    return max(dx, dy)


def _inside(inner: Box, outer: Box) -> bool:
    return (
        inner.x >= outer.x - 1e-6
        and inner.y >= outer.y - 1e-6
        and inner.x + inner.w <= outer.x + outer.w + 1e-6
        and inner.y + inner.h <= outer.y + outer.h + 1e-6
    )


def _text_box(item: Text) -> Box:
    width = text_width(item.text, item.size, bold=item.bold, mono=item.mono)
    x = {"left": item.x, "centre": item.x - width / 2, "right": item.x - width}[item.align]
    ascent, descent = 0.76 * item.size * PT_MM, 0.24 * item.size * PT_MM
    return Box(x, item.y - ascent, width, ascent + descent)


def _furniture(page: PageLayout) -> list[Box]:
    frame = frame_for(page.size_mm)
    boxes = [frame.marker_box(c).inset(-MARKER_QUIET_MM) for c in MARKER_IDS]
    return [*boxes, frame.qr_box, frame.page_id_text_box]


def check_page(page: PageLayout) -> None:
    """Everything the printer and the reader rely on, for one page."""
    frame = frame_for(page.size_mm)
    assert page.size_mm == PAPER_SIZES_MM[page.paper]
    ids = [f.field_id for f in page.fields]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    furniture = _furniture(page)
    for item in page.fields:
        area = frame.header if item.field_id in BANNER_FIELDS else frame.content
        assert _inside(item.box, area), item
        assert all(_gap(item.box, other) > 0 for other in furniture), item
        if item.kind == "checkbox":
            assert item.box.w >= 5.0 and item.box.h >= 5.0, item
        if item.kind == "digits":
            assert item.cells > 0
            assert all(c.w >= 5.0 - 1e-6 and c.h >= 7.0 for c in item.cell_boxes()), item
    ordered = sorted(page.fields, key=lambda f: f.box.x)
    for index, item in enumerate(ordered):
        for other in ordered[index + 1 :]:
            if other.box.x > item.box.x + item.box.w + 2.0:
                break
            assert _gap(item.box, other.box) >= 2.0 - 1e-6, (item, other)
    page_box = Box(0, 0, *page.size_mm)
    for drawing in page.drawings:
        if isinstance(drawing, Shade):
            assert _inside(drawing.box, frame.content), drawing
        if isinstance(drawing, Line):
            box = Box(
                min(drawing.x1, drawing.x2),
                min(drawing.y1, drawing.y2),
                abs(drawing.x2 - drawing.x1),
                abs(drawing.y2 - drawing.y1),
            )
            # the banner's allergy box is outlined inside the header (layout/banner.py)
            assert _inside(box, frame.content) or _inside(box, frame.header), drawing
        if isinstance(drawing, Text):
            box = _text_box(drawing)
            assert _inside(box, page_box), drawing
            assert all(_gap(box, other) > 0 for other in furniture), drawing
            assert all(_gap(box, f.box) > -0.3 for f in page.fields), drawing


def _mar_cells(pages: list[PageLayout]) -> Counter:
    cells: Counter = Counter()
    for page in pages:
        for item in page.fields:
            if page.template == "mar" and item.order_id and item.scheduled:
                cells[(item.order_id, item.scheduled, item.role)] += 1
    return cells


# --------------------------------------------------------------------------- properties

names = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Nd", "Zs"), max_codepoint=0x17F),
    min_size=1,
    max_size=70,
).filter(str.strip)


@st.composite
def patients_with_orders(draw: st.DrawFn) -> tuple[Patient, list[Order], dict]:
    patient = _patient(
        family=draw(names),
        allergies=draw(st.sampled_from([None, (), (Allergy("latex"),) * 12])),
        weight=draw(st.sampled_from([None, Weight(80.0), Weight(3.25, date(2026, 11, 1))])),
    )
    orders, doses = [], {}
    for index in range(draw(st.integers(0, 14))):
        prn = draw(st.booleans()) and index % 3 == 0
        order = _order(
            f"o{index}",
            medication=draw(names),
            high_alert=draw(st.booleans()),
            as_needed=prn,
            indication="pain" if prn else None,
        )
        orders.append(order)
        minutes = draw(st.lists(st.integers(-120, 74 * 60), max_size=24))
        doses[order.order_id] = [
            ScheduledDose(order.order_id, START + timedelta(minutes=m)) for m in minutes
        ]
    return patient, orders, doses


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=patients_with_orders(),
    paper=st.sampled_from(["a4", "letter"]),
    lang=st.sampled_from(LANGUAGES),
    hours=st.sampled_from([8, 24, 72]),
)
def test_generated_patients_give_sound_pages(
    case: tuple, paper: str, lang: str, hours: int
) -> None:
    patient, orders, doses = case
    period = (START, START + timedelta(hours=hours))
    pages = _layout(patient, orders, doses, paper=paper, lang=lang, period=period)
    for page in pages:
        check_page(page)
    assert [p.page_number for p in pages] == list(range(1, len(pages) + 1))
    assert {p.page_count for p in pages} == {len(pages)}
    cells = _mar_cells(pages)
    expected = {
        (dose.order_id, dose.scheduled_at)
        for order in orders
        if not order.as_needed
        for dose in doses[order.order_id]
        if period[0] <= dose.scheduled_at < period[1]
    }
    assert all(moment.second == 0 for _, moment in expected)
    high_alert = {o.order_id for o in orders if o.high_alert}
    for order_id, moment in expected:
        for role in ("given", "held", "refused", "time", "initials"):
            assert cells[(order_id, moment, role)] == 1, (order_id, moment, role)
        assert cells[(order_id, moment, "second_initials")] == (order_id in high_alert)
    assert {(o, m) for o, m, _ in cells} == expected


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_blank_packs_and_census_pages_are_sound(paper: str) -> None:
    patients = [_patient(n, family="Name " * n) for n in range(1, 40)]
    snapshot = _snapshot(patients, [])
    options = {"period": PERIOD, "paper": paper, "lang": "fr", "templates": TEMPLATES}
    blanks = layout_blank_packs("3B", 2, snapshot, **options)  # type: ignore[arg-type]
    pages_by_patient = {p.patient_id: blanks[:4] for p in patients}
    census = layout_ward_census("3B", patients, pages_by_patient, snapshot, **options)  # type: ignore[arg-type]
    assert len(census) >= 2  # 39 patients with 4 pages each flow onto a second sheet
    for page in [*blanks, *census]:
        check_page(page)
        assert page.patient_id is None and page.mrn is None


# --------------------------------------------------------------------------- MAR


def test_mar_has_one_cell_per_dose_with_readable_ids() -> None:
    orders = [_order("o1"), _order("o2", high_alert=True, medication="insulin", dose_unit="U")]
    doses = {"o1": _doses("o1", [5, 11, 17, 23]), "o2": _doses("o2", [9]) + _doses("o2", [30])}
    pages = _layout(_patient(), orders, doses)
    mar = pages[0]
    assert mar.template == "mar"
    cell = mar.field("mar.o1.20261128T1800.given")
    assert (cell.kind, cell.role, cell.group, cell.value) == (
        "checkbox",
        "given",
        "mar.o1.20261128T1800",
        "given",
    )
    assert cell.scheduled == datetime(2026, 11, 28, 18, 0) and cell.order_id == "o1"
    time_field = mar.field("mar.o1.20261128T1800.time")
    assert (time_field.kind, time_field.cells, time_field.role) == ("digits", 4, "time")
    assert mar.field("mar.o1.20261128T1800.initials").kind == "signature"
    assert mar.field("mar.o2.20261128T2200.second_initials").role == "second_initials"
    with pytest.raises(KeyError):
        mar.field("mar.o1.20261128T1800.second_initials")
    with pytest.raises(KeyError):  # outside the period: no cell
        mar.field("mar.o2.20261129T1900.given")
    texts = _texts(mar)
    assert "HIGH ALERT" in texts
    assert "12 units" in texts or "1,000 mg" in texts  # the dose alone, bold (ISMP); route below
    assert not any(t.endswith(" U") or ".0 mg" in t for t in texts)


def test_long_order_lists_flow_onto_complete_pages() -> None:
    orders = [_order(f"o{n}", high_alert=n % 4 == 0) for n in range(30)]
    doses = {o.order_id: _doses(o.order_id, [1, 5, 9, 13, 17, 21, 23]) for o in orders}
    pages = _layout(_patient(), orders, doses)
    mar_pages = [p for p in pages if p.template == "mar"]
    assert len(mar_pages) > 3
    count = len(pages)
    for number, page in enumerate(pages, start=1):
        texts = _texts(page)
        assert f"page {number} of {count}" in texts
        assert "MRN MRN00001" in texts
        assert "orders as of 28 November 2026 12:55" in texts
        assert any(t.startswith("form ") and " v2026." in t for t in texts)
        check_page(page)
    assert sum(c for (o, m, r), c in _mar_cells(pages).items() if r == "given") == 30 * 7


def test_duplicate_orders_and_doses_give_one_cell_each() -> None:
    order = _order("o1")
    doses = {
        "o1": [*_doses("o1", [3, 3]), ScheduledDose("o1", START + timedelta(hours=3, seconds=20))]
    }
    pages = _layout(_patient(), [order, order], doses)
    check_page(pages[0])
    assert [f.field_id for f in pages[0].fields if f.role == "given"] == [
        "mar.o1.20261128T1600.given"
    ]


def test_order_without_a_dose_in_the_period_is_still_printed() -> None:
    pages = _layout(_patient(), [_order("o1", medication="enoxaparin")], {"o1": []})
    assert "enoxaparin" in _texts(pages[0])
    assert "No dose due in this period." in _texts(pages[0])


def test_only_the_patients_own_orders_are_printed() -> None:
    orders = [_order("mine"), _order("theirs", patient_id="pat-2", medication="warfarin")]
    doses = {"mine": _doses("mine", [1]), "theirs": _doses("theirs", [1])}
    pages = _layout(_patient(), orders, doses)
    assert not any("warfarin" in t for p in pages for t in _texts(p))


# --------------------------------------------------------------------------- other forms


def test_prn_record_prints_indication_and_maximum() -> None:
    order = _order(
        "p1",
        medication="morphine",
        dose_value=2.5,
        as_needed=True,
        indication="pain > 5",
        max_per_period="6 doses / 24 h",
        timing=None,
    )
    pages = _layout(_patient(), [order], {})
    prn = next(p for p in pages if p.template == "prn")
    texts = _texts(prn)  # the title in runs: drug, the dose to give (largest), route
    assert texts[texts.index("morphine") : texts.index("morphine") + 3] == [
        "morphine",
        "2.5 mg",
        "PO",
    ]
    assert any("for: pain > 5" in t and "max 6 doses / 24 h" in t for t in _texts(prn))
    time_field, dose = prn.field("prn.p1.1.time"), prn.field("prn.p1.1.dose")
    assert (time_field.cells, time_field.role, dose.role, dose.order_id) == (
        4,
        "time",
        "dose",
        "p1",
    )
    assert prn.field("prn.p1.6.initials").kind == "signature"


def test_no_prn_page_without_prn_orders() -> None:
    templates = [p.template for p in _layout(_patient(), [_order("o1")], {})]
    assert templates == ["mar", "new_orders", "vitals", "notes"]


def test_new_order_sheet_has_groups_of_ticks() -> None:
    pages = _layout(_patient(), [], {})
    sheet = next(p for p in pages if p.template == "new_orders")
    assert sheet.field("new.1.drug").role == "drug"
    assert sheet.field("new.1.dose").kind == "digits"
    assert sheet.field("new.1.prescriber").kind == "signature"
    assert sheet.field("new.1.readback").kind == "checkbox"
    groups: dict[str, set] = {}
    for item in sheet.fields:
        if item.group and item.group.startswith("new.1."):
            groups.setdefault(item.role or "", set()).add(item.value)
    assert groups["unit"] == {"mg", "g", "mcg", "mL", "units", "mmol"}
    assert groups["route"] == {"PO", "IV", "SC", "IM", "inhaled", "topical", "PR"}
    assert len(groups["frequency"]) == 10 and "q12h" in groups["frequency"]
    assert any("no trailing zeros" in t for t in _texts(sheet))


def test_vitals_columns_every_four_hours_with_loinc_codes() -> None:
    pages = _layout(_patient(), [], {})
    chart = next(p for p in pages if p.template == "vitals")
    vitals = [f for f in chart.fields if f.role == "vital"]
    times = sorted({f.scheduled for f in vitals})
    assert [t.hour for t in times] == [16, 20, 0, 4, 8, 12]
    by_code = {f.code: f for f in vitals if f.scheduled == times[0] and f.kind == "digits"}
    assert set(by_code) == {"8867-4", "8480-6", "8462-4", "8310-5", "59408-5", "9279-1",
                            "3151-8", "72514-3", "14743-9", "news2"}  # fmt: skip
    assert (by_code["8310-5"].cells, by_code["8310-5"].decimals) == (3, 1)
    assert by_code["9279-1"].cells == 2
    assert chart.field("vitals.20261128T1600.hr").code == "8867-4"


def test_vitals_interval_comes_from_settings() -> None:
    patient = _patient()
    snapshot = _snapshot([patient], [])
    pages = layout_patient(
        patient,
        [],
        {},
        snapshot,
        period=PERIOD,
        paper="a4",
        lang="en",
        templates=TEMPLATES,
        settings=SimpleNamespace(vitals_every_hours=2),
    )
    vitals_pages = [p for p in pages if p.template == "vitals"]
    times = {f.scheduled for p in vitals_pages for f in p.fields if f.role == "vital"}
    assert len(times) == 12


def test_notes_page_has_lines_and_signature() -> None:
    notes = _layout(_patient(), [], {})[-1]
    assert notes.template == "notes"
    assert notes.field("notes.signature").kind == "signature"
    assert sum(1 for d in notes.drawings if type(d).__name__ == "Line") > 10


# --------------------------------------------------------------------------- banner, languages


def test_banner_prints_identity_and_mrn_at_its_box() -> None:
    page = _layout(_patient(), [], {})[0]
    frame = frame_for(page.size_mm)
    mrn = next(d for d in page.drawings if isinstance(d, Text) and d.text.startswith("MRN "))
    # Bold sans, not monospace: the monospace dotted zero is OCRed as 6.
    assert mrn.text == "MRN MRN00001" and not mrn.mono and mrn.bold and mrn.size == MRN_TEXT_SIZE_PT
    assert _inside(_text_box(mrn), frame.mrn_text_box)
    texts = _texts(page)
    assert "DUBOIS-ØDEGAARD, Hélène" in texts
    # the allergy box prints the label and each allergy as texts of their own (banner.py)
    assert "ALLERGIES:" in texts and "penicillin (anaphylaxis)" in texts
    assert any("born 2 March 1950" in t and "3B / 9 / A" in t for t in texts)
    assert "weight 72.5 kg (20 November 2026)" in texts
    assert any("period 28 November 2026 13:00 to 29 November 2026 13:00" in t for t in texts)


@pytest.mark.parametrize(
    ("allergies", "weight", "expected"),
    [
        (None, None, {"ALLERGIES: NOT RECORDED", "weight: not recorded"}),
        ((), Weight(80.0), {"No known allergies", "weight 80 kg (date not recorded)"}),
    ],
)
def test_banner_says_what_is_not_recorded(allergies, weight, expected) -> None:  # noqa: ANN001
    page = _layout(_patient(allergies=allergies, weight=weight), [], {})[0]
    assert expected <= set(_texts(page))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_renders_its_labels(lang: str) -> None:
    orders = [_order("o1", high_alert=True), _order("p1", as_needed=True)]
    pages = _layout(_patient(), orders, {"o1": _doses("o1", [3])}, lang=lang)
    texts = {t for p in pages for t in _texts(p)}
    table = TEMPLATES.translations[lang]
    for key in ("mar.title", "prn.title", "new_orders.title", "vitals.title", "notes.title"):
        assert table[key] in texts
    assert table["mar.high_alert"] in texts
    assert TEMPLATES.text(lang, "footer.page", i=1, n=len(pages)) in texts
    labels = {f.label for p in pages for f in p.fields if f.label}
    assert table["mar.initials"] in labels
    assert not any(t in table for t in texts)  # no raw key printed instead of its text


# --------------------------------------------------------------------------- page ids, snapshot


def _snapshot_pages(sid: str) -> dict[str, list[PageLayout]]:
    patients = [_patient(1), _patient(2, ward="ICU"), _patient(3)]
    orders = [_order("o1"), _order("o2", patient_id="pat-3", as_needed=True)]
    snapshot = _snapshot(patients, orders, sid)
    return layout_snapshot(
        snapshot,
        {"o1": _doses("o1", [2])},
        period=PERIOD,
        paper="a4",
        lang="en",
        templates=TEMPLATES,
        settings=None,
        blank_packs_per_ward=1,
    )


def test_page_ids_are_stable_unique_and_change_with_the_snapshot() -> None:
    first, again, other = _snapshot_pages("s1"), _snapshot_pages("s1"), _snapshot_pages("s2")
    ids = [p.page_id for pages in first.values() for p in pages]
    assert ids == [p.page_id for pages in again.values() for p in pages]
    assert len(set(ids)) == len(ids) and all(is_valid(i) for i in ids)
    assert not set(ids) & {p.page_id for pages in other.values() for p in pages}


def test_snapshot_print_order_census_patients_blanks() -> None:
    wards = _snapshot_pages("s1")
    assert list(wards) == ["3B", "ICU"]
    pages = wards["3B"]
    assert pages[0].template == "ward_census"
    owners = [p.patient_id for p in pages[1:] if p.patient_id]
    assert owners == sorted(owners, key=lambda o: -int(o[-1]))  # room 9 bed before room 7
    assert pages[-1].patient_id is None and pages[-1].template == "new_orders"
    census_text = " ".join(_texts(pages[0]))
    for page in pages[1:]:
        assert page.page_id in census_text
    assert "MRN00001" in census_text


def test_bad_options_are_usage_errors() -> None:
    from papermode.core.errors import UsageError

    with pytest.raises(UsageError):
        _layout(_patient(), [], {}, paper="a3")
    with pytest.raises(UsageError):
        _layout(_patient(), [], {}, lang="de")


def test_rendered_pdf_carries_mrn_labels_and_page_ids(tmp_path: Path) -> None:
    from papermode.printing.pdf import render_pdf

    pages = _layout(_patient(), [_order("o1")], {"o1": _doses("o1", [3])}, lang="nl")
    path = tmp_path / "patient.pdf"
    render_pdf(pages, path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "MRN MRN00001" in text
    assert "TOEDIENINGSREGISTRATIE MEDICATIE" in text
    assert pages[0].page_id in text
    assert "pagina 1 van" in text


# --------------------------------------------------------------------------- template extremes


@st.composite
def geometries(draw: st.DrawFn) -> TemplateSet:
    """The repo's templates with every geometry value drawn within its valid range."""
    changed = {}
    for form, template in TEMPLATES.templates.items():
        raw = {
            key: draw(st.floats(minimum, MAXIMUM[key]).map(lambda v: float(int(v * 10)) / 10))
            for key, minimum in GEOMETRY[form].items()
        }
        if form == "mar":  # room for the boxes of a dose cell, 2 mm apart
            boxes = max(3 * raw["tick_size"] + 2 * raw["gap"], 4 * raw["cell_w"])
            raw["dose_w"] = draw(st.floats(boxes + 2.0, MAXIMUM["dose_w"]))
        if form == "prn":  # one entry's boxes within the page width
            raw["dose_cells"] = min(raw["dose_cells"], 4)
            others = (4 + int(raw["dose_cells"])) * raw["cell_w"] + 2 * raw["gap"]
            raw["sign_w"] = min(raw["sign_w"], 190.0 - others)
        if form == "blank_admission":  # the temporary number within the banner
            raw["cell_w"], raw["cell_h"] = min(raw["cell_w"], 7.5), min(raw["cell_h"], 9.0)
            raw["temp_cells"] = min(int(raw["temp_cells"]), int(45 // raw["cell_w"]))
        problems: list[str] = []
        geometry = _geometry(raw, form, "test", problems)
        _check_room(geometry, form, "test", problems)
        assume(not problems)
        changed[form] = replace(template, geometry=geometry)
    return replace(TEMPLATES, templates=changed)


# derandomize: the same examples on every run (a random draw made CI fail now and then).
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(templates=geometries(), paper=st.sampled_from(["a4", "letter"]))
def test_any_valid_template_geometry_gives_sound_pages(templates: TemplateSet, paper: str) -> None:
    orders = [_order(f"o{n}", high_alert=n == 0, as_needed=n == 3) for n in range(5)]
    patient = _patient()
    doses = {o.order_id: _doses(o.order_id, list(range(0, 24, 2))) for o in orders}
    snapshot = _snapshot([patient], orders)
    options = {"period": PERIOD, "paper": paper, "lang": "nl", "templates": templates}
    try:
        pages = layout_patient(patient, orders, doses, snapshot, **options)  # type: ignore[arg-type]
        pages += layout_blank_packs("3B", 1, snapshot, **options)  # type: ignore[arg-type]
    except TemplateError as error:  # a geometry whose new-order block cannot fit a page
        assert "new-order block" in str(error) and "make tick_size" in str(error)
        assume(False)
    pages += layout_ward_census("3B", [patient], {"pat-1": pages}, snapshot, **options)  # type: ignore[arg-type]
    for page in pages:
        check_page(page)
    cells = _mar_cells(pages)
    assert sum(1 for (_, _, role) in cells if role == "given") == 4 * 12


def test_a_new_order_block_taller_than_the_page_is_refused_with_what_to_change() -> None:
    """Large boxes with long Dutch labels: one block of a blank pack's new-order page (under
    its identity strip) would run into the signature legend (found by the geometry
    property test: the prescriber's box over the legend)."""
    form = TEMPLATES.templates["new_orders"]
    big = {**form.geometry, "tick_size": 9.0, "cell_h": 15.0, "gap": 6.0, "dose_cells": 2.0}
    templates = replace(
        TEMPLATES, templates={**TEMPLATES.templates, "new_orders": replace(form, geometry=big)}
    )
    patient = _patient()
    snapshot = _snapshot([patient], [])
    with pytest.raises(TemplateError, match="new-order block is .* mm tall in 'nl'"):
        layout_blank_packs("3B", 1, snapshot, period=PERIOD, paper="a4", lang="nl",
                           templates=templates)  # fmt: skip
