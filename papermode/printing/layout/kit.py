"""Building blocks of the layout engine: text measuring, a page body builder, row flow.

Pure geometry in millimetres. Text widths are estimated (the PDF renderer owns the fonts)
with per-character widths a little wider than DejaVu Sans, so text never runs into a box.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from papermode.core.model import (
    Box,
    Drawing,
    Field,
    Line,
    Order,
    Patient,
    Shade,
    Snapshot,
    Text,
    Timing,
)
from papermode.core.pageframe import Frame
from papermode.printing.layout import wording
from papermode.printing.templates import Template, TemplateSet

PT_MM = 25.4 / 72.0
ELLIPSIS = "…"
TITLE_PT = 11.0
BODY_TOP_MM = 8.0  # below the top of `frame.content`: the form title sits there


@functools.lru_cache(maxsize=8192)  # labels repeat on every page: measure each once
def text_width(text: str, size: float, *, bold: bool = False, mono: bool = False) -> float:
    """Estimated printed width of `text` in mm (slightly generous on purpose)."""
    if mono:
        return len(text) * 0.605 * size * PT_MM
    upper, lower, space = (0.86, 0.70, 0.36) if bold else (0.78, 0.62, 0.33)
    em = sum(space if c == " " else upper if c.isupper() or c in "MWmw" else lower for c in text)
    em += sum(1.05 - lower for c in text if c >= "\u1100" and _wide(c))  # CJK: a full em
    return em * size * PT_MM


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def fit(text: str, width: float, size: float, *, bold: bool = False, mono: bool = False) -> str:
    """`text`, cut with an ellipsis if it would be wider than `width` mm."""
    if text_width(text, size, bold=bold, mono=mono) <= width:
        return text
    while text and text_width(text + ELLIPSIS, size, bold=bold, mono=mono) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def fit_size(text: str, width: float, size: float, smallest: float, *, bold: bool = False) -> float:
    """The largest font size from `size` down to `smallest` at which `text` fits `width`."""
    while size > smallest and text_width(text, size, bold=bold) > width:
        size -= 0.5
    return max(size, smallest)


_NUMBER = r"\d+(?:[,\u202f]\d{3})*(?:[.,]\d+)?"  # 0,5  25,000  25 000 (narrow no-break)
_AMOUNT = re.compile(rf"^\(?[<>≤≥]?{_NUMBER}(?:-{_NUMBER})?$")
_SPACES = re.compile(r"[ \t\r\n]+")  # a no-break space keeps "25 000" one word


def _words(text: str) -> list[str]:
    """The words to wrap; an amount keeps its unit on its line ("0,5 mg", "4000 unités",
    "6 heures"): a dose split over two lines reads as a number without a unit (ISMP)."""
    words: list[str] = []
    for word in _SPACES.split(text.strip()):
        if not word:
            continue
        unit = word.rstrip(").,;:")
        if words and _AMOUNT.match(words[-1]) and unit[:1].isalpha() and len(unit) <= 9:
            words[-1] = f"{words[-1]} {word}"
        else:
            words.append(word)
    return words


def wrap(text: str, width: float, size: float, *, bold: bool = False, lines: int = 99) -> list[str]:
    """Greedy word wrap into at most `lines` lines; the last line ends in an ellipsis if cut."""
    out: list[str] = []
    current = ""
    for word in _words(text):
        candidate = f"{current} {word}".strip()
        if text_width(candidate, size, bold=bold) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = fit(out[-1] + " " + ELLIPSIS * 3, width, size, bold=bold)
    return [fit(line, width, size, bold=bold) for line in out]


@dataclass(frozen=True)
class Ctx:
    """Everything a form builder needs besides the patient: language, page, snapshot, period."""

    templates: TemplateSet
    lang: str
    paper: str
    frame: Frame
    snapshot: Snapshot
    period: tuple[datetime, datetime]
    settings: Any = None
    # The page's patient (allergy flags beside orders); None on blank and ward pages.
    patient: Patient | None = None
    # Kept free at the foot of the content for the signature legend (layout/legend.py).
    reserve_bottom: float = 0.0

    def t(self, key: str, **values: object) -> str:
        text = self.templates.translations[self.lang][key]
        return text.format(**values) if values else text

    def form_version(self, form: Template) -> str:
        """The footer's "form vital signs v2026.3": the form's short name in the page's
        language (the ward census's names), its template name where it has none."""
        names = self.templates.translations[self.lang]
        name = names.get(f"census.form_{form.name}", form.name)
        return self.t("footer.template", name=name, version=form.version)

    def order_dose(self, order: Order) -> str:
        return wording.order_dose(self.t, self.lang, order)

    def dose(self, value: float | None, unit: str | None, high: float | None = None) -> str:
        return wording.dose(self.t, self.lang, value, unit, high)

    def unit(self, code: str | None) -> str:
        return wording.unit(self.t, self.lang, code)

    def frequency(self, timing: Timing | None) -> str:
        return wording.frequency(self.t, self.lang, timing)

    def day(self, value: date) -> str:
        return wording.day(self.t, self.lang, value)

    def moment(self, value: datetime) -> str:
        return wording.moment(self.t, self.lang, value)

    def drug(self, order: Order) -> str:
        """The medication as printed: the record's name, "µg" written "mcg"."""
        return wording.ismp_text(order.medication)

    def route(self, value: str | None) -> str:
        return wording.route(self.t, value)

    def instructions(self, order: Order) -> list[str]:
        """The order's instructions then its SIG, each in the form's words."""
        words = (*order.instructions, *order.dosage_text)
        return [wording.instruction(self.t, self.lang, text) for text in words]

    def max_per_period(self, text: str | None) -> str:
        return wording.max_per_period(self.t, self.lang, text)

    def sex(self, value: str | None) -> str:
        return wording.sex(self.t, self.lang, value)

    def decimal_separator(self) -> str:
        return "," if self.lang in wording.DECIMAL_COMMA else "."

    def short_date(self, moment: datetime) -> str:
        return self.t("date.short", day=moment.day, month=self.t(f"month.{moment.month}"))

    def stamp(self, moment: datetime) -> str:
        return f"{self.short_date(moment)} {moment:%H:%M}"

    @functools.cached_property
    def left(self) -> float:
        return self.frame.content.x

    @functools.cached_property
    def width(self) -> float:
        return self.frame.content.w

    @functools.cached_property
    def top(self) -> float:
        return self.frame.content.y + BODY_TOP_MM

    @functools.cached_property
    def bottom(self) -> float:
        content = self.frame.content
        return content.y + content.h - self.reserve_bottom


@dataclass
class Body:
    """A page's own fields and drawings while it is being built (no banner, no footer)."""

    form: Template
    fields: list[Field] = field(default_factory=list)
    drawings: list[Drawing] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, size: float = 8.0, **style: Any) -> None:
        self.drawings.append(Text(x, y, text, size, **style))

    def rule(self, x1: float, y: float, x2: float, grey: float = 0.6, width: float = 0.2) -> None:
        self.drawings.append(Line(x1, y, x2, y, width, grey))

    def shade(self, box: Box) -> None:
        """A band that must stand out (high alert, do not give): a heavy black frame on white.

        Never a grey fill: text on one dithers into noise in a 1-bit scan or a photocopy,
        and a tick box on one reads as filled in.
        """
        self.drawings.append(Shade(box, grey=1.0, outline=True))

    def add(self, *fields: Field) -> None:
        self.fields.extend(fields)


