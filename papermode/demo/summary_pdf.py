"""A one-page PDF summary of a store: what papermode read, in charts a newcomer reads in a minute.

Charts are drawn with reportlab's own graphics (no matplotlib): readings per status, readings
per ward, captures per outcome, and the key figures beside them; the overlay picture of one
read page when there is one. No patient names or MRNs: wards, counts and page ids only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdf_canvas

STATUS_COLOURS = {
    "auto": colors.HexColor("#1b9650"),
    "review": colors.HexColor("#f08c00"),
    "conflict": colors.HexColor("#d21e1e"),
    "empty": colors.HexColor("#969696"),
}
OUTCOME_COLOURS = {
    "read": colors.HexColor("#1b9650"),
    "retake": colors.HexColor("#f08c00"),
    "free": colors.HexColor("#3c78d8"),
    "duplicate": colors.HexColor("#969696"),
    "quarantined": colors.HexColor("#d21e1e"),
}


@dataclass(frozen=True)
class SummaryFigures:
    """Everything the one-page summary shows. Counts only: no patient data."""

    title: str
    subtitle: str = ""
    readings_by_status: Mapping[str, int] = field(default_factory=dict)
    readings_by_ward: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    captures_by_outcome: Mapping[str, int] = field(default_factory=dict)
    figures: Sequence[tuple[str, str]] = ()
    overlay_png: Path | None = None
    overlay_caption: str = ""


def write_summary_pdf(figures: SummaryFigures, out_path: Path) -> Path:
    """Write the one-page A4 summary PDF; returns its path."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    page = pdf_canvas.Canvas(str(out_path), pagesize=A4, invariant=1)
    page.setTitle(figures.title)
    width, height = A4
    page.setFont("Helvetica-Bold", 16)
    page.drawString(15 * mm, height - 18 * mm, figures.title)
    page.setFont("Helvetica", 9)
    page.drawString(15 * mm, height - 24 * mm, figures.subtitle)
    top = height - 30 * mm
    _draw(
        page,
        bar_chart("Field readings by status", figures.readings_by_status, STATUS_COLOURS),
        12 * mm,
        top - 62 * mm,
    )
    _draw(
        page,
        bar_chart("Captured page images by outcome", figures.captures_by_outcome, OUTCOME_COLOURS),
        108 * mm,
        top - 62 * mm,
    )
    _draw(page, ward_chart(figures.readings_by_ward), 12 * mm, top - 122 * mm)
    _figures_table(page, figures.figures, 108 * mm, top - 66 * mm)
    if figures.overlay_png and figures.overlay_png.exists():
        _overlay(page, figures.overlay_png, figures.overlay_caption, top - 134 * mm)
    page.showPage()
    page.save()
    return out_path


def _draw(page: pdf_canvas.Canvas, drawing: Drawing, x: float, y: float) -> None:
    renderPDF.draw(drawing, page, x, y)


def bar_chart(title: str, counts: Mapping[str, int], palette: Mapping[str, object]) -> Drawing:
    """A vertical bar chart of counts, one coloured bar per category, value on top."""
    drawing = Drawing(90 * mm, 60 * mm)
    drawing.add(String(4, 60 * mm - 10, title, fontName="Helvetica-Bold", fontSize=9))
    names = list(counts) or ["none"]
    values = [int(counts.get(name, 0)) for name in names]
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 28, 22, 90 * mm - 40, 60 * mm - 44
    chart.data = [values]
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.barLabelFormat = "%d"
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 6
    for index, name in enumerate(names):
        chart.bars[(0, index)].fillColor = palette.get(name, colors.grey)
    drawing.add(chart)
    return drawing


def ward_chart(by_ward: Mapping[str, Mapping[str, int]]) -> Drawing:
    """Horizontal stacked bars: field readings per ward, split by status."""
    drawing = Drawing(90 * mm, 58 * mm)
    drawing.add(
        String(4, 58 * mm - 10, "Field readings by ward", fontName="Helvetica-Bold", fontSize=9)
    )
    wards = list(by_ward) or ["none"]
    statuses = [s for s in STATUS_COLOURS if any(by_ward.get(w, {}).get(s) for w in wards)]
    statuses = statuses or ["auto"]
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 70, 24, 90 * mm - 82, 58 * mm - 44
    chart.data = [[int(by_ward.get(w, {}).get(s, 0)) for w in wards] for s in statuses]
    chart.categoryAxis.categoryNames = [w[:18] for w in wards]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.style = "stacked"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    for index, status in enumerate(statuses):
        chart.bars[index].fillColor = STATUS_COLOURS[status]
    drawing.add(chart)
    for index, status in enumerate(statuses):
        x = 70 + index * 48
        drawing.add(String(x, 6, f"■ {status}", fontSize=7, fillColor=STATUS_COLOURS[status]))
    return drawing


def _figures_table(
    page: pdf_canvas.Canvas, rows: Sequence[tuple[str, str]], x: float, top: float
) -> None:
    page.setFont("Helvetica-Bold", 9)
    page.drawString(x, top, "Figures")
    for index, (label, value) in enumerate(rows[:14]):
        y = top - 5 * mm - index * 4.4 * mm
        page.setFont("Helvetica", 8)
        page.drawString(x, y, label[:48])
        page.setFont("Helvetica-Bold", 8)
        page.drawRightString(x + 88 * mm, y, value[:24])


def _overlay(page: pdf_canvas.Canvas, png: Path, caption: str, top: float) -> None:
    """The overlay picture, scaled into the lower part of the page, with its caption."""
    from reportlab.lib.utils import ImageReader

    picture = ImageReader(str(png))
    width, height = picture.getSize()
    box_w, box_h = 180 * mm, top - 18 * mm
    scale = min(box_w / width, box_h / height)
    x = (A4[0] - width * scale) / 2
    page.drawImage(picture, x, top - height * scale, width * scale, height * scale)
    page.setFont("Helvetica", 8)
    page.drawCentredString(A4[0] / 2, top - height * scale - 5 * mm, caption)
