"""Ward census sheet body: bed, name, MRN and every page id of every patient and blank pack."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from papermode.core.model import PageLayout, Patient
from papermode.printing.layout.kit import Body, Ctx, Row, fit, flow, text_width, wrap
from papermode.printing.templates import Template


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
        _census_row(
            ctx,
            columns,
            size,
            pad,
            " / ".join(x for x in (p.room, p.bed) if x),
            p.display_name,
            p.mrn,
            pages_by_patient.get(p.patient_id, ()),
        )
        for p in sorted(patients, key=bed_order)
    ]
    for number, pack in enumerate(blank_packs, start=1):
        label = ctx.t("census.blank", n=number)
        rows.append(_census_row(ctx, columns, size, pad, "", label, "", pack))
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
        body.rule(ctx.left, y + 5.5, ctx.left + ctx.width, grey=0.0, width=0.3)

    return Row(6.0, draw)


def _census_row(
    ctx: Ctx,
    columns: tuple[float, ...],
    size: float,
    pad: float,
    bed: str,
    name: str,
    mrn: str,
    pages: Sequence[PageLayout],
) -> Row:
    pages_w = ctx.left + ctx.width - columns[3] - 1.0
    entries = [f"{p.template} {p.page_number}: {p.page_id}" for p in pages]
    lines: list[str] = []
    for entry in entries:
        joined = f"{lines[-1]}   {entry}" if lines else entry
        if lines and text_width(joined, size, mono=True) <= pages_w:
            lines[-1] = joined
        else:
            lines.append(entry)
    names = wrap(name, columns[2] - columns[1] - 2.0, size + 0.5, bold=True, lines=2)
    pitch = size * 0.45
    height = max(len(lines), len(names), 1) * pitch + 2 * pad + 1.0

    def draw(body: Body, y: float) -> None:
        base = y + pad + pitch
        body.text(columns[0], base, fit(bed, columns[1] - columns[0] - 1.0, size + 0.5), size + 0.5)
        for index, line in enumerate(names):
            body.text(columns[1], base + index * pitch, line, size + 0.5, bold=True)
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


def bed_order(patient: Patient) -> tuple[Any, ...]:
    """Natural order of room and bed ("2" before "10"), then name."""
    return (_natural(patient.room or ""), _natural(patient.bed or ""), patient.display_name)


def _natural(text: str) -> tuple[tuple[int, Any], ...]:
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts if p)
