"""Vital signs (one item per observation time and sign; blood pressure as one panel) and
new orders written on the new-order sheet (exported only once a reviewer confirmed them).

A vitals column's tick groups are one item each: consciousness (ACVPU, LOINC 67775-7) and
air or an oxygen device (papermode's `o2_device`), valued by the one answer ticked. The
SpO2 scale tick only informs the NEWS2 check (reading/news2.py), and the write-in row is
an image for a person: neither is an item.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from papermode.reading.plausibility import parse_hhmm, written_day
from papermode.reconcile.categories import Category
from papermode.reconcile.inputs import FieldState, PageInput, ReconcileInput
from papermode.reconcile.items import Evidence, Item, NewOrder

BP_PANEL, SYSTOLIC, DIASTOLIC = "85354-9", "8480-6", "8462-4"
CONSCIOUSNESS, O2_DEVICE = "67775-7", "o2_device"
# Every code a vitals comb can carry, with its UCUM unit. Keep in step with
# export/fhir.py VITALS, export/report_pdf.py _VITAL_NAMES and reading/plausibility.py
# LOINC_VITALS (tests/test_vitals_codes.py checks they agree).
UNITS = {
    "8867-4": "/min",
    "9279-1": "/min",
    "8310-5": "Cel",
    "59408-5": "%",
    "2708-6": "%",
    SYSTOLIC: "mm[Hg]",
    DIASTOLIC: "mm[Hg]",
    "29463-7": "kg",
    "72514-3": "{score}",  # pain severity 0-10
    "14743-9": "mmol/L",  # capillary glucose by meter
    "3151-8": "L/min",  # inhaled oxygen flow
    "news2": "{score}",  # the NEWS2 total written (no LOINC code exported)
}
# The answers of a tick group as the record's text (no standard answer codes are sent).
ANSWERS = {
    CONSCIOUSNESS: {
        "A": "Alert",
        "C": "New confusion",
        "V": "Responds to voice",
        "P": "Responds to pain",
        "U": "Unresponsive",
    },
    O2_DEVICE: {
        "air": "Room air",
        "nasal": "Oxygen by nasal cannula",
        "mask": "Oxygen by mask",
        "other": "Oxygen by another device",
    },
}
_NOT_ITEMS = frozenset({"spo2_scale", "extra"})
_INK_ONLY = frozenset({None, "", "ink", "empty"})


def vital_items(source: ReconcileInput) -> list[Item]:
    """Every written vital sign; systolic and diastolic of one time as one panel."""
    items = []
    for page in source.pages:
        if page.template != "vitals" or page.patient_id is None:
            continue
        columns: dict[datetime, dict[str, FieldState]] = defaultdict(dict)
        groups: dict[tuple[datetime, str], list[FieldState]] = defaultdict(list)
        for state in page.states:
            printed = state.field
            if printed.role != "vital" or not printed.code or not printed.scheduled:
                continue
            if printed.code in _NOT_ITEMS or printed.kind not in ("digits", "checkbox"):
                continue
            if printed.kind == "checkbox":
                groups[(printed.scheduled, printed.code)].append(state)
            else:
                columns[printed.scheduled][printed.code] = state
        for moment, by_code in sorted(columns.items()):
            items += _column_items(page, page.patient_id, moment, by_code)
        for (moment, code), states in sorted(groups.items()):
            if any(state.marked or state.awaiting for state in states):
                items.append(_answer_item(page, page.patient_id, moment, code, states))
    return items


def _answer_item(
    page: PageInput, patient_id: str, moment: datetime, code: str, states: list[FieldState]
) -> Item:
    """A tick group of one column: exported only when one answer is ticked and settled."""
    base = replace(
        _base_item(page, patient_id, moment, code, [s for s in states if s.marked or s.awaiting]),
        unit=None,
    )
    pending = [state for state in states if state.awaiting]
    if pending:
        fields = ", ".join(state.field.field_id for state in pending)
        return replace(base, category=Category.PENDING, notes=(f"in the review queue: {fields}",))
    ticked = [state for state in states if state.value == "ticked"]
    if len(ticked) != 1:
        note = "two answers ticked" if ticked else "no answer ticked"
        return replace(base, category=Category.PENDING, notes=(note,))
    answer = ticked[0].field.value or ""
    text = ANSWERS.get(code, {}).get(answer, answer)
    return replace(base, value_text=text, exportable=True)


def _column_items(
    page: PageInput, patient_id: str, moment: datetime, by_code: dict[str, FieldState]
) -> list[Item]:
    groups: list[tuple[str, list[FieldState]]] = []
    pressure = [by_code[c] for c in (SYSTOLIC, DIASTOLIC) if c in by_code]
    if any(state.marked for state in pressure):
        groups.append((BP_PANEL, [s for s in pressure if s.marked or s.awaiting]))
    for code, state in by_code.items():
        if code not in (SYSTOLIC, DIASTOLIC) and (state.marked or state.awaiting):
            groups.append((code, [state]))
    return [_vital_item(page, patient_id, moment, code, states) for code, states in groups]


def _base_item(
    page: PageInput, patient_id: str, moment: datetime, code: str, states: list[FieldState]
) -> Item:
    return Item(
        item_id=f"vital:{patient_id}:{moment:%Y%m%dT%H%M}:{code}",
        kind="vital",
        category=Category.VITAL_SIGN,
        patient_id=patient_id,
        ward=page.ward,
        scheduled_at=moment,
        occurred_at=moment,
        time_source="scheduled",
        code=code,
        unit=UNITS.get(code, "mm[Hg]" if code == BP_PANEL else None),
        evidence=tuple(Evidence.of(state) for state in states),
        notes=("observation time: the chart column's printed time",),
    )


def _vital_item(
    page: PageInput, patient_id: str, moment: datetime, code: str, states: list[FieldState]
) -> Item:
    base = _base_item(page, patient_id, moment, code, states)
    pending = [state for state in states if state.awaiting]
    if pending:
        fields = ", ".join(state.field.field_id for state in pending)
        return replace(base, category=Category.PENDING, notes=(f"in the review queue: {fields}",))
    values = [(state.field.code or "", written_number(state)) for state in states if state.marked]
    if any(value is None for _, value in values) or not values:
        return replace(base, category=Category.PENDING, notes=("a written value is not a number",))
    numbers = tuple((c, float(v)) for c, v in values if v is not None)
    if code == BP_PANEL:
        return replace(base, components=numbers, exportable=True)
    return replace(base, quantity=numbers[0][1], exportable=True)


def written_number(state: FieldState) -> float | None:
    """A comb's value as a number: "37.8", or its digits "378" with the printed decimals."""
    text = (state.value or "").strip()
    try:
        if "." in text or not state.field.decimals:
            return float(text)
        return int(text) / 10**state.field.decimals
    except ValueError:
        return None


