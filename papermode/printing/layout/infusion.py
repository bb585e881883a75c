"""MAR band of a continuous infusion: the ordered rate printed large, and entry rows.

An infusion runs until it is stopped, so it gets no "given" tick per hour. Its band shows
the drug and what the bag holds on the left, the ordered rate (and a calculated one) large
on the right, and entry rows the nurse fills at each event: one tick of start / rate
change / bag change / stop (one group), the day and time (DD HHMM), the rate set then in a
digits comb with the unit printed after it, initials, and second initials for a
high-alert drug. Every box is a manifest field tied to the order; none has a scheduled
time. Roles: `infusion_event` (the group's values start, change, bag, stop),
`infusion_time`, `infusion_rate`, `initials`, `second_initials`.
"""

from __future__ import annotations

import math
from datetime import timedelta

from papermode.core.errors import CensusError
from papermode.core.model import Box, Order, Rate, format_quantity
from papermode.printing.layout.kit import Body, Ctx, Draw, Row, comb, fit, tick, wrap, write_in
from papermode.printing.templates import Template

EVENTS = ("start", "change", "bag", "stop")
ROWS_PER_BAND = 6
ROWS_PER_DAY = 6  # a band of entry rows per started day of the printed period
_HEAD_H = 18.0  # the rate line, two legend lines and the column labels
_TICK_GAP = 1.5
_TIME_CELLS = 6  # DD HHMM
_X_TIME, _X_RATE, _X_INITIALS = 27.0, 60.0, 104.0
_SIGN_W = 16.0
_RATE_PT = 14.0


def infusion_rows(ctx: Ctx, form: Template, order: Order) -> list[Row]:
    """The bands of one continuous infusion: enough entry rows for the printed period."""
    start, end = ctx.period
    days = max(1, math.ceil((end - start) / timedelta(hours=24)))
    bands = max(1, math.ceil(days * ROWS_PER_DAY / ROWS_PER_BAND))
    # the facts column prints in full (notes, SIG): a long one makes every band taller
    height = max(band_height(form), _facts_height(_facts_lines(ctx, form, order)))
    if height > ctx.bottom - ctx.top:
        raise CensusError(
            ctx.snapshot.source,
            [f"order {order.order_id}: its text needs more than a page of the MAR's infusion "
             "band; shorten its instructions, notes or dosage text in the record"],
        )  # fmt: skip
    return [Row(height, _band(ctx, form, order, number, height)) for number in range(bands)]


def band_height(form: Template) -> float:
    return _HEAD_H + ROWS_PER_BAND * _entry_h(form) + 1.5


def _entry_h(form: Template) -> float:
    return max(form.g("tick_size"), form.g("cell_h"), form.g("sign_h")) + 1.5


def rate_cells(rate: Rate) -> tuple[int, int]:
    """(cells, decimals) of the new-rate comb: room for twice the ordered rate."""
    values = [rate.value] + ([rate.high] if rate.high is not None else [])
    written = [format_quantity(v).partition(".")[2] for v in values]
    decimals = min(2, max(len(w) for w in written))
    if decimals == 0 and max(values) < 100:
        decimals = 1
    whole = max(2, len(str(int(2 * max(values)))))
    return min(6, whole + decimals), decimals


def _band(ctx: Ctx, form: Template, order: Order, number: int, height: float) -> Draw:
    def draw(body: Body, y: float) -> None:
        _order_facts(ctx, form, order, body, y, height)
        x = ctx.left + form.g("info_w") + 2.0
        _rate_head(ctx, order, body, x, y)
        _column_labels(ctx, form, body, x, y + _HEAD_H - 1.0)
        for index in range(ROWS_PER_BAND):
            row = number * ROWS_PER_BAND + index + 1
            top = y + _HEAD_H + index * _entry_h(form)
            _entry(ctx, form, order, body, (x, top), f"mar.{order.order_id}.inf{row:02d}")

    return draw


def _facts_lines(ctx: Ctx, form: Template, order: Order) -> list[tuple[str, float, bool]]:
    """The left column's lines, every fact in full: the drug, the bag's content and route,
    the bounds, the instructions, notes and SIG (a long one was cut with an ellipsis)."""
    width = form.g("info_w") - 2.0
    lines = [(fit(ctx.t("mar.infusion"), width, 7.0, bold=True), 7.0, True)]
    if order.high_alert:
        lines.insert(0, (fit(ctx.t("mar.high_alert"), width, 9.0, bold=True), 9.0, True))
    lines += [(line, 8.5, True) for line in wrap(ctx.drug(order), width, 8.5, bold=True)]
    content = " ".join(p for p in (ctx.order_dose(order), ctx.route(order.route)) if p)
    lines += [(line, 8.0, False) for line in wrap(content, width, 8.0)]
    lines += [(fit(bound, width, 7.5, bold=True), 7.5, True) for bound in _bounds(ctx, order)]
    words = ctx.instructions(order)
    lines += [(line, 6.5, True) for line in wrap("; ".join(words), width, 6.5, bold=True)]
    if order.requester:
        prescriber = ctx.t("mar.prescriber", name=order.requester)
        lines += [(line, 6.5, False) for line in wrap(prescriber, width, 6.5)]
    if order.high_alert:
        lines += [(line, 6.5, False) for line in wrap(ctx.t("mar.double_check"), width, 6.5)]
    return lines


