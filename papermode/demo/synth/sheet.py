"""The page being filled and its truth: the profile, the truth types and the mark helpers.

`fill.fill_page` decides what each nurse wrote; the helpers here draw it (via `pen`) and
record it in the truth at the same time, so the two cannot drift apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from papermode.core.model import Box, Field, PageLayout
from papermode.demo.synth import pen as pens

LINE_MM = 9.0  # handwriting line pitch in a free-text box


@dataclass(frozen=True)
class FillProfile:
    """How much of the page is filled and how often the hard cases happen."""

    progress: float = 0.6  # share of the page's period already documented (0..1)
    given_rate: float = 0.88
    held_rate: float = 0.07  # the rest of the documented doses are refused
    missed_rate: float = 0.03  # a due dose left blank
    correction_rate: float = 0.04
    contradiction_rate: float = 0.01
    crossed_digit_rate: float = 0.02
    overshoot_rate: float = 0.04
    faint_rate: float = 0.04
    touch_rate: float = 0.05
    vitals_rate: float = 0.8
    row_rate: float = 0.8  # unscheduled rows (PRN, new orders, notes) used per unit of progress
    tick_rate: float = 0.3  # lone checkboxes in a row
    text_rate: float = 0.9
    identity_rate: float = 0.95  # a used blank pack page with its identity strip filled in
    stray_dots: int = 2  # at most this many per page
    erase: frozenset[str] = frozenset()  # fields whose marks vanish in this capture


@dataclass(frozen=True)
class StrayMark:
    kind: str  # "dot"
    box_mm: tuple[float, float, float, float]


@dataclass(frozen=True)
class PageTruth:
    """What is on one filled page, field by field (see the module docstring)."""

    page_id: str
    fields: dict[str, str]
    numbers: dict[str, str] = field(default_factory=dict)
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stray_marks: tuple[StrayMark, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flags"] = {key: list(value) for key, value in self.flags.items()}
        data["stray_marks"] = [{"kind": m.kind, "box_mm": list(m.box_mm)} for m in self.stray_marks]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageTruth:
        return cls(
            page_id=data["page_id"],
            fields=dict(data["fields"]),
            numbers=dict(data.get("numbers", {})),
            flags={key: tuple(value) for key, value in data.get("flags", {}).items()},
            stray_marks=tuple(
                StrayMark(m["kind"], tuple(m["box_mm"])) for m in data.get("stray_marks", [])
            ),
        )


class Sheet:
    """The page being filled and the truth written so far."""

    def __init__(
        self,
        image: np.ndarray,
        layout: PageLayout,
        px_per_mm: float,
        erase: frozenset[str],
        doses: Mapping[str, float | None] | None = None,
    ):
        self.image = image
        self.layout = layout
        self.doses: Mapping[str, float | None] = doses or {}  # order id -> dose as printed
        self.px_per_mm = px_per_mm
        self.erase = erase
        self.fields: dict[str, str] = {item.field_id: "empty" for item in layout.fields}
        self.numbers: dict[str, str] = {}
        self.flags: dict[str, list[str]] = defaultdict(list)
        self.strays: list[StrayMark] = []

    def target(self, item: Field) -> np.ndarray:
        """Where to draw `item`'s ink: a throwaway copy when its mark vanishes this time."""
        if item.field_id in self.erase:
            self.flags[item.field_id].append("vanished")
            return self.image.copy()
        return self.image

    def record(self, item: Field, value: str, number: str | None = None) -> None:
        if item.field_id in self.erase:
            return  # the ink is gone: the truth stays "empty" (flagged "vanished")
        self.fields[item.field_id] = value
        if number is not None:
            self.numbers[item.field_id] = number

    def truth(self) -> PageTruth:
        return PageTruth(
            page_id=self.layout.page_id,
            fields=dict(self.fields),
            numbers=dict(self.numbers),
            flags={key: tuple(dict.fromkeys(value)) for key, value in self.flags.items()},
            stray_marks=tuple(self.strays),
        )


# --------------------------------------------------------------------------- marks


def tick(
    sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    style = str(rng.choice(pens.TICK_STYLES))
    reach = (0.0, 0.0)
    roll = rng.random()
    if roll < profile.faint_rate:
        style = "faint"
        sheet.flags[item.field_id].append("faint")
    elif roll < profile.faint_rate + profile.overshoot_rate:
        neighbour = right_neighbour(sheet.layout, item)
        if neighbour is not None:
            style = "check"
            reach = ((neighbour.box.x - item.box.x) / item.box.w - 0.55, 0.1)
            sheet.flags[neighbour.field_id].append("overshoot")
    pens.draw_tick(
        sheet.target(item), item.box, pen, sheet.px_per_mm, rng, style=style, reach=reach
    )
    sheet.record(item, "ticked")


def right_neighbour(layout: PageLayout, item: Field) -> Field | None:
    """The next checkbox to the right on the same line, if it is close."""
    candidates = [
        other
        for other in layout.fields
        if other.kind == "checkbox"
        and other.field_id != item.field_id
        and abs(other.box.y - item.box.y) < item.box.h / 2
        and 0 < other.box.x - item.box.x < 2.5 * item.box.w
    ]
    return min(candidates, key=lambda other: other.box.x, default=None)


def scribble(sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator) -> None:
    pens.draw_scribble(sheet.target(item), item.box, pen, sheet.px_per_mm, rng)
    sheet.record(item, "filled")
    sheet.flags[item.field_id].append("correction")


def ink(sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator) -> None:
    """Words in a text box (several lines in a tall one), initials in a signature box."""
    image = sheet.target(item)
    if item.kind != "text":
        pens.draw_initials(image, item.box, pen, sheet.px_per_mm, rng)
    elif item.box.h <= 16.0:
        pens.draw_words(image, item.box, pen, sheet.px_per_mm, rng)
    else:
        box = item.box
        lines = min(int((box.h - 4.0) // LINE_MM), int(rng.integers(2, 12)))
        for line in range(lines):
            width = box.w * float(rng.uniform(0.3, 0.9)) - 4.0
            row = Box(box.x + 2.0, box.y + 2.0 + line * LINE_MM, width, LINE_MM - 1.0)
            pens.draw_words(image, row, pen, sheet.px_per_mm, rng)
    sheet.record(item, "ink")


def digits(
    sheet: Sheet,
    item: Field,
    cell_text: str,
    number: str,
    pen: pens.Pen,
    rng: np.random.Generator,
    profile: FillProfile,
) -> None:
    """Write `cell_text` (one char per cell, spaces blank) into a comb field."""
    cells = item.cell_boxes() or (item.box,)
    image = sheet.target(item)
    filled = [i for i, char in enumerate(cell_text) if char.isdigit()]
    crossed = filled and rng.random() < profile.crossed_digit_rate
    skip = int(rng.choice(filled)) if crossed else -1
    for index, (cell, char) in enumerate(zip(cells, cell_text, strict=False)):
        if index == skip:
            wrong = str((int(char) + int(rng.integers(1, 9))) % 10)
            pens.draw_crossed_digit(image, cell, wrong, char, pen, sheet.px_per_mm, rng)
            sheet.flags[item.field_id].append("crossed_out")
        elif char.isdigit():
            touch = bool(rng.random() < profile.touch_rate)
            if touch:
                sheet.flags[item.field_id].append("touching")
            glyph = pens.digit_glyph(int(char), rng)
            pens.stamp_glyph(image, glyph, cell, pen, sheet.px_per_mm, rng, touch_border=touch)
    sheet.record(item, cell_text.replace(" ", ""), number)
