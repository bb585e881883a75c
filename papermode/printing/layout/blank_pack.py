"""Blank packs, for patients admitted during the downtime: every fact written by hand.

Every page of a pack carries the same identity boxes, since each page is photographed on
its own: in the banner the name (ink), the birth date (a comb, ddmmyyyy) and the temporary
number (a comb); under the form title a strip with sex (ticks), bed (ink), weight (a comb,
kg, one decimal), the date the page is started (a comb, ddmmyyyy) and allergies (ink, or
the "no known allergies" tick).

A blank pack is used on any day: it prints no period and no "orders as of" line (its
footer says the date is written at the top), and its vital-signs columns carry a time
comb instead of a printed time. Its MAR bands all have a second-initials box, since any
drug written in may be a high-alert one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from papermode.core.model import Box, Drawing, Field, Text
from papermode.printing.layout.forms import new_order_bodies
from papermode.printing.layout.kit import (
    Body,
    Ctx,
    Draw,
    Row,
    comb,
    fit,
    fit_size,
    flow,
    text_width,
    tick,
    write_in,
)
from papermode.printing.layout.legend import legend_ctx
from papermode.printing.layout.mar import _PAD as MAR_PAD
from papermode.printing.layout.mar import (
    _WRITE_IN_ROWS,
    _dose_cell,
    _legend,
    mar_band_height,
    mar_cells_per_band,
)
from papermode.printing.layout.mar_order import SecondPerson
from papermode.printing.layout.prn import blank_prn_bodies
from papermode.printing.layout.vitals import blank_vitals_bodies
from papermode.printing.templates import MIN_TICK_MM, Template

_SMALL_PT = 7.5
_HINT_PT = 6.0
_BANNER_COMB_H = 7.0  # the birth date comb: the smallest comb, above the temporary number
_BORN_TOP = 3.5  # the birth date comb's top in the header, under its hint
SEX_VALUES = ("male", "female", "other")
DATE_CELLS = 8  # ddmmyyyy
# Every blank MAR cell has a second person's box: a drug written in may be high-alert or a
# controlled drug, so it asks for the double check and the witness alike ("2nd / witness").
SECOND_CHECK = SecondPerson("second_initials", "mar.second_witness")


@dataclass(frozen=True)
class BelowStrip(Ctx):
    """A blank pack's page context: the form's body starts below the identity strip."""

    strip_mm: float = 0.0

    @functools.cached_property
    def top(self) -> float:
        return super().top + self.strip_mm


def strip_line_mm(form: Template) -> float:
    """One line of the identity strip: a comb and the gap under it."""
    return form.g("cell_h") + 2.0


def blank_context(ctx: Ctx) -> BelowStrip:
    strip = 2 * strip_line_mm(ctx.templates.for_form("blank_admission")) + 1.5
    return BelowStrip(ctx.templates, ctx.lang, ctx.paper, ctx.frame, ctx.snapshot,
                      ctx.period, ctx.settings, ctx.patient, ctx.reserve_bottom,
                      strip_mm=strip)  # fmt: skip


def blank_pack_bodies(ctx: Ctx) -> list[Body]:
    """The pages of one pack: MAR, PRN, vital signs, new orders, below the strip."""
    below = blank_context(ctx)
    templates = ctx.templates

    def room(form: str) -> Ctx:  # the signature legend's room at the foot (layout/legend.py)
        return legend_ctx(below, form)

    bodies = blank_mar_bodies(room("mar"), templates.for_form("mar"))
    bodies += blank_prn_bodies(room("prn"), templates.for_form("prn"))
    bodies += blank_vitals_bodies(room("vitals"), templates.for_form("vitals"))
    bodies += new_order_bodies(room("new_orders"), templates.for_form("new_orders"))
    return bodies


# --------------------------------------------------------------------------- MAR


def blank_mar_bodies(ctx: Ctx, form: Template) -> list[Body]:
    """A blank MAR page: write-in order column, dose cells without printed times, and a
    second-initials box in every cell (the drug written in may be a high-alert one)."""
    height = mar_band_height(form, second=True)
    rows = [Row(height, _write_in_band(ctx, form, n)) for n in range(1, _WRITE_IN_ROWS)]
    return flow(form, rows, ctx.top, ctx.bottom, head=_legend(ctx, form))[:1]


def _write_in_band(ctx: Ctx, form: Template, number: int) -> Draw:
    def draw(body: Body, y: float) -> None:
        height = mar_band_height(form, second=True)
        # 2 mm under the band's rule: a dark rule right on a box edge looks like its border
        box = Box(
            ctx.left + 0.5, y + MAR_PAD + 1.0, form.g("info_w") - 2.0, height - 2 * MAR_PAD - 2.0
        )
        label = ctx.t("mar.drug_write_in")
        body.add(write_in(f"mar.row{number}.drug", "text", box, role="drug", label=label))
        body.rule(ctx.left, y, ctx.left + ctx.width, grey=0.4, width=0.3)
        for index in range(mar_cells_per_band(ctx, form)):
            x = ctx.left + form.g("info_w") + 2.0 + index * form.g("dose_w")
            _dose_cell(
                ctx, form, body, x, y, f"mar.row{number}.{index + 1}", None, None, SECOND_CHECK
            )

    return draw


# --------------------------------------------------------------------------- identity


def identity_banner(ctx: Ctx, form: Template) -> tuple[list[Drawing], list[Field]]:
    """The banner and the identity strip of every page of a pack."""
    drawings, fields = _banner(ctx, form)
    strip_drawings, strip_fields = _strip(ctx, form)
    return drawings + strip_drawings, fields + strip_fields


def _banner(ctx: Ctx, form: Template) -> tuple[list[Drawing], list[Field]]:
    """Name (ink), birth date (comb ddmmyyyy), temporary number (comb), the instruction."""
    header = ctx.frame.header
    width = ctx.frame.page_id_text_box.x - header.x - 2.0
    cell_w, cell_h = form.g("cell_w"), form.g("cell_h")
    name_w = min(form.g("name_w"), width - DATE_CELLS * cell_w - 3.0)
    name = Box(header.x, header.y + 1.0, name_w, 9.0)
    born_x = name.x + name.w + 3.0
    label = ctx.t("blank.temp_number")
    label_w = text_width(label, _SMALL_PT) + 2.0
    # Right of the MRN box: blank pages print no MRN, and the reader must not find one there.
    temp_x = ctx.frame.mrn_text_box.x + ctx.frame.mrn_text_box.w + 2.0
    fields = [
        write_in("blank.name", "text", name, role="name", label=ctx.t("blank.name")),
        comb(
            "blank.birth_date",
            born_x,
            header.y + _BORN_TOP,
            DATE_CELLS,
            cell_w,
            _BANNER_COMB_H,
            role="birth_date",
            label=ctx.t("blank.birth_date"),
        ),  # fmt: skip
        comb(
            "blank.temp_number",
            temp_x + label_w,
            header.y + 12.5,
            form.count("temp_cells"),
            cell_w,
            cell_h,
            role="temp_number",
        ),  # fmt: skip
    ]
    born_label = f"{ctx.t('blank.birth_date')} ({ctx.t('blank.ddmmyyyy')})"
    instructions = ctx.t("blank.instructions")
    size = fit_size(instructions, width, 7.0, 5.5, bold=True)
    drawings: list[Drawing] = [
        Text(
            born_x,
            header.y + _BORN_TOP - 2.1,
            fit(born_label, DATE_CELLS * cell_w + 20, _HINT_PT),
            _HINT_PT,
        ),  # clear of the band above the comb where the reader looks for corrections
        Text(temp_x, header.y + 17.5, label, _SMALL_PT),
        Text(header.x, header.y + 24.5, fit(instructions, width, size, bold=True), size, bold=True),
    ]
    return drawings, fields


def _strip(ctx: Ctx, form: Template) -> tuple[list[Drawing], list[Field]]:
    """The page's date, sex and bed on one line; weight and allergies on the next."""
    strip = _Strip(ctx, form, ctx.frame.content.y + 8.0)
    strip.digits("date", f"{ctx.t('blank.date')} ({ctx.t('blank.ddmmyyyy')})", DATE_CELLS)
    strip.ticks("sex", SEX_VALUES)
    strip.ink("bed", 22.0)
    strip.next_line()
    strip.digits("weight", ctx.t("blank.weight_kg"), 4, decimals=1)
    allergy_tick = text_width(ctx.t("blank.no_known_allergies"), _SMALL_PT) + MIN_TICK_MM + 6.0
    strip.ink("allergies", ctx.left + ctx.width - strip.x - allergy_tick - _label_room(ctx))
    strip.ticks("no_known_allergies", ("yes",), labels=(ctx.t("blank.no_known_allergies"),))
    return strip.drawings, strip.fields


