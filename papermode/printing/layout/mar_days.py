"""The multi-day MAR (`--days N`, `[schedule] mar_days`): days across, times down the side.

The chart habit of the Australian NIMC and NHS drug charts: one block of rows per order,
the order column on the left, one sub-row per scheduled time of day, one column per date
of the period. A cell exists only where a dose is due (the others hold a dash); each holds
given / held / refused ticks (one group), the nurse's initials and the one-digit reason
box (`papermode.core.reasons`), second initials for high-alert drugs. There is no comb for
the actual time: the dose is recorded at its scheduled time, as on a per-day cell left
without a time (reconcile notes "time not written: scheduled time used").

Field ids, roles, `order_id` and `scheduled` are the per-day MAR's, so the readers and
reconcile treat a multi-day cell exactly like a per-day one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta

from papermode.core.errors import UsageError
from papermode.core.model import Box, Order, ScheduledDose
from papermode.core.sites import is_injection
from papermode.printing.layout.allergy_flag import flag_room, flagged_band
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
    text_width,
    tick,
    wrap,
    write_in,
)
from papermode.printing.layout.mar_order import (
    PAD,
    injection_site_box,
    order_column,
    order_column_height,
    second_person,
    stamp_id,
    stop_boxes,
)
from papermode.printing.templates import Template

MAX_COLUMNS = 7
INFO_W = 44.0  # the order column (the per-day MAR's is the template's info_w, 52 mm)
TIME_W = 10.0  # the scheduled time of each sub-row
TICK = 5.0  # given / held / refused: the per-day MAR's size
TICK_GAP = 1.6  # wider than the reader's re-registration search (1.5 mm)
SIGN_H = 7.0  # initials and the reason box: the per-day MAR's height
REASON_W = 5.0  # the one-digit reason box: the per-day MAR's comb cell
LINE_GAP = 2.5  # ticks to initials: the reader looks 1.5 mm above a comb for ink (combs.py)
REASON_GAP = 3.0  # initials to reason box: wider than the reader's crop margin
COLUMN_GAP = 2.0  # between two day columns
MAX_COLUMN_W = 28.0
_HEADER_H = 9.0
WRITE_IN_ORDERS = 2  # blank order blocks at the end: orders added during the outage
WRITE_IN_TIMES = 3  # their sub-rows: a time written by hand, initials per day
_MARKS = ("given", "held", "refused")


def period_dates(period: tuple[datetime, datetime]) -> list[date]:
    """The calendar dates the period touches: the chart's columns, in order."""
    start, end = period
    last = (end - timedelta(minutes=1)).date()
    return [start.date() + timedelta(days=n) for n in range((last - start.date()).days + 1)]


def column_width(ctx: Ctx, columns: int) -> float:
    room = ctx.width - INFO_W - TIME_W
    return min(MAX_COLUMN_W, room / max(1, columns))


def cell_width() -> float:
    return 3 * TICK + 2 * TICK_GAP


def sub_row_height(second: bool, injection: bool = False) -> float:
    """Ticks, initials + reason, then one more row for the second person's box (double
    check or witness: `second_person`) and/or the site box (core/sites.py): a high-alert
    injection has both side by side, like the per-day cell."""
    height = PAD + TICK + LINE_GAP + SIGN_H + PAD + 0.5
    return height + (LINE_GAP + SIGN_H if second or injection else 0.0)


def mar_days_bodies(
    ctx: Ctx,
    form: Template,
    orders: Sequence[Order],
    doses: Mapping[str, Sequence[ScheduledDose]],
) -> list[Body]:
    """The multi-day MAR pages of one patient: every scheduled dose of the period."""
    dates = period_dates(ctx.period)
    if len(dates) > MAX_COLUMNS or column_width(ctx, len(dates)) - COLUMN_GAP < cell_width():
        raise UsageError(
            f"the multi-day MAR's period touches {len(dates)} dates; one sheet holds at most "
            f"{MAX_COLUMNS}.",
            advice="Start the period at midnight (--start YYYY-MM-DDT00:00) or print fewer --days.",
        )
    scheduled = [order for order in orders if not order.as_needed or order.do_not_perform]
    rows: list[Row] = []
    for order in scheduled:
        if order.do_not_perform:  # no dose cells: a line of its own
            rows.append(do_not_give_row(ctx, form, order))
        elif order.continuous:  # start / rate change / stop rows, never hourly ticks
            rows += [flagged_band(ctx, order, row) for row in infusion_rows(ctx, form, order)]
        else:  # the allergy flag under every block of the order, as on the per-day MAR
            blocks = _order_rows(ctx, order, doses.get(order.order_id, ()), dates)
            rows += [flagged_band(ctx, order, row) for row in blocks]
    if not scheduled:
        rows.append(Row(10.0, _message(ctx, "mar.no_orders")))
    rows += [_write_in_row(ctx, dates, number) for number in range(1, WRITE_IN_ORDERS + 1)]
    return flow(form, rows, ctx.top, ctx.bottom, head=_head(ctx, dates))


