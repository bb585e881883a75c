"""The allergies on paper: the banner's box (HIGH in bold), the ALLERGY flag beside the
right order on the MAR and the PRN record, and the conflicts in `prepare --check`.

Rendered PDFs are read back with pypdfium2 (text and its position on the page), so the
tests see what the nurse sees, not only the layout's intentions.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner

from papermode.census.snapshot import sample_census_path
from papermode.cli.main import main as cli
from papermode.core.model import Allergy, Line, Order, PageLayout, Patient, Shade, Snapshot, Text
from papermode.core.pageframe import frame_for
from papermode.printing.layout.kit import text_width
from papermode.printing.layout.snapshot import layout_patient, layout_ward_census
from papermode.printing.pdf import render_pdf
from papermode.printing.prepare import prepare_forms
from papermode.printing.templates import load_templates

START = datetime(2026, 11, 28, 7, 0)
PERIOD = (START, START + timedelta(hours=24))
TEMPLATES = load_templates()
PT_MM = 25.4 / 72.0


def _pdf_texts(pdf: Path, page_index: int) -> list[tuple[str, float, float]]:
    """Every text line of one PDF page as (text, x, y) in mm from the top-left corner."""
    document = pypdfium2.PdfDocument(str(pdf))
    page = document[page_index]
    height = page.get_height()
    textpage = page.get_textpage()
    found = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        text = textpage.get_text_bounded(left, bottom, right, top).strip()
        if text:
            found.append((text, left * PT_MM, (height - bottom) * PT_MM))
    document.close()
    return found


def _y_of(texts: list[tuple[str, float, float]], start: str) -> float:
    ys = [y for text, _, y in texts if text.startswith(start)]
    assert ys, (start, [t for t, _, _ in texts])
    return ys[0]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("allergy_forms")
    prepare_forms(
        sample_census_path(),
        folder / "forms",
        folder / "papermode.db",
        start=START,
        hours=24,
        lang="en",
        paper="a4",
        settings_path=None,
    )
    return folder / "forms"


def _manifest_page(printed: Path, order_id: str, template: str) -> dict:
    pages = json.loads((printed / "manifest.json").read_text())["pages"]
    return next(
        p
        for p in pages
        if p["template"] == template and any(f.get("order_id") == order_id for f in p["fields"])
    )


def test_the_flag_is_printed_beside_the_conflicting_order_only(printed: Path) -> None:
    """Sample ward: p-101 (penicillin allergy, high) has amoxicillin (ord-1002) between a
    paracetamol and an enoxaparin order. The flag sits inside amoxicillin's band: below its
    boxes, above the next order."""
    page = _manifest_page(printed, "ord-1002", "mar")
    texts = _pdf_texts(printed / page["pdf"], page["pdf_page"] - 1)
    flags = [t for t in texts if t[0].startswith("ALLERGY")]
    assert [t[0] for t in flags] == ["ALLERGY: Pénicilline (penicillins) HIGH"]
    flag_y = flags[0][2]
    amoxicillin = [f for f in page["fields"] if f.get("order_id") == "ord-1002"]
    band_bottom = max(f["box_mm"][1] + f["box_mm"][3] for f in amoxicillin)
    assert _y_of(texts, "Amoxicilline 1 g") < band_bottom < flag_y
    later = [f for f in page["fields"] if f.get("order_id") == "ord-1003"]
    assert later and flag_y < min(f["box_mm"][1] for f in later)
    assert flag_y < _y_of(texts, "Enoxaparine")
    paracetamol = [f for f in page["fields"] if f.get("order_id") == "ord-1001"]
    assert max(f["box_mm"][1] + f["box_mm"][3] for f in paracetamol) < _y_of(
        texts, "Amoxicilline 1 g"
    )


def test_the_banner_box_prints_the_allergy_with_high_and_its_reaction(printed: Path) -> None:
    page = _manifest_page(printed, "ord-1002", "mar")
    texts = _pdf_texts(printed / page["pdf"], page["pdf_page"] - 1)
    header = frame_for(tuple(page["size_mm"])).header
    banner = [(t, y) for t, _, y in texts if header.y < y < header.y + header.h]
    assert "Pénicilline HIGH (urticaire)" in [t for t, _ in banner], banner
    assert any(t.startswith("ALLERGIES") for t, _ in banner)


def _patient(allergies: tuple[Allergy, ...] | None) -> Patient:
    return Patient("pat-1", "MRN00001", "Janssens", "An", ward="3B", room="1", bed="A",
                   allergies=allergies)  # fmt: skip


def _pages(patient: Patient, orders: list[Order], doses: dict | None = None, **options: object):
    snapshot = Snapshot("snap", datetime(2026, 11, 28, 5), "test", (patient,), tuple(orders))
    kwargs: dict = {"period": PERIOD, "paper": "a4", "lang": "en", "templates": TEMPLATES}
    kwargs.update(options)
    return layout_patient(patient, orders, doses or {}, snapshot, **kwargs)


def _texts(page: PageLayout) -> list[Text]:
    return [d for d in page.drawings if isinstance(d, Text)]


def test_high_criticality_is_bold_listed_first_and_the_box_is_outlined_in_black() -> None:
    patient = _patient((Allergy("Latex"), Allergy("Pénicilline", "anaphylaxie", "high")))
    page = _pages(patient, [])[0]
    header = frame_for(page.size_mm).header
    inside = [t for t in _texts(page) if header.y + 19 < t.y < header.y + header.h]
    high = next(t for t in inside if t.text.startswith("Pénicilline"))
    latex = next(t for t in inside if t.text.startswith("Latex"))
    assert high.text == "Pénicilline HIGH (anaphylaxie);" and high.bold
    assert not latex.bold and latex.x > high.x
    outline = [d for d in page.drawings if isinstance(d, Line) and d.y1 > header.y + 18
               and d.y2 < header.y + header.h + 0.01]  # fmt: skip
    assert len(outline) == 4 and all(line.grey == 0.0 for line in outline)


def test_allergies_that_do_not_fit_say_how_many_more_and_the_census_prints_all() -> None:
    allergies = tuple(Allergy(f"Substance number {n}", "urticaria") for n in range(1, 13))
    patient = _patient(allergies)
    page = _pages(patient, [])[0]
    texts = [t.text for t in _texts(page)]
    more = [t for t in texts if "more: all allergies on the ward census" in t]
    assert len(more) == 1
    shown = [t for t in texts if t.startswith("Substance number")]
    hidden = int(more[0].split()[0].lstrip("+"))
    assert len(shown) + hidden == 12 and hidden > 0
    assert not any(t.endswith("…") for t in shown)  # an allergy is never shown cut
    snapshot = Snapshot("snap", datetime(2026, 11, 28, 5), "test", (patient,), ())
    census = layout_ward_census("3B", [patient], {"pat-1": [page]}, snapshot, period=PERIOD,
                                paper="a4", lang="en", templates=TEMPLATES)  # fmt: skip
    printed = " ".join(t.text for p in census for t in _texts(p))
    assert all(f"Substance number {n} (urticaria)" in printed for n in range(1, 13))


def _flag_and_boxes(page: PageLayout) -> tuple[list[Text], list[Line]]:
    words = ("ALLERGY:", "ALLERGY?", "ALLERGIE :", "ALLERGIE ?", "ALLERGIE:", "ALLERGIE?")
    flags = [t for t in _texts(page) if t.text.startswith(words)]
    bold_lines = [d for d in page.drawings if isinstance(d, Line) and d.width >= 0.5]
    return flags, bold_lines


def test_prn_order_gets_the_flag_between_its_facts_and_its_entries() -> None:
    patient = _patient((Allergy("Ibuprofène", None, "high"),))
    orders = [
        Order("prn-1", "pat-1", "Paracetamol 1 g", 1, "g", as_needed=True, indication="pain"),
        Order("prn-2", "pat-1", "Ketorolac 10 mg", 10, "mg", as_needed=True, indication="pain"),
    ]
    # each PRN order's entries fill most of a page: the flagged one is on its own page
    (prn,) = [p for p in _pages(patient, orders) if p.template == "prn"
              and any(f.order_id == "prn-2" for f in p.fields)]  # fmt: skip
    flags, lines = _flag_and_boxes(prn)
    assert [f.text for f in flags] == ["ALLERGY: Ibuprofène (NSAIDs) HIGH"]
    assert flags[0].bold and len(lines) == 4 and all(line.grey == 0.0 for line in lines)
    facts = next(t for t in _texts(prn) if t.text.startswith("Ketorolac"))
    entries = [f for f in prn.fields if f.order_id == "prn-2"]
    assert facts.y < flags[0].y < min(f.box.y for f in entries)
    # black on white: no grey fill under the flag
    top, bottom = min(line.y1 for line in lines), max(line.y1 for line in lines)
    assert not [d for d in prn.drawings if isinstance(d, Shade) and d.box.y < bottom
                and d.box.y + d.box.h > top]  # fmt: skip


def test_cross_reactivity_is_worded_as_possible_and_localised() -> None:
    patient = _patient((Allergy("penicillin"),))
    orders = [Order("o1", "pat-1", "Cefazolin 2 g", 2, "g", timing=None)]
    for lang, expected in [
        ("en", "ALLERGY? penicillin: possible cross-reactivity (cephalosporins)"),
        ("fr", "ALLERGIE ? penicillin : réaction croisée possible (céphalosporines)"),
        ("nl", "ALLERGIE? penicillin: mogelijke kruisreactie (cefalosporines)"),
    ]:
        mar = next(p for p in _pages(patient, orders, lang=lang) if p.template == "mar")
        flags, _ = _flag_and_boxes(mar)
        assert [f.text for f in flags] == [expected]


def test_no_flag_without_a_conflict() -> None:
    patient = _patient((Allergy("penicillin", None, "high"),))
    orders = [Order("o1", "pat-1", "Paracetamol 1 g", 1, "g")]
    assert not any(_flag_and_boxes(p)[0] for p in _pages(patient, orders))


def test_a_long_flag_wraps_and_is_never_cut() -> None:
    allergies = tuple(Allergy(f"amoxicillin variant spelling {n}") for n in range(4)) + (
        Allergy("penicillin"),
    )
    orders = [Order("o1", "pat-1", "Amoxicillin 1 g", 1, "g")]
    mar = next(p for p in _pages(_patient(allergies), orders) if p.template == "mar")
    flags, _ = _flag_and_boxes(mar)
    assert flags and not any(f.text.endswith("…") for f in _texts(mar) if f in flags)
    assert all(text_width(f.text, f.size, bold=True) <= 196.0 for f in flags)


def test_prepare_check_lists_the_conflict_under_its_order() -> None:
    result = CliRunner().invoke(
        cli, ["prepare", "--check", str(sample_census_path()), "--start", "2026-11-28T07:00"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  ord-1002:"))
    following = lines[index + 1 : index + 4]
    assert "      ALLERGY: Pénicilline (penicillins): flagged beside the order" in following
    assert any(
        line.startswith("Warning: order ord-1002: Amoxicilline 1 g matches the allergy")
        for line in lines
    )


def test_render_pdf_of_a_flagged_page(tmp_path: Path) -> None:
    """The flag survives the PDF renderer: its text is on the page, inside its outline."""
    patient = _patient((Allergy("Morphine", "respiratory depression", "high"),))
    orders = [Order("o1", "pat-1", "Oxycodone 5 mg", 5, "mg", as_needed=True, indication="pain")]
    prn = next(p for p in _pages(patient, orders) if p.template == "prn")
    render_pdf([prn], tmp_path / "prn.pdf")
    texts = _pdf_texts(tmp_path / "prn.pdf", 0)
    y = _y_of(texts, "ALLERGY: Morphine (opioids) HIGH")
    _, lines = _flag_and_boxes(prn)
    assert min(line.y1 for line in lines) < y < max(line.y1 for line in lines)


def test_prepare_check_json_gives_the_conflicts_of_each_order() -> None:
    result = CliRunner().invoke(
        cli,
        ["prepare", "--check", str(sample_census_path()), "--start", "2026-11-28T07:00", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    conflicts = {
        order["order_id"]: order["allergy_conflicts"]
        for patient in data["patients"]
        for order in patient["orders"]
        if order["allergy_conflicts"]
    }
    assert conflicts == {"ord-1002": ["Pénicilline (penicillins)"]}
