"""Ward census sheet body: bed, name (birth date, allergies), MRN, every page id of every
patient and blank pack, and a "discharged" and a "transferred" tick per patient (a patient
who left the ward gets no forms at `reprint` once two people confirmed the tick)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from papermode.core.model import PageLayout, Patient
from papermode.printing.layout.banner import allergy_text
from papermode.printing.layout.kit import (
    Body,
    Ctx,
    Row,
    fit,
    fit_size,
    flow,
    text_width,
    tick,
    wrap,
)
from papermode.printing.templates import Template

LEAVES = ("discharged", "transferred")  # the census sheet's tick boxes, one group per patient
_TICK = 5.0
_TICKS_W = 30.0  # the two ticks at the right of every patient row


def leave_field_id(patient_id: str, leave: str) -> str:
    """census.<patient id>.discharged: the field id names the patient (never by MRN)."""
    return f"census.{patient_id}.{leave}"


def patient_of_field(field_id: str) -> str | None:
    """The census patient id a discharged / transferred tick belongs to."""
    parts = field_id.split(".")
    if len(parts) >= 3 and parts[0] == "census" and parts[-1] in LEAVES:
        return ".".join(parts[1:-1])
    return None


_HEAD_H = 6.0  # the repeated column header


def census_bodies(
    ctx: Ctx,
    form: Template,
    patients: Sequence[Patient],
    pages_by_patient: Mapping[str, Sequence[PageLayout]],
    blank_packs: Sequence[Sequence[PageLayout]],
) -> list[Body]:
    """Rows of patients in bed order, then blank packs, under a repeated column header."""
    size, pad = form.g("text_size"), form.g("row_pad")
    columns = _census_columns(ctx)
    rows = [
        row
        for p in sorted(patients, key=bed_order)
        for row in _census_rows(
            ctx,
            columns,
            size,
            pad,
            " / ".join(x for x in (p.room, p.bed) if x),
            p.display_name,
            p.mrn,
            pages_by_patient.get(p.patient_id, ()),
            patient=p,
        )
    ]
    for number, pack in enumerate(blank_packs, start=1):
        label = ctx.t("census.blank", n=number)
        rows += _census_rows(ctx, columns, size, pad, "", label, "", pack)
    return flow(form, rows, ctx.top, ctx.bottom, head=_census_head(ctx, columns, size))


def _census_columns(ctx: Ctx) -> tuple[float, float, float, float]:
    """x of the bed, name, MRN and pages columns."""
    x = ctx.left + 1.0
    return (x, x + 16.0, x + 70.0, x + 104.0)


def _census_head(ctx: Ctx, columns: tuple[float, ...], size: float) -> Row:
    keys = ("census.bed", "census.name", "census.mrn", "census.pages")

    def draw(body: Body, y: float) -> None:
        for x, key in zip(columns, keys, strict=True):
            body.text(x, y + 4.0, ctx.t(key), size + 0.5, bold=True)
        for index, leave in enumerate(LEAVES):
            x = _tick_x(ctx, index) + _TICK / 2
            label = ctx.t(f"census.{leave}")
            small = fit_size(label, _TICKS_W / 2 - 0.5, size - 1.0, 4.5, bold=True)
            label = fit(label, _TICKS_W / 2 - 0.5, small, bold=True)
            body.text(x, y + 4.0, label, small, bold=True, align="centre")
        body.rule(ctx.left, y + 5.5, ctx.left + ctx.width, grey=0.0, width=0.3)

    return Row(_HEAD_H, draw)


def _census_rows(
    ctx: Ctx,
    columns: tuple[float, ...],
    size: float,
    pad: float,
    bed: str,
    name: str,
    mrn: str,
    pages: Sequence[PageLayout],
    *,
    patient: Patient | None = None,
) -> list[Row]:
    """A patient's (or blank pack's) row; its page-id lines continue on more rows when they
    are more than a page holds (a patient with very many pages, large print)."""
    pages_w = ctx.left + ctx.width - columns[3] - 1.0 - _TICKS_W
    entries = []
    for p in pages:
        entry = f"{form_name(ctx, p.template)} {p.page_number}: {p.page_id}"
        if text_width(entry, size, mono=True) <= pages_w:
            entries.append(entry)
        else:  # a long form name: the page id on a line of its own, never cut
            entries += [f"{form_name(ctx, p.template)} {p.page_number}:", p.page_id]
    lines: list[str] = []
    for entry in entries:
        joined = f"{lines[-1]}   {entry}" if lines else entry
        if lines and text_width(joined, size, mono=True) <= pages_w:
            lines[-1] = joined
        else:
            lines.append(entry)
    pitch = size * 0.45
    room = ctx.bottom - ctx.top - _HEAD_H - 2 * pad - 2.0
    most = max(1, int(room // pitch) - 1)
    chunks_of = [lines[i : i + most] for i in range(0, len(lines), most)] or [[]]
    rows = [_first_row(ctx, columns, size, pad, bed, name, mrn, chunks_of[0], patient)]
    rows += [_more_lines(ctx, columns, size, pad, chunk) for chunk in chunks_of[1:]]
    return rows


def _more_lines(
    ctx: Ctx, columns: tuple[float, ...], size: float, pad: float, lines: list[str]
) -> Row:
    pitch = size * 0.45
    height = len(lines) * pitch + 2 * pad + 1.0

    def draw(body: Body, y: float) -> None:
        for index, line in enumerate(lines):
            body.text(columns[3], y + pad + pitch * (index + 1), line, size, mono=True)
        body.rule(ctx.left, y + height, ctx.left + ctx.width, grey=0.6, width=0.15)

    return Row(height, draw)


def _first_row(
    ctx: Ctx,
    columns: tuple[float, ...],
    size: float,
    pad: float,
    bed: str,
    name: str,
    mrn: str,
    lines: list[str],
    patient: Patient | None,
) -> Row:
    names = wrap(name, columns[2] - columns[1] - 2.0, size + 0.5, bold=True)
    facts = _patient_facts(ctx, patient, columns[2] - columns[1] - 2.0, size - 1.0)
    beds = wrap(bed, columns[1] - columns[0] - 1.0, size + 0.5)  # "USIC 3 /" "lit 1": never cut
    pitch = size * 0.45
    height = max(len(lines), len(names) + len(facts), len(beds), 1) * pitch + 2 * pad + 1.0
    if patient is not None:
        height = max(height, _TICK + 2 * pad + 1.0)

    def draw(body: Body, y: float) -> None:
        base = y + pad + pitch
        for index, line in enumerate(beds):
            body.text(columns[0], base + index * pitch, line, size + 0.5)
        for index, line in enumerate(names):
            body.text(columns[1], base + index * pitch, line, size + 0.5, bold=True)
        for index, line in enumerate(facts, start=len(names)):
            body.text(columns[1], base + index * pitch, line, size - 1.0)
        if patient is not None:
            _leave_ticks(ctx, body, patient, y + pad)
        body.text(
            columns[2],
            base,
            fit(mrn, columns[3] - columns[2] - 1.0, size, mono=True),
            size,
            mono=True,
            bold=True,
        )
        for index, line in enumerate(lines):
            body.text(columns[3], base + index * pitch, line, size, mono=True)
        body.rule(ctx.left, y + height, ctx.left + ctx.width, grey=0.6, width=0.15)

    return Row(height, draw)


def form_name(ctx: Ctx, template: str) -> str:
    """A form's short printed name ("new orders"), never the raw template name."""
    key = f"census.form_{template}"
    return ctx.t(key) if key in ctx.templates.translations[ctx.lang] else template


