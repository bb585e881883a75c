"""PRN (as-needed) record bodies: per PRN order a head (drug, route, the dose to give, its
maximum and minimum interval, a HIGH ALERT / CONTROLLED DRUG band) and entry rows.

Each entry is one dose given: the date (one tick per date of the page's period: a tick is
read far more reliably than two handwritten digits, and a date outside the period cannot be
written), the time (HHMM comb), the dose (comb, its unit printed after it), an injection
site code for SC / IM orders, the nurse's initials, a second nurse's initials for a
high-alert order, a witness's initials for a controlled drug; then the reason (ink), the
re-check time (HHMM comb) and its effect (ink). Boxes flow left to right and wrap onto a
second line when the page is narrow. Field ids: `prn.<order>.<n>.<part>` (`part`: `d<date>`,
`time`, `dose`, `site`, `initials`, `second_initials`, `witness`, `reason`, `effect_time`,
`effect`); the blank page's write-in blocks are `prn.row<k>.<n>.<part>`.

The band is black on white, never text on a grey fill: a black-and-white printer or a
photocopy keeps it readable, and no tick box ever sits on grey (it would read as filled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from papermode.census.drug_classes import is_controlled
from papermode.core.model import Box, Line, Order
from papermode.core.sites import is_injection
from papermode.printing.layout.allergy_flag import flagged_head
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
from papermode.printing.templates import Template

_LABEL_GAP = 2.6  # label baseline above the boxes: descenders ("(mg)") clear the reader's band
_LABEL_H = 4.4  # small labels above each entry's boxes, clear of the band the digit reader
# checks for writing above a comb (1.5 mm)
_BOX_GAP = 3.0  # between two boxes (and a printed unit): wider than the reader's crop margin
_LINE_GAP = 2.0  # between an entry's two lines of boxes (its labels add 4.4 mm)
_LABEL_PT = 6.0
_DOSE_PT = 11.0  # the dose to give: the largest text of the head
_NAME_PT = 9.0
_DETAILS_PT = 7.5
_BAND_MM = 0.6  # the black outline of the high-alert / controlled-drug band
_WRITE_IN_ROWS = 12

Place = Callable[[Body, str, float, float], None]


@dataclass(frozen=True)
class _Slot:
    """One box (or the date ticks) of an entry: the room it takes and how to draw it."""

    width: float
    place: Place  # (body, entry prefix, x, top of the line's labels)


@dataclass(frozen=True)
class _Kind:
    """What the order asks of each entry beyond date, time, dose and initials."""

    high_alert: bool
    controlled: bool
    injection: bool

    @classmethod
    def of(cls, order: Order | None) -> _Kind:
        if order is None:  # a write-in block: every box, the nurse uses what applies
            return cls(True, True, True)
        return cls(order.high_alert, is_controlled(order), is_injection(order.route))


def prn_bodies(ctx: Ctx, form: Template, orders: Sequence[Order]) -> list[Body]:
    """The PRN record pages of one patient: per as-needed order, its head and entry rows
    (the first entry stays with the head; further entries may flow onto the next page)."""
    rows: list[Row] = []
    for order in orders:
        if order.as_needed and not order.do_not_perform:
            kind = _Kind.of(order)
            lines = _head_lines(ctx, order, kind)
            head = _head_height(lines) + 2.0
            # the allergy flag under the facts: layout/allergy_flag.py
            head, draw = flagged_head(ctx, order, head, _head(ctx, lines, kind))
            rows += _entry_rows(ctx, form, f"prn.{order.order_id}", order, head, draw)
    return flow(form, rows, ctx.top, ctx.bottom)


def blank_prn_bodies(ctx: Ctx, form: Template) -> list[Body]:
    """A blank PRN page: blocks of a write-in drug box and entry lines, as many as fit."""
    rows: list[Row] = []
    head = 4.0 + form.g("sign_h")
    for number in range(1, _WRITE_IN_ROWS):
        rows += _entry_rows(ctx, form, f"prn.row{number}", None, head, _drug_box(ctx, form, number))
    return flow(form, rows, ctx.top, ctx.bottom)[:1]


# --------------------------------------------------------------------------- the head

Run = tuple[str, float, bool]  # text, size, bold


def name_without_dose(medication: str, doses: Sequence[str]) -> str:
    """The product name without a strength that repeats the dose to give: "Morphine 2 mg"
    with a dose of 2 mg prints "Morphine" then "2 mg" once. A different strength (a
    concentration, "40 mg/0.4 mL") stays: it is not the dose."""
    name = " ".join(medication.split())
    for dose in doses:
        dose = " ".join(dose.split())
        if dose and name.lower().endswith(" " + dose.lower()):
            return name[: -len(dose)].rstrip()
    return name


def dose_unit(ctx: Ctx, order: Order | None) -> str:
    """The unit printed with the dose comb: the order's, localised; insulin is in units."""
    if order is None:
        return ctx.t("prn.unit_as_written")
    unit = ctx.unit(order.dose_unit)
    if not unit and "insulin" in order.medication.lower():
        unit = ctx.unit("units")
    return unit or ctx.t("prn.unit_as_ordered")


