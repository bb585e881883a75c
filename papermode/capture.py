"""Read one page image: quality gate -> locate -> identity -> rectify -> every field.

No store writes here: `read_page_image` returns a `CaptureOutcome` that `ingest` stores in
one transaction. It runs in worker processes, so it only needs a function that returns the
printed layout of a page id (read from the store, read-only).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np

from papermode import digits, locate, marks, plausibility, quality
from papermode.errors import PageIdError
from papermode.freecapture import FreeRead, read_free_image
from papermode.imaging import PageImage
from papermode.model import Box, Field, PageLayout, Reading, ReadingStatus, Snapshot

PX_PER_MM = 8.0
CROP_MARGIN_MM = 2.0
# Tick boxes and ink boxes; digits thresholds per field type are `digits.DEFAULT_THRESHOLDS`
# (chosen from the measured curves in docs/digits.md). Both are settings.
DEFAULT_THRESHOLDS = {"checkbox": 0.9, "signature": 0.9, "text": 0.9}

CaptureStatus = Literal["read", "retake", "free", "quarantined"]
MrnCheck = Literal["match", "mismatch", "unread", "not_applicable"]


@dataclass(frozen=True)
class PageContext:
    """What the reader needs to know of a printed page: its layout and its orders' doses."""

    layout: PageLayout
    order_doses: dict[str, float | None] = field(default_factory=dict)
    medicines: tuple[str, ...] = ()  # the snapshot's medicines, for drug-name suggestions
    known_mrns: frozenset[str] = frozenset()  # every patient this store printed pages for


ContextLookup = Callable[[str], PageContext]


@dataclass(frozen=True)
class FieldResult:
    reading: Reading
    crop_png: bytes
    suggestion: str | None = None  # a handwritten drug name as OCR + lexicon read it


@dataclass(frozen=True)
class CaptureOutcome:
    """What one page image said: its identity, its fields, or why it could not be read."""

    frame: int
    status: CaptureStatus
    message: str | None = None
    page_id: str | None = None
    identity_source: str | None = None  # "qr" or "printed"
    mrn_check: MrnCheck = "not_applicable"
    homography: tuple[tuple[float, ...], ...] | None = None
    reprojection_mm: float | None = None
    quality: dict[str, float] = field(default_factory=dict)
    fields: tuple[FieldResult, ...] = ()
    rectified_jpeg: bytes | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    free: FreeRead | None = None


class _Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def read_page_image(
    image: PageImage,
    context_of: ContextLookup,
    *,
    kind: str = "auto",
    snapshot_of: Callable[[], Snapshot | None] = lambda: None,
    thresholds: dict[str, float] | None = None,
) -> CaptureOutcome:
    """Everything one page image says, or why it must be retaken / is not a form.

    `kind` is "auto" (a form when markers or a papermode QR code are found, else a free
    photo), or "screen" / "note" for photos the clerk says are not forms.
    """
    clock = _Stopwatch()
    gray = image.gray
    location = None
    if kind not in ("screen", "note"):
        with clock.stage("locate"):
            location = locate.locate_page(gray)
    if location is None and kind == "auto":
        with clock.stage("quality"):
            reason = quality.retake_reason(gray, None)
        if reason:
            return CaptureOutcome(image.index, "retake", reason, seconds=clock.seconds)
    if location is None:
        with clock.stage("ocr"):
            free = read_free_image(image.pixels, kind, snapshot_of())
        return CaptureOutcome(image.index, "free", free.problem, seconds=clock.seconds, free=free)
    with clock.stage("quality"):
        reason = quality.retake_reason(gray, location)
    if reason:
        return CaptureOutcome(image.index, "retake", reason, seconds=clock.seconds)
    with clock.stage("identity"):
        identity = _identify(gray, location, context_of)
    if identity.problem or identity.context is None or identity.rectified is None:
        return CaptureOutcome(
            image.index,
            identity.status,
            identity.problem,
            seconds=clock.seconds,
            page_id=None,
            identity_source=identity.source,
            mrn_check=identity.mrn_check,
        )
    context, rectified, location = identity.context, identity.rectified, identity.location
    assert location is not None
    results = _read_fields(rectified, context, {**DEFAULT_THRESHOLDS, **(thresholds or {})}, clock)
    with clock.stage("encode"):
        ok, jpeg = cv2.imencode(".jpg", rectified, [cv2.IMWRITE_JPEG_QUALITY, 80])
    homography = location.homography
    return CaptureOutcome(
        frame=image.index,
        status="read",
        page_id=context.layout.page_id,
        identity_source=identity.source,
        mrn_check=identity.mrn_check,
        homography=None
        if homography is None
        else tuple(tuple(float(v) for v in row) for row in homography),
        reprojection_mm=float(location.reprojection_mm),
        quality=dict(location.quality),
        fields=results,
        rectified_jpeg=jpeg.tobytes() if ok else None,
        seconds=clock.seconds,
    )