def _due(ctx: Ctx, doses: Sequence[ScheduledDose]) -> set[datetime]:
    start, end = ctx.period
    minutes = {dose.scheduled_at.replace(second=0, microsecond=0) for dose in doses}
    return {moment for moment in minutes if start <= moment < end}


def _order_rows(
    ctx: Ctx, order: Order, doses: Sequence[ScheduledDose], dates: list[date]
) -> list[Row]:
    """The block of one order; an order with more times of day than a page holds is split
    into several blocks, each with the full order column (the stop box on the first)."""
    due = _due(ctx, doses)
    times = sorted({moment.time() for moment in due})
    sub_h = sub_row_height(second_person(order) is not None, is_injection(order.route))
    room = ctx.bottom - ctx.top - _head_height(ctx) - 1.0 - flag_room(ctx, order)
    text_h = order_column_height(ctx, order, INFO_W, room=room)
    per_block = max(1, int(room // sub_h))
    if not times:
        height = max(text_h, sub_h)
        return [Row(height, _block(ctx, order, [], due, dates, height, stop_box=True))]
    blocks = []
    for index, run in enumerate(chunks(times, per_block)):
        height = max(text_h, sub_h * len(run))
        blocks.append(Row(height, _block(ctx, order, list(run), due, dates, height,
                                         stop_box=index == 0)))  # fmt: skip
    return blocks


def _block(
    ctx: Ctx,
    order: Order,
    times: list[time],
    due: set[datetime],
    dates: list[date],
    height: float,
    *,
    stop_box: bool,
) -> Draw:
    width = column_width(ctx, len(dates))
    sub_h = sub_row_height(second_person(order) is not None, is_injection(order.route))

    def draw(body: Body, y: float) -> None:
        order_column(ctx, order, body, y, height=height, info_w=INFO_W)
        if stop_box:
            stop_boxes(ctx, body, order, y, height=height, info_w=INFO_W)
        if not times:
            x = ctx.left + INFO_W + 1.0
            text = fit(ctx.t("mar.no_dose_due"), ctx.width - INFO_W - 2.0, 8.0)
            body.text(x, y + PAD + 6.0, text, 8.0)
            return
        for row, at in enumerate(times):
            top = y + row * sub_h
            if row:
                body.rule(ctx.left + INFO_W, top, ctx.left + ctx.width, grey=0.75, width=0.15)
            body.text(ctx.left + INFO_W + 0.5, top + PAD + 4.0, f"{at:%H:%M}", 7.5, bold=True)
            for column, day in enumerate(dates):
                x = ctx.left + INFO_W + TIME_W + column * width
                moment = datetime.combine(day, at)
                if moment in due:
                    _cell(ctx, body, x, top, order, moment)
                else:  # no dose due here: a dash, never a grey fill (it dithers in 1-bit)
                    centre = x + (width - COLUMN_GAP) / 2
                    body.text(centre, top + sub_h / 2 + 1.0, "—", 8.0, align="centre")

    return draw


def _cell(ctx: Ctx, body: Body, x: float, top: float, order: Order, moment: datetime) -> None:
    """given/held/refused (one group), initials and the reason's number (+ second initials;
    + the injection site's number for an SC / IM order)."""
    prefix = f"mar.{order.order_id}.{stamp_id(moment)}"
    common = {"order_id": order.order_id, "scheduled": moment}
    y = top + PAD
    for index, mark in enumerate(_MARKS):
        left = x + index * (TICK + TICK_GAP)
        body.add(tick(f"{prefix}.{mark}", left, y, TICK, role=mark, group=prefix, value=mark,
                      **common))  # fmt: skip
    y += TICK + LINE_GAP
    sign = Box(x, y, cell_width() - REASON_W - REASON_GAP, SIGN_H)
    label = ctx.t("mar.initials")
    body.add(
        write_in(f"{prefix}.initials", "signature", sign, role="initials", label=label, **common)
    )
    body.add(comb(f"{prefix}.reason", x + sign.w + REASON_GAP, y, 1, REASON_W, SIGN_H,
                  role="reason", label=ctx.t("mar.reason"), **common))  # fmt: skip
    below = y + SIGN_H + LINE_GAP  # 2.5 mm free above the site comb, as above the reason's
    injection = is_injection(order.route)
    second = second_person(order)
    if second is not None:  # beside the site box of an injection, else the cell's full width
        box = Box(x, below, sign.w if injection else cell_width(), SIGN_H)
        body.add(write_in(f"{prefix}.{second.role}", "signature", box, role=second.role,
                          label=ctx.t(second.label_key), **common))  # fmt: skip
    if injection:
        injection_site_box(ctx, body, x + sign.w + REASON_GAP, below, prefix, common,
                           REASON_W, SIGN_H)  # fmt: skip


def _legend_lines(ctx: Ctx) -> list[str]:
    letters = {mark: ctx.t(f"mar.{mark}") for mark in _MARKS}
    lines = wrap(ctx.t("mar.days_legend", **letters), ctx.width, 7.5, lines=2)
    lines += wrap(ctx.t("mar.reasons"), ctx.width, 7.5, lines=2)  # core/reasons.py codes
    return lines


def _head_height(ctx: Ctx) -> float:
    return 3.4 * len(_legend_lines(ctx)) + 1.5 + _HEADER_H


def _head(ctx: Ctx, dates: list[date]) -> Row:
    """The legend, then the date of every column with the tick letters under it."""
    lines = _legend_lines(ctx)
    width = column_width(ctx, len(dates))

    def draw(body: Body, y: float) -> None:
        for index, line in enumerate(lines):
            body.text(ctx.left, y + 3.0 + 3.4 * index, line, 7.5)
        top = y + 3.4 * len(lines) + 1.5
        for column, day in enumerate(dates):
            x = ctx.left + INFO_W + TIME_W + column * width
            label = ctx.day(day)
            if text_width(label, 6.5, bold=True) > width - COLUMN_GAP:
                label = ctx.short_date(datetime.combine(day, time(0, 0)))  # never cut a date
            size = fit_size(label, width - COLUMN_GAP, 7.5, 5.5, bold=True)
            body.text(x, top + 3.2, fit(label, width - COLUMN_GAP, size, bold=True), size,
                      bold=True)  # fmt: skip
            for index, mark in enumerate(_MARKS):
                centre = x + index * (TICK + TICK_GAP) + TICK / 2
                body.text(centre, top + 7.6, ctx.t(f"mar.{mark}"), 6.0, bold=True, align="centre")

    return Row(_head_height(ctx), draw)


def _message(ctx: Ctx, key: str) -> Draw:
    def draw(body: Body, y: float) -> None:
        body.text(ctx.left + 2.0, y + 6.0, fit(ctx.t(key), ctx.width - 4.0, 9.0), 9.0, bold=True)

    return draw


# --------------------------------------------------------------------------- write-in orders


def _write_in_row(ctx: Ctx, dates: list[date], number: int) -> Row:
    """A blank order block for an order added during the outage: drug, dose, route and
    frequency written by hand, the prescriber's initials, and per written time and day an
    initials box. Every box is read as ink / empty (the drug as text, always reviewed), has
    no `order_id` nor `scheduled`, and reconcile lists a used block as a by-hand item
    (`papermode.reconcile.by_hand`): nothing written here is exported as a dose."""
    sub_h = PAD + SIGN_H + PAD + 0.5
    height = WRITE_IN_TIMES * sub_h
    width = column_width(ctx, len(dates))
    prefix = f"mar.new{number}"

    def draw(body: Body, y: float) -> None:
        body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
        drug = Box(ctx.left + 0.5, y + PAD, INFO_W - 2.0, height - 2 * PAD - SIGN_H - 1.5)
        body.add(write_in(f"{prefix}.drug", "text", drug, role="drug",
                          label=ctx.t("mar.drug_write_in")))  # fmt: skip
        sign = Box(ctx.left + 0.5, drug.y + drug.h + 1.0, INFO_W - 2.0, SIGN_H)
        body.add(write_in(f"{prefix}.prescriber", "signature", sign, role="prescriber",
                          label=ctx.t("new_orders.prescriber")))  # fmt: skip
        for row in range(1, WRITE_IN_TIMES + 1):
            top = y + (row - 1) * sub_h + PAD
            time_box = Box(ctx.left + INFO_W, top, TIME_W - 1.0, SIGN_H)
            body.add(write_in(f"{prefix}.t{row}.time", "signature", time_box,
                              role="write_in_time", label=ctx.t("notes.time")))  # fmt: skip
            for column, day in enumerate(dates):
                x = ctx.left + INFO_W + TIME_W + column * width
                box = Box(x, top, cell_width(), SIGN_H)
                body.add(write_in(f"{prefix}.t{row}.{day:%Y%m%d}.initials", "signature", box,
                                  role="write_in_initials",
                                  label=ctx.t("mar.initials")))  # fmt: skip

    return Row(height, draw)