def _head_lines(ctx: Ctx, order: Order, kind: _Kind) -> list[list[Run]]:
    width = ctx.width - 4.0
    lines: list[list[Run]] = []
    if kind.high_alert:
        lines.append(
            [(ctx.t("prn.high_alert"), 9.0, True), (ctx.t("prn.high_alert_note"), 7.0, False)]
        )
    if kind.controlled:
        lines.append(
            [(ctx.t("prn.controlled"), 9.0, True), (ctx.t("prn.controlled_note"), 7.0, False)]
        )
    dose = ctx.order_dose(order)
    name = name_without_dose(ctx.drug(order), (dose, order.dose_text))
    route = ctx.route(order.route)
    title = [(name, _NAME_PT, True), (dose, _DOSE_PT, True), (route, _NAME_PT, True)]
    title = [run for run in title if run[0]]
    if _runs_width(title) <= width:
        lines.append(title)
    else:  # a long product name: its own lines, then the dose and route
        lines += [[(line, _NAME_PT, True)] for line in wrap(name, width, _NAME_PT, bold=True)]
        lines.append([run for run in title[1:] if run[0] != name] or [("", _NAME_PT, False)])
    details = []
    if order.indication:
        details.append(ctx.t("prn.indication", indication=order.indication))
    if order.max_per_period:
        details.append(ctx.t("prn.max", max=ctx.max_per_period(order.max_per_period)))
    interval = _interval(ctx, order)
    if interval:
        details.append(ctx.t("prn.interval", frequency=interval))
    if order.requester:
        details.append(ctx.t("mar.prescriber", name=order.requester))
    text = "  ·  ".join(details)  # every fact in full: the head grows, nothing is cut
    lines += [[(line, _DETAILS_PT, False)] for line in wrap(text, width, _DETAILS_PT)]
    words = "; ".join(ctx.instructions(order))  # "do not give if RR < 10", as on the MAR
    lines += [[(line, _DETAILS_PT, True)] for line in wrap(words, width, _DETAILS_PT, bold=True)]
    if kind.injection:
        sites = wrap(ctx.t("prn.sites"), width, 7.0, bold=False)
        lines += [[(line, 7.0, False)] for line in sites]
    return lines


def _interval(ctx: Ctx, order: Order) -> str:
    """The order's rhythm as its minimum interval ("every 4 hours", "3 times a day"); none
    for "as needed", "once", clock times or events (they say nothing of an interval)."""
    timing = order.timing
    if timing is None or timing.times_of_day or timing.when or timing.events:
        return ""
    words = ctx.frequency(timing)
    return "" if words in (ctx.t("frequencies.PRN"), ctx.t("frequencies.once")) else words


def _runs_width(runs: Sequence[Run]) -> float:
    return sum(text_width(text, size, bold=bold) + 2.0 for text, size, bold in runs)


def _head_height(lines: list[list[Run]]) -> float:
    return 2.5 + sum(max(size for _, size, _ in line) * 0.43 for line in lines)


