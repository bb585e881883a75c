"""Read one page image: quality gate -> locate -> identity -> rectify -> every field.

No store writes here: `read_page_image` returns a `CaptureOutcome` that `ingest` stores in
one transaction. It runs in worker processes, so it only needs a function that returns the
printed layout of a page id (read from the store, read-only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from papermode.core.errors import PageIdError
from papermode.core.model import Snapshot
from papermode.core.stopwatch import Stopwatch
from papermode.free.capture import FREE_PHOTO_SECONDS, FreeRead, read_free_image
from papermode.reading import locate, quality
from papermode.reading.fields import (
    PX_PER_MM,
    FieldResult,
    PageContext,
    read_fields,
)
from papermode.reading.imaging import PageImage
from papermode.reading.washout import check_borders, retake_message

ContextLookup = Callable[[str], PageContext]
# Tick boxes and ink boxes; digits thresholds per field type are `digits.DEFAULT_THRESHOLDS`
# (chosen from the measured curves in docs/digits.md). Both are settings.
DEFAULT_THRESHOLDS = {"checkbox": 0.9, "signature": 0.9, "text": 0.9}

CaptureStatus = Literal["read", "retake", "free", "quarantined"]
MrnCheck = Literal["match", "mismatch", "unread", "not_applicable"]


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


def read_page_image(
    image: PageImage,
    context_of: ContextLookup,
    *,
    kind: str = "auto",
    snapshot_of: Callable[[], Snapshot | None] = lambda: None,
    thresholds: dict[str, float] | None = None,
    ocr_seconds: float = FREE_PHOTO_SECONDS,
) -> CaptureOutcome:
    """Everything one page image says, or why it must be retaken / is not a form.

    `kind` is "auto" (a form when markers or a papermode QR code are found, else a free
    photo), or "screen" / "note" for photos the clerk says are not forms. A photo that
    shows a papermode page it cannot read (blurred, corner squares lost) is a retake with
    its reason, never a free photo. `ocr_seconds` is Tesseract's budget for a free photo.
    """
    clock = Stopwatch()
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
            free = read_free_image(image.pixels, kind, snapshot_of(), seconds=ocr_seconds)
        return CaptureOutcome(image.index, "free", free.problem, seconds=clock.seconds, free=free)
    with clock.stage("quality"):
        reason = quality.retake_reason(gray, location)
    # Glare only matters where it hides boxes: once the page is known, `check_borders`
    # decides with the layout in hand (a bright but readable page is not sent back).
    if reason and reason != quality.GLARE:
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
    with clock.stage("quality"):
        washout = check_borders(rectified, context.layout.fields, PX_PER_MM)
        bilevel = quality.is_bilevel(gray)
    if washout.retake and not bilevel:
        return CaptureOutcome(
            image.index, "retake", retake_message(image.source), seconds=clock.seconds
        )
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    results = read_fields(
        rectified, context, limits, clock, set(washout.washed_out), bilevel=bilevel
    )
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
        quality={**location.quality, **({"scan_1bit": 1.0} if bilevel else {})},
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
