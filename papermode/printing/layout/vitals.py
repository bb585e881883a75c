"""The vital-signs chart: blocks of time columns, one row per sign of the template.

A row is a comb (a measured value), a group of tick boxes, one per answer (ACVPU, air or
an oxygen device, the SpO2 scale: `kind = "choice"`), or a write-in box (`kind = "ink"`,
another observation). Columns are as wide as the page allows once the most columns that fit
are placed; the write-in row takes the height a single block leaves over, so a one-day
chart fills its page instead of leaving most of it blank (and is left out when less than
10 mm is left).

A group's answers sit two to a row inside each column (A C / V P / U), each tick with its
key printed beside it (the first word of its label: `A` of "A alert"), and the label column
names a row's answers one line each. Stacked one to a row, the ACVPU and oxygen ticks took
63 mm of a column and the chart did not fit one page above the signature legend: a patient's
chart on US Letter had no write-in row, a blank pack's ran over two pages.

A patient's chart prints each column's date and time. A blank pack's chart (`times=None`)
prints none: each column has a time comb the nurse writes (role `obs_time`), since blank
packs are used on any day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from papermode.core.model import Box
from papermode.printing.layout.kit import (
    Body,
    Ctx,
    Draw,
    Row,
    chunks,
    comb,
    fit,
    flow,
    tick,
    write_in,
)
from papermode.printing.layout.mar import stamp_id
from papermode.printing.templates import MIN_GAP_MM, Template, Vital, answer_key

TICK_MM = 5.0  # the vitals template has no tick_size: the templates' minimum tick
_HEAD_MM = 9.0  # date and time of each column
_GROUP_LABEL_MM = 3.0  # the group's name above its tick rows
TICKS_PER_ROW = 2  # a group's answers side by side in a column (its narrowest is 4 cells)
_TICK_X_MM = 1.0  # a column's first tick, right of the column's left edge
_KEY_GAP_MM = 1.0  # from a tick to its key (as the blank pack's sex ticks)
_KEY_PT = 7.0
_ANSWER_MM = TICK_MM + _KEY_GAP_MM + 3.0  # a tick, its key (one bold letter) and a space
_ANSWER_LINE_MM = 3.5  # the label column: one line per answer of a tick row
_INK_MIN_MM = 10.0
_INK_MAX_MM = 40.0
_BLANK_COLUMNS = 12  # a blank pack's chart: columns offered (one page keeps what fits)
_LABEL_PT = 7.5


def vitals_times(ctx: Ctx, form: Template) -> list[datetime]:
    """Observation times over the period: `settings.vitals_times` (times of day) when given,
    else every `settings.vitals_every_hours` (or the template's `every_hours`) from midnight."""
    start, end = ctx.period
    times_of_day = getattr(ctx.settings, "vitals_times", None) or ()
    if times_of_day:
        days = range((end.date() - start.date()).days + 1)
        moments = [
            datetime.combine(start.date() + timedelta(days=d), t)
            for d in days
            for t in times_of_day
        ]
        times = sorted(m for m in moments if start <= m < end)
    else:
        every = _hours(getattr(ctx.settings, "vitals_every_hours", None)) or form.g("every_hours")
        step = timedelta(hours=every)
        moment = start.replace(hour=0, minute=0, second=0, microsecond=0)
        moment += step * max(0, int((start - moment) / step))
        times = []
        while moment < end:
            if moment >= start:
                times.append(moment)
            moment += step
    return times or [start.replace(second=0, microsecond=0)]


def _hours(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value >= 0.5 else None


def _row_pitch(form: Template) -> float:
    return max(form.g("cell_h"), form.g("sign_h")) + form.g("gap")


def _tick_pitch(form: Template) -> float:
    return TICK_MM + MIN_GAP_MM  # tick rows of one group as tight as boxes may be


def _ticks_per_row(vital: Vital) -> int:
    """A group's answers side by side; a single tick (SpO2 scale 2) alone, without a key."""
    return TICKS_PER_ROW if len(vital.choices) > 1 else 1


def _tick_rows(vital: Vital) -> list[tuple[str, ...]]:
    return [tuple(row) for row in chunks(vital.choices, _ticks_per_row(vital))]


def _vital_height(form: Template, vital: Vital, ink_h: float) -> float:
    if vital.kind == "choice":
        label = _GROUP_LABEL_MM if len(vital.choices) > 1 else 0.0
        # the tick pitch leaves MIN_GAP_MM under the last row: nothing more is needed
        return label + len(_tick_rows(vital)) * _tick_pitch(form)
    if vital.kind == "ink":
        return ink_h + form.g("gap") if ink_h > 0 else 0.0
    return _row_pitch(form)


def _head_height(form: Template, blank: bool) -> float:
    """Printed date and time, or (blank pack) a time comb and the gap under it."""
    return _TIME_COMB_TOP + form.g("cell_h") + MIN_GAP_MM if blank else _HEAD_MM


# A blank pack's time comb sits 2 mm under the block's rule: a dark rule right on a box
# edge looks like its border to the reader.
_TIME_COMB_TOP = 2.0


def block_height(
    form: Template,
    ink_h: float = _INK_MIN_MM,
    *,
    blank: bool = False,
    vitals: Sequence[Vital] | None = None,
    initials: bool = True,
) -> float:
    """One block of columns: the time heads, its rows (all), the initials row. Every row's
    height ends with the gap under its boxes, so the block keeps MIN_GAP_MM (at least) free
    above whatever follows: the next block, or the signature legend at the page's foot."""
    rows = sum(_vital_height(form, vital, ink_h) for vital in form.vitals if vitals is None
               or vital in vitals)  # fmt: skip
    return _head_height(form, blank) + rows + (_row_pitch(form) if initials else 0.0)


def _parts(form: Template, room: float, blank: bool) -> list[tuple[Vital, ...]]:
    """The rows split into parts that each fit a page (large template geometry); the
    initials row comes with the last part. One part when the whole block fits."""
    parts: list[list[Vital]] = [[]]
    for vital in form.vitals:
        trial = [*parts[-1], vital]
        # the write-in row can be left out (ink_h 0): split only what cannot fit without it
        if parts[-1] and block_height(form, 0.0, blank=blank, vitals=trial, initials=False) > room:
            parts.append([vital])
        else:
            parts[-1] = trial
    if block_height(form, 0.0, blank=blank, vitals=parts[-1]) > room:
        parts.append([])  # the initials row alone
    return [tuple(part) for part in parts]


def column_layout(ctx: Ctx, form: Template) -> tuple[int, float]:
    """(columns per block, column pitch in mm): as many as fit, spread over the width."""
    least = max((v.cells for v in form.vitals), default=3) * form.g("cell_w") + form.g("gap")
    least = max(least, 4 * form.g("cell_w") + form.g("gap"))  # a blank pack's time comb
    least = max(least, _TICK_X_MM + TICKS_PER_ROW * _ANSWER_MM + form.g("gap"))  # tick rows
    room = ctx.width - form.g("label_w")
    per_block = max(1, int(room // least))
    return per_block, room / per_block


def vitals_bodies(
    ctx: Ctx, form: Template, times: Sequence[datetime] | None = (), *, first: int = 1
) -> list[Body]:
    """The chart's pages. `times` () means the period's observation times; None a blank
    pack's chart with a written time per column (`first`: number of its first column)."""
    per_block, pitch = column_layout(ctx, form)
    if times is None:
        columns: list[datetime | None] = [None] * per_block
    else:
        columns = list(times or vitals_times(ctx, form))
    blocks = list(chunks(columns, per_block))
    room, blank = ctx.bottom - ctx.top, times is None
    parts = _parts(form, room, blank)
    if len(parts) > 1:  # a block taller than a page: its rows over several pages
        return flow(form, [_part_row(ctx, form, list(run), pitch, first + index * per_block,
                                     part, part is parts[-1], room)
                           for index, run in enumerate(blocks) for part in parts], ctx.top,
                    ctx.bottom)  # fmt: skip
    ink_h = _INK_MIN_MM
    if len(blocks) == 1 or block_height(form, blank=blank) * 2 > room:
        # One block a page: the write-in row gets the height left, or is left out when
        # there is too little; the write-in row's own gap under it comes off what is left.
        spare = room - block_height(form, 0.0, blank=blank) - form.g("gap")
        ink_h = min(_INK_MAX_MM, spare) if spare >= _INK_MIN_MM else 0.0
    height = block_height(form, ink_h, blank=blank)
    rows = [
        Row(height, _block(ctx, form, list(run), pitch, ink_h, first + index * per_block))
        for index, run in enumerate(blocks)
    ]
    return flow(form, rows, ctx.top, ctx.bottom)


def blank_vitals_bodies(ctx: Ctx, form: Template) -> list[Body]:
    """A blank pack's chart: one block of undated columns, each with its written time."""
    return vitals_bodies(ctx, form, None)


def _part_row(
    ctx: Ctx,
    form: Template,
    columns: list[datetime | None],
    pitch: float,
    first: int,
    part: tuple[Vital, ...],
    last: bool,
    room: float,
) -> Row:
    blank = bool(columns) and columns[0] is None
    ink_h = _INK_MIN_MM  # the write-in row, or none when the part would not fit with it
    if block_height(form, ink_h, blank=blank, vitals=part, initials=last) > room:
        ink_h = 0.0
    height = block_height(form, ink_h, blank=blank, vitals=part, initials=last)
    return Row(height, _block(ctx, form, columns, pitch, ink_h, first, part, last))


def _prefix(moment: datetime | None, number: int) -> str:
    return f"vitals.{stamp_id(moment)}" if moment is not None else f"vitals.col{number}"


def _block(
    ctx: Ctx,
    form: Template,
    columns: list[datetime | None],
    pitch: float,
    ink_h: float,
    first: int,
    vitals: Sequence[Vital] | None = None,
    initials: bool = True,
) -> Draw:
    rows = form.vitals if vitals is None else vitals

    def draw(body: Body, y: float) -> None:
        body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
        x0 = ctx.left + form.g("label_w")
        _heads(ctx, form, body, columns, x0, pitch, y, first)
        top = y + _head_height(form, blank=bool(columns) and columns[0] is None)
        for vital in rows:
            top = _vital_row(ctx, form, body, vital, columns, x0, pitch, top, ink_h, first)
        if not initials:
            return
        _label(ctx, form, body, ctx.t("vitals.initials"), top + 4.8)
        for index, moment in enumerate(columns):
            box = Box(x0 + index * pitch, top, pitch - form.g("gap"), form.g("sign_h"))
            field_id = f"{_prefix(moment, first + index)}.initials"
            body.add(write_in(field_id, "signature", box, role="initials", scheduled=moment))

    return draw


def _heads(
    ctx: Ctx,
    form: Template,
    body: Body,
    columns: list[datetime | None],
    x0: float,
    pitch: float,
    y: float,
    first: int,
) -> None:
    """Each column's printed date and time, or a time comb the nurse fills in."""
    for index, moment in enumerate(columns):
        x = x0 + index * pitch
        if moment is not None:
            body.text(x, y + 3.5, ctx.short_date(moment), 6.5)
            body.text(x, y + 7.0, f"{moment:%H:%M}", 7.5, bold=True)
            continue
        field_id = f"{_prefix(None, first + index)}.time"
        cell_w = form.g("cell_w")
        body.add(
            comb(field_id, x, y + _TIME_COMB_TOP, 4, cell_w, form.g("cell_h"), role="obs_time")
        )
    if columns and columns[0] is None:
        _label(ctx, form, body, ctx.t("vitals.time_hhmm"), y + 6.0)


def _label(
    ctx: Ctx, form: Template, body: Body, text: str, y: float, size: float = _LABEL_PT, **style: Any
) -> None:
    body.text(ctx.left, y, fit(text, form.g("label_w") - 1, size, **style), size, **style)


def _vital_row(
    ctx: Ctx,
    form: Template,
    body: Body,
    vital: Vital,
    columns: list[datetime | None],
    x0: float,
    pitch: float,
    top: float,
    ink_h: float,
    first: int,
) -> float:
    """Draw one row of every column; returns the top of the next row."""
    common = {"role": "vital", "code": vital.code}
    if vital.kind == "choice":
        return _choice_rows(ctx, form, body, vital, columns, x0, pitch, top, first)
    if vital.kind == "ink":
        if ink_h <= 0:
            return top
        _label(ctx, form, body, ctx.t(vital.label), top + 4.8)
        for index, moment in enumerate(columns):
            box = Box(x0 + index * pitch, top, pitch - form.g("gap"), ink_h)
            field_id = f"{_prefix(moment, first + index)}.{vital.name}"
            body.add(write_in(field_id, "text", box, scheduled=moment, **common))
        return top + ink_h + form.g("gap")
    _label(ctx, form, body, ctx.t(vital.label), top + 4.8)
    for index, moment in enumerate(columns):
        field_id = f"{_prefix(moment, first + index)}.{vital.name}"
        x = x0 + index * pitch
        cells, cell_w = vital.cells, form.g("cell_w")
        body.add(comb(field_id, x, top, cells, cell_w, form.g("cell_h"), scheduled=moment,
                      decimals=vital.decimals, **common))  # fmt: skip
    return top + _row_pitch(form)


def _choice_rows(
    ctx: Ctx,
    form: Template,
    body: Body,
    vital: Vital,
    columns: list[datetime | None],
    x0: float,
    pitch: float,
    top: float,
    first: int,
) -> float:
    """The answers of one column form one group (one tick), TICKS_PER_ROW to a row, each
    tick with its key beside it; the label column names each row's answers."""
    if len(vital.choices) > 1:
        _label(ctx, form, body, ctx.t(vital.label), top + _GROUP_LABEL_MM - 0.4, bold=True)
        top += _GROUP_LABEL_MM
    slot = (pitch - form.g("gap") - _TICK_X_MM) / _ticks_per_row(vital)
    keyed = len(vital.choices) > 1  # a single tick (SpO2 scale 2) needs no key
    for row in _tick_rows(vital):
        _answer_labels(ctx, form, body, vital, row, top)
        keys = [answer_key(ctx.t(vital.choice_label(choice))) for choice in row]
        for index, moment in enumerate(columns):
            group = f"{_prefix(moment, first + index)}.{vital.name}"
            for place, (choice, key) in enumerate(zip(row, keys, strict=True)):
                x = x0 + index * pitch + _TICK_X_MM + place * slot
                body.add(tick(f"{group}.{choice}", x, top, TICK_MM, role="vital", code=vital.code,
                              group=group, value=choice, scheduled=moment))  # fmt: skip
                if keyed:
                    x_key, baseline = x + TICK_MM + _KEY_GAP_MM, top + TICK_MM - 0.8
                    body.text(x_key, baseline, key, _KEY_PT, bold=True)
        top += _tick_pitch(form)
    return top


def _answer_labels(
    ctx: Ctx, form: Template, body: Body, vital: Vital, row: tuple[str, ...], top: float
) -> None:
    """A tick row's answers in the label column: one alone on the tick's line, two on a line
    each (left tick first), so the label column reads in the ticks' order."""
    if len(row) == 1:
        _label(ctx, form, body, ctx.t(vital.choice_label(row[0])), top + TICK_MM - 0.8)
        return
    for line, choice in enumerate(row):
        baseline = top + _ANSWER_LINE_MM * (line + 1) - 1.0
        _label(ctx, form, body, ctx.t(vital.choice_label(choice)), baseline, size=7.0)
