# ----------------------------------------------------------------------------------------
# PDF renderer / manifest / prepare (tests/test_pdf.py, test_manifest.py, test_prepare_cli.py):
# hand-made page layouts built from model.py dataclasses, independent of forms/ and layout.py.

from datetime import datetime as _h2b_datetime

import pytest as _h2b_pytest

from papermode.core.model import PAPER_SIZES_MM as _H2B_PAPER_SIZES
from papermode.core.model import Box as _H2BBox
from papermode.core.model import Field as _H2BField
from papermode.core.model import Line as _H2BLine
from papermode.core.model import PageLayout as _H2BPageLayout
from papermode.core.model import Shade as _H2BShade
from papermode.core.model import Text as _H2BText
from papermode.core.pageframe import frame_for as _h2b_frame_for
from papermode.core.pageid import new_page_id as _h2b_new_page_id


def handmade_page(
    seed: str = "p1",
    *,
    paper: str = "a4",
    lang: str = "en",
    name: str = "DUPONT, Hélène",
    mrn: str = "MRN00417",
    page_number: int = 1,
    page_count: int = 2,
) -> _H2BPageLayout:
    """A MAR-like page: every field kind, comb digits with decimals and a time colon."""
    size = _H2B_PAPER_SIZES[paper]
    frame = _h2b_frame_for(size)
    top = frame.content.y + 5
    when = _h2b_datetime(2026, 11, 28, 14, 0)
    fields = (
        _H2BField(
            "o1-1400-given",
            "checkbox",
            _H2BBox(60, top, 5, 5),
            "given",
            order_id="o1",
            scheduled=when,
        ),
        _H2BField(
            "o1-1400-held",
            "checkbox",
            _H2BBox(68, top, 5, 5),
            "held",
            order_id="o1",
            scheduled=when,
        ),
        _H2BField(
            "o1-1400-time",
            "digits",
            _H2BBox(80, top, 20, 7),
            "time",
            cells=4,
            order_id="o1",
            scheduled=when,
        ),
        _H2BField(
            "o1-1400-dose",
            "digits",
            _H2BBox(105, top, 20.25, 7),
            "dose",
            cells=4,
            decimals=1,
            order_id="o1",
            scheduled=when,
        ),
        _H2BField(
            "o1-1400-initials",
            "text",
            _H2BBox(130, top, 18, 7),
            "initials",
            order_id="o1",
            scheduled=when,
            label="initials",
        ),
        _H2BField("pulse", "digits", _H2BBox(60, top + 20, 15, 7), "vital", cells=3, code="8867-4"),
        _H2BField(
            "route-po", "checkbox", _H2BBox(60, top + 35, 5, 5), "route", group="route", value="PO"
        ),
        _H2BField(
            "sign", "signature", _H2BBox(60, top + 50, 80, 14), "prescriber", label="Signature"
        ),
    )
    drawings = (
        _H2BShade(_H2BBox(frame.content.x, top - 2, 40, 9), grey=0.9),
        _H2BText(frame.header.x, frame.header.y + 6, name, size=12, bold=True),
        _H2BText(
            frame.mrn_text_box.x,
            frame.mrn_text_box.y + 5,
            f"MRN {mrn}",
            size=11,
            bold=True,
            mono=True,
        ),
        _H2BText(frame.content.x + 1, top + 5, "Paracétamol 1 g PO q6h", size=8),
        _H2BText(frame.content.x + 1, top + 12, "14:00", size=8, mono=True),
        _H2BLine(frame.content.x, top + 15, frame.content.x + frame.content.w, top + 15),
        _H2BText(
            frame.footer.x + frame.footer.w / 2,
            frame.footer.y + 6,
            f"page {page_number} of {page_count}",
            size=8,
            align="centre",
        ),
        _H2BText(
            frame.footer.x + frame.footer.w,
            frame.footer.y + 6,
            "orders as of 2026-11-28 12:00",
            size=7,
            align="right",
        ),
    )
    return _H2BPageLayout(
        page_id=_h2b_new_page_id(f"test-{seed}-{paper}-{page_number}"),
        template="mar",
        template_version="1",
        paper=paper,
        size_mm=size,
        snapshot_id="snap-1",
        patient_id="pat-1",
        mrn=mrn,
        ward="4 West",
        page_number=page_number,
        page_count=page_count,
        fields=fields,
        drawings=drawings,
        period_start=_h2b_datetime(2026, 11, 28, 12, 0),
        period_end=_h2b_datetime(2026, 11, 29, 12, 0),
        lang=lang,
    )


@_h2b_pytest.fixture
def handmade_pages() -> list[_H2BPageLayout]:
    """Two hand-made pages of one patient (A4) for the PDF and manifest tests."""
    return [handmade_page(page_number=1), handmade_page(page_number=2)]


@_h2b_pytest.fixture
def make_handmade_page():  # type: ignore[no-untyped-def]
    """The `handmade_page` builder, for tests that need other papers, names or seeds."""
    return handmade_page
