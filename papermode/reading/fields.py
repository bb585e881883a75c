"""Read every field of an identified, straightened page: tick boxes, ink, digits, text.

Pure decisions on the rectified page (8 px per mm): which value each box holds, how sure
we are, and whether a person must look (the thresholds are settings). New-order sheets
always go to a person; handwritten drug names get an OCR + lexicon suggestion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from papermode.core.flags import Flag, Threshold
from papermode.core.labels import label_area
from papermode.core.model import Box, Field, PageLayout, Reading, ReadingStatus
from papermode.core.settings import PlausibilityLimits
from papermode.core.stopwatch import Stopwatch
from papermode.free import ocr
from papermode.free.medlines import census_lexicon, find_drug
from papermode.reading import digits, marks, plausibility
from papermode.reading.completeness import check_completeness
from papermode.reading.flags import asks_for_person

logger = logging.getLogger(__name__)

PX_PER_MM = 8.0
EMPTY_VALUES = frozenset({None, "empty"})
CROP_MARGIN_MM = 2.0


@dataclass(frozen=True)
class PageContext:
    """What the reader needs to know of a printed page: its layout and its orders' doses."""

    layout: PageLayout
    order_doses: dict[str, float | None] = field(default_factory=dict)
    medicines: tuple[str, ...] = ()  # the snapshot's medicines, for drug-name suggestions
    known_mrns: frozenset[str] = frozenset()  # every patient this store printed pages for


@dataclass(frozen=True)
class FieldResult:
    reading: Reading
    crop_png: bytes
    suggestion: str | None = None  # a handwritten drug name as OCR + lexicon read it


def read_fields(
    rectified: np.ndarray,
    context: PageContext,
    thresholds: dict[str, float],
    clock: Stopwatch,
    washed_out: set[str] | frozenset[str] = frozenset(),
    plausibility_limits: PlausibilityLimits = plausibility.DEFAULT_LIMITS,
    *,
    bilevel: bool = False,
) -> tuple[FieldResult, ...]:
    """Every field of the page. `washed_out` fields (printed border invisible) go to review.
    On a 1-bit scan (`bilevel`) a mark that survived the scanner's threshold is ink, but no
    empty box is proven empty (flag `bilevel_empty_unproven`, review): a light pencil tick
    is lost at thresholds where the printed borders survive (tools/measure_bilevel.py)."""
    layout = context.layout
    readings: dict[str, Reading] = {}
    with clock.stage("marks"):
        readings.update(_read_marks(rectified, layout, thresholds))
    with clock.stage("digits"):
        readings.update(_read_digits(rectified, context, thresholds, plausibility_limits))
    with clock.stage("text"):
        suggestions = _drug_suggestions(rectified, context, readings)
    readings = check_completeness(layout, readings)
    if layout.template == "new_orders":
        readings = _new_orders_to_review(readings)
    if bilevel:
        readings = _bilevel_empties_to_review(readings)
    for field_id in washed_out & readings.keys():
        # The printed box is invisible (glare, a shadow): nothing read there is trusted.
        reading = readings[field_id]
        if bilevel:
            continue  # black ink survived the scanner's threshold; empties are in review
        readings[field_id] = replace(
            reading, status=ReadingStatus.REVIEW, flags=reading.flags + (Flag.WASHED_OUT,)
        )
    for f in (f for f in layout.fields if f.field_id in readings):  # ids, never the value
        reading = readings[f.field_id]
        if reading.status == ReadingStatus.REVIEW:
            logger.info(
                "page %s field %s (%s %s): review, confidence %.2f, flags %s",
                layout.page_id,
                f.field_id,
                f.kind,
                f.role,
                reading.confidence,
                ",".join(reading.flags) or "none",
            )
    with clock.stage("crops"):
        return tuple(
            FieldResult(readings[f.field_id], _crop_png(rectified, f), suggestions.get(f.field_id))
            for f in layout.fields
            if f.field_id in readings
        )


def _bilevel_empties_to_review(readings: dict[str, Reading]) -> dict[str, Reading]:
    return {
        field_id: replace(
            reading,
            status=ReadingStatus.REVIEW,
            flags=reading.flags + (Flag.BILEVEL_EMPTY_UNPROVEN,),
        )
        if reading.value in EMPTY_VALUES
        else reading
        for field_id, reading in readings.items()
    }