def _label_room(ctx: Ctx) -> float:
    return text_width(ctx.t("blank.allergies"), _SMALL_PT) + 1.5


class _Strip:
    """Boxes placed left to right on the strip's lines, each after its label."""

    def __init__(self, ctx: Ctx, form: Template, top: float) -> None:
        self.ctx, self.form, self.top = ctx, form, top
        self.x = ctx.left
        self.drawings: list[Drawing] = []
        self.fields: list[Field] = []

    def next_line(self) -> None:
        self.x, self.top = self.ctx.left, self.top + strip_line_mm(self.form)

    def _label(self, text: str) -> None:
        self.drawings.append(Text(self.x, self.top + 5.0, text, _SMALL_PT))
        self.x += text_width(text, _SMALL_PT) + 1.5

    def ink(self, role: str, width: float) -> None:
        self._label(self.ctx.t(f"blank.{role}"))
        box = Box(self.x, self.top, width, self.form.g("cell_h"))
        self.fields.append(write_in(f"blank.{role}", "text", box, role=role))
        self.x += width + 4.0

    def digits(self, role: str, label: str, cells: int, *, decimals: int = 0) -> None:
        self._label(label)
        cell_w, cell_h = self.form.g("cell_w"), self.form.g("cell_h")
        self.fields.append(comb(f"blank.{role}", self.x, self.top, cells, cell_w, cell_h,
                                role=role, decimals=decimals))  # fmt: skip
        self.x += cells * cell_w + 4.0

    def ticks(self, role: str, values: tuple[str, ...], labels: tuple[str, ...] = ()) -> None:
        if not labels:
            self._label(self.ctx.t(f"blank.{role}"))
        size = MIN_TICK_MM
        group = f"blank.{role}"
        for index, value in enumerate(values):
            text = labels[index] if labels else self.ctx.t(f"blank.{role}_{value}")
            box_top = self.top + (self.form.g("cell_h") - size) / 2
            self.fields.append(
                tick(f"{group}.{value}", self.x, box_top, size, role=role, group=group, value=value)
            )
            self.drawings.append(Text(self.x + size + 1.0, box_top + size - 0.8, text, _SMALL_PT))
            self.x += size + 1.0 + text_width(text, _SMALL_PT) + 2.5
        self.x += 1.5


# --------------------------------------------------------------------------- footer


def blank_footer(ctx: Ctx, form: Template, number: int, count: int) -> list[Drawing]:
    """page i of n and the template; no period, no "orders as of": the date is written."""
    box = ctx.frame.footer
    half = box.w / 2 - 2.0
    version = ctx.form_version(form)
    right = box.x + box.w
    page = fit(ctx.t("footer.page", i=number, n=count), half, 8.5, bold=True)
    return [
        Text(box.x, box.y + 4.5, page, 8.5, bold=True),
        Text(right, box.y + 4.5, fit(version, half, 7.5), 7.5, align="right"),
        Text(
            box.x, box.y + 9.5, fit(ctx.t("blank.undated"), box.w, 7.5, bold=True), 7.5, bold=True
        ),  # fmt: skip
    ]
