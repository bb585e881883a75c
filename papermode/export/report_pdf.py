"""The reconciliation report (PDF): per ward, then per patient, the grid of every item with
its category, the crops of every value a person corrected, and a signature block for the
nurse in charge and the pharmacist. Categories are words, never colours only: it reads the
same printed in black and white."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from papermode.printing.pdf import fonts
from papermode.reconcile.inputs import ReconcileInput
from papermode.reconcile.items import Item, Reconciliation

CropReader = Callable[[str, str], bytes | None]
_SANS, _BOLD = fonts()["sans"], fonts()["sans-bold"]  # DejaVu: every Latin letter (ễ, Ł)
_STYLES = getSampleStyleSheet()
for _name in ("BodyText", "Title", "Heading1", "Heading2", "Heading4"):
    _STYLES[_name].fontName = _BOLD if _name != "BodyText" else _SANS
_SMALL = ParagraphStyle("small", parent=_STYLES["BodyText"], fontSize=7.5, leading=9)
_HEAD = ["What", "Scheduled", "When", "Category", "Concerns / notes", "Record"]
_WIDTHS = [46 * mm, 20 * mm, 22 * mm, 24 * mm, 50 * mm, 24 * mm]


def write_report(
    result: Reconciliation,
    source: ReconcileInput,
    *,
    exported_at: datetime,
    chain_head: str,
    crops: CropReader | None = None,
) -> bytes:
    """The PDF report as bytes (the caller writes it atomically)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title="papermode reconciliation report",
        invariant=1,
    )
    story = _front(result, exported_at, chain_head)
    by_ward: dict[str, dict[str, list[Item]]] = defaultdict(lambda: defaultdict(list))
    for item in result.items:
        by_ward[item.ward or "no ward"][item.patient_id].append(item)
    for ward, patients in sorted(by_ward.items()):
        story.append(PageBreak())
        story.append(Paragraph(f"Ward {escape(ward)}", _STYLES["Heading1"]))
        story += _ward_counts(patients)
        story += _signatures(f"ward {ward}")
        for patient_id, items in patients.items():
            story += _patient(source, patient_id, items, crops)
    document.build(story)
    return buffer.getvalue()


def _front(result: Reconciliation, exported_at: datetime, chain_head: str) -> list[object]:
    counts = {k: v for k, v in result.counts().items() if v}
    lines = [
        f"Exported {exported_at:%Y-%m-%d %H:%M}; {len(result.items)} items; "
        f"{len(result.pending())} still in review (reported, not exported).",
        "Contains: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()),
        f"Filters: {', '.join(f'{k}={v}' for k, v in result.filters.items()) or 'whole store'}; "
        f"restored record matched: {'yes' if result.restored else 'no'}.",
        f"Audit head: {chain_head}",
    ]
    story: list[object] = [Paragraph("papermode reconciliation report", _STYLES["Title"])]
    story += [Paragraph(escape(line), _STYLES["BodyText"]) for line in lines]
    if result.restored:
        record = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.record_counts().items())
        story.append(Paragraph(escape(f"Against the record: {record}"), _STYLES["BodyText"]))
    return story


def _ward_counts(patients: dict[str, list[Item]]) -> list[object]:
    totals: dict[str, int] = defaultdict(int)
    for items in patients.values():
        for item in items:
            for category in item.categories:
                totals[category.label] += 1
    text = "; ".join(f"{name}: {count}" for name, count in sorted(totals.items()))
    return [Paragraph(escape(f"{len(patients)} patients. {text}"), _SMALL), Spacer(1, 3 * mm)]