# ---------------------------------------------------------------------- identity


@dataclass(frozen=True)
class _Identity:
    context: PageContext | None
    source: str | None
    mrn_check: MrnCheck
    status: CaptureStatus = "read"
    problem: str | None = None
    rectified: np.ndarray | None = None
    location: locate.PageLocation | None = None


def _identify(
    gray: np.ndarray, location: locate.PageLocation, context_of: ContextLookup
) -> _Identity:
    """Page id from the QR, else the printed id; the banner MRN as an independent check.

    Once the page is known, its printed paper size fixes the geometry (A4 and Letter
    differ by a few millimetres: guessing it from the markers alone is not good enough).
    """
    page_id, source = location.page_id, "qr"
    rectified = None
    if page_id is None:
        rectified = locate.rectify(gray, location, px_per_mm=PX_PER_MM)
        page_id = locate.read_printed_page_id(rectified, location.size_mm, PX_PER_MM)
        source = "printed"
    if page_id is None:
        return _Identity(
            None,
            None,
            "unread",
            "retake",
            "the page's QR code and printed page id cannot be read: retake the "
            "photo with the top-right corner sharp and free of glare",
        )
    try:
        context = context_of(page_id)
    except PageIdError as error:
        return _Identity(None, source, "unread", "quarantined", error.message)
    if rectified is None or tuple(location.size_mm) != tuple(context.layout.size_mm):
        location = locate.refit(location, context.layout.size_mm)
        rectified = locate.rectify(gray, location, px_per_mm=PX_PER_MM)
    mrn_check = _check_mrn(rectified, location, context)
    if mrn_check == "mismatch":
        return _Identity(
            None,
            source,
            mrn_check,
            "quarantined",
            f"identity check failed for page {page_id}: the MRN printed on the "
            "banner does not match the page's patient; the page is not attributed "
            "and goes to review",
        )
    return _Identity(context, source, mrn_check, rectified=rectified, location=location)


def _check_mrn(
    rectified: np.ndarray, location: locate.PageLocation, context: PageContext
) -> MrnCheck:
    """The banner MRN against the page's patient.

    Only a reading that is exactly *another* patient's MRN contradicts the QR code: that is
    a page whose code belongs to someone else. A misread (a digit or two wrong, or letters
    Tesseract invented) proves nothing either way and counts as unread.
    """
    expected = context.layout.mrn
    if not expected:
        return "not_applicable"
    read = locate.read_banner_mrn(rectified, location.size_mm, PX_PER_MM)
    if read is None:
        return "unread"
    if read == expected:
        return "match"
    if read in context.known_mrns:
        return "mismatch"
    return "unread"


# ---------------------------------------------------------------------- fields