def _new_orders_to_review(readings: dict[str, Reading]) -> dict[str, Reading]:
    """An order is never created from what a machine read: everything written goes to a
    person, who confirms the whole order."""
    return {
        field_id: reading
        if reading.value in (None, "empty")
        else replace(reading, status=ReadingStatus.REVIEW, flags=reading.flags + (Flag.NEW_ORDER,))
        for field_id, reading in readings.items()
    }


def _drug_suggestions(
    rectified: np.ndarray, context: PageContext, readings: dict[str, Reading]
) -> dict[str, str]:
    """Tesseract's reading of handwritten drug names, matched to the medicine lexicon.

    Only a suggestion for the reviewer: Tesseract reads handwriting poorly, so the field
    itself always goes to review.
    """
    fields = [
        f
        for f in context.layout.fields
        if f.role == "drug" and readings.get(f.field_id, _EMPTY).value == "ink"
    ]
    if not fields:
        return {}
    lexicon = census_lexicon(context.medicines)
    suggestions: dict[str, str] = {}
    for f in fields:
        text = ocr.ocr_line(_crop(rectified, f.box.inset(0.6), margin_mm=0.0), langs=("eng",))
        found = find_drug(text, lexicon) if text else None
        if found:
            suggestions[f.field_id] = found[0]
    return suggestions


_EMPTY = Reading("", "empty", 1.0, ReadingStatus.AUTO)


def _status(confidence: float, threshold: float, flags: tuple[str, ...]) -> ReadingStatus:
    if confidence >= threshold and not asks_for_person(flags):
        return ReadingStatus.AUTO
    return ReadingStatus.REVIEW


def _read_marks(
    rectified: np.ndarray, layout: PageLayout, thresholds: dict[str, float]
) -> dict[str, Reading]:
    readings: dict[str, Reading] = {}
    groups: dict[str, list[Field]] = {}
    for f in layout.fields:
        if f.kind == "checkbox":
            groups.setdefault(f.group or f.field_id, []).append(f)
        elif f.kind in ("signature", "text"):
            page = without_ruled_lines(rectified, f.box) if f.role == "note" else rectified
            mark = marks.ink_present(page, f.box, PX_PER_MM, label=label_area(f.box, f.label))
            value = "ink" if mark.state != "empty" else "empty"
            flags = tuple(mark.flags)
            # Handwritten text (a drug name) is never auto-accepted: a person reads it.
            threshold = thresholds.get(f.kind, 0.9)
            readings[f.field_id] = Reading(
                f.field_id,
                value,
                round(mark.confidence, 4),
                _status(mark.confidence, threshold, flags)
                if value == "empty" or f.kind == "signature"
                else ReadingStatus.REVIEW,
                flags,
            )
    for members in groups.values():
        group: dict[str, Reading] = {}
        for field_id, mark in marks.read_group(rectified, members, PX_PER_MM).items():
            flags = tuple(mark.flags)
            group[field_id] = Reading(
                field_id,
                mark.state,
                round(mark.confidence, 4),
                _status(mark.confidence, thresholds[Threshold.CHECKBOX], flags),
                flags,
            )
        readings.update(settle_group(group))
    return readings


def settle_group(group: dict[str, Reading]) -> dict[str, Reading]:
    """One question's answers (given / held / refused) decided together.

    A box filled in beside a ticked one is the correction nurses are taught ("fill the wrong
    box in completely and tick the right one"): the filled box is not ticked, the other is,
    and because it is a correction the whole group goes to a person, flagged `correction`.
    Any other answer of the group in doubt puts the whole group in doubt
    (`group_uncertain`): a sure "given" beside a "held" that may be ticked is not sure.
    """
    if len(group) < 2:
        return group
    states = {reading.value for reading in group.values()}
    if "filled" in states and "ticked" in states:
        extra = Flag.CORRECTION
    elif any(reading.status == ReadingStatus.REVIEW for reading in group.values()):
        extra = Flag.GROUP_UNCERTAIN
    else:
        return group
    return {
        field_id: replace(
            reading,
            status=ReadingStatus.REVIEW,
            flags=reading.flags if extra in reading.flags else reading.flags + (extra,),
        )
        for field_id, reading in group.items()
    }


