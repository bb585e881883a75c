"""Domain values shared along the whole flow: census -> layout -> reading -> export.

Frozen dataclasses only; no I/O here. Times are naive local wall-clock times of the
hospital (`datetime` without tzinfo), as printed on the forms and written by nurses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from papermode.core.flags import Flag, ReadingStatus
from papermode.core.pageid import qr_text

__all__ = ["Flag", "ReadingStatus"]  # re-exported: the enums live in papermode.core.flags
# --------------------------------------------------------------------------- census


@dataclass(frozen=True)
class Allergy:
    substance: str
    reaction: str | None = None
    criticality: str | None = None


@dataclass(frozen=True)
class Weight:
    kg: float
    measured_on: date | None = None


@dataclass(frozen=True)
class Patient:
    """One inpatient of the census. `patient_id` is the census's own id (FHIR Patient.id)."""

    patient_id: str
    mrn: str
    family: str
    given: str
    birth_date: date | None = None
    sex: str | None = None
    ward: str = ""
    room: str | None = None
    bed: str | None = None
    encounter: str | None = None
    # None: allergy status not recorded (print "NOT RECORDED", never "none").
    # (): recorded as no known allergies.
    allergies: tuple[Allergy, ...] | None = None
    weight: Weight | None = None

    @property
    def display_name(self) -> str:
        return f"{self.family.upper()}, {self.given}".strip(", ")

    @property
    def location(self) -> str:
        parts = [self.ward, self.room or "", self.bed or ""]
        return " / ".join(p for p in parts if p)


@dataclass(frozen=True)
class Timing:
    """FHIR-like timing: `frequency` times per `period` `period_unit` (h, d, wk), or fixed times."""

    frequency: int | None = None
    period: float | None = None
    period_unit: str | None = None
    times_of_day: tuple[time, ...] = ()
    code: str | None = None  # e.g. "q8h", "BID", as given by the source or derived
    # FHIR R4 Timing beyond a daily rhythm (docs/fhir.md). `when`: EventTiming codes (ACM,
    # HS, MORN...), placed by the hospital's meal and event times; `offset_minutes` from
    # each event (before it for AC codes, after it otherwise). `events`: exact date-times.
    when: tuple[str, ...] = ()
    offset_minutes: int = 0
    events: tuple[datetime, ...] = ()
    count: int | None = None  # the order's total administrations, counted from bounds_start
    days_of_week: tuple[str, ...] = ()  # mon..sun; empty: every day
    bounds_start: datetime | None = None  # no administration before this
    bounds_end: datetime | None = None  # none at or after this (exclusive)
    # As-needed orders only (a scheduled one is refused): "1-2 times every 4-6 h".
    frequency_max: int | None = None
    period_max: float | None = None

    @property
    def label(self) -> str:
        if self.code:
            return self.code
        if self.times_of_day:
            return " ".join(t.strftime("%H:%M") for t in self.times_of_day)
        if self.when:
            offset = f" {self.offset_minutes:+d} min" if self.offset_minutes else ""
            return " ".join(self.when) + offset
        if self.events:
            return " ".join(e.strftime("%Y-%m-%d %H:%M") for e in self.events)
        if self.frequency and self.period and self.period_unit:
            frequency, period = f"{self.frequency}", f"{self.period:g}"
            if self.frequency_max and self.frequency_max != self.frequency:
                frequency = f"{frequency}-{self.frequency_max}"
            if self.period_max and self.period_max != self.period:
                period = f"{period}-{self.period_max:g}"
            return f"{frequency}x / {period} {self.period_unit}"
        return ""


@dataclass(frozen=True)
class Rate:
    """An infusion rate as ordered: `value` (to `high` for a range) in `unit` ("mL/h").

    `unit` is the printed spelling of a UCUM rate (census/vocabulary.py `rate_unit`):
    "mL/h", "units/h", "mg/kg/h", "mcg/kg/min".
    """

    value: float
    unit: str
    high: float | None = None

    @property
    def text(self) -> str:
        """ "18 mL/h", "2-10 units/h"."""
        amount = format_quantity(self.value)
        if self.high is not None and self.high != self.value:
            amount = f"{amount}-{format_quantity(self.high)}"
        return f"{amount} {self.unit}"


