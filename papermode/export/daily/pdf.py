"""The daily report as PDF (reportlab): the hospital page (no patient names: it leaves the
wards) with its charts, and one PDF per ward that names its patients (it stays on the ward).
Figures are written as numbers beside every bar, so it reads the same in black and white."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from papermode.export.daily.figures import BACKLOG_GROUPS, DailyReport, PatientLine, WardFigures
from papermode.printing.pdf import fonts

_SANS, _BOLD = fonts()["sans"], fonts()["sans-bold"]
_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontName=_SANS, fontSize=9)
_TITLE = ParagraphStyle("title", parent=_STYLES["Title"], fontName=_BOLD, fontSize=15)
_HEAD = ParagraphStyle("head", parent=_STYLES["Heading2"], fontName=_BOLD, fontSize=11)
_GROUP_LABELS = {
    "identity": "identity",
    "new_orders": "new orders",
    "high_alert": "high-alert",
    "other": "other values",
}
_ROWS: tuple[tuple[str, str], ...] = (
    ("patients_on_paper", "patients on paper"),
    ("admissions_on_blank_packs", "admissions on blank packs (pages photographed)"),
    ("pages_printed", "pages printed (newest print run)"),
    ("pages_photographed", "pages photographed"),
    ("pages_never_photographed", "pages never photographed"),
    ("retakes_waiting", "photos to retake, not retaken"),
    ("files_quarantined", "files quarantined"),
    ("backlog_total", "review backlog (items)"),
    ("doses_due", "doses due so far on the day"),
    ("doses_not_documented", "doses not documented"),
    ("doses_pending_review", "doses still in review"),
    ("high_alert_without_second_check", "high-alert doses without a second check"),
    ("new_orders_awaiting", "new orders awaiting confirmation"),
    ("oldest_waiting_hours", "oldest item waiting for a person (hours)"),
)


def hospital_pdf(report: DailyReport) -> bytes:
    """The hospital summary: every figure per ward, and two charts. No patient names."""
    story: list[object] = [
        Paragraph("papermode daily report: hospital summary", _TITLE),
        Paragraph(_heading(report), _BODY),
        Spacer(1, 4 * mm),
        _figures_table([report.hospital, *report.wards]),
        Spacer(1, 6 * mm),
        Paragraph("Review backlog by priority, per ward", _HEAD),
        _backlog_chart(report.wards),
        Paragraph("Pages of the newest print run, per ward", _HEAD),
        _pages_chart(report.wards),
        Spacer(1, 3 * mm),
        Paragraph(_notes(), _BODY),
    ]
    return _build(story, "papermode daily report: hospital")


def ward_pdf(report: DailyReport, figures: WardFigures) -> bytes:
    """One ward's page: its figures and its patients by bed (names: it stays on the ward)."""
    story: list[object] = [
        Paragraph(f"papermode daily report: ward {escape(figures.ward)}", _TITLE),
        Paragraph(_heading(report) + " This page names patients: keep it on the ward.", _BODY),
        Spacer(1, 4 * mm),
        _figures_table([figures]),
        Spacer(1, 5 * mm),
        Paragraph("Patients", _HEAD),
        _patients_table(report.patients.get(figures.ward, ())),
    ]
    return _build(story, f"papermode daily report: ward {figures.ward}")


def _heading(report: DailyReport) -> str:
    return escape(
        f"Day {report.day.isoformat()}; figures as of {report.as_of:%Y-%m-%d %H:%M}. "
        f"Audit chain head: {report.chain_head}."
    )


def _notes() -> str:
    return escape(
        "Backlog figures are as of the moment the report was made. Doses: those due on the "
        "day before that moment. 'Not documented' means no mark at all on the paper (never "
        "'not given'). 'Still in review' doses are neither counted as given nor as missing."
    )