# --------------------------------------------------------------------------- new orders


def new_order_items(source: ReconcileInput) -> list[Item]:
    """Every used block of a new-order sheet; exported only when a reviewer confirmed it."""
    items = []
    for page in source.pages:
        if page.template != "new_orders" or page.patient_id is None:
            continue
        blocks: dict[str, list[FieldState]] = defaultdict(list)
        for state in page.states:
            parts = state.field.field_id.split(".")
            if len(parts) >= 3 and parts[0] == "new":
                blocks[parts[1]].append(state)
        for number, states in sorted(blocks.items()):
            if any(state.marked for state in states):
                items.append(_new_order_item(page, page.patient_id, number, states))
    return items


def _new_order_item(
    page: PageInput, patient_id: str, number: str, states: list[FieldState]
) -> Item:
    base = Item(
        item_id=f"new:{page.page_id}:{number}",
        kind="new_order",
        category=Category.PENDING,
        patient_id=patient_id,
        ward=page.ward,
        evidence=tuple(Evidence.of(state) for state in states if state.marked),
    )
    unsettled = [state for state in states if state.awaiting]
    if unsettled:
        fields = ", ".join(state.field.field_id for state in unsettled)
        return replace(base, notes=(f"in the review queue: {fields}",))
    roles = _by_role(states)
    drug = roles.get("drug")
    if drug is None or drug.value in _INK_ONLY or not drug.decided_by:
        return replace(base, notes=("the drug name must be read and confirmed by a reviewer",))
    decimals = roles.get("dose_decimals")
    if decimals is not None and decimals.marked and not (decimals.value or "").strip().isdigit():
        return replace(base, notes=("the dose's digits after the decimal separator are unread",))
    written_at, when_note = _written_at(page, roles)
    order = NewOrder(
        drug=str(drug.value),
        dose=_new_dose(roles),
        unit=_ticked(states, "unit"),
        route=_ticked(states, "route"),
        frequency=_ticked(states, "frequency"),
        prescriber=_name(roles.get("prescriber_name")) or _name(roles.get("prescriber")),
        read_back="readback" in roles and roles["readback"].value == "ticked",
        written_at=written_at,
    )
    doubled = [r for r in ("unit", "route", "frequency") if _ticks(states, r) > 1]
    if doubled:
        return replace(base, notes=(f"two answers ticked for {', '.join(doubled)}",))
    if when_note:
        base = replace(base, notes=(*base.notes, when_note))
    return replace(
        base, category=Category.NEW_ORDER, medication=order.drug, new_order=order, exportable=True
    )


def _new_dose(roles: dict[str, FieldState]) -> float | None:
    """The whole part and the decimals written after the printed separator: "0" "5" is 0.5."""
    whole, decimals = roles.get("dose"), roles.get("dose_decimals")
    whole_value = written_number(whole) if whole is not None and whole.marked else None
    marked = decimals is not None and decimals.marked
    decimal_digits = (decimals.value or "").strip() if decimals is not None and marked else ""
    if not decimal_digits:
        return whole_value
    return float(f"{int(whole_value or 0)}.{decimal_digits}")


def _written_at(page: PageInput, roles: dict[str, FieldState]) -> tuple[datetime | None, str]:
    """When the order was written (day, month and time on the sheet), and a note when what
    is written cannot be placed: the record's authoredOn is then left to the back-entry."""
    day_state, time_state = roles.get("order_date"), roles.get("order_time")
    if day_state is None or not day_state.marked:
        return None, ""
    period = (page.period_start, page.period_end) if page.period_start and page.period_end else None
    day = written_day(day_state.value or "", period)
    moment = parse_hhmm(time_state.value or "") if time_state and time_state.marked else None
    if day is None:
        return None, f"the date written ({day_state.value}) is not a day of this sheet's period"
    if moment is None:
        return None, f"written on {day:%d/%m/%Y}, with no time"
    return datetime.combine(day, moment), ""


def _by_role(states: list[FieldState]) -> dict[str, FieldState]:
    roles = {s.field.role: s for s in states if s.field.role and s.field.kind != "checkbox"}
    for state in states:
        if state.field.role == "readback":
            roles["readback"] = state
    return roles


def _ticked(states: list[FieldState], role: str) -> str | None:
    ticked = [s.field.value for s in states if s.field.role == role and s.value == "ticked"]
    return ticked[0] if len(ticked) == 1 else None


def _ticks(states: list[FieldState], role: str) -> int:
    return sum(1 for s in states if s.field.role == role and s.value == "ticked")


def _name(state: FieldState | None) -> str | None:
    if state is None or state.value in _INK_ONLY:
        return None
    return str(state.value)
