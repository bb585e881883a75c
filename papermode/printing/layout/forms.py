"""New-order sheet and notes page bodies (the vital-signs chart: `layout/vitals.py`)."""

from __future__ import annotations

from papermode.core.errors import TemplateError
from papermode.core.model import Box
from papermode.printing.layout.kit import (
    Body,
    Ctx,
    Draw,
    Row,
    comb,
    fit,
    flow,
    text_width,
    tick,
    wrap,
    write_in,
)
from papermode.printing.templates import Option, Template

_LABEL_W = 26.0  # left label column of the new-order block
_OPTION_PT = 7.5


# --------------------------------------------------------------------------- new orders


def new_order_bodies(ctx: Ctx, form: Template) -> list[Body]:
    """One new-order page: as many order blocks as fit, under the ISMP hint."""
    hint = wrap(ctx.t("new_orders.hint"), ctx.width, 8.0, bold=True, lines=2)

    def draw_hint(body: Body, y: float) -> None:
        for index, line in enumerate(hint):
            body.text(ctx.left, y + 3.2 + 3.6 * index, line, 8.0, bold=True)

    head = Row(3.6 * len(hint) + 1.5, draw_hint)
    height = _block_height(ctx, form)
    room = ctx.bottom - ctx.top - head.height
    if height > room:  # large boxes and long labels: one block would run off the page
        raise TemplateError([
            f"{form.source}: geometry: one new-order block is {height:.0f} mm tall in "
            f"'{ctx.lang}', but the page has {room:.0f} mm under its banner; make tick_size, "
            "cell_h or gap smaller"
        ])  # fmt: skip
    count = max(1, int(room // height))
    rows = [Row(height, _order_block(ctx, form, number)) for number in range(1, count + 1)]
    return flow(form, rows, ctx.top, ctx.bottom, head=head)


def _line_height(form: Template) -> float:
    return max(form.g("cell_h"), form.g("tick_size"))


def _line_pitch(form: Template) -> float:
    return _line_height(form) + form.g("gap")


def _option_lines(ctx: Ctx, form: Template, options: tuple[Option, ...], first: float) -> int:
    """How many lines a tick-box group needs (the first line starts `first` mm in)."""
    lines, x = 1, first
    right = ctx.width - _LABEL_W
    for option in options:
        width = _option_width(ctx, form, option)
        if x + width > right and x > 0:
            lines, x = lines + 1, 0.0
        x += width
    return lines


def _option_width(ctx: Ctx, form: Template, option: Option) -> float:
    return form.g("tick_size") + 1.2 + text_width(ctx.t(option.label), _OPTION_PT) + form.g("gap")


# Cells after the printed decimal separator of a new order's dose. A separate comb, left
# empty for a whole dose: ISMP wants a leading zero (0.5 mg) and never a trailing one (5 mg,
# not 5.0 mg), so the decimals cannot be a fixed part of one comb that must be filled.
_DECIMAL_CELLS = 2


def _dose_width(form: Template) -> float:
    cells = form.count("dose_cells") + _DECIMAL_CELLS
    return cells * form.g("cell_w") + _separator_w(form) + 2 * form.g("gap")


def _separator_w(form: Template) -> float:
    """Room for the printed decimal separator between the whole and the decimal digits."""
    return max(form.g("gap"), 3.5)


def _block_height(ctx: Ctx, form: Template) -> float:
    pitch = _line_pitch(form)
    lines = _option_lines(ctx, form, form.units, _dose_width(form))
    lines += _option_lines(ctx, form, form.routes, 0.0)
    lines += _option_lines(ctx, form, form.frequencies, 0.0)
    lines += 1  # when it was prescribed, and by whom (name in capitals)
    return 2.0 + form.g("drug_h") + form.g("gap") + lines * pitch + _sign_line_h(form) + 4.0


def _sign_line_h(form: Template) -> float:
    """The prescriber's line: the signature box, or the read-back tick when it is taller."""
    return max(form.g("sign_h"), form.g("tick_size"))


def _order_block(ctx: Ctx, form: Template, number: int) -> Draw:
    def draw(body: Body, y: float) -> None:
        prefix = f"new.{number}"
        body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
        body.text(ctx.left, y + 6.5, str(number), 12.0, bold=True)
        x0 = ctx.left + _LABEL_W
        top = y + 2.0
        drug = Box(x0, top, ctx.width - _LABEL_W, form.g("drug_h"))
        body.text(ctx.left + 7.0, top + 5.0, fit(ctx.t("new_orders.drug"), _LABEL_W - 8, 7.5), 7.5)
        body.add(write_in(f"{prefix}.drug", "text", drug, role="drug"))
        top += drug.h + form.g("gap")
        top = _dose_line(ctx, form, body, top, prefix)
        top = _group(ctx, form, body, top, prefix, "route", form.routes, 0.0)
        top = _group(ctx, form, body, top, prefix, "frequency", form.frequencies, 0.0)
        top = _when_line(ctx, form, body, top, prefix)
        _prescriber_line(ctx, form, body, top, prefix)

    return draw


def _dose_line(ctx: Ctx, form: Template, body: Body, top: float, prefix: str) -> float:
    x0 = ctx.left + _LABEL_W
    label = f"{ctx.t('new_orders.dose')} / {ctx.t('new_orders.unit')}"
    body.text(ctx.left, top + 4.8, fit(label, _LABEL_W - 1, 7.5), 7.5)
    cells, cell_w, cell_h = form.count("dose_cells"), form.g("cell_w"), form.g("cell_h")
    comb_top = top + (_line_height(form) - cell_h) / 2
    body.add(comb(f"{prefix}.dose", x0, comb_top, cells, cell_w, cell_h, role="dose"))
    point_x = x0 + cells * cell_w + _separator_w(form) / 2
    separator = ctx.decimal_separator()
    body.text(point_x, comb_top + cell_h - 0.4, separator, 12.0, bold=True, align="centre")
    body.add(
        comb(
            f"{prefix}.dose_decimals",
            x0 + cells * cell_w + _separator_w(form),
            comb_top,
            _DECIMAL_CELLS,
            cell_w,
            cell_h,
            role="dose_decimals",
        )
    )
    return _group(ctx, form, body, top, prefix, "unit", form.units, _dose_width(form), label=False)


def _when_line(ctx: Ctx, form: Template, body: Body, top: float, prefix: str) -> float:
    """Date (day, month) and time the order was written, and the prescriber's name in
    capitals: a signature alone does not say who signed, and the record needs both."""
    x = ctx.left + _LABEL_W
    body.text(ctx.left, top + 4.8, fit(ctx.t("new_orders.when"), _LABEL_W - 1, 7.5), 7.5)
    cell_w, cell_h = form.g("cell_w"), form.g("cell_h")
    comb_top = top + (_line_height(form) - cell_h) / 2
    for role in ("order_date", "order_time"):
        hint = ctx.t("new_orders.date_hint" if role == "order_date" else "new_orders.time_hint")
        # Under the comb, in the gap before the next line: above it, the hint would be in
        # the band where the digit reader looks for corrections written over a comb.
        body.text(x, comb_top + cell_h + 1.7, hint, 5.5)
        body.add(comb(f"{prefix}.{role}", x, comb_top, 4, cell_w, cell_h, role=role))
        x += 4 * cell_w + 2 * form.g("gap")
    label = ctx.t("new_orders.prescriber_name")
    right = ctx.left + ctx.width
    name = Box(x, comb_top, max(10.0, right - x), cell_h)
    body.add(
        write_in(f"{prefix}.prescriber_name", "text", name, role="prescriber_name", label=label)
    )
    return top + _line_pitch(form)


def _group(
    ctx: Ctx,
    form: Template,
    body: Body,
    top: float,
    prefix: str,
    role: str,
    options: tuple[Option, ...],
    first: float,
    *,
    label: bool = True,
) -> float:
    """A tick-box group (one answer of several), flowing over lines; returns the next top."""
    if label:
        body.text(ctx.left, top + 4.8, fit(ctx.t(f"new_orders.{role}"), _LABEL_W - 1, 7.5), 7.5)
    size, pitch = form.g("tick_size"), _line_pitch(form)
    x0, right = ctx.left + _LABEL_W, ctx.left + ctx.width
    x = x0 + first
    box_top = top + (_line_height(form) - size) / 2
    for option in options:
        width = _option_width(ctx, form, option)
        if x + width > right and x > x0:
            x, top, box_top = x0, top + pitch, box_top + pitch
        group = f"{prefix}.{role}"
        body.add(
            tick(
                f"{group}.{option.value}",
                x,
                box_top,
                size,
                role=role,
                group=group,
                value=option.value,
            )
        )
        body.text(x + size + 1.2, box_top + size - 1.0, ctx.t(option.label), _OPTION_PT)
        x += width
    return top + pitch


def _prescriber_line(ctx: Ctx, form: Template, body: Body, top: float, prefix: str) -> None:
    x0 = ctx.left + _LABEL_W
    line_h = _sign_line_h(form)
    sign = Box(
        x0, top + (line_h - form.g("sign_h")) / 2, min(80.0, ctx.width / 2), form.g("sign_h")
    )
    label = ctx.t("new_orders.prescriber")
    body.add(write_in(f"{prefix}.prescriber", "signature", sign, role="prescriber", label=label))
    x = sign.x + sign.w + 3 * form.g("gap")
    size = form.g("tick_size")
    body.add(tick(f"{prefix}.readback", x, top + (line_h - size) / 2, size, role="readback"))
    text = fit(ctx.t("new_orders.readback"), ctx.left + ctx.width - x - size - 2, _OPTION_PT)
    body.text(x + size + 1.2, top + (line_h + size) / 2 - 1.0, text, _OPTION_PT)


# --------------------------------------------------------------------------- notes


def notes_bodies(ctx: Ctx, form: Template) -> list[Body]:
    """One notes page: a ruled writing area, then the time and a signature box."""
    body = Body(form)
    sign_h, pitch = form.g("sign_h"), form.g("line_pitch")
    bottom = ctx.bottom - max(sign_h, form.g("cell_h")) - 3.5
    area = Box(ctx.left, ctx.top, ctx.width, bottom - ctx.top)
    body.add(write_in("notes.body", "text", area, role="note"))
    y = ctx.top + pitch
    while y < bottom - 1.0:
        body.rule(ctx.left + 2.0, y, ctx.left + ctx.width - 2.0, grey=0.7, width=0.15)
        y += pitch
    top = bottom + 3.0
    body.text(ctx.left, top + 4.8, ctx.t("notes.time"), 7.5)
    x = ctx.left + 4.0 + text_width(ctx.t("notes.time"), 7.5)
    body.add(comb("notes.time", x, top, 4, form.g("cell_w"), form.g("cell_h"), role="time"))
    sign = Box(ctx.left + ctx.width - form.g("sign_w"), top, form.g("sign_w"), sign_h)
    label = ctx.t("notes.signature")
    body.add(write_in("notes.signature", "signature", sign, role="signature", label=label))
    return [body]