def _patient(
    source: ReconcileInput, patient_id: str, items: list[Item], crops: CropReader | None
) -> list[object]:
    patient = source.patients.get(patient_id)
    title = (
        f"{patient.display_name} - MRN {patient.mrn} - {patient.location}"
        if patient
        else patient_id
    )
    rows: list[list[object]] = [list(_HEAD)]
    rows += [_row(item) for item in items]
    table = Table(rows, colWidths=_WIDTHS, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), _BOLD, 7.5),
                ("FONT", (0, 1), (-1, -1), _SANS, 7.5),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story: list[object] = [Spacer(1, 4 * mm), Paragraph(escape(title), _STYLES["Heading2"]), table]
    story += _corrections(items, crops)
    story += _signatures("this patient")
    return story


def _row(item: Item) -> list[object]:
    when = ""
    if item.occurred_at is not None:
        when = f"{item.occurred_at:%d/%m %H:%M}<br/>{item.time_source or ''} time"
    what = item.medication or _vital_text(item)
    if item.kind == "infusion":
        what = f"{item.medication or ''}: {item.infusion_text}"
    notes = [c.label for c in item.concerns] + list(item.notes)
    if item.record_note:
        notes.append(item.record_note)
    category = item.category.label.upper() if item.concerns else item.category.label
    return [
        Paragraph(escape(what), _SMALL),
        f"{item.scheduled_at:%d/%m %H:%M}" if item.scheduled_at else "",
        Paragraph(when, _SMALL),
        Paragraph(escape(category), _SMALL),
        Paragraph(escape("; ".join(notes)), _SMALL),
        Paragraph(escape(item.record.value.replace("_", " ") if item.record else ""), _SMALL),
    ]


_VITAL_NAMES = {
    "85354-9": "blood pressure",
    "8867-4": "heart rate",
    "8310-5": "temperature",
    "59408-5": "SpO2",
    "9279-1": "respiratory rate",
    "72514-3": "pain score",
    "14743-9": "capillary glucose",
    "3151-8": "O2 flow",
    "67775-7": "consciousness (ACVPU)",
    "news2": "NEWS2 total",
    "o2_device": "air or O2 device",
}
_UNITS = {"Cel": "°C", "/min": "/min", "%": "%", "mm[Hg]": "mmHg", "{score}": ""}


def _vital_text(item: Item) -> str:
    name = _VITAL_NAMES.get(item.code or "", item.code or item.kind)
    if item.components:
        return f"{name} " + "/".join(f"{v:g}" for _, v in item.components) + " mmHg"
    if item.quantity is not None:
        return f"{name} {item.quantity:g} {_UNITS.get(item.unit or '', item.unit or '')}".strip()
    if item.value_text is not None:
        return f"{name}: {item.value_text}"
    return name


def _corrections(items: list[Item], crops: CropReader | None) -> list[object]:
    """The crop of every value a person corrected, beside what they decided."""
    corrected = [e for i in items for e in i.evidence if e.status == "corrected"]
    if not corrected or crops is None:
        return []
    story: list[object] = [Paragraph("Values corrected by a reviewer", _STYLES["Heading4"])]
    for evidence in corrected:
        data = crops(evidence.page_id, evidence.field_id)
        caption = (
            f"{evidence.field_id} on page {evidence.page_id}: corrected to "
            f"{evidence.value!r} by {', '.join(evidence.decided_by) or 'a reviewer'}"
        )
        parts: list[object] = [Paragraph(escape(caption), _SMALL)]
        if data:
            parts.append(
                Image(io.BytesIO(data), width=40 * mm, height=12 * mm, kind="proportional")
            )
        story.append(KeepTogether(parts))
    return story


def _signatures(scope: str) -> list[object]:
    rows: list[list[object]] = [
        [Paragraph(escape(f"Checked for {scope}"), _SMALL), "Name", "Signature", "Date / time"],
        ["Nurse in charge", "", "", ""],
        ["Pharmacist", "", "", ""],
    ]
    table = Table(
        rows, colWidths=[40 * mm, 50 * mm, 50 * mm, 42 * mm], rowHeights=[6 * mm, 11 * mm, 11 * mm]
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _SANS, 8),
                ("FONT", (0, 0), (-1, 0), _BOLD, 8),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return [Spacer(1, 3 * mm), KeepTogether([table])]