@dataclass(frozen=True)
class Dosage:
    """One scheduled dosage of an order: its own timing and the dose given at those times.

    An order has several when its dose differs by time (200 mg at 08:00, 400 mg at 20:00)
    or by step (a taper: each step's timing carries its own bounds).
    """

    timing: Timing
    dose_value: float | None = None
    dose_unit: str | None = None
    dose_max: float | None = None  # a dose range: dose_value to dose_max
    sequence: int | None = None
    rate: Rate | None = None  # an intermittent infusion: each dose runs at this rate

    @property
    def dose_text(self) -> str:
        return dose_text(self.dose_value, self.dose_unit, self.dose_max)

    @property
    def label(self) -> str:
        """ "4 TAB daily 2015-01-16 to 2015-01-20": the dose, its timing and its dates."""
        text = f"{self.dose_text} {self.timing.label}".strip()
        start, end = self.timing.bounds_start, self.timing.bounds_end
        if start is not None and end is not None:
            last = end - timedelta(seconds=1)
            return f"{text} {start:%Y-%m-%d} to {last:%Y-%m-%d}"
        if start is not None:
            return f"{text} from {start:%Y-%m-%d}"
        if end is not None:
            return f"{text} until {end - timedelta(seconds=1):%Y-%m-%d}"
        return text


@dataclass(frozen=True)
class Order:
    """An active medication order (FHIR MedicationRequest).

    `dosages` (empty for the simple case of one dose on one timing) lists every scheduled
    dosage; then `timing`, `dose_value` and `dose_unit` are the first one's, kept for the
    order column, and each `ScheduledDose` carries its own dose. `instructions` are the
    prescriber's words printed under the drug (additional instructions such as "hold if
    heart rate < 55", patient instruction, text-only dosage entries); `dosage_text` is the
    SIG that restates the structured dosage, printed after them.
    """

    order_id: str
    patient_id: str
    medication: str
    dose_value: float | None = None
    dose_unit: str | None = None
    route: str | None = None
    timing: Timing | None = None
    as_needed: bool = False
    indication: str | None = None  # as-needed reason
    max_per_period: str | None = None  # e.g. "4 doses / 24 h"
    authored_on: datetime | None = None
    requester: str | None = None
    high_alert: bool = False
    note: str | None = None
    dosages: tuple[Dosage, ...] = ()
    instructions: tuple[str, ...] = ()
    dose_max: float | None = None  # a dose range: dose_value to dose_max
    dosage_text: tuple[str, ...] = ()  # the SIG (FHIR Dosage.text), printed after instructions
    # Infusions (docs/census.md#infusions): the ordered rate; `continuous` when it runs
    # without scheduled doses (charted as start / rate change / stop, never as ticks).
    rate: Rate | None = None
    calculated_rate: Rate | None = None  # doseAndRate type calculated, printed beside it
    continuous: bool = False
    do_not_perform: bool = False  # FHIR doNotPerform, printed as "DO NOT GIVE" (a setting)

    @property
    def dose_text(self) -> str:
        """Dose as printed, following ISMP: no trailing zeros, a leading zero, no "U".

        An order whose dose differs by time prints each dose with its timing.
        """
        doses = {(d.dose_value, d.dose_unit, d.dose_max) for d in self.dosages}
        if len(doses) > 1:
            return "; ".join(d.label for d in self.dosages)
        return dose_text(self.dose_value, self.dose_unit, self.dose_max)


def dose_text(value: float | None, unit: str | None, high: float | None = None) -> str:
    """ "1 g", "0.5 mg", "1-2 tablets": ISMP spelling, "U" written "units"."""
    if value is None:
        return ""
    amount = format_quantity(value)
    if high is not None and high != value:
        amount = f"{amount}-{format_quantity(high)}"
    unit = (unit or "").strip()
    if unit in {"U", "u", "IU", "iu", "[iU]", "[IU]"}:
        unit = "units"
    return f"{amount} {unit}".strip()