def _head(ctx: Ctx, lines: list[list[Run]], kind: _Kind) -> Draw:
    def draw(body: Body, y: float) -> None:
        baseline = y + 1.5
        for line in lines:
            baseline += max(size for _, size, _ in line) * 0.43
            x = ctx.left + 2.0
            for text, size, bold in line:
                body.text(x, baseline - 0.6, fit(text, ctx.left + ctx.width - x, size, bold=bold),
                          size, bold=bold)  # fmt: skip
                x += text_width(text, size, bold=bold) + 2.0
        if kind.high_alert or kind.controlled:
            _outline(body, Box(ctx.left + 0.3, y + 0.8, ctx.width - 0.6, baseline - y + 0.6))

    return draw


def _outline(body: Body, box: Box) -> None:
    """A black frame on white (no fill): the band that marks a high-alert or controlled drug."""
    right, bottom = box.x + box.w, box.y + box.h
    for x1, y1, x2, y2 in ((box.x, box.y, right, box.y), (box.x, bottom, right, bottom)):
        body.drawings.append(_line(x1, y1, x2, y2))
    for x in (box.x, right):
        body.drawings.append(_line(x, box.y, x, bottom))


def _line(x1: float, y1: float, x2: float, y2: float) -> Line:
    return Line(x1, y1, x2, y2, _BAND_MM, 0.0)


def _drug_box(ctx: Ctx, form: Template, number: int) -> Draw:
    def draw(body: Body, y: float) -> None:
        box = Box(ctx.left + 0.5, y + 2.0, ctx.width - 1.0, form.g("sign_h"))
        label = ctx.t("mar.drug_write_in")
        body.add(write_in(f"prn.row{number}.drug", "text", box, role="drug", label=label))

    return draw


# --------------------------------------------------------------------------- the entries


def period_dates(ctx: Ctx) -> list[date]:
    """Every calendar date the page's period touches (08:00 to 08:00 three days on: four)."""
    start, end = ctx.period
    last = (end - timedelta(microseconds=1)).date()
    return [start.date() + timedelta(days=d) for d in range((last - start.date()).days + 1)]


def _slots(ctx: Ctx, form: Template, order: Order | None, kind: _Kind) -> list[_Slot]:
    cell_w, cell_h, sign_w = form.g("cell_w"), form.g("cell_h"), form.g("sign_w")
    common = {"order_id": order.order_id if order is not None else None}
    slots = [_dates(ctx, form, common)]

    def digits(part: str, role: str, cells: int, label: str, unit: str = "") -> _Slot:
        room = text_width(unit, 8.0, bold=True) + _BOX_GAP if unit else 0.0
        width = max(cells * cell_w + room, text_width(label, _LABEL_PT))

        def place(body: Body, prefix: str, x: float, y: float) -> None:
            body.text(x, y + _LABEL_H - _LABEL_GAP, label, _LABEL_PT)
            boxes_y = y + _LABEL_H
            body.add(
                comb(f"{prefix}.{part}", x, boxes_y, cells, cell_w, cell_h, role=role, **common)
            )
            if unit:
                body.text(
                    x + cells * cell_w + _BOX_GAP, boxes_y + cell_h * 0.7, unit, 8.0, bold=True
                )

        return _Slot(width, place)

    def ink(part: str, role: str, width: float, label: str, kind_: str = "signature") -> _Slot:
        def place(body: Body, prefix: str, x: float, y: float) -> None:
            body.text(x, y + _LABEL_H - _LABEL_GAP, fit(label, width, _LABEL_PT), _LABEL_PT)
            box = Box(x, y + _LABEL_H, width, form.g("sign_h"))
            body.add(write_in(f"{prefix}.{part}", kind_, box, role=role, **common))

        return _Slot(width, place)

    unit = dose_unit(ctx, order)
    slots.append(digits("time", "time", 4, ctx.t("prn.time")))
    slots.append(
        digits("dose", "dose", form.count("dose_cells"), ctx.t("prn.dose", unit=unit), unit)
    )
    if kind.injection:
        slots.append(digits("site", "site", 1, ctx.t("prn.site")))
    initials = max(sign_w * 0.8, 12.0)
    slots.append(ink("initials", "initials", initials, ctx.t("prn.initials")))
    if kind.high_alert:
        slots.append(ink("second_initials", "second_initials", initials, ctx.t("prn.second_check")))
    if kind.controlled:
        slots.append(ink("witness", "witness", initials, ctx.t("prn.witness")))
    slots.append(_BREAK)
    slots.append(ink("reason", "prn_reason", max(sign_w * 1.5, 20.0), ctx.t("prn.reason"), "text"))
    slots.append(digits("effect_time", "effect_time", 4, ctx.t("prn.effect_time")))
    slots.append(ink("effect", "effect", max(sign_w * 2.0, 30.0), ctx.t("prn.effect"), "text"))
    return slots


