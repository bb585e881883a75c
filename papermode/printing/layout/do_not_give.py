"""MAR band of an order NOT to give (FHIR `doNotPerform`), when the hospital prints them.

With `[census] do_not_perform = "print"` such an order is a visible line across the MAR:
"DO NOT GIVE: <drug> <dose> <route>" in bold in a heavy black frame, with its instructions, and no
tick box, no time comb and no dose cell: nothing on it can be read as a dose given.
"""

from __future__ import annotations

from papermode.core.model import Box, Order
from papermode.printing.layout.kit import Body, Ctx, Draw, Row, fit, wrap
from papermode.printing.templates import Template

BAND_H = 16.0


def do_not_give_row(ctx: Ctx, form: Template, order: Order) -> Row:
    """One band: the drug, dose and route not to give, and why (the instructions)."""
    return Row(BAND_H, _band(ctx, order))


def _band(ctx: Ctx, order: Order) -> Draw:
    def draw(body: Body, y: float) -> None:
        width = ctx.width - 4.0
        body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
        body.shade(Box(ctx.left, y + 0.8, ctx.width, BAND_H - 1.6))
        drug = " ".join(
            p for p in (ctx.drug(order), ctx.order_dose(order), ctx.route(order.route)) if p
        )
        line = ctx.t("mar.do_not_give", order=drug)
        body.text(ctx.left + 2.0, y + 6.0, fit(line, width, 11.0, bold=True), 11.0, bold=True)
        words = "; ".join(ctx.instructions(order))
        detail = " ".join(p for p in (ctx.t("mar.do_not_give_note"), words) if p)
        for index, text in enumerate(wrap(detail, width, 7.0, lines=2)):
            body.text(ctx.left + 2.0, y + 10.2 + index * 3.0, text, 7.0)

    return draw