def format_quantity(value: float) -> str:
    """1.0 -> "1", 0.5 -> "0.5", .5 never printed without its leading zero."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text else "0"


@dataclass(frozen=True)
class ScheduledDose:
    """One administration the MAR expects: order X at time T."""

    order_id: str
    scheduled_at: datetime
    dose_value: float | None = None  # the dose to give at this time
    dose_unit: str | None = None
    dose_max: float | None = None

    @property
    def dose_text(self) -> str:
        return dose_text(self.dose_value, self.dose_unit, self.dose_max)


@dataclass(frozen=True)
class LeftOut:
    """A patient or order of the export that is not printed, and why (no patient data)."""

    resource: str  # "MedicationRequest/med-3", "orders.csv row 4"
    reason: str
    kind: Literal["patient", "order"] = "order"

    @property
    def line(self) -> str:
        return f"{self.resource}: left out ({self.reason})"


@dataclass(frozen=True)
class Snapshot:
    """What the record system said at `taken_at`: the source of every printed fact."""

    snapshot_id: str
    taken_at: datetime
    source: str
    patients: tuple[Patient, ...]
    orders: tuple[Order, ...]
    warnings: tuple[str, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    # A reprint's snapshot (printing/reprint.py): the newest paper change confirmed in
    # review that it includes; every page then says "+ paper orders confirmed up to ...".
    paper_confirmed_to: datetime | None = None

    def orders_for(self, patient_id: str) -> tuple[Order, ...]:
        return tuple(o for o in self.orders if o.patient_id == patient_id)

    def patient(self, patient_id: str) -> Patient:
        for candidate in self.patients:
            if candidate.patient_id == patient_id:
                return candidate
        raise KeyError(patient_id)


# --------------------------------------------------------------------------- layout

FieldKind = Literal["checkbox", "digits", "text", "signature"]
PaperName = Literal["a4", "letter"]

PAPER_SIZES_MM: dict[str, tuple[float, float]] = {
    "a4": (210.0, 297.0),
    "letter": (215.9, 279.4),
}


@dataclass(frozen=True)
class Box:
    """A rectangle in millimetres, measured from the page's top-left corner."""

    x: float
    y: float
    w: float
    h: float

    def as_list(self) -> list[float]:
        return [round(self.x, 2), round(self.y, 2), round(self.w, 2), round(self.h, 2)]

    def cell(self, index: int, cells: int) -> Box:
        """The `index`-th of `cells` equal comb cells, left to right."""
        width = self.w / cells
        return Box(self.x + index * width, self.y, width, self.h)

    def inset(self, margin: float) -> Box:
        return Box(self.x + margin, self.y + margin, self.w - 2 * margin, self.h - 2 * margin)


@dataclass(frozen=True)
class Field:
    """One box a nurse fills in, and what it records.

    `role` (MAR: given, held, refused, time, initials, dose, second_initials; vitals: vital;
    new orders: drug, dose, unit, route, frequency, prescriber, readback; PRN: time, dose,
    initials; blank pack: temp_number). A checkbox in a group (one question, several
    answers) has `group` and `value`.
    """

    field_id: str
    kind: FieldKind
    box: Box
    role: str | None = None
    cells: int = 0
    decimals: int = 0  # digits: how many of the cells follow the printed decimal point
    order_id: str | None = None
    scheduled: datetime | None = None
    code: str | None = None  # vitals: LOINC code
    group: str | None = None
    value: str | None = None
    label: str = ""

    def cell_boxes(self) -> tuple[Box, ...]:
        if self.kind != "digits" or self.cells <= 0:
            return ()
        return tuple(self.box.cell(i, self.cells) for i in range(self.cells))


@dataclass(frozen=True)
class Text:
    """Printed text. `x`, `y` is the baseline start (or centre/end by `align`)."""

    x: float
    y: float
    text: str
    size: float = 9.0
    bold: bool = False
    align: Literal["left", "centre", "right"] = "left"
    mono: bool = False


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.3
    grey: float = 0.0  # 0 black .. 1 white


@dataclass(frozen=True)
class Shade:
    """A filled rectangle (row shading, high-alert band)."""

    box: Box
    grey: float = 0.9
    outline: bool = False


Drawing = Text | Line | Shade


@dataclass(frozen=True)
class PageLayout:
    """One printed page: its identity, its fields and everything drawn on it, in mm."""

    page_id: str
    template: str
    template_version: str
    paper: str
    size_mm: tuple[float, float]
    snapshot_id: str
    patient_id: str | None
    mrn: str | None
    ward: str | None
    page_number: int
    page_count: int
    fields: tuple[Field, ...]
    drawings: tuple[Drawing, ...] = ()
    period_start: datetime | None = None
    period_end: datetime | None = None
    lang: str = "en"

    @property
    def qr_text(self) -> str:
        return qr_text(self.page_id)

    def field(self, field_id: str) -> Field:
        for candidate in self.fields:
            if candidate.field_id == field_id:
                return candidate
        raise KeyError(field_id)


@dataclass(frozen=True)
class PrintedPage:
    """A page as printed: its layout and where it sits in the PDFs `prepare` wrote."""

    layout: PageLayout
    pdf: str  # file name of the ward PDF, relative to the output folder
    pdf_page: int  # 1-based
    also_in: tuple[tuple[str, int], ...] = ()  # (pdf, pdf_page) in the per-patient PDF


# --------------------------------------------------------------------------- reading

MarkState = Literal["empty", "ticked", "filled"]


@dataclass(frozen=True)
class Reading:
    """What one capture says one field holds."""

    field_id: str
    value: str | None  # checkbox: "ticked" / "empty" / "filled"; digits: "0815"; ink: "ink"/"empty"
    confidence: float  # 0..1
    status: ReadingStatus
    flags: tuple[str, ...] = ()  # `Flag` members (plain strings once read back from the store)
    detail: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