def _nothing(body: Body, prefix: str, x: float, y: float) -> None:
    return None


_BREAK = _Slot(0.0, _nothing)  # start the entry's next line here (the after-effects line)


def _dates(ctx: Ctx, form: Template, common: dict[str, str | None]) -> _Slot:
    """One tick per date of the period, in one group: the date the dose was given."""
    size = min(form.g("cell_h"), 5.0)
    labels = [f"{day:%d/%m}" for day in period_dates(ctx)]
    pitch = max(size, max(text_width(label, _LABEL_PT) for label in labels)) + _BOX_GAP

    def place(body: Body, prefix: str, x: float, y: float) -> None:
        for index, day in enumerate(period_dates(ctx)):
            left = x + index * pitch
            body.text(left, y + _LABEL_H - _LABEL_GAP, labels[index], _LABEL_PT)
            top = y + _LABEL_H + (form.g("cell_h") - size) / 2
            field_id, value = f"{prefix}.d{day:%Y%m%d}", day.isoformat()
            group = f"{prefix}.date"
            body.add(
                tick(field_id, left, top, size, role="date", group=group, value=value, **common)
            )

    return _Slot(len(labels) * pitch - _BOX_GAP, place)


def _arrange(slots: Sequence[_Slot], width: float) -> list[list[tuple[_Slot, float]]]:
    """The slots in lines of at most `width` mm, each with its x offset in its line."""
    lines: list[list[tuple[_Slot, float]]] = [[]]
    x = 0.0
    for slot in slots:
        if slot is _BREAK or (lines[-1] and x + slot.width > width):
            lines.append([])
            x = 0.0
        if slot is not _BREAK:
            lines[-1].append((slot, x))
            x += slot.width + _BOX_GAP
    return [line for line in lines if line]


def _line_height(form: Template) -> float:
    return _LABEL_H + max(form.g("cell_h"), form.g("sign_h"))


def _entry_rows(
    ctx: Ctx, form: Template, prefix: str, order: Order | None, head: float, draw_head: Draw
) -> list[Row]:
    """One row per entry; the first carries the block's head (facts or write-in box), and
    an entry that flows onto the next page brings the head with it: a page of entries never
    lacks the drug, its dose and its HIGH ALERT / controlled-drug band."""
    lines = _arrange(_slots(ctx, form, order, _Kind.of(order)), ctx.width - 2.0)
    pitch = len(lines) * _line_height(form) + (len(lines) - 1) * _LINE_GAP + form.g("gap")
    count = form.count("entries")
    repeated = Row(head, _repeated_head(ctx, draw_head))
    rows = []
    for number in range(1, count + 1):
        first, last = number == 1, number == count
        offset = head if first else 0.0
        height = offset + pitch + (2.0 if last else 0.0)
        rows.append(Row(height, _entry(ctx, form, f"{prefix}.{number}", lines, offset,
                                       draw_head if first else None),
                        lead=None if first else repeated))  # fmt: skip
    return rows


def _repeated_head(ctx: Ctx, draw_head: Draw) -> Draw:
    def draw(body: Body, y: float) -> None:
        body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
        draw_head(body, y)

    return draw


def _entry(
    ctx: Ctx,
    form: Template,
    name: str,
    lines: list[list[tuple[_Slot, float]]],
    offset: float,
    draw_head: Draw | None,
) -> Draw:
    def draw(body: Body, y: float) -> None:
        if draw_head is not None:
            body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
            draw_head(body, y)
        else:  # a faint rule between two entries, far from any box
            body.rule(ctx.left + 1.0, y + 0.5, ctx.left + ctx.width - 1.0, grey=0.75, width=0.15)
        top = y + offset
        for line in lines:
            for slot, x in line:
                slot.place(body, name, ctx.left + 1.0 + x, top)
            top += _line_height(form) + _LINE_GAP

    return draw
