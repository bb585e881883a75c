"""The ALLERGY flag beside an order on the MAR and the PRN record.

During a downtime the record system's allergy check is gone, so an order whose medicine
matches one of the patient's allergies (census/drug_classes.py: the substance, its class, or
a documented possible cross-reactivity) is printed with a bold, black-outlined marker:
"ALLERGY: penicillin (penicillins)". Black on white, never a grey fill (a photocopy turns
grey into noise). It sits inside the order's own band, between its boxes and the next
order's rule, and spans the page width so it is never cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from papermode.census.drug_classes import (
    AllergyConflict,
    allergy_conflicts,
    drug_table,
    normalise,
)
from papermode.core.model import Box, Drawing, Line, Order, Text
from papermode.printing.layout.kit import PT_MM, Body, Ctx, Draw, Row, wrap

FLAG_PT = 7.5
_OUTLINE_MM = 0.5  # bold: more than twice a field border
_PAD_MM = 1.0  # inside the outline, around the text
_MARGIN_MM = 1.0  # outside the outline: clear of the order's boxes and the next rule
_PITCH = FLAG_PT * PT_MM * 1.15


def order_conflicts(ctx: Ctx, order: Order) -> tuple[AllergyConflict, ...]:
    """The page patient's allergies that `order` matches; none on blank pages."""
    if ctx.patient is None or order.do_not_perform:
        return ()
    return allergy_conflicts(ctx.patient, order)


def class_name(ctx: Ctx, label: str) -> str:
    """A class as the form's language names it ("pénicillines", "AINS"); a class a hospital
    added to the table without a translation prints its own label."""
    keys = {name: key for key, name in drug_table().labels.items()}
    key = keys.get(label, label)
    return ctx.templates.translations[ctx.lang].get(f"drug_classes.{key}", label)


def flag_text(ctx: Ctx, conflicts: Sequence[AllergyConflict]) -> str:
    """ "ALLERGY: penicillin (penicillins)", one phrase per matching allergy."""
    parts = []
    for conflict in conflicts:
        key = {"substance": "flag", "class": "flag_class", "cross-reactivity": "flag_cross"}
        via = class_name(ctx, conflict.via)
        kind = conflict.kind
        if kind == "class" and normalise(conflict.allergy) == normalise(via):
            kind = "substance"  # "ALLERGIE : Sulfamides", not "Sulfamides (sulfamides)"
        text = ctx.t(f"allergies.{key[kind]}", allergy=conflict.allergy, via=via)
        if (conflict.criticality or "").lower() == "high":
            text = f"{text} {ctx.t('allergies.high')}"
        elif (conflict.criticality or "").lower() == "unable-to-assess":
            text = f"{text} {ctx.t('allergies.unassessed')}"
        parts.append(text)
    return "   ".join(parts)


def flag_lines(ctx: Ctx, conflicts: Sequence[AllergyConflict], width: float) -> list[str]:
    """The flag's text wrapped to the box (as many lines as it needs: never cut)."""
    return wrap(flag_text(ctx, conflicts), width - 2 * _PAD_MM, FLAG_PT, bold=True)


def flag_height(lines: Sequence[str]) -> float:
    """The flag's outlined box, and its margins, in mm."""
    return 2 * (_MARGIN_MM + _PAD_MM) + len(lines) * _PITCH + 0.6


def allergy_flag(lines: Sequence[str], box: Box) -> list[Drawing]:
    """The marker's drawings in `box`: a black outline and the bold text inside it."""
    x1, y1, x2, y2 = box.x, box.y, box.x + box.w, box.y + box.h
    drawings: list[Drawing] = [
        Line(x1, y1, x2, y1, _OUTLINE_MM, 0.0),
        Line(x1, y2, x2, y2, _OUTLINE_MM, 0.0),
        Line(x1, y1, x1, y2, _OUTLINE_MM, 0.0),
        Line(x2, y1, x2, y2, _OUTLINE_MM, 0.0),
    ]
    baseline = y1 + _PAD_MM + FLAG_PT * PT_MM * 0.8
    for line in lines:
        drawings.append(Text(x1 + _PAD_MM, baseline, line, FLAG_PT, bold=True))
        baseline += _PITCH
    return drawings


def _flag_box(ctx: Ctx, top: float, lines: Sequence[str]) -> Box:
    height = flag_height(lines) - 2 * _MARGIN_MM
    return Box(ctx.left + 0.5, top + _MARGIN_MM, ctx.width - 1.0, height)


def flag_room(ctx: Ctx, order: Order) -> float:
    """The height `flagged_band` adds under each band of `order` (0 without a conflict)."""
    conflicts = order_conflicts(ctx, order)
    return flag_height(flag_lines(ctx, conflicts, ctx.width - 1.0)) if conflicts else 0.0


def flagged_band(ctx: Ctx, order: Order, row: Row) -> Row:
    """`row` (an order's MAR band) with the flag under its boxes, inside the band."""
    conflicts = order_conflicts(ctx, order)
    if not conflicts:
        return row
    lines = flag_lines(ctx, conflicts, ctx.width - 1.0)

    def draw(body: Body, y: float) -> None:
        row.draw(body, y)
        body.drawings.extend(allergy_flag(lines, _flag_box(ctx, y + row.height, lines)))

    return Row(row.height + flag_height(lines), draw)


def flagged_head(ctx: Ctx, order: Order, height: float, draw_head: Draw) -> tuple[float, Draw]:
    """A PRN order's head (its facts) with the flag under them, above its entry lines."""
    conflicts = order_conflicts(ctx, order)
    if not conflicts:
        return height, draw_head
    lines = flag_lines(ctx, conflicts, ctx.width - 1.0)

    def draw(body: Body, y: float) -> None:
        draw_head(body, y)
        body.drawings.extend(allergy_flag(lines, _flag_box(ctx, y + height - 0.5, lines)))

    return height + flag_height(lines), draw
