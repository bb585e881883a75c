"""The MAR's order column, shared by the per-day and the multi-day MAR.

The column prints every fact of the order in full: drug, the dose to give, route,
frequency, instructions, the SIG and the prescriber. It never drops a line to fit: the
band grows instead (`order_column_height`), so what the record says is what the nurse reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from papermode.census.drug_classes import is_controlled
from papermode.core.errors import CensusError
from papermode.core.model import Box, Order
from papermode.core.sites import is_injection
from papermode.printing.layout import wording
from papermode.printing.layout.kit import (
    Body,
    Ctx,
    comb,
    fit,
    text_width,
    tick,
    wrap,
    write_in,
)

PAD = 1.0
STOP_TICK = 5.0  # the "stopped" tick box and its initials box, at the order column's foot
STOP_H = STOP_TICK + 2.0  # the tick row, and the descent of the text line above it
DOSE_PT = 9.5  # the dose to give: the largest text of the order column
DOSES_PT = 8.0  # a dose list by time ("200 mg 08:00", "400 mg 20:00"): bold, 3 lines each
_FIRST_BASELINE = 3.2
_LINE_PITCH = 0.43  # mm of line pitch per point of text size


@dataclass(frozen=True)
class SecondPerson:
    """The second person's box of a dose cell: a high-alert order's independent double
    check (`second_initials`), a controlled drug's witness (`witness`). One box when the
    order is both (morphine, oxycodone): the second nurse who checks is the witness, as on
    paper charts; reconcile records both functions from it."""

    role: str  # "second_initials" or "witness"
    label_key: str  # "mar.second_witness" when the one box is both


def second_person(order: Order) -> SecondPerson | None:
    """The second person's box the order's dose cells ask for, if any."""
    controlled = is_controlled(order)
    if order.high_alert:
        key = "mar.second_witness" if controlled else "mar.second_initials"
        return SecondPerson("second_initials", key)
    if controlled:
        return SecondPerson("witness", "mar.witness")
    return None


def stamp_id(moment: datetime) -> str:
    """The readable, stable time part of a field id: 20261128T0800."""
    return moment.strftime("%Y%m%dT%H%M")


def order_lines(ctx: Ctx, order: Order, width: float) -> list[tuple[str, float, bool]]:
    """The printed facts of an order, as (text, size, bold) lines for the order column.

    ISMP: the dose to give is the most prominent text (bold, larger); the product and its
    strength ("Enoxaparine 40 mg/0,4 mL") are secondary (plain, smaller), so a nurse does
    not read the strength as the dose. Every fact wraps onto as many lines as it needs.
    """
    lines = [(line, 8.0, False) for line in wrap(ctx.drug(order), width, 8.0)]
    doses = wording.order_doses(ctx.t, ctx.lang, order)  # a taper: one step per line
    size = (
        DOSE_PT
        if len(doses) == 1 and len(wrap(doses[0], width, DOSE_PT, bold=True)) == 1
        else DOSES_PT
    )
    lines += [(line, size, True) for dose in doses for line in wrap(dose, width, size, bold=True)]
    if order.route:
        lines += [(line, 8.0, False) for line in wrap(ctx.route(order.route), width, 8.0)]
    timing = ctx.frequency(order.timing) if len(order.dosages) <= 1 else ""  # in each dose
    if timing:
        lines += [(line, 8.0, False) for line in wrap(timing, width, 8.0)]
    words = ctx.instructions(order)  # "hold if heart rate < 55"
    if words:
        lines += [(line, 6.5, True) for line in wrap("; ".join(words), width, 6.5, bold=True)]
    if order.requester:
        prescriber = ctx.t("mar.prescriber", name=order.requester)
        lines += [(line, 6.5, False) for line in wrap(prescriber, width, 6.5)]
    if has_site_box(order):  # the site codes beside the cells that ask for them
        lines += [(line, 6.0, False) for line in wrap(ctx.t("mar.sites"), width, 6.0)]
    if order.high_alert:
        lines.insert(0, (fit(ctx.t("mar.high_alert"), width, 9.0, bold=True), 9.0, True))
        lines += [(line, 6.5, False) for line in wrap(ctx.t("mar.double_check"), width, 6.5)]
    if is_controlled(order) and not (order.continuous or order.do_not_perform):
        at = 1 if order.high_alert else 0  # under HIGH ALERT, above the drug; never cut
        label = [(line, 8.0, True) for line in wrap(ctx.t("mar.controlled"), width, 8.0, bold=True)]
        lines[at:at] = label
        note = ctx.t("mar.controlled_note")
        lines += [(line, 6.5, False) for line in wrap(note, width, 6.5)]
    return lines


def has_site_box(order: Order) -> bool:
    """An SC / IM order with dose cells: each cell has an injection-site box."""
    return is_injection(order.route) and not (order.continuous or order.do_not_perform)


def order_column_height(ctx: Ctx, order: Order, info_w: float, *, room: float) -> float:
    """The band height the order column needs to print every line, with its stop row.

    CensusError (exit 3, nothing printed) naming the order when even a whole page (`room`
    mm) cannot hold it: the record must shorten it; the page edge never cuts it."""
    lines = order_lines(ctx, order, info_w - 2.0)
    text = _FIRST_BASELINE + sum(size * _LINE_PITCH for _, size, _ in lines)
    height = PAD + text + 0.5 + STOP_H + PAD + 0.5
    if height > room:
        raise CensusError(
            ctx.snapshot.source,
            [f"order {order.order_id}: its text needs more than a page of the MAR's order "
             "column; shorten its instructions or dosage text in the record"],
        )  # fmt: skip
    return height


def order_column(
    ctx: Ctx, order: Order, body: Body, y: float, *, height: float, info_w: float
) -> None:
    """Draw the order column of a band `height` mm tall (at least `order_column_height`)."""
    width = info_w - 2.0
    inner = height - 0.5
    if order.high_alert:
        # the stop row stays white: a tick box on a grey fill reads as filled in
        body.shade(Box(ctx.left, y + 0.3, info_w, inner - 0.3 - STOP_H))
    baseline = y + PAD + _FIRST_BASELINE
    for text, size, bold in order_lines(ctx, order, width):
        body.text(ctx.left + 1.0, baseline, text, size, bold=bold)
        baseline += size * _LINE_PITCH
    body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)


def stop_boxes(
    ctx: Ctx, body: Body, order: Order, y: float, *, height: float, info_w: float
) -> None:
    """The order stopped on paper: a "stopped" tick and the stopping nurse's initials, once
    per order (its first band), at the foot of the order column. Read like any tick box; a
    stop a reviewer confirmed ends the order at `reprint` (papermode/printing/reprint.py)."""
    bottom = y + height - 0.5 - PAD
    top = bottom - STOP_TICK
    column_end = ctx.left + info_w - 1.0
    label = fit(ctx.t("mar.stop"), max(info_w * 0.45, 4.0), 6.5, bold=True)
    body.text(ctx.left + 1.0, bottom - 1.0, label, 6.5, bold=True)
    tick_x = ctx.left + 2.0 + text_width(label, 6.5, bold=True)
    if tick_x + STOP_TICK > column_end:
        return  # an order column too narrow for it (a template's own geometry)
    common = {"order_id": order.order_id}
    prefix = f"mar.{order.order_id}.stop"
    body.add(tick(f"{prefix}.box", tick_x, top, STOP_TICK, role="stop", **common))
    sign_x = tick_x + STOP_TICK + 2.0
    if column_end - sign_x < 8.0:
        return
    sign = Box(sign_x, top, min(column_end - sign_x, 24.0), STOP_TICK)
    body.add(
        write_in(
            f"{prefix}.initials",
            "signature",
            sign,
            role="stop_initials",
            label=ctx.t("mar.initials"),
            **common,
        )
    )


def injection_site_box(
    ctx: Ctx,
    body: Body,
    x: float,
    top: float,
    prefix: str,
    common: Mapping[str, Any],
    width: float,
    height: float,
) -> None:
    """One comb cell for the injection site's number (`papermode.core.sites`), under the
    reason box; the order column's legend says so. No printed label: black text beside it
    would fall into the initials box on its left. Read like the reason box: a number not
    in the legend goes to review."""
    label = ctx.t("mar.site")
    body.add(comb(f"{prefix}.site", x, top, 1, width, height, role="site", label=label,
                  **common))  # fmt: skip
