"""Read one page image: quality gate -> locate -> identity -> rectify -> every field.

No store writes here: `read_page_image` returns a `CaptureOutcome` that `ingest` stores in
one transaction. It runs in worker processes, so it only needs a function that returns the
printed layout of a page id (read from the store, read-only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from papermode.core.errors import PageIdError
from papermode.core.flags import FileStatus, Threshold
from papermode.core.model import Snapshot
from papermode.core.settings import PlausibilityLimits
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
from papermode.reading.printed_text import printed_id_agreement
from papermode.reading.washout import check_borders, retake_message

logger = logging.getLogger(__name__)

ContextLookup = Callable[[str], PageContext]
# Tick boxes and ink boxes; digits thresholds per field type are `digits.DEFAULT_THRESHOLDS`
# (chosen from the measured curves in docs/digits.md). Both are settings.
DEFAULT_THRESHOLDS: dict[str, float] = {
    Threshold.CHECKBOX: 0.9,
    Threshold.SIGNATURE: 0.9,
    Threshold.TEXT: 0.9,
}

CaptureStatus = FileStatus  # read, retake, free or quarantined: never duplicate
MrnCheck = Literal["match", "mismatch", "unread", "not_applicable"]
PrintedIdCheck = Literal["match", "mismatch", "unread", "not_checked"]
# The outcome's `quality` numbers say whether the printed page id agreed with the QR code
# (1), was unread (0) or not checked (absent): `identity_method` reads it back.
PRINTED_ID_AGREES = "printed_id_agrees"


@dataclass(frozen=True)
class CaptureOutcome:
    """What one page image said: its identity, its fields, or why it could not be read."""

    frame: int
    status: CaptureStatus
    message: str | None = None
    page_id: str | None = None
    identity_source: str | None = None  # "qr" or "printed"
    mrn_check: MrnCheck = "not_applicable"
    identity: str | None = None  # `identity_method`: "qr+mrn", "qr", "printed-id", ...
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
    plausibility_limits: PlausibilityLimits | None = None,
    ocr_seconds: float = FREE_PHOTO_SECONDS,
) -> CaptureOutcome:
    """Everything one page image says, or why it must be retaken / is not a form.

    `kind` is "auto" (a form when markers or a papermode QR code are found, else a free
    photo), or "screen" / "note" for photos the clerk says are not forms. A photo that
    shows a papermode page it cannot read (blurred, corner squares lost) is a retake with
    its reason, never a free photo. `thresholds` and `plausibility_limits` are the
    hospital's settings; None: the packaged defaults. `ocr_seconds` is Tesseract's budget
    for a free photo.
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
            logger.info("frame %d: retake, before the page is found: %s", image.index, reason)
            return CaptureOutcome(image.index, FileStatus.RETAKE, reason, seconds=clock.seconds)
    if location is not None and location.conflict:
        # Several pages, or a QR code that is not the page's own: never read one page's
        # boxes under another page's id.
        logger.info("retake: %s (%d QR codes)", location.conflict, location.qr_codes)
        return CaptureOutcome(
            image.index, FileStatus.RETAKE, location.conflict, seconds=clock.seconds
        )
    if location is None:
        logger.debug("frame %d: no form markers or QR code: a free photo (%s)", image.index, kind)
        with clock.stage("ocr"):
            free = read_free_image(image.pixels, kind, snapshot_of(), seconds=ocr_seconds)
        return CaptureOutcome(
            image.index, FileStatus.FREE, free.problem, seconds=clock.seconds, free=free
        )
    with clock.stage("quality"):
        report = quality.measure_quality(gray, location)  # `retake_reason`, kept for below
        reason = quality.reason_for(report)
    # Glare only matters where it hides boxes: once the page is known, `check_borders`
    # decides with the layout in hand (a bright but readable page is not sent back).
    if reason and reason != quality.GLARE:
        logger.info("frame %d: retake (quality gate): %s", image.index, reason)
        return CaptureOutcome(image.index, FileStatus.RETAKE, reason, seconds=clock.seconds)
    with clock.stage("identity"):
        identity = _identify(gray, location, context_of)
    if identity.problem or identity.context is None or identity.rectified is None:
        logger.info("frame %d: %s: %s", image.index, identity.status, identity.problem)
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
        bilevel = report.bilevel  # `quality.is_bilevel(gray)`, measured once
    if washout.retake and not bilevel:
        logger.info(
            "page %s: retake, %d boxes washed out", context.layout.page_id, len(washout.washed_out)
        )
        return CaptureOutcome(
            image.index, FileStatus.RETAKE, retake_message(image.source), seconds=clock.seconds
        )
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    results = read_fields(
        rectified,
        context,
        limits,
        clock,
        set(washout.washed_out),
        plausibility_limits or PlausibilityLimits(),
        bilevel=bilevel,
    )
    with clock.stage("encode"):
        ok, jpeg = cv2.imencode(".jpg", rectified, [cv2.IMWRITE_JPEG_QUALITY, 80])
    homography = location.homography
    numbers = dict(location.quality)
    if bilevel:
        numbers["scan_1bit"] = 1.0  # its empty boxes are in review (`bilevel_empty_unproven`)
    if identity.printed_id != "not_checked":
        numbers[PRINTED_ID_AGREES] = 1.0 if identity.printed_id == "match" else 0.0
    method = identity_method(identity.source, identity.mrn_check, identity.printed_id)
    logger.info("page %s identified by %s", context.layout.page_id, method)
    return CaptureOutcome(
        frame=image.index,
        status=FileStatus.READ,
        page_id=context.layout.page_id,
        identity_source=identity.source,
        mrn_check=identity.mrn_check,
        identity=method,
        homography=None
        if homography is None
        else tuple(tuple(float(v) for v in row) for row in homography),
        reprojection_mm=float(location.reprojection_mm),
        quality=numbers,
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
    status: CaptureStatus = FileStatus.READ
    problem: str | None = None
    rectified: np.ndarray | None = None
    location: locate.PageLocation | None = None
    printed_id: PrintedIdCheck = "not_checked"


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
        logger.info("QR code not read: page id from the printed text: %s", page_id or "not read")
    if page_id is None:
        return _Identity(
            None,
            None,
            "unread",
            FileStatus.RETAKE,
            "the page's QR code and printed page id cannot be read: retake the "
            "photo with the top-right corner sharp and free of glare",
        )
    try:
        context = context_of(page_id)
    except PageIdError as error:
        return _Identity(None, source, "unread", FileStatus.QUARANTINED, error.message)
    if rectified is None or tuple(location.size_mm) != tuple(context.layout.size_mm):
        location = locate.refit(location, context.layout.size_mm)
        if location.conflict:  # the markers do not fit one flat page of the printed size
            return _Identity(None, source, "unread", FileStatus.RETAKE, location.conflict)
        rectified = locate.rectify(gray, location, px_per_mm=PX_PER_MM)
    mrn_check = _check_mrn(rectified, location, context)
    logger.info("page %s: id from %s, banner MRN check: %s", page_id, source, mrn_check)
    if mrn_check == "mismatch":
        return _Identity(
            None,
            source,
            mrn_check,
            FileStatus.QUARANTINED,
            f"identity check failed for page {page_id}: the MRN printed on the "
            "banner does not match the page's patient; the page is not attributed "
            "and goes to review",
        )
    printed_check = _check_printed_id(rectified, location, page_id, source, mrn_check)
    if printed_check == "mismatch":
        return _Identity(
            None,
            source,
            mrn_check,
            FileStatus.QUARANTINED,
            f"identity check failed for page {page_id}: the page id printed under the QR "
            "code is another page's (a code pasted from another page?); the page is not "
            "attributed and goes to a person",
        )
    return _Identity(
        context,
        source,
        mrn_check,
        rectified=rectified,
        location=location,
        printed_id=printed_check,
    )


def _check_printed_id(
    rectified: np.ndarray,
    location: locate.PageLocation,
    page_id: str,
    source: str,
    mrn_check: MrnCheck,
) -> PrintedIdCheck:
    """The page id printed under the QR code against the QR's, when the MRN did not agree.

    A QR code pasted over the printed one (another patient's page) keeps its markers and
    its place; only the printed text beside it still says which page this is. A QR whose
    banner MRN matched is confirmed already, and an id read from the print is that id.
    """
    if source != "qr" or mrn_check == "match":
        return "not_checked"
    return printed_id_agreement(rectified, location.size_mm, PX_PER_MM, page_id)


def identity_method(source: str | None, mrn_check: str | None, printed_id: str | None) -> str:
    """How a page's identity was established: "qr+mrn", "qr+printed-id", "qr",
    "printed-id+mrn", "printed-id", or "reviewer" (docs/readings.md)."""
    if source == "reviewer":
        return "reviewer"
    base = "printed-id" if source == "printed" else "qr"
    if mrn_check == "match":
        return f"{base}+mrn"
    if base == "qr" and printed_id == "match":
        return "qr+printed-id"
    return base


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
    read = locate.read_banner_mrn(rectified, location.size_mm, PX_PER_MM, expected)
    if read is None:
        return "unread"
    if read == expected:
        return "match"
    if read in context.known_mrns:
        return "mismatch"
    return "unread"