def _read_digits(
    rectified: np.ndarray,
    context: PageContext,
    thresholds: dict[str, float],
    limits: PlausibilityLimits = plausibility.DEFAULT_LIMITS,
) -> dict[str, Reading]:
    """Every comb field of the page in one batch, checked for plausibility."""
    layout = context.layout
    fields = [f for f in layout.fields if f.kind == "digits"]
    if not fields:
        return {}
    results = digits.read_digit_fields(rectified, fields, PX_PER_MM)
    period = None
    if layout.period_start and layout.period_end:
        period = (layout.period_start, layout.period_end)
    readings: dict[str, Reading] = {}
    for f in fields:
        result = results[f.field_id]
        flags = tuple(result.flags)
        verdict = plausibility.PLAUSIBLE
        if result.value is not None:
            dose = context.order_doses.get(f.order_id) if f.order_id else None
            verdict = plausibility.check(
                f, str(result.value), period=period, order_dose=dose, limits=limits
            )
            if f.role == "dose" and dose is None and verdict.ok:
                # A PRN or write-in dose with no ordered dose to compare: a person checks it.
                verdict = plausibility.Plausibility(False, "no ordered dose to compare", 1.0)
                flags += (Flag.NO_ORDERED_DOSE,)
            if not verdict.ok:
                flags += (Flag.IMPLAUSIBLE,)
                logger.info("field %s: implausible: %s", f.field_id, verdict.reason)
        status, confidence = digits.decide(
            result, f, factor=verdict.factor, plausible=verdict.ok, thresholds=thresholds
        )
        if asks_for_person(flags):
            status = ReadingStatus.REVIEW
        value = "empty" if result.empty else result.value
        readings[f.field_id] = Reading(f.field_id, value, round(confidence, 4), status, flags)
    return _check_blood_pressure(fields, readings)


def _check_blood_pressure(fields: list[Field], readings: dict[str, Reading]) -> dict[str, Reading]:
    """Diastolic must be below systolic in the same chart column: else both go to review."""
    by_time: dict[object, dict[str, Field]] = {}
    for f in fields:
        if f.code in (SYSTOLIC, DIASTOLIC):
            by_time.setdefault(f.scheduled, {})[f.code] = f
    for pair in by_time.values():
        if len(pair) != 2:
            continue
        high, low = readings[pair[SYSTOLIC].field_id], readings[pair[DIASTOLIC].field_id]
        verdict = plausibility.check_blood_pressure(
            high.value if high.value != "empty" else None,
            low.value if low.value != "empty" else None,
        )
        if not verdict.ok:
            logger.info("fields %s, %s: %s", high.field_id, low.field_id, verdict.reason)
            for reading in (high, low):
                readings[reading.field_id] = replace(
                    reading, status=ReadingStatus.REVIEW, flags=reading.flags + (Flag.IMPLAUSIBLE,)
                )
    return readings


SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"


def without_ruled_lines(rectified: np.ndarray, box: Box) -> np.ndarray:
    """A copy of the page with the printed ruled lines of a writing area removed.

    The notes page prints light horizontal lines to write on; only handwriting is ink.
    Long, thin, horizontal strokes (over a quarter of the box wide) are the ruling.
    """
    page = rectified.copy()
    top, left = int(box.y * PX_PER_MM), int(box.x * PX_PER_MM)
    bottom, right = int((box.y + box.h) * PX_PER_MM), int((box.x + box.w) * PX_PER_MM)
    region = page[top:bottom, left:right]
    if region.size == 0:
        return page
    dark = cv2.adaptiveThreshold(
        region, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 8
    )
    length = max(3, int(box.w * PX_PER_MM / 4))
    rules = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    region[rules > 0] = 255
    return page


def _crop(rectified: np.ndarray, box: Box, *, margin_mm: float = CROP_MARGIN_MM) -> np.ndarray:
    scale = PX_PER_MM
    top = max(0, int((box.y - margin_mm) * scale))
    left = max(0, int((box.x - margin_mm) * scale))
    bottom = int((box.y + box.h + margin_mm) * scale)
    right = int((box.x + box.w + margin_mm) * scale)
    return rectified[top:bottom, left:right]


def _crop_png(rectified: np.ndarray, f: Field) -> bytes:
    ok, png = cv2.imencode(".png", _crop(rectified, f.box))
    return png.tobytes() if ok else b""
