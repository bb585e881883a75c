"""Read a photo against the page two reviewers named, when the machine could not tell.

A page whose identity could not be established (QR code and printed page id unreadable,
a banner MRN that disagrees) is never read under a guess. When two reviewers name the page
id shown on the paper, the kept original is read against THAT page's layout: the markers
give the geometry, every box is read as usual, and every value goes to a person, flagged
`identity_by_reviewer`: nothing is auto-accepted on an identity a machine did not check.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import cv2

from papermode.core.flags import FileStatus, Flag, ReadingStatus
from papermode.core.settings import PlausibilityLimits
from papermode.core.stopwatch import Stopwatch
from papermode.reading import locate, quality
from papermode.reading.fields import PX_PER_MM, FieldResult, PageContext, read_fields
from papermode.reading.imaging import PageImage
from papermode.reading.page import DEFAULT_THRESHOLDS, CaptureOutcome
from papermode.reading.washout import check_borders

logger = logging.getLogger(__name__)
IDENTITY_SOURCE = "reviewer"


def read_attributed(
    image: PageImage,
    context: PageContext,
    *,
    thresholds: dict[str, float] | None = None,
    plausibility_limits: PlausibilityLimits | None = None,
) -> CaptureOutcome:
    """The page image read against `context` (the page the reviewers named), every field
    in review; a RETAKE outcome when the page's markers cannot frame one whole page."""
    clock = Stopwatch()
    gray = image.gray
    size = context.layout.size_mm
    location = locate.locate_page(gray, size)
    if location is None or location.homography is None or location.conflict:
        reason = (location.conflict if location else None) or "the corner squares are not found"
        logger.info("attributed page %s not read: %s", context.layout.page_id, reason)
        return CaptureOutcome(image.index, FileStatus.RETAKE, _cannot(reason))
    location = locate.refit(location, size)
    if location.homography is None or location.conflict:
        return CaptureOutcome(image.index, FileStatus.RETAKE, _cannot(str(location.conflict)))
    rectified = locate.rectify(gray, location, px_per_mm=PX_PER_MM)
    washout = check_borders(rectified, context.layout.fields, PX_PER_MM)
    results = read_fields(
        rectified,
        context,
        {**DEFAULT_THRESHOLDS, **(thresholds or {})},
        clock,
        set(washout.washed_out),
        plausibility_limits or PlausibilityLimits(),
        bilevel=quality.is_bilevel(gray),
    )
    ok, jpeg = cv2.imencode(".jpg", rectified, [cv2.IMWRITE_JPEG_QUALITY, 80])
    logger.info("page %s read on the reviewers' attribution", context.layout.page_id)
    return CaptureOutcome(
        frame=image.index,
        status=FileStatus.READ,
        page_id=context.layout.page_id,
        identity_source=IDENTITY_SOURCE,
        identity=IDENTITY_SOURCE,
        homography=tuple(tuple(float(v) for v in row) for row in location.homography),
        reprojection_mm=float(location.reprojection_mm),
        quality=dict(location.quality),
        fields=tuple(_for_a_person(result) for result in results),
        rectified_jpeg=jpeg.tobytes() if ok else None,
        seconds=clock.seconds,
    )


def _for_a_person(result: FieldResult) -> FieldResult:
    reading = result.reading
    flags = tuple(dict.fromkeys((*reading.flags, Flag.IDENTITY_BY_REVIEWER)))
    return replace(result, reading=replace(reading, status=ReadingStatus.REVIEW, flags=flags))


def _cannot(reason: str) -> str:
    return (
        f"this photo cannot be read against the page named ({reason}): photograph the "
        "paper again, the whole page flat in the frame"
    )