def _figures_table(columns: Sequence[WardFigures]) -> Table:
    head = ["", *[c.ward for c in columns]]
    rows = [head] + [[label, *[_value(c, name) for c in columns]] for name, label in _ROWS]
    rows += [
        [f"  backlog: {_GROUP_LABELS[g]}", *[str(c.backlog.get(g, 0)) for c in columns]]
        for g in BACKLOG_GROUPS
    ]
    width = min(25 * mm, (186 * mm - 70 * mm) / max(len(columns), 1))
    # wrapped, not clipped: a long ward name or label must not run into the next column
    cell = ParagraphStyle("figure", parent=_BODY, fontSize=8, leading=9.5)
    bold = ParagraphStyle("figure-head", parent=cell, fontName=_BOLD)
    wrapped = [[Paragraph(_indented(text), bold if index == 0 else cell) for text in row]
               for index, row in enumerate(rows)]  # fmt: skip
    table = Table(wrapped, colWidths=[70 * mm] + [width] * len(columns), repeatRows=1)
    table.setStyle(_grid())
    return table


def _indented(text: str) -> str:
    """Escaped for a Paragraph, its leading spaces kept (a Paragraph drops them)."""
    stripped = text.lstrip(" ")
    return "\u00a0" * (len(text) - len(stripped)) + escape(stripped)


def _value(figures: WardFigures, name: str) -> str:
    value = getattr(figures, name)
    return "-" if value is None else str(value)


def _patients_table(lines: Sequence[PatientLine]) -> Table:
    head = ["Bed", "Patient", "MRN", "Pages never photographed", "Doses not documented",
            "High-alert without second check", "Waiting for review"]  # fmt: skip
    rows = [head] + [
        [
            line.bed,
            line.name,
            line.mrn,
            str(line.pages_never_photographed),
            str(line.doses_not_documented),
            str(line.high_alert_without_second_check),
            str(line.review_items),
        ]  # fmt: skip
        for line in lines
    ]
    style = ParagraphStyle("cell", parent=_BODY, fontSize=7.5, leading=9)
    wrapped = [[Paragraph(escape(str(cell)), style) for cell in row] for row in rows]
    widths = [16 * mm, 44 * mm, 24 * mm, 25 * mm, 25 * mm, 27 * mm, 25 * mm]
    table = Table(wrapped, colWidths=widths, repeatRows=1)
    table.setStyle(_grid())
    return table


def _grid() -> TableStyle:
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), _SANS, 8),
            ("FONT", (0, 0), (-1, 0), _BOLD, 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
            ("LINEBELOW", (0, 0), (-1, 0), 1.0, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )


def _backlog_chart(wards: Sequence[WardFigures]) -> Drawing:
    series = [[w.backlog.get(g, 0) for w in wards] for g in BACKLOG_GROUPS]
    return _bars([w.ward for w in wards], series, [_GROUP_LABELS[g] for g in BACKLOG_GROUPS])


def _pages_chart(wards: Sequence[WardFigures]) -> Drawing:
    series = [[w.pages_photographed for w in wards], [w.pages_never_photographed for w in wards]]
    return _bars([w.ward for w in wards], series, ["photographed", "never photographed"])


def _bars(names: Sequence[str], series: Sequence[Sequence[int]], labels: Sequence[str]) -> Drawing:
    """Horizontal grouped bars, greys from black to light, each bar labelled with its value."""
    height = max(40.0, 14.0 * len(names) * len(series) / 2 + 30)
    drawing = Drawing(180 * mm, height + 16)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 32 * mm, 14, 120 * mm, height
    chart.data = [list(values) for values in series] or [[0]]
    chart.categoryAxis.categoryNames = list(names) or [""]
    chart.categoryAxis.labels.fontName = _SANS
    chart.valueAxis.labels.fontName = _SANS
    chart.valueAxis.valueMin = 0
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = _SANS
    chart.barLabels.fontSize = 6.5
    chart.barLabels.nudge = 6
    for index in range(len(series)):
        grey = 0.15 + 0.65 * index / max(len(series) - 1, 1)
        chart.bars[index].fillColor = colors.Color(grey, grey, grey)
        chart.bars[index].strokeColor = colors.black
    drawing.add(chart)
    for index, label in enumerate(labels):  # a legend: the bar's grey, then its words
        grey = 0.15 + 0.65 * index / max(len(labels) - 1, 1)
        y = height + 6 - 9 * index
        swatch = Rect(155 * mm, y - 1, 6, 6, fillColor=colors.Color(grey, grey, grey))
        swatch.strokeColor = colors.black
        drawing.add(swatch)
        drawing.add(String(155 * mm + 9, y, label, fontName=_SANS, fontSize=6.5))
    return drawing


def _build(story: list[object], title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
        invariant=1,
    )
    document.build(story)
    return buffer.getvalue()
