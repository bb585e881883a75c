"""MAR and PRN record bodies: one cell per scheduled dose, entry rows per as-needed order.

A MAR band is one order (or a run of its doses when they do not fit one band): the order
column on the left (drug, dose, route, frequency, prescriber, HIGH ALERT band), then one
dose cell per scheduled time with given / held / refused tick boxes, the actual time in comb
boxes, initials with a one-digit box for the reason a dose was not given (the page's legend
lists the codes: `papermode.core.reasons`), and a second person's initials: the double
check of a high-alert drug, the witness of a controlled drug (one box, "2nd / witness",
when it is both: `mar_order.second_person`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from papermode.core.model import Box, Order, ScheduledDose
from papermode.core.sites import is_injection
from papermode.printing.layout.allergy_flag import flagged_band
from papermode.printing.layout.do_not_give import do_not_give_row
from papermode.printing.layout.infusion import infusion_rows
from papermode.printing.layout.kit import (
    Body,
    Ctx,
    Draw,
    Row,
    chunks,
    comb,
    fit,
    fit_size,
    flow,
    tick,
    wrap,
    write_in,
)
from papermode.printing.layout.mar_days import mar_days_bodies
from papermode.printing.layout.mar_order import (
    DOSES_PT,
    PAD,
    SecondPerson,
    injection_site_box,
    order_column,
    order_column_height,
    second_person,
    stamp_id,
    stop_boxes,
)
from papermode.printing.templates import Template

__all__ = ["DOSES_PT", "mar_bodies", "stamp_id"]

_PAD = PAD
_LABEL_H = 6.5  # the scheduled time and the tick-box letters above the boxes
_MARKS = ("given", "held", "refused")
_REASON_GAP = 3.0  # initials to reason box: wider than the reader's crop margin
_WRITE_IN_ROWS = 40  # blank MAR: bands offered (the flow keeps only what fits one page)


def mar_band_height(form: Template, second: bool, injection: bool = False) -> float:
    """A dose cell's height; `second`: it has a second person's box (`SecondPerson`)."""
    gap = form.g("gap")
    height = _PAD + _LABEL_H + form.g("tick_size") + gap + form.g("cell_h") + gap + form.g("sign_h")
    if second:
        height += gap + form.g("sign_h")
    if injection and not second:  # the site box's row (core/sites.py); a cell with a
        height += gap + form.g("sign_h")  # second person's box has it beside that box
    return height + _PAD + 1.5  # the band rule clear of the reason box (read as digits)


def order_band_height(ctx: Ctx, form: Template, order: Order, room: float) -> float:
    """A band tall enough for its dose cells and for every line of its order column: an
    order whose text is long gets a taller band, never a cut one."""
    second = second_person(order) is not None
    cells = mar_band_height(form, second, is_injection(order.route))
    return max(cells, order_column_height(ctx, order, form.g("info_w"), room=room))


def mar_cells_per_band(ctx: Ctx, form: Template) -> int:
    return max(1, int((ctx.width - form.g("info_w") - 2.0) // form.g("dose_w")))


def mar_bodies(
    ctx: Ctx,
    form: Template,
    orders: Sequence[Order],
    doses: Mapping[str, Sequence[ScheduledDose]],
) -> list[Body]:
    """The MAR pages of one patient: every scheduled dose of every scheduled order, on the
    multi-day MAR when the settings ask for one (`mar_days`, from --days), else per day."""
    if getattr(ctx.settings, "mar_days", 0):
        return mar_days_bodies(ctx, form, orders, doses)
    scheduled = [order for order in orders if not order.as_needed or order.do_not_perform]
    rows: list[Row] = []
    per_band = mar_cells_per_band(ctx, form)
    legend = _legend(ctx, form)
    room = ctx.bottom - ctx.top - legend.height - 1.0  # a band taller than a page: refused
    for order in scheduled:
        if order.do_not_perform:  # no dose cells: a line of its own
            rows.append(do_not_give_row(ctx, form, order))
            continue
        if order.continuous:  # start / rate change / stop rows, never hourly ticks
            # allergy flag under each band of the order: layout/allergy_flag.py
            rows += [flagged_band(ctx, order, row) for row in infusion_rows(ctx, form, order)]
            continue
        times = _times_in_period(ctx, doses.get(order.order_id, ()))
        height = order_band_height(ctx, form, order, room)
        if not times:
            band_row = Row(height, _no_dose_band(ctx, form, order, height))
            rows.append(flagged_band(ctx, order, band_row))  # allergy flag: allergy_flag.py
        for index, run in enumerate(chunks(times, per_band)):
            band_row = Row(height, _band(ctx, form, order, run, height, stop_box=index == 0))
            rows.append(flagged_band(ctx, order, band_row))  # allergy flag: allergy_flag.py
    if not scheduled:
        rows.append(Row(10.0, _message(ctx, "mar.no_orders")))
    return flow(form, rows, ctx.top, ctx.bottom, head=legend)


def _times_in_period(ctx: Ctx, doses: Sequence[ScheduledDose]) -> list[datetime]:
    start, end = ctx.period
    # Cells are per minute (that is what the nurse reads and the field id carries).
    minutes = {dose.scheduled_at.replace(second=0, microsecond=0) for dose in doses}
    return sorted(moment for moment in minutes if start <= moment < end)


def _legend(ctx: Ctx, form: Template) -> Row:
    letters = {mark: ctx.t(f"mar.{mark}") for mark in _MARKS}
    lines = wrap(ctx.t("mar.legend", **letters), ctx.width, 7.5, lines=2)
    lines += wrap(ctx.t("mar.reasons"), ctx.width, 7.5, lines=2)  # core/reasons.py codes

    def draw(body: Body, y: float) -> None:
        for index, line in enumerate(lines):
            body.text(ctx.left, y + 3.0 + 3.4 * index, line, 7.5)

    return Row(3.4 * len(lines) + 1.5, draw)


def _message(ctx: Ctx, key: str) -> Draw:
    def draw(body: Body, y: float) -> None:
        body.text(ctx.left + 2.0, y + 6.0, fit(ctx.t(key), ctx.width - 4.0, 9.0), 9.0, bold=True)

    return draw


def _band(
    ctx: Ctx,
    form: Template,
    order: Order,
    times: Sequence[datetime],
    height: float,
    *,
    stop_box: bool,
) -> Draw:
    info_w = form.g("info_w")

    def draw(body: Body, y: float) -> None:
        order_column(ctx, order, body, y, height=height, info_w=info_w)
        if stop_box:
            stop_boxes(ctx, body, order, y, height=height, info_w=info_w)
        for index, moment in enumerate(times):
            x = ctx.left + form.g("info_w") + 2.0 + index * form.g("dose_w")
            prefix = f"mar.{order.order_id}.{stamp_id(moment)}"
            label = ctx.stamp(moment)
            size = fit_size(label, form.g("dose_w") - 2.0, 7.5, 5.5, bold=True)
            body.text(x, y + _PAD + 2.8, label, size, bold=True)
            _dose_cell(ctx, form, body, x, y, prefix, order.order_id, moment,
                       second_person(order), injection=is_injection(order.route))  # fmt: skip

    return draw


def _no_dose_band(ctx: Ctx, form: Template, order: Order, height: float) -> Draw:
    info_w = form.g("info_w")

    def draw(body: Body, y: float) -> None:
        order_column(ctx, order, body, y, height=height, info_w=info_w)
        stop_boxes(ctx, body, order, y, height=height, info_w=info_w)
        x = ctx.left + form.g("info_w") + 2.0
        text = fit(ctx.t("mar.no_dose_due"), ctx.width - form.g("info_w") - 4.0, 8.0)
        body.text(x, y + _PAD + 6.0, text, 8.0)

    return draw


def _dose_cell(
    ctx: Ctx,
    form: Template,
    body: Body,
    x: float,
    y: float,
    prefix: str,
    order_id: str | None,
    scheduled: datetime | None,
    second: SecondPerson | None,
    *,
    injection: bool = False,
) -> None:
    """given/held/refused (one group), actual time HH:MM, initials and the reason's number
    (+ the second person's initials: double check or witness; + the injection site's
    number for an SC / IM order)."""
    size, gap = form.g("tick_size"), form.g("gap")
    common = {"order_id": order_id, "scheduled": scheduled}
    top = y + _PAD + _LABEL_H
    for index, mark in enumerate(_MARKS):
        left = x + index * (size + gap)
        body.text(left + size / 2, top - 0.6, ctx.t(f"mar.{mark}"), 6.0, bold=True, align="centre")
        body.add(
            tick(f"{prefix}.{mark}", left, top, size, role=mark, group=prefix, value=mark, **common)
        )
    top += size + gap
    cell_w, cell_h = form.g("cell_w"), form.g("cell_h")
    body.add(comb(f"{prefix}.time", x, top, 4, cell_w, cell_h, role="time", **common))
    top += cell_h + gap
    # Initials, then one comb cell for the reason a dose was not given (core/reasons.py).
    sign = Box(x, top, _cell_width(form) - cell_w - _REASON_GAP, form.g("sign_h"))
    label = ctx.t("mar.initials")
    body.add(
        write_in(f"{prefix}.initials", "signature", sign, role="initials", label=label, **common)
    )
    body.add(comb(f"{prefix}.reason", x + sign.w + _REASON_GAP, top, 1, cell_w, form.g("sign_h"),
                  role="reason", label=ctx.t("mar.reason"), **common))  # fmt: skip
    if second is not None:  # beside the site box of an injection, else the cell's full width
        second_w = sign.w if injection else _cell_width(form)
        box = Box(x, top + form.g("sign_h") + gap, second_w, sign.h)
        body.add(
            write_in(
                f"{prefix}.{second.role}",
                "signature",
                box,
                role=second.role,
                label=ctx.t(second.label_key),
                **common,
            )
        )
    if injection:
        site_top = top + form.g("sign_h") + gap
        injection_site_box(ctx, body, x + sign.w + _REASON_GAP, site_top, prefix, common,
                           cell_w, form.g("sign_h"))  # fmt: skip


def _cell_width(form: Template) -> float:
    return max(3 * form.g("tick_size") + 2 * form.g("gap"), 4 * form.g("cell_w"))