def _read_fields(
    rectified: np.ndarray, context: PageContext, thresholds: dict[str, float], clock: _Stopwatch
) -> tuple[FieldResult, ...]:
    layout = context.layout
    readings: dict[str, Reading] = {}
    with clock.stage("marks"):
        readings.update(_read_marks(rectified, layout, thresholds))
    with clock.stage("digits"):
        readings.update(_read_digits(rectified, context, thresholds))
    with clock.stage("text"):
        suggestions = _drug_suggestions(rectified, context, readings)
    if layout.template == "new_orders":
        readings = _new_orders_to_review(readings)
    with clock.stage("crops"):
        return tuple(
            FieldResult(readings[f.field_id], _crop_png(rectified, f), suggestions.get(f.field_id))
            for f in layout.fields
            if f.field_id in readings
        )


def _new_orders_to_review(readings: dict[str, Reading]) -> dict[str, Reading]:
    """An order is never created from what a machine read: everything written goes to a
    person, who confirms the whole order."""
    return {
        field_id: reading
        if reading.value in (None, "empty")
        else replace(reading, status="review", flags=reading.flags + ("new_order",))
        for field_id, reading in readings.items()
    }


def _drug_suggestions(
    rectified: np.ndarray, context: PageContext, readings: dict[str, Reading]
) -> dict[str, str]:
    """Tesseract's reading of handwritten drug names, matched to the medicine lexicon.

    Only a suggestion for the reviewer: Tesseract reads handwriting poorly, so the field
    itself always goes to review.
    """
    from papermode import ocr
    from papermode.medlines import Lexicon, find_drug

    fields = [
        f
        for f in context.layout.fields
        if f.role == "drug" and readings.get(f.field_id, _EMPTY).value == "ink"
    ]
    if not fields:
        return {}
    lexicon = Lexicon.load(extra_names=context.medicines)
    suggestions: dict[str, str] = {}
    for f in fields:
        text = ocr.ocr_line(_crop(rectified, f.box.inset(0.6), margin_mm=0.0), langs=("eng",))
        found = find_drug(text, lexicon) if text else None
        if found:
            suggestions[f.field_id] = found[0]
    return suggestions


_EMPTY = Reading("", "empty", 1.0, "auto")


def _status(confidence: float, threshold: float, flags: tuple[str, ...]) -> ReadingStatus:
    return "auto" if confidence >= threshold and not flags else "review"


def _read_marks(
    rectified: np.ndarray, layout: PageLayout, thresholds: dict[str, float]
) -> dict[str, Reading]:
    readings: dict[str, Reading] = {}
    groups: dict[str, list[Field]] = {}
    for f in layout.fields:
        if f.kind == "checkbox":
            groups.setdefault(f.group or f.field_id, []).append(f)
        elif f.kind in ("signature", "text"):
            page = _without_ruled_lines(rectified, f.box) if f.role == "note" else rectified
            mark = marks.ink_present(page, f.box, PX_PER_MM)
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
                else "review",
                flags,
            )
    for members in groups.values():
        for field_id, mark in marks.read_group(rectified, members, PX_PER_MM).items():
            flags = tuple(mark.flags)
            readings[field_id] = Reading(
                field_id,
                mark.state,
                round(mark.confidence, 4),
                _status(mark.confidence, thresholds["checkbox"], flags),
                flags,
            )
    return readings


def _read_digits(
    rectified: np.ndarray, context: PageContext, thresholds: dict[str, float]
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
            verdict = plausibility.check(f, str(result.value), period=period, order_dose=dose)
            if not verdict.ok:
                flags += ("implausible",)
        status, confidence = digits.decide(
            result, f, factor=verdict.factor, plausible=verdict.ok, thresholds=thresholds
        )
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
            for reading in (high, low):
                readings[reading.field_id] = replace(
                    reading, status="review", flags=reading.flags + ("implausible",)
                )
    return readings


SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"


def _without_ruled_lines(rectified: np.ndarray, box: Box) -> np.ndarray:
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