def _patient_facts(ctx: Ctx, patient: Patient | None, width: float, size: float) -> list[str]:
    """Birth date and allergies under the name: the checks a nurse makes before giving."""
    if patient is None:
        return []
    facts = []
    if patient.birth_date is not None:
        facts.append(fit(ctx.t("banner.born", date=ctx.day(patient.birth_date)), width, size))
    # every allergy, never cut: the banner's "+N more" points here (banner.allergy_box)
    return facts + wrap(allergy_text(ctx, patient), width, size, bold=True)


def _tick_x(ctx: Ctx, index: int) -> float:
    return ctx.left + ctx.width - _TICKS_W + 2.0 + index * (_TICKS_W / 2)


def _leave_ticks(ctx: Ctx, body: Body, patient: Patient, top: float) -> None:
    group = f"census.{patient.patient_id}"
    for index, leave in enumerate(LEAVES):
        field_id = leave_field_id(patient.patient_id, leave)
        body.add(tick(field_id, _tick_x(ctx, index), top, _TICK, role=leave, group=group,
                      value=leave, label=ctx.t(f"census.{leave}")))  # fmt: skip


def bed_order(patient: Patient) -> tuple[Any, ...]:
    """Natural order of room and bed ("2" before "10"), then name."""
    return (_natural(patient.room or ""), _natural(patient.bed or ""), patient.display_name)


def _natural(text: str) -> tuple[tuple[int, Any], ...]:
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts if p)
