"""PRN (as-needed) record bodies: each PRN order with its indication and maximum, then
entry rows of actual time (HH:MM comb), dose (comb) and initials."""

from __future__ import annotations

from collections.abc import Sequence

from papermode.core.model import Box, Order
from papermode.printing.layout.allergy_flag import flagged_head
from papermode.printing.layout.kit import Body, Ctx, Draw, Row, comb, fit, flow, wrap, write_in
from papermode.printing.templates import Template

_LABEL_GAP = 2.0  # label baseline above the boxes
_LABEL_H = 4.4  # small labels above each entry's boxes, clear of the band the digit reader
# checks for writing above a comb (1.5 mm)
_COLUMN_GAP = 6.0
_WRITE_IN_ROWS = 12


def _entry_width(form: Template) -> float:
    gap = form.g("gap")
    return (
        4 * form.g("cell_w")
        + gap
        + form.count("dose_cells") * form.g("cell_w")
        + gap
        + form.g("sign_w")
    )


def _columns(ctx: Ctx, form: Template) -> int:
    return max(1, int((ctx.width + _COLUMN_GAP) // (_entry_width(form) + _COLUMN_GAP)))


def _line_pitch(form: Template) -> float:
    return _LABEL_H + max(form.g("cell_h"), form.g("sign_h")) + form.g("gap")


def _header_lines(ctx: Ctx, order: Order) -> list[tuple[str, float, bool]]:
    width = ctx.width - 2.0
    facts = " ".join(p for p in (order.medication, ctx.order_dose(order), order.route or "") if p)
    lines = [(line, 9.0, True) for line in wrap(facts, width, 9.0, bold=True, lines=2)]
    details = []
    if order.indication:
        details.append(ctx.t("prn.indication", indication=order.indication))
    if order.max_per_period:
        details.append(ctx.t("prn.max", max=order.max_per_period))
    if order.requester:
        details.append(ctx.t("mar.prescriber", name=order.requester))
    lines += [(line, 7.5, False) for line in wrap("  ·  ".join(details), width, 7.5, lines=2)]
    return lines


def prn_bodies(ctx: Ctx, form: Template, orders: Sequence[Order]) -> list[Body]:
    """The PRN record pages of one patient: per as-needed order, its facts and entry lines
    (the first entry line stays with the facts; further lines may flow onto the next page)."""
    rows: list[Row] = []
    for order in orders:
        if order.as_needed and not order.do_not_perform:
            lines = _header_lines(ctx, order)
            head = 2.5 + sum(size * 0.43 for _, size, _ in lines)
            # the allergy flag under the facts: layout/allergy_flag.py
            head, facts = flagged_head(ctx, order, head, _facts(ctx, lines))
            rows += _entry_rows(ctx, form, f"prn.{order.order_id}", order, head, facts)
    return flow(form, rows, ctx.top, ctx.bottom)


def blank_prn_bodies(ctx: Ctx, form: Template) -> list[Body]:
    """A blank PRN page: blocks of a write-in drug box and entry lines, as many as fit."""
    rows: list[Row] = []
    head = 4.0 + form.g("sign_h")
    for number in range(1, _WRITE_IN_ROWS):
        rows += _entry_rows(ctx, form, f"prn.row{number}", None, head, _drug_box(ctx, form, number))
    return flow(form, rows, ctx.top, ctx.bottom)[:1]


def _facts(ctx: Ctx, lines: list[tuple[str, float, bool]]) -> Draw:
    def draw(body: Body, y: float) -> None:
        baseline = y + 1.5
        for text, size, bold in lines:
            baseline += size * 0.43
            body.text(ctx.left + 1.0, baseline - 0.6, text, size, bold=bold)

    return draw


def _drug_box(ctx: Ctx, form: Template, number: int) -> Draw:
    def draw(body: Body, y: float) -> None:
        box = Box(ctx.left + 0.5, y + 2.0, ctx.width - 1.0, form.g("sign_h"))
        label = ctx.t("mar.drug_write_in")
        body.add(write_in(f"prn.row{number}.drug", "text", box, role="drug", label=label))

    return draw


def _entry_rows(
    ctx: Ctx, form: Template, prefix: str, order: Order | None, head: float, draw_head: Draw
) -> list[Row]:
    """Rows of entries; the first row carries the block's head (facts or write-in box)."""
    columns, pitch = _columns(ctx, form), _line_pitch(form)
    numbers = list(range(1, form.count("entries") + 1))
    runs = [numbers[i : i + columns] for i in range(0, len(numbers), columns)]
    rows = []
    for index, run in enumerate(runs):
        first, last = index == 0, index == len(runs) - 1
        offset = head if first else 0.0
        height = offset + pitch + (2.0 if last else 0.0)
        rows.append(
            Row(
                height,
                _entry_line(ctx, form, prefix, order, run, offset, draw_head if first else None),
            )
        )
    return rows


def _entry_line(
    ctx: Ctx,
    form: Template,
    prefix: str,
    order: Order | None,
    numbers: list[int],
    offset: float,
    draw_head: Draw | None,
) -> Draw:
    def draw(body: Body, y: float) -> None:
        if draw_head is not None:
            body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
            draw_head(body, y)
        for column, number in enumerate(numbers):
            x = ctx.left + column * (_entry_width(form) + _COLUMN_GAP)
            _entry(ctx, form, body, x, y + offset, f"{prefix}.{number}", order)

    return draw


def _entry(
    ctx: Ctx, form: Template, body: Body, x: float, y: float, name: str, order: Order | None
) -> None:
    """One administration: time (4 cells), dose (comb), initials, with small labels above."""
    gap, cell_w, cell_h = form.g("gap"), form.g("cell_w"), form.g("cell_h")
    unit = (ctx.unit(order.dose_unit) if order is not None else None) or "__"
    common = {"order_id": order.order_id if order is not None else None}
    boxes_y = y + _LABEL_H
    body.text(x, boxes_y - _LABEL_GAP, ctx.t("prn.time"), 6.0)
    body.add(comb(f"{name}.time", x, boxes_y, 4, cell_w, cell_h, role="time", **common))
    x += 4 * cell_w + gap
    cells = form.count("dose_cells")
    body.text(
        x, boxes_y - _LABEL_GAP, fit(ctx.t("prn.dose", unit=unit), cells * cell_w + gap, 6.0), 6.0
    )
    body.add(comb(f"{name}.dose", x, boxes_y, cells, cell_w, cell_h, role="dose", **common))
    x += cells * cell_w + gap
    sign = Box(x, boxes_y, form.g("sign_w"), form.g("sign_h"))
    body.text(x, boxes_y - _LABEL_GAP, fit(ctx.t("prn.initials"), sign.w, 6.0), 6.0)
    body.add(write_in(f"{name}.initials", "signature", sign, role="initials", **common))
