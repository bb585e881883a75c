"""The signature legend at the foot of every MAR, PRN, vitals and new-order page.

Initials in a dose cell are read as ink, never as letters, and say nothing about who gave a
dose once the nurse has gone home. Each page therefore carries a small table: initials |
full name (capitals) | signature, four rows, filled once by everyone who initials that page.
Its boxes are in the manifest (`legend.{n}.initials|name|signature`, roles
`legend_initials`, `legend_name`, `legend_signature`); they are read as ink or empty. The
name is handwriting: it is never read as text, a reviewer types it from the crop, and only
then does reconcile (reconcile/performer.py) name the performer.

The legend sits at the bottom of the content area; the form's own body is built with that
much less room (`Ctx.reserve_bottom`), so the two never overlap.
"""

from __future__ import annotations

import dataclasses

from papermode.core.model import Box, Drawing, Field, Line, Text
from papermode.core.pageframe import Frame
from papermode.printing.layout.kit import PT_MM, Ctx, fit, text_width, wrap, write_in

LEGEND_FORMS = frozenset({"mar", "prn", "vitals", "new_orders"})
ROWS = 4
COLUMNS = 2
_TITLE_W = 32.0  # the left column: the legend's title and instruction
_BOX_H = 6.5
_LINE_GAP = 2.5  # between the two lines of boxes (fields stay 2 mm apart)
_BOX_GAP = 2.5  # between boxes of one row
_COLUMN_GAP = 5.0
_LABEL_H = 3.2  # the column labels above the first line of boxes
_TOP_GAP = 1.5  # from the rule to the labels
_ABOVE = 1.5  # free space between the body and the legend's rule
_BELOW = 1.0  # above the content's foot: the bottom markers' quiet zone starts there
_LABEL_PT = 6.0
_PARTS = (("initials", "signature", 0.17), ("name", "text", 0.53), ("signature", "signature", 0.30))


def legend_height() -> float:
    """The legend's height in mm, from its rule to the foot of its last boxes."""
    lines = -(-ROWS // COLUMNS)
    return _TOP_GAP + _LABEL_H + lines * _BOX_H + (lines - 1) * _LINE_GAP


def legend_ctx(ctx: Ctx, form_name: str) -> Ctx:
    """`ctx` for building a form's body: room kept at the foot for the legend."""
    if form_name not in LEGEND_FORMS:
        return ctx
    return dataclasses.replace(ctx, reserve_bottom=legend_height() + _ABOVE + _BELOW)


# The legend is the same on every page of a language and paper size: built once.
_BUILT: dict[tuple[int, str, Frame], tuple[object, tuple[Drawing, ...], tuple[Field, ...]]] = {}


def signature_legend(ctx: Ctx, form_name: str) -> tuple[tuple[Drawing, ...], tuple[Field, ...]]:
    """The legend's drawings and fields for a page of `form_name` (none for other forms)."""
    if form_name not in LEGEND_FORMS:
        return (), ()
    key = (id(ctx.templates), ctx.lang, ctx.frame)
    built = _BUILT.get(key)
    if built is None or built[0] is not ctx.templates:
        if len(_BUILT) > 64:
            _BUILT.clear()
        drawings, fields = _build(ctx)
        built = _BUILT[key] = (ctx.templates, tuple(drawings), tuple(fields))
    return built[1], built[2]


def _build(ctx: Ctx) -> tuple[list[Drawing], list[Field]]:
    content = ctx.frame.content
    top = content.y + content.h - _BELOW - legend_height()
    right = ctx.left + ctx.width
    drawings: list[Drawing] = [Line(ctx.left, top, right, top, 0.3, 0.4)]
    drawings += _title(ctx, top)
    column_w = (right - ctx.left - _TITLE_W - (COLUMNS - 1) * _COLUMN_GAP) / COLUMNS
    fields: list[Field] = []
    for row in range(ROWS):
        line, column = divmod(row, COLUMNS)
        x = ctx.left + _TITLE_W + column * (column_w + _COLUMN_GAP)
        y = top + _TOP_GAP + _LABEL_H + line * (_BOX_H + _LINE_GAP)
        boxes = _row_boxes(x, y, column_w)
        if line == 0:
            drawings += _labels(ctx, boxes)
        for (part, kind, _), box in zip(_PARTS, boxes, strict=True):
            fields.append(write_in(f"legend.{row + 1}.{part}", kind, box, role=f"legend_{part}"))
    return drawings, fields


def _row_boxes(x: float, y: float, width: float) -> list[Box]:
    usable = width - (len(_PARTS) - 1) * _BOX_GAP
    boxes = []
    for _, _, share in _PARTS:
        boxes.append(Box(x, y, usable * share, _BOX_H))
        x += usable * share + _BOX_GAP
    return boxes


def _labels(ctx: Ctx, boxes: list[Box]) -> list[Drawing]:
    return [
        Text(box.x, box.y - 1.2, fit(ctx.t(f"legend.{part}"), box.w, _LABEL_PT), _LABEL_PT)
        for (part, _, _), box in zip(_PARTS, boxes, strict=True)
    ]


def _title(ctx: Ctx, top: float) -> list[Drawing]:
    """The instruction in the left column, as large as fits (never cut)."""
    text, width = ctx.t("legend.title"), _TITLE_W - 2.0
    room = legend_height() - _TOP_GAP
    size = 7.0
    while size > 4.5:
        lines = wrap(text, width, size, bold=True)
        if len(lines) * size * PT_MM * 1.1 <= room and all(
            text_width(line, size, bold=True) <= width for line in lines
        ):
            break
        size -= 0.5
    lines = wrap(text, width, size, bold=True)
    pitch = size * PT_MM * 1.1
    return [
        Text(ctx.left, top + _TOP_GAP + size * PT_MM * 0.8 + index * pitch, line, size, bold=True)
        for index, line in enumerate(lines)
    ]
