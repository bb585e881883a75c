"""Identity decisions of capture: two signals that disagree never auto-assign a page."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from papermode.core.model import PageLayout
from papermode.reading import fields as fieldreading
from papermode.reading import locate
from papermode.reading import page as capture


def _layout(mrn: str | None) -> PageLayout:
    return PageLayout(
        page_id="K3QX-9M2A-7C",
        template="mar",
        template_version="1",
        paper="a4",
        size_mm=(210.0, 297.0),
        snapshot_id="s",
        patient_id="p1" if mrn else None,
        mrn=mrn,
        ward="3B",
        page_number=1,
        page_count=1,
        fields=(),
        period_start=datetime(2026, 11, 28, 7),
        period_end=datetime(2026, 11, 29, 7),
    )


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("30018842", "match"),
        ("30023114", "mismatch"),  # exactly another patient's MRN: the QR belongs elsewhere
        ("30018B42", "unread"),  # a misread proves nothing
        (None, "unread"),
    ],
)
def test_banner_mrn_check(monkeypatch: pytest.MonkeyPatch, read: str | None, expected: str) -> None:
    monkeypatch.setattr(locate, "read_banner_mrn", lambda *args: read)
    context = capture.PageContext(
        _layout("30018842"), known_mrns=frozenset({"30018842", "30023114"})
    )
    location = type("Location", (), {"size_mm": (210.0, 297.0)})()
    result = capture._check_mrn(np.zeros((10, 10), np.uint8), location, context)  # type: ignore[arg-type]
    assert result == expected


def test_blank_pack_has_no_mrn_to_check() -> None:
    context = capture.PageContext(_layout(None))
    location = type("Location", (), {"size_mm": (210.0, 297.0)})()
    result = capture._check_mrn(np.zeros((10, 10), np.uint8), location, context)  # type: ignore[arg-type]
    assert result == "not_applicable"


def test_ruled_lines_of_a_writing_area_are_not_ink() -> None:
    from papermode.core.model import Box

    page = np.full((400, 400), 250, np.uint8)
    for y in range(60, 380, 40):
        page[y : y + 2, 20:380] = 170  # printed ruling
    box = Box(2.0, 2.0, 46.0, 46.0)
    cleaned = fieldreading.without_ruled_lines(page, box)
    assert cleaned[61, 200] > 240
    page[200:215, 100:110] = 30  # a handwritten stroke survives
    assert fieldreading.without_ruled_lines(page, box)[205, 105] < 60


def test_invisible_printed_borders_mean_glare() -> None:
    from papermode.core.model import Box, Field
    from papermode.reading.washout import check_borders

    page = np.full((800, 800), 245, np.uint8)
    fields = []
    for n in range(8):
        x, y = 10 + n * 10, 20
        fields.append(Field(f"f{n}", "checkbox", Box(x, y, 6, 6)))
        x0, y0, x1, y1 = (int(v * 8) for v in (x, y, x + 6, y + 6))
        page[y0 : y0 + 2, x0:x1] = page[y1 : y1 + 2, x0:x1] = 170
        page[y0:y1, x0 : x0 + 2] = page[y0:y1, x1 : x1 + 2] = 170
    assert check_borders(page, fields, 8.0).washed_out == ()
    page[:, 400:] = 255  # glare clips the right half to white
    result = check_borders(page, fields, 8.0)
    assert set(result.washed_out) == {"f4", "f5", "f6", "f7"} and result.retake