def tick(field_id: str, x: float, y: float, size: float, **attrs: Any) -> Field:
    return Field(field_id=field_id, kind="checkbox", box=Box(x, y, size, size), **attrs)


def comb(field_id: str, x: float, y: float, cells: int, w: float, h: float, **attrs: Any) -> Field:
    return Field(field_id, "digits", Box(x, y, cells * w, h), cells=cells, **attrs)


def write_in(field_id: str, kind: str, box: Box, **attrs: Any) -> Field:
    return Field(field_id=field_id, kind=kind, box=box, **attrs)  # type: ignore[arg-type]


Draw = Callable[[Body, float], None]


@dataclass(frozen=True)
class Row:
    """A horizontal slice of a form: its height and how to draw it at a given top `y`."""

    height: float
    draw: Callable[[Body, float], None]
    # Drawn first when this row starts a page: the block's head repeated (a PRN order's drug,
    # dose and HIGH ALERT band above entries that flowed onto the next page).
    lead: Row | None = None


def flow(
    form: Template, rows: Sequence[Row], top: float, bottom: float, head: Row | None = None
) -> list[Body]:
    """Place rows top to bottom, starting a new page when the next one does not fit.

    `head` (a legend, a hint line) is repeated at the top of every page, and a row's `lead`
    above it when the row starts a page. A page always gets at least one row, so a too-tall
    row can never loop forever (builders keep rows small).
    """
    pages: list[Body] = []
    body, y = None, bottom
    for row in rows:
        lead = row.lead.height if row.lead is not None else 0.0
        if body is None or (y + row.height > bottom and y > _start(top, head)):
            body = Body(form)
            pages.append(body)
            y = top
            if head is not None:
                head.draw(body, y)
                y += head.height
            if row.lead is not None:
                row.lead.draw(body, y)
                y += lead
        row.draw(body, y)
        y += row.height
    if not pages:
        body = Body(form)
        if head is not None:
            head.draw(body, top)
        pages.append(body)
    return pages


def _start(top: float, head: Row | None) -> float:
    return top + (head.height if head is not None else 0.0)


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + max(1, size)]