def _facts_height(lines: list[tuple[str, float, bool]]) -> float:
    return 4.2 + sum(size * 0.43 for _, size, _ in lines) + 1.0


def _order_facts(
    ctx: Ctx, form: Template, order: Order, body: Body, y: float, height: float
) -> None:
    """The left column: what runs (drug, bag content, route) and the prescriber's words."""
    if order.high_alert:
        body.shade(Box(ctx.left, y + 0.3, form.g("info_w"), height - 0.8))
    baseline = y + 4.2
    for text, size, bold in _facts_lines(ctx, form, order):
        body.text(ctx.left + 1.0, baseline, text, size, bold=bold)
        baseline += size * 0.43
    body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)


def _bounds(ctx: Ctx, order: Order) -> list[str]:
    """ "from 29 Nov 08:00", "until 30 Nov 12:00": when the infusion may run (its bounds)."""
    timing = order.timing
    start = timing.bounds_start if timing is not None else None
    end = timing.bounds_end if timing is not None else None
    parts = []
    if start is not None:
        parts.append(ctx.t("mar.infusion_from", moment=ctx.stamp(start)))
    if end is not None:
        parts.append(ctx.t("mar.infusion_until", moment=ctx.stamp(end - timedelta(seconds=1))))
    return parts


def _rate_head(ctx: Ctx, order: Order, body: Body, x: float, y: float) -> None:
    assert order.rate is not None  # the census gives every continuous infusion a rate
    label = ctx.t("mar.infusion_rate")
    body.text(x, y + 5.5, label, 7.5, bold=True)
    rate_x = x + 28.0
    room = ctx.left + ctx.width - rate_x - 1.0
    ordered = fit(_rate_text(ctx, order.rate), room, _RATE_PT, bold=True)
    body.text(rate_x, y + 6.5, ordered, _RATE_PT, bold=True)
    if order.calculated_rate is not None:
        calculated = ctx.t("mar.infusion_calculated", rate=_rate_text(ctx, order.calculated_rate))
        body.text(ctx.left + ctx.width - 1.0, y + 6.5, calculated, 7.0, align="right")
    legend = ctx.t("mar.infusion_legend", **{e: ctx.t(f"mar.infusion_{e}") for e in EVENTS})
    for index, line in enumerate(wrap(legend, ctx.left + ctx.width - x - 1.0, 6.5, lines=2)):
        body.text(x, y + 10.3 + 2.9 * index, line, 6.5)


def _rate_text(ctx: Ctx, rate: Rate) -> str:
    """ "7.5 mL/h", "2-10 units/h": the amount, and the unit as the form's language prints it."""
    return ctx.dose(rate.value, rate.unit, rate.high)


def _column_labels(ctx: Ctx, form: Template, body: Body, x: float, baseline: float) -> None:
    size = form.g("tick_size")
    for index, event in enumerate(EVENTS):
        centre = x + index * (size + _TICK_GAP) + size / 2
        body.text(centre, baseline, ctx.t(f"mar.infusion_{event}"), 6.0, bold=True, align="centre")
    body.text(x + _X_TIME, baseline, ctx.t("mar.infusion_when"), 6.0)
    body.text(x + _X_RATE, baseline, ctx.t("mar.infusion_new_rate"), 6.0)


def _entry(
    ctx: Ctx, form: Template, order: Order, body: Body, at: tuple[float, float], prefix: str
) -> None:
    """One entry row: event ticks, DD HHMM, the new rate and its unit, initials."""
    x, top = at
    assert order.rate is not None
    common = {"order_id": order.order_id}
    size = form.g("tick_size")
    for index, event in enumerate(EVENTS):
        left = x + index * (size + _TICK_GAP)
        body.add(tick(f"{prefix}.{event}", left, top, size, role="infusion_event", group=prefix,
                      value=event, **common))  # fmt: skip
    cell_w, cell_h = form.g("cell_w"), form.g("cell_h")
    body.add(comb(f"{prefix}.time", x + _X_TIME, top, _TIME_CELLS, cell_w, cell_h,
                  role="infusion_time", **common))  # fmt: skip
    cells, decimals = rate_cells(order.rate)
    body.add(comb(f"{prefix}.rate", x + _X_RATE, top, cells, cell_w, cell_h, decimals=decimals,
                  role="infusion_rate", label=order.rate.unit, **common))  # fmt: skip
    unit_x = x + _X_RATE + cells * cell_w + 1.0
    unit = fit(ctx.unit(order.rate.unit), x + _X_INITIALS - unit_x - 1.0, 7.0)
    body.text(unit_x, top + cell_h - 2.0, unit, 7.0)
    sign = Box(x + _X_INITIALS, top, _SIGN_W, form.g("sign_h"))
    body.add(write_in(f"{prefix}.initials", "signature", sign, role="initials",
                      label=ctx.t("mar.initials"), **common))  # fmt: skip
    if order.high_alert:
        second = Box(sign.x + _SIGN_W + 2.0, top, _SIGN_W, sign.h)
        body.add(write_in(f"{prefix}.second_initials", "signature", second,
                          role="second_initials", label=ctx.t("mar.second_initials"),
                          **common))  # fmt: skip
