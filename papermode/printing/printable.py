"""Checks a census must pass before its forms are printed, beyond the census's own.

They need the printed period (doses due at the same minute, the census's age at the start)
or the MAR's order column (what would be cut). `prepare` and `prepare --check` run them.
"""

from __future__ import annotations

from datetime import datetime

from papermode.core.errors import CensusError
from papermode.core.model import PAPER_SIZES_MM, Order, ScheduledDose, Snapshot
from papermode.core.pageframe import frame_for
from papermode.core.settings import Settings
from papermode.printing.glyphs import unprintable
from papermode.printing.layout import wording
from papermode.printing.layout.kit import ELLIPSIS, wrap
from papermode.printing.layout.mar import DOSES_PT
from papermode.printing.pdf import fonts
from papermode.printing.templates import load_templates


def census_age_warnings(snapshot: Snapshot, start: datetime, settings: Settings) -> list[str]:
    """A warning when the census was exported long before the printed period starts."""
    age = (start - snapshot.taken_at).total_seconds() / 3600
    if age <= settings.census_max_age_hours:
        return []
    return [
        f"the census was exported {age:.0f} h before the printed period starts (more than "
        f"{settings.census_max_age_hours:g} h): orders may have changed since; export it again"
    ]


def check_dose_schedules_fit(snapshot: Snapshot, lang: str | None = None) -> None:
    """Refuse an order whose doses differ by time when the MAR's order column would cut them.

    Until each MAR cell prints its own dose, the order column lists every dose with its
    times; a list cut with an ellipsis could hide the dose that is due. The doses are
    worded as `lang` prints them (layout/wording.py), or in every language when not given.
    """
    varying = [o for o in snapshot.orders if len(o.dosages) > 1]
    if not varying:
        return
    templates = load_templates()
    width = templates.for_form("mar").g("info_w") - 2.0

    def cut(order: Order) -> bool:
        for language, strings in templates.translations.items():
            if lang is not None and language != lang:
                continue
            # each dosage starts a line of the order column (layout/mar_order.py): three at most
            # each ("12,5 mg toutes les 12 heures du 30/11/2026 au 02/12/2026")
            for text in wording.order_doses(wording.translator(strings), language, order):
                if wrap(text, width, DOSES_PT, bold=True, lines=3)[-1].endswith(ELLIPSIS):
                    return True
        return False

    problems = [
        f"order {order.order_id}: one of its {len(order.dosages)} doses by time does not fit "
        "three lines of the MAR's order column; send that step as an order of its own"
        for order in varying
        if cut(order)
    ]
    if problems:
        raise CensusError(snapshot.source, problems)


def long_instruction_warnings(snapshot: Snapshot, lang: str | None = None) -> list[str]:
    """A warning per order whose instructions take more than two lines where the order
    prints: the MAR's order column, or for an as-needed order the PRN record's head.

    They print in full (the band or the head grows: printing/layout/mar_order.py, prn.py);
    refusing them would leave a ward with no forms in a downtime for a wording the record
    chose. A long "hold if ..." is still hard to read at the bedside, so pharmacy is told
    which orders to shorten in the record. Measured in the words `lang` prints
    (layout/wording.py), or in every language when not given. The warning names the order,
    never the patient.
    """
    worded = [o for o in snapshot.orders if o.instructions]
    if not worded:
        return []
    templates = load_templates()
    mar_width = templates.for_form("mar").g("info_w") - 2.0
    prn_width = frame_for(PAPER_SIZES_MM["letter"]).content.w - 4.0  # the narrower paper

    def lines(order: Order) -> int:
        most = 0
        for language, strings in templates.translations.items():
            if lang is not None and language != lang:
                continue
            t = wording.translator(strings)
            words = "; ".join(wording.instruction(t, language, w) for w in order.instructions)
            width, size = (prn_width, 7.5) if order.as_needed else (mar_width, 6.5)
            most = max(most, len(wrap(words, width, size, bold=True)))
        return most

    warnings = []
    for order in worded:
        count = lines(order)
        if count > 2:
            where = "PRN record's head" if order.as_needed else "MAR's order column"
            warnings.append(
                f"order {order.order_id}: its instructions take {count} lines of the {where}; "
                "printed in full (shorter instructions in the record read better at the bedside)"
            )
    return warnings


def check_one_dose_per_time(snapshot: Snapshot, doses: dict[str, list[ScheduledDose]]) -> None:
    """Refuse an order with two doses due at the same minute: one MAR cell cannot hold both."""
    problems = []
    for order in snapshot.orders:
        minutes = [d.scheduled_at.replace(second=0, microsecond=0) for d in doses[order.order_id]]
        twice = sorted({m for m in minutes if minutes.count(m) > 1})
        if twice:
            problems.append(
                f"order {order.order_id}: two of its dosages are due at {twice[0]:%Y-%m-%d %H:%M}; "
                "send one dose per time (the total dose), or two orders"
            )
    if problems:
        raise CensusError(snapshot.source, problems)


def check_text_printable(snapshot: Snapshot) -> None:
    """Refuse a census whose names, wards, drugs or instructions the forms cannot print
    faithfully (`papermode.printing.glyphs`): an empty box or a reversed Arabic name would
    be a misprint a nurse cannot see. Each problem names the patient or order id and the
    Unicode code points, never the text itself (it may be a patient's name)."""
    primary = fonts()["sans"]
    problems = []
    for patient in snapshot.patients:
        texts = [patient.family, patient.given, patient.ward, patient.room, patient.bed]
        texts += [a.substance for a in patient.allergies or ()]
        texts += [a.reaction for a in patient.allergies or ()]
        bad = _unprintable(texts, primary)
        if bad:
            problems.append(f"patient {patient.patient_id}: {_cannot_print(bad)}")
    for order in snapshot.orders:
        texts = [order.medication, order.route, order.indication, order.requester, order.note]
        bad = _unprintable([*texts, *order.instructions, *order.dosage_text], primary)
        if bad:
            problems.append(f"order {order.order_id}: {_cannot_print(bad)}")
    if problems:
        raise CensusError(snapshot.source, problems)


def _unprintable(texts: list[str | None], primary: str) -> str:
    return "".join(dict.fromkeys(c for t in texts if t for c in unprintable(t, primary)))


def _cannot_print(chars: str) -> str:
    points = ", ".join(f"U+{ord(c):04X}" for c in chars[:6]) + (" ..." if len(chars) > 6 else "")
    return (
        f"characters the forms cannot print faithfully ({points}: no font has them, or the "
        "script is written right to left or needs joined letters); enter the name in Latin "
        "letters in the record, or print this patient's forms by hand"
    )
