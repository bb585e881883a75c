"""Is each entry complete? Pure rules over one page's readings and its layout.

A dose ticked "given" with no initials, a time written with no answer ticked, an answer
ticked with its time comb left empty, a blank pack filled in without the patient's identity:
each value may be read perfectly and still not be a complete record. Such entries go to a
person (status `review`) with a flag that names what is missing:

- `missing_initials`: given / held / refused ticked (or a PRN entry written) and the
  initials box empty;
- `missing_choice`: a time written in a MAR cell and none of given / held / refused ticked;
- `missing_time`: given / held / refused ticked (or a PRN dose written) and the time comb
  of the same cell empty;
- `missing_dose`: a PRN entry with a time and no dose;
- `missing_rate`: an infusion started or its rate changed with the rate comb empty;
- `missing_date`: a PRN time or dose written and none of the entry's date ticks ticked;
- `no_second_check` / `no_witness` / `missing_site`: a PRN dose of a high-alert order
  without its second-check initials, of a controlled drug without a witness's initials, of
  a SC / IM order without its injection site code;
- `missing_identity`: a blank pack (no printed patient) with entries but its temporary
  number, birth date or name left empty: nothing on it can be attributed to a patient.
  The flag is on each empty identity box (naming what is missing) and on every entry.

An infusion row asks the same: the event ticked with its day and time and initials (second
initials for a high-alert drug), and the rate set at a start or a change.

Entries are the fields sharing an id prefix (`mar.row1.3.given`, `mar.row1.3.time`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from papermode.core.flags import Flag
from papermode.core.model import Field, PageLayout, Reading, ReadingStatus
from papermode.reading.news2 import check_news2

CHOICES = ("given", "held", "refused")
IDENTITY_ROLES = ("temp_number", "birth_date", "name")  # the name: an ink box


def check_completeness(layout: PageLayout, readings: dict[str, Reading]) -> dict[str, Reading]:
    """`readings` with every incomplete entry flagged and sent to review."""
    flagged = dict(readings)
    for fields in _entries(layout).values():
        roles = {f.role: f for f in fields if f.role and f.field_id in flagged}
        present = [f for f in fields if f.field_id in flagged]
        if "infusion_event" in roles:
            problems = _infusion_problems(present, flagged)
        elif "date" in roles:  # a PRN entry with its date ticks (printing/layout/prn.py)
            problems = _prn_problems(present, flagged)
        else:
            problems = _entry_problems(roles, flagged)
        for field_id, flag in problems:
            flagged[field_id] = _flag(flagged[field_id], flag)
    for field_id, flag in _identity_problems(layout, flagged):
        flagged[field_id] = _flag(flagged[field_id], flag)
    return check_news2(layout, flagged)  # a vitals column's NEWS2 total: complete and right?


def _entries(layout: PageLayout) -> dict[str, list[Field]]:
    entries: dict[str, list[Field]] = {}
    for f in layout.fields:
        entries.setdefault(f.field_id.rsplit(".", 1)[0], []).append(f)
    return entries


def _entry_problems(
    roles: dict[str, Field], readings: dict[str, Reading]
) -> Iterable[tuple[str, Flag]]:
    def written(role: str) -> bool:
        return role in roles and is_written(readings[roles[role].field_id])

    ticked = [roles[c].field_id for c in CHOICES if c in roles and _ticked(readings, roles[c])]
    has_choices = any(c in roles for c in CHOICES)
    if has_choices:
        if ticked and "initials" in roles and not written("initials"):
            yield from ((i, Flag.MISSING_INITIALS) for i in (*ticked, roles["initials"].field_id))
        if ticked and "time" in roles and not written("time"):
            yield from ((i, Flag.MISSING_TIME) for i in (*ticked, roles["time"].field_id))
        if not ticked and written("time"):
            choices = [roles[c].field_id for c in CHOICES if c in roles]
            yield from ((i, Flag.MISSING_CHOICE) for i in (*choices, roles["time"].field_id))
        return
    if "initials" in roles and ("time" in roles or "dose" in roles):  # a PRN entry
        entry = [roles[r].field_id for r in ("time", "dose") if written(r)]
        if entry and not written("initials"):
            yield from ((i, Flag.MISSING_INITIALS) for i in (*entry, roles["initials"].field_id))
        if written("dose") and "time" in roles and not written("time"):
            yield from (
                (i, Flag.MISSING_TIME) for i in (roles["dose"].field_id, roles["time"].field_id)
            )
        if written("time") and "dose" in roles and not written("dose"):
            yield from (
                (i, Flag.MISSING_DOSE) for i in (roles["time"].field_id, roles["dose"].field_id)
            )


def _infusion_problems(
    fields: list[Field], readings: dict[str, Reading]
) -> Iterable[tuple[str, Flag]]:
    """An infusion row (printing/layout/infusion.py): one event ticked, with its day and
    time, the rate set when it starts or changes, initials (and second initials)."""
    events = [f for f in fields if f.role == "infusion_event"]
    roles = {f.role: f for f in fields if f.role != "infusion_event"}

    def missing(role: str) -> list[str]:
        found = roles.get(role)
        return [found.field_id] if found and not is_written(readings[found.field_id]) else []

    ticked = [f for f in events if _ticked(readings, f)]
    ids = [f.field_id for f in ticked]
    if not ticked:
        written = [roles[r].field_id for r in ("infusion_time", "infusion_rate")
                   if r in roles and not missing(r)]  # fmt: skip
        if written:
            yield from ((i, Flag.MISSING_CHOICE) for i in (*[f.field_id for f in events], *written))
        return
    for role, flag in (("initials", Flag.MISSING_INITIALS), ("infusion_time", Flag.MISSING_TIME),
                       ("second_initials", Flag.MISSING_INITIALS)):  # fmt: skip
        if missing(role):
            yield from ((i, flag) for i in (*ids, *missing(role)))
    if any(f.value in ("start", "change") for f in ticked) and missing("infusion_rate"):
        yield from ((i, Flag.MISSING_RATE) for i in (*ids, *missing("infusion_rate")))


def _prn_problems(fields: list[Field], readings: dict[str, Reading]) -> Iterable[tuple[str, Flag]]:
    """A PRN entry: a dose given needs its date, time, dose and initials; a high-alert
    order's second-check initials, a controlled drug's witness, a SC / IM dose's site.

    The second check, the witness and the site are only asked on a printed order's entry
    (its fields carry the order id): a blank page's write-in block offers every box and
    cannot know which apply.
    """
    roles = {f.role: f for f in fields if f.role != "date"}
    dates = [f.field_id for f in fields if f.role == "date"]
    ticked = [i for i in dates if readings[i].value == "ticked"]

    def written(role: str) -> list[str]:
        found = roles.get(role)
        return [found.field_id] if found and is_written(readings[found.field_id]) else []

    def empty(role: str) -> list[str]:
        found = roles.get(role)
        return [found.field_id] if found and not is_written(readings[found.field_id]) else []

    given = written("time") + written("dose")
    entry = ticked + given
    if not entry:
        return
    printed = any(f.order_id for f in fields)
    wanted = [("initials", Flag.MISSING_INITIALS), ("time", Flag.MISSING_TIME),
              ("dose", Flag.MISSING_DOSE)]  # fmt: skip
    if printed:
        wanted += [("second_initials", Flag.NO_SECOND_CHECK), ("witness", Flag.NO_WITNESS),
                   ("site", Flag.MISSING_SITE)]  # fmt: skip
    for role, flag in wanted:
        if empty(role):
            yield from ((i, flag) for i in (*entry, *empty(role)))
    if given and not ticked:
        yield from ((i, Flag.MISSING_DATE) for i in (*given, *dates))


def _identity_problems(
    layout: PageLayout, readings: dict[str, Reading]
) -> Iterable[tuple[str, Flag]]:
    """A blank pack's entries need its identity: every entry is flagged when it is missing."""
    identity = [f for f in layout.fields if f.role in IDENTITY_ROLES and f.field_id in readings]
    if layout.patient_id is not None or not identity:
        return
    if all(is_written(readings[f.field_id]) for f in identity):
        return
    identity_ids = {f.field_id for f in identity} | {
        f.field_id for f in layout.fields if f.field_id.startswith("blank.")
    }
    entries = [
        field_id
        for field_id, reading in readings.items()
        if field_id not in identity_ids and is_written(reading)
    ]
    if not entries:
        return  # an unused blank page: nothing to attribute
    missing = [f.field_id for f in identity if not is_written(readings[f.field_id])]
    yield from ((field_id, Flag.MISSING_IDENTITY) for field_id in (*missing, *entries))


def is_written(reading: Reading) -> bool:
    """Something is there: a tick, a fill, ink, digits (even unreadable ones)."""
    return reading.value != "empty"


def _ticked(readings: dict[str, Reading], f: Field) -> bool:
    return readings[f.field_id].value == "ticked"


def _flag(reading: Reading, flag: Flag) -> Reading:
    flags = reading.flags if flag in reading.flags else reading.flags + (flag,)
    return replace(reading, status=ReadingStatus.REVIEW, flags=flags)
