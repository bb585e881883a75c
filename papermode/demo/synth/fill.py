"""Fill a blank page image like nurses do, and record exactly what was written (the truth).

Truth representation (`PageTruth`, JSON-ready, see docs/synth.md):

- checkbox: "ticked", "empty" or "filled" (a box scribbled over: a correction, not a tick);
- digits: the digits as written in the cells, left to right, blank cells and the printed
  decimal point left out ("0815" for a time, "378" for 37.8 in a 3-cell comb with one
  decimal, "72" for 72 in a 3-cell comb); `numbers` holds the value meant ("08:15", "37.8");
- text and signature: "ink" or "empty";
- `flags` per field: "correction", "contradiction", "crossed_out", "overshoot" (ink from
  a neighbour's tick reaches into this box), "faint", "vanished" (drawn in an earlier capture,
  missing now), "touching" (a digit touches the cell border);
- `stray_marks`: pen dots placed on purpose outside every field.

Every decision for one administration (or vitals column, PRN row, ...) comes from its own
random stream derived from the page seed and the slot, so a later capture of the same page
(higher `progress`) draws exactly the same marks plus new ones.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import numpy as np

from papermode.core.model import Box, Field, PageLayout
from papermode.demo.synth import pen as pens
from papermode.demo.synth.sheet import (
    FillProfile,
    PageTruth,
    Sheet,
    StrayMark,
    digits,
    ink,
    scribble,
    tick,
)
from papermode.demo.synth.values import comb_text, vital_value
from papermode.reading import news2 as early_warning

__all__ = ["FillProfile", "PageTruth", "StrayMark", "fill_page"]

MAR_ROLES = (
    "given", "held", "refused", "time", "initials", "dose", "second_initials", "witness",
    "reason",
)  # fmt: skip
OUTCOMES = ("given", "held", "refused")


def fill_page(
    page_image: np.ndarray,
    layout: PageLayout,
    px_per_mm: float,
    rng: np.random.Generator,
    *,
    profile: FillProfile | None = None,
    doses: Mapping[str, float | None] | None = None,
) -> tuple[np.ndarray, PageTruth]:
    """A filled copy of `page_image` (RGB or grey, at `px_per_mm`) and its truth.

    `doses` (order id -> the dose printed, `Store.order_doses`) lets a PRN entry carry the
    ordered dose, as nurses write it; without it a PRN dose is a random number (which the
    reader rightly sends to review: it differs from the order).

    The blank image is not changed. Seeded: the same rng state, layout and profile give
    identical pixels; a higher `profile.progress` gives a superset of the marks.
    """
    profile = profile or FillProfile()
    base_seed = int(rng.integers(2**31))
    palette = [pens.random_pen(np.random.default_rng([base_seed, k])) for k in range(3)]
    sheet = Sheet(page_image.copy(), layout, px_per_mm, profile.erase, doses)
    cutoff = _cutoff(layout, profile.progress)
    identity: list[Field] = []
    for key, fields in _slots(layout).items():
        if key[0] == "identity":
            identity = fields
            continue
        slot_rng = np.random.default_rng([base_seed, zlib.crc32(repr(key).encode())])
        nurse_pen = palette[int(slot_rng.integers(len(palette)))]
        due = _is_due(key, fields, cutoff, profile, slot_rng)
        if due:
            _FILLERS[key[0]](sheet, fields, nurse_pen, slot_rng, profile)
    if identity and any(value != "empty" for value in sheet.fields.values()):
        identity_rng = np.random.default_rng([base_seed, 11])
        if identity_rng.random() < profile.identity_rate:
            _fill_identity(sheet, identity, palette[0], identity_rng, profile)
    _stray_dots(sheet, palette[0], np.random.default_rng([base_seed, 7]), profile)
    return sheet.image, sheet.truth()


# --------------------------------------------------------------------------- slots


_ORDER_CHANGE_ROLES = frozenset({"stop", "stop_initials", "discharged", "transferred"})


def _row_key(field_id: str) -> str:
    """The row a field belongs to: its id without the last part ("prn.o1.3.time" -> "prn.o1.3")."""
    parts = re.split(r"[.:_-]", field_id)
    if len(parts) < 2:
        return field_id
    return field_id[: len(field_id) - len(parts[-1]) - 1]


def _slots(layout: PageLayout) -> dict[tuple[str, ...], list[Field]]:
    """Fields grouped into what one nurse fills at once, in page order.

    A scheduled administration (MAR), a vitals column (one observation time), or a row:
    the fields sharing an id prefix (a PRN entry, a new order, the notes page).
    """
    slots: dict[tuple[str, ...], list[Field]] = defaultdict(list)
    for item in sorted(layout.fields, key=lambda f: (f.box.y, f.box.x)):
        if item.role in _ORDER_CHANGE_ROLES:
            continue  # a stop or a discharge changes tomorrow's forms: never ticked at random
        when = item.scheduled.isoformat() if item.scheduled else ""
        if item.field_id.startswith("blank."):  # a blank pack's identity strip
            key: tuple[str, ...] = ("identity",)
        elif item.role in MAR_ROLES and item.scheduled is not None:
            key = ("dose", item.order_id or "", when)
        elif item.role == "vital":  # one column: its values and its tick groups together
            key = ("vitals", (item.group or item.field_id).rsplit(".", 1)[0])
        elif item.field_id.startswith("prn."):  # an entry: `prn.<order>.<n>.<part>`
            key = ("row", item.field_id.rsplit(".", 1)[0])
        else:
            key = ("row", _row_key(item.group) if item.group else _row_key(item.field_id))
        slots[key].append(item)
    return dict(slots)


def _cutoff(layout: PageLayout, progress: float) -> datetime | None:
    """The time up to which the page is documented."""
    start, end = layout.period_start, layout.period_end
    if start is None or end is None:
        times = [item.scheduled for item in layout.fields if item.scheduled is not None]
        if not times:
            return None
        start, end = min(times), max(times) + timedelta(minutes=1)
    return start + (end - start) * progress


def _is_due(
    key: tuple[str, ...],
    fields: list[Field],
    cutoff: datetime | None,
    profile: FillProfile,
    rng: np.random.Generator,
) -> bool:
    """Whether this slot has been written by now (monotone in `progress`)."""
    share = rng.random()  # the slot's own fixed draw, so later captures are supersets
    scheduled = [item.scheduled for item in fields if item.scheduled is not None]
    if scheduled and cutoff is not None:
        rate = profile.vitals_rate if key[0] == "vitals" else 1.0
        return min(scheduled) < cutoff and share < rate
    # Unscheduled rows (PRN entries, new orders, notes) fill up along the period.
    return share < min(1.0, profile.progress * profile.row_rate)


# --------------------------------------------------------------------------- fillers


def _fill_dose(
    sheet: Sheet,
    fields: list[Field],
    pen: pens.Pen,
    rng: np.random.Generator,
    profile: FillProfile,
) -> None:
    """One scheduled administration: an outcome ticked, the time written, initials."""
    roles = {item.role: item for item in fields}
    draws = rng.random(6)  # drawn up front so every branch sees the same stream
    if draws[0] < profile.missed_rate:
        return
    outcome = _outcome(draws[1], profile)
    box = roles.get(outcome) or roles.get("given")
    others = [roles[name] for name in OUTCOMES if name in roles and roles[name] is not box]
    if box is not None:
        if others and draws[2] < profile.correction_rate:
            scribble(sheet, others[int(draws[3] * len(others))], pen, rng)
        tick(sheet, box, pen, rng, profile)
        if others and draws[4] < profile.contradiction_rate:
            extra = others[-1]
            if sheet.fields[extra.field_id] == "empty":
                tick(sheet, extra, pen, rng, profile)
                for item in (box, extra):
                    sheet.flags[item.field_id].append("contradiction")
    time_field = roles.get("time")
    if time_field is not None and (outcome == "given" or draws[5] < 0.5):
        _write_time(sheet, time_field, pen, rng, profile)
    for role in ("initials", "second_initials", "witness"):
        if role in roles and (role == "initials" or draws[5] < 0.3):
            ink(sheet, roles[role], pen, rng)
    reason = roles.get("reason")
    if reason is not None and outcome != "given":  # the legend's number (core/reasons.py)
        code = "6" if outcome == "refused" else "12345"[min(4, int(draws[3] * 5))]
        digits(sheet, reason, code, code, pen, rng, profile)


def _outcome(draw: float, profile: FillProfile) -> str:
    if draw < profile.given_rate:
        return "given"
    if draw < profile.given_rate + profile.held_rate:
        return "held"
    return "refused"


def _write_time(
    sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """The time the dose was given: near the scheduled time (within 45 minutes)."""
    scheduled = item.scheduled or datetime(2026, 1, 1, 8, 0)
    minutes = int(np.clip(rng.normal(0, 15), -45, 45))
    when = scheduled + timedelta(minutes=minutes)
    text = when.strftime("%H%M")
    if item.cells and item.cells != 4:
        text = text[-item.cells :].rjust(item.cells)
    digits(sheet, item, text, when.strftime("%H:%M"), pen, rng, profile)


def _fill_vitals(
    sheet: Sheet,
    fields: list[Field],
    pen: pens.Pen,
    rng: np.random.Generator,
    profile: FillProfile,
) -> None:
    """One set of observations, as the NEWS2 chart asks: the vital signs, one answer per
    tick group (ACVPU, air or an O2 device), the O2 flow only on oxygen, pain and glucose
    often, and the NEWS2 total worked out from what was written (now and then off by one,
    as a tired nurse's sum is)."""
    draws = rng.random(8)  # up front, so every branch sees the same stream
    on_oxygen = draws[0] < 0.2
    answers = {
        early_warning.CONSCIOUSNESS: "A" if draws[1] < 0.92 else "CVPU"[int(draws[2] * 4)],
        early_warning.O2_DEVICE: ("nasal", "mask", "other")[int(draws[3] * 3)]
        if on_oxygen
        else early_warning.ON_AIR,
        early_warning.SPO2_SCALE: "2" if draws[4] < 0.05 else "",
    }
    skipped = {
        early_warning.TOTAL,
        *([] if on_oxygen else ["3151-8"]),  # the O2 flow
        *([] if draws[5] < 0.4 else ["14743-9"]),  # capillary glucose
        *([] if draws[5] < 0.8 else ["72514-3"]),  # pain
    }
    written: dict[str, float] = {}
    total: Field | None = None
    for item in fields:
        if item.kind == "digits":
            if item.code == early_warning.TOTAL:
                total = item
            elif item.code not in skipped:
                cell_text, number = vital_value(item, rng)
                digits(sheet, item, cell_text, number, pen, rng, profile)
                written[item.code or item.field_id] = float(number)
        elif item.kind == "checkbox":
            wanted = answers.get(item.code or "")
            # A group's one answer; a lone box the chart does not score: half the time.
            if item.value == wanted if wanted is not None else rng.random() < 0.5:
                tick(sheet, item, pen, rng, profile)
        elif item.role != "vital" or draws[6] < 0.1:  # the extra observation: now and then
            ink(sheet, item, pen, rng)
    score = _news2_total(written, answers)
    if total is not None and score is not None and draws[7] < 0.9:
        score += 1 if draws[7] < 0.02 else 0  # a sum off by one: the reader must catch it
        cell_text, number = comb_text(total, float(score))
        digits(sheet, total, cell_text, number, pen, rng, profile)


def _news2_total(written: Mapping[str, float], answers: Mapping[str, str]) -> int | None:
    """The NEWS2 total of a column's written values (None when an input was left out)."""
    inputs = (early_warning.RESPIRATION, early_warning.SPO2, early_warning.SYSTOLIC,
              early_warning.PULSE, early_warning.TEMPERATURE)  # fmt: skip
    if any(code not in written for code in inputs):
        return None
    vitals = early_warning.Vitals(
        respiration=written[early_warning.RESPIRATION],
        spo2=written[early_warning.SPO2],
        on_oxygen=answers[early_warning.O2_DEVICE] != early_warning.ON_AIR,
        systolic=written[early_warning.SYSTOLIC],
        pulse=written[early_warning.PULSE],
        consciousness=answers[early_warning.CONSCIOUSNESS],
        temperature=written[early_warning.TEMPERATURE],
        scale=2 if answers[early_warning.SPO2_SCALE] else 1,
    )
    return early_warning.news2(vitals).total


def _fill_identity(
    sheet: Sheet, fields: list[Field], pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """A blank pack's identity strip, as the nurse fills it when the page is first used:
    name, birth date, the temporary number, the date, sex, bed, weight, allergies."""
    born = date(int(rng.integers(1930, 2006)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    day = (sheet.layout.period_start or datetime(2026, 1, 1)).date()
    sex = ("female", "male", "other")[int(rng.integers(0, 3)) if rng.random() < 0.05 else
                                      int(rng.integers(0, 2))]  # fmt: skip
    allergic = rng.random() < 0.4
    for item in fields:
        role = item.role
        if role == "birth_date":
            text = born.strftime("%d%m%Y")  # the value as read: the digits (reading/digits.py)
            digits(sheet, item, text, text, pen, rng, profile)
        elif role == "date":
            text = day.strftime("%d%m%Y")
            digits(sheet, item, text, text, pen, rng, profile)
        elif role == "temp_number":
            number = "".join(str(int(d)) for d in rng.integers(0, 10, max(item.cells, 1)))
            digits(sheet, item, number, number, pen, rng, profile)
        elif role == "weight":
            cell_text, number = vital_value(item, rng)
            digits(sheet, item, cell_text, number, pen, rng, profile)
        elif item.kind == "checkbox":
            if (role == "sex" and item.value == sex) or (role != "sex" and not allergic):
                tick(sheet, item, pen, rng, profile)  # sex; "no known allergies"
        elif role == "allergies":
            _ink_if(allergic, sheet, item, pen, rng)
        else:
            _ink_if(role == "name" or rng.random() < 0.8, sheet, item, pen, rng)  # bed: mostly


def _ink_if(
    wanted: bool, sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator
) -> None:
    if wanted:
        ink(sheet, item, pen, rng)


def _fill_row(
    sheet: Sheet, fields: list[Field], pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """An unscheduled row (PRN entry, new order, note): one answer per group, the rest written."""
    if any(item.role == "date" for item in fields):
        _fill_prn(sheet, fields, pen, rng, profile)
        return
    groups: dict[str, list[Field]] = defaultdict(list)
    for item in fields:
        if item.group and item.kind == "checkbox":
            groups[item.group].append(item)
        elif item.kind == "checkbox":
            if rng.random() < profile.tick_rate:
                tick(sheet, item, pen, rng, profile)
        elif item.kind == "digits" and item.role != "reason":
            _write_number(sheet, item, pen, rng, profile)
        elif item.kind != "digits" and (
            rng.random() < profile.text_rate or item.role in ("initials", "signature")
        ):
            ink(sheet, item, pen, rng)
    for boxes in groups.values():
        _fill_group(sheet, boxes, pen, rng, profile)
    for item in fields:  # a write-in dose's reason: only when it was not given
        if item.role == "reason":
            _write_reason(sheet, item, pen, rng, profile)


def _fill_prn(
    sheet: Sheet, fields: list[Field], pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """A PRN entry (printing/layout/prn.py): the date ticked that goes with the time written,
    the dose, a site code, every initials box; the reason, re-check and effect sometimes."""
    start = sheet.layout.period_start or datetime(2026, 1, 1, 8, 0)
    end = sheet.layout.period_end or start + timedelta(hours=24)
    minutes = int((end - start).total_seconds() // 60)
    when = start + timedelta(minutes=int(rng.integers(0, max(1, minutes))))
    for item in fields:
        if item.role == "date" and item.value == when.date().isoformat():
            tick(sheet, item, pen, rng, profile)
        elif item.role == "time":
            digits(sheet, item, when.strftime("%H%M"), when.strftime("%H:%M"), pen, rng, profile)
        elif item.role == "effect_time" and rng.random() < profile.text_rate:
            later = when + timedelta(minutes=int(rng.integers(30, 90)))
            digits(sheet, item, later.strftime("%H%M"), later.strftime("%H:%M"), pen, rng, profile)
        elif item.role == "site":
            code = str(int(rng.integers(1, 9)))
            digits(sheet, item, code, code, pen, rng, profile)
        elif item.role == "dose":
            _write_dose(sheet, item, pen, rng, profile)
        elif item.role in ("initials", "second_initials", "witness") or (
            item.kind == "text" and rng.random() < profile.text_rate
        ):
            ink(sheet, item, pen, rng)


def _write_reason(
    sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    prefix = item.field_id.rsplit(".", 1)[0] + "."
    ticked = [f for f, v in sheet.fields.items() if v == "ticked" and f.startswith(prefix)]
    if ticked and not ticked[0].endswith(".given"):
        code = "6" if ticked[0].endswith(".refused") else str(int(rng.integers(1, 6)))
        digits(sheet, item, code, code, pen, rng, profile)


def _write_dose(
    sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """A PRN dose: the ordered dose when it fits the comb (what a nurse gives and writes),
    else a number the reader must send to a person."""
    ordered = sheet.doses.get(item.order_id) if item.order_id else None
    if ordered is not None:
        cell_text, number = comb_text(item, ordered)
        if float(number) == ordered:
            digits(sheet, item, cell_text, number, pen, rng, profile)
            return
    _write_number(sheet, item, pen, rng, profile)


def _write_number(
    sheet: Sheet, item: Field, pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """A number in a row's comb, the kind its role asks for: a time of day in the page's
    period, a DDMM date of it, or a plausible value."""
    start = sheet.layout.period_start or datetime(2026, 1, 1, 8, 0)
    end = sheet.layout.period_end or start + timedelta(hours=24)
    minutes = max(1, int((end - start).total_seconds() // 60))
    when = start + timedelta(minutes=int(rng.integers(0, minutes)))
    cells = item.cells or 4
    if item.role in ("time", "order_time", "obs_time", "effect_time", "write_in_time"):
        text = when.strftime("%H%M")[-cells:]
        digits(sheet, item, text, when.strftime("%H:%M"), pen, rng, profile)
    elif item.role == "order_date":
        text = when.strftime("%d%m")
        digits(sheet, item, text, text, pen, rng, profile)
    elif item.role == "dose_decimals":
        if rng.random() < 0.3:  # most doses are whole numbers: the decimals left empty
            text = ("25", "50", "75")[int(rng.integers(0, 3))][:cells]
            digits(sheet, item, text, text, pen, rng, profile)
    else:
        cell_text, number = vital_value(item, rng)
        digits(sheet, item, cell_text, number, pen, rng, profile)


def _fill_group(
    sheet: Sheet, boxes: list[Field], pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """One answer ticked in a group of checkboxes (rarely two: a contradiction)."""
    chosen = boxes[int(rng.integers(len(boxes)))]
    tick(sheet, chosen, pen, rng, profile)
    if len(boxes) > 1 and rng.random() < profile.contradiction_rate:
        extra = next(item for item in boxes if item is not chosen)
        tick(sheet, extra, pen, rng, profile)
        for item in (chosen, extra):
            sheet.flags[item.field_id].append("contradiction")


_FILLERS = {"dose": _fill_dose, "vitals": _fill_vitals, "row": _fill_row}


def _stray_dots(
    sheet: Sheet, pen: pens.Pen, rng: np.random.Generator, profile: FillProfile
) -> None:
    """Pen dots well away from every field: marks the reader must ignore."""
    width, height = sheet.layout.size_mm
    wanted = int(rng.integers(0, profile.stray_dots + 1)) if profile.stray_dots > 0 else 0
    for _ in range(40):
        if len(sheet.strays) >= wanted:
            return
        x, y = rng.uniform(0.15 * width, 0.85 * width), rng.uniform(0.2 * height, 0.85 * height)
        spot = Box(x - 2.5, y - 2.5, 5.0, 5.0)
        if any(_overlaps(spot, item.box) for item in sheet.layout.fields):
            continue
        pens.draw_dot(sheet.image, x, y, pen, sheet.px_per_mm, rng)
        sheet.strays.append(StrayMark("dot", (round(x - 1, 2), round(y - 1, 2), 2.0, 2.0)))


def _overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h
