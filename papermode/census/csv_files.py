"""Read the CSV census (patients.csv, orders.csv, optional allergies.csv) into a `RawCensus`.

UTF-8 with or without a byte-order mark; comma, semicolon (European Excel) or tab
separated. Row numbers in messages are those a spreadsheet shows (the header is row 1).
The columns are documented in docs/census.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from papermode.census.csv_infusions import read_infusion
from papermode.census.raw import RawCensus
from papermode.core.model import Allergy, LeftOut, Order, Patient, Timing, Weight
from papermode.core.settings import Settings

PATIENT_COLUMNS = ("mrn", "family", "given", "ward")
ORDER_COLUMNS = ("order_id", "medication")
ALLERGY_COLUMNS = ("substance",)
_YES = {"yes", "y", "true", "1", "oui", "o", "ja", "j", "x", "prn"}
_NO = {"no", "n", "false", "0", "non", "nee", ""}
_NO_KNOWN = re.compile(r"^(no known|nka|nkda|none known|aucune allergie|geen (gekende )?allergie)")
_TIMES = re.compile(r"^\d{1,2}[:h]\d{2}([;,/+ ]+\d{1,2}[:h]\d{2})*$")


@dataclass(frozen=True)
class Row:
    """One data row: its file, spreadsheet row number and cells by lower-case column name."""

    file: str
    number: int
    cells: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.file} row {self.number}"

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()


def census_files(path: Path) -> tuple[Path, Path, Path]:
    """(patients.csv, orders.csv, allergies.csv) for a folder or the path of patients.csv."""
    folder = path if path.is_dir() else path.parent
    names = {child.name.lower(): child for child in folder.iterdir()} if folder.is_dir() else {}
    chosen = path.is_file() and path.name.lower() not in {"orders.csv", "allergies.csv"}
    patients = path if chosen else names.get("patients.csv", folder / "patients.csv")
    orders = names.get("orders.csv", folder / "orders.csv")
    allergies = names.get("allergies.csv", folder / "allergies.csv")
    return patients, orders, allergies


def read_csv_census(path: Path, settings: Settings) -> RawCensus:
    """Parse the CSV census at `path`; problems are collected in the result, never raised."""
    patients_csv, orders_csv, allergies_csv = census_files(path)
    raw = RawCensus(source=patients_csv.name if path.is_file() else path.name)
    present = [f for f in (patients_csv, orders_csv, allergies_csv) if f.is_file()]
    if present:  # CSV files carry no export time: the newest file's is the best guess
        raw.taken_at = datetime.fromtimestamp(max(f.stat().st_mtime for f in present))
    patient_rows = read_rows(patients_csv, PATIENT_COLUMNS, raw, required=True)
    unreadable = bool(raw.problems)
    order_rows = read_rows(orders_csv, ORDER_COLUMNS, raw, required=True)
    allergy_rows = read_rows(allergies_csv, ALLERGY_COLUMNS, raw, required=False)
    if unreadable:  # every order would be "not in patients.csv": say only what to fix
        return raw
    patients = [(row, _patient(row, raw)) for row in patient_rows]
    ids = {p.patient_id: p for _, p in patients}
    by_mrn = {p.mrn.upper(): p for _, p in patients if p.mrn}
    allergies = _allergies(allergy_rows, ids, by_mrn, raw)
    for row, patient in patients:
        recorded = _yes_no(row, "allergies_recorded", raw)
        found = allergies.get(patient.patient_id)
        listed = found if found is not None else (() if recorded else None)
        raw.patients.append((row.where, _with(patient, allergies=listed)))
    for row in order_rows:
        status = row.text("status").lower()
        if status not in {"", "active"}:
            raw.left_out.append(LeftOut(row.where, f"status is {status}, not active"))
            continue
        not_to_give = _yes_no(row, "do_not_give", raw)
        if not_to_give and settings.do_not_perform != "print":
            raw.left_out.append(
                LeftOut(row.where, "do_not_give: an order NOT to give this medicine")
            )
            continue
        order = _order(row, (ids, by_mrn), patients_csv.name, raw, settings)
        if order is not None:
            raw.orders.append((row.where, replace(order, do_not_perform=not_to_give)))
    return raw


# --------------------------------------------------------------------------- files


def read_rows(path: Path, columns: tuple[str, ...], raw: RawCensus, *, required: bool) -> list[Row]:
    """The data rows of one CSV file; missing files, columns and bad encodings are problems."""
    if not path.is_file():
        if required:
            raw.problems.append(f"{path.name}: missing; export it beside patients.csv")
        return []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raw.problems.append(
            f'{path.name} line {line}: not UTF-8 text; save the file as "CSV UTF-8"'
        )
        return []
    except OSError as error:
        raw.problems.append(f"{path.name}: cannot be read ({error.strerror})")
        return []
    return list(_rows(path.name, text, columns, raw))


def _rows(name: str, text: str, required: tuple[str, ...], raw: RawCensus) -> Iterator[Row]:
    first_line, _, rest = text.partition("\n")
    skipped = 0
    if first_line.strip().lower().startswith("sep=") and len(first_line.strip()) == 5:
        # Excel's "sep=;" first line names the separator
        delimiter, text, skipped = first_line.strip()[4], rest, 1
    else:
        delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_column(cell) for cell in next(reader, [])]
        missing = [column for column in required if column not in header]
        if missing:
            raw.problems.append(f"{name}: no column {', '.join(missing)} in the header row")
            return
        start = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield Row(name, start + skipped, dict(zip(header, cells, strict=False)))
            start = reader.line_num + 1
    except csv.Error as error:
        line = reader.line_num + skipped
        raw.problems.append(f"{name} line {line}: unreadable CSV ({error}); export it again")


def _column(cell: str) -> str:
    return "_".join(cell.strip().strip('"').lower().replace("-", " ").split())


# --------------------------------------------------------------------------- values


def _with(patient: Patient, **changes: object) -> Patient:
    return Patient(**{**patient.__dict__, **changes})


def _yes_no(row: Row, column: str, raw: RawCensus) -> bool:
    value = row.text(column).lower()
    if value not in _YES | _NO:
        raw.problems.append(f"{row.where}: {column} must be yes or no, not {value!r}")
    return value in _YES


def _number(row: Row, column: str, raw: RawCensus) -> float | None:
    text = row.text(column).replace(",", ".").replace(" ", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raw.problems.append(f"{row.where}: {column} {row.text(column)!r} is not a positive number")
        return None
    return value


def _date(row: Row, column: str, raw: RawCensus) -> date | None:
    moment = _datetime(row, column, raw)
    return moment.date() if moment else None


def _datetime(row: Row, column: str, raw: RawCensus) -> datetime | None:
    """ISO (2026-03-14, 2026-03-14T08:30) or day first (14/03/2026, 14.03.2026 08:30)."""
    text = row.text(column)
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                    "%d/%m/%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M"):  # fmt: skip
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raw.problems.append(f"{row.where}: {column} {text!r} is not a date like 2026-03-14")
    return None


# --------------------------------------------------------------------------- records


def _patient(row: Row, raw: RawCensus) -> Patient:
    weight_kg = _number(row, "weight_kg", raw)
    return Patient(
        patient_id=row.text("patient_id") or row.text("mrn") or f"row-{row.number}",
        mrn=row.text("mrn"),
        family=row.text("family"),
        given=row.text("given"),
        birth_date=_date(row, "birth_date", raw),
        sex=row.text("sex") or None,
        ward=row.text("ward"),
        room=row.text("room") or None,
        bed=row.text("bed") or None,
        encounter=row.text("encounter") or None,
        weight=Weight(round(weight_kg, 2), _date(row, "weight_date", raw)) if weight_kg else None,
    )


def _owner(
    row: Row, ids: dict[str, Patient], by_mrn: dict[str, Patient], patients_csv: str
) -> tuple[Patient | None, str]:
    """The patient a row belongs to (by patient_id, else mrn), or why none was found."""
    patient_id, mrn = row.text("patient_id"), row.text("mrn")
    if patient_id:
        if patient_id in ids:
            return ids[patient_id], ""
        return None, f"refers to patient {patient_id}, who is not in {patients_csv}"
    if mrn:
        found = by_mrn.get(mrn.upper())
        return found, "" if found else f"refers to an MRN that is not in {patients_csv}"
    return None, "names no patient; fill in its patient_id (or mrn) column"


def _allergies(
    rows: list[Row], ids: dict[str, Patient], by_mrn: dict[str, Patient], raw: RawCensus
) -> dict[str, tuple[Allergy, ...]]:
    found: dict[str, list[Allergy]] = {}
    for row in rows:
        patient, why = _owner(row, ids, by_mrn, "patients.csv")
        if patient is None:
            raw.problems.append(f"{row.where}: the allergy {why}")
            continue
        allergies = found.setdefault(patient.patient_id, [])
        substance = row.text("substance")
        if not substance:
            raw.problems.append(f"{row.where}: no substance; add what the patient is allergic to")
        elif not _NO_KNOWN.match(substance.lower()):
            reaction, criticality = row.text("reaction"), row.text("criticality")
            allergies.append(Allergy(substance, reaction or None, criticality or None))
    return {patient_id: tuple(allergies) for patient_id, allergies in found.items()}


def _order(
    row: Row,
    owners: tuple[dict[str, Patient], dict[str, Patient]],
    patients_csv: str,
    raw: RawCensus,
    settings: Settings,
) -> Order | None:
    order_id = row.text("order_id") or f"row-{row.number}"
    patient, why = _owner(row, *owners, patients_csv)
    if patient is None:
        raw.problems.append(f"{row.where}: order {order_id} {why}")
        return None
    frequency = row.text("frequency")
    prn_in_frequency = bool(re.search(r"\bprn\b", frequency, re.IGNORECASE))
    dose, unit, dose_max = _dose(row, raw)
    as_needed = _yes_no(row, "as_needed", raw) or prn_in_frequency
    timing = _timing(re.sub(r"\bprn\b", "", frequency, flags=re.IGNORECASE))
    columns = (row.text("rate"), row.text("rate_unit"), row.text("duration"))
    infusion = read_infusion(row.where, columns, timing, as_needed, settings)
    raw.problems += infusion.problems
    if timing is not None or infusion.continuous:
        timing = _timing_limits(row, timing or Timing(), raw)
    written = (row.text("note"), row.text("instructions"), infusion.instruction or "")
    return Order(
        order_id=order_id,
        patient_id=patient.patient_id,
        medication=row.text("medication"),
        dose_value=dose,
        dose_max=dose_max,
        dose_unit=unit,
        route=row.text("route") or None,
        timing=timing,
        as_needed=as_needed,
        indication=row.text("indication") or None,
        max_per_period=row.text("max_per_period") or None,
        authored_on=_datetime(row, "authored_on", raw),
        requester=row.text("prescriber") or None,
        note=row.text("note") or None,
        instructions=tuple(t for t in written if t),
        rate=infusion.rate,
        continuous=infusion.continuous,
    )


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _timing_limits(row: Row, timing: Timing, raw: RawCensus) -> Timing:
    """The start, end (a date-only end includes its day) and days columns of an order."""
    start, end = _datetime(row, "start", raw), _datetime(row, "end", raw)
    if end is not None and len(row.text("end")) <= 10:
        end += timedelta(days=1)
    if start is not None and end is not None and end <= start:
        raw.problems.append(f"{row.where}: end is before start; check the order's dates")
    days = [d.strip().lower()[:3] for d in re.split(r"[;,/ ]+", row.text("days")) if d.strip()]
    bad = [d for d in days if d not in _WEEKDAYS]
    if bad:
        raw.problems.append(f"{row.where}: days {row.text('days')!r}: use mon, tue, ... sun")
    ordered = tuple(d for d in _WEEKDAYS if d in days)
    return replace(timing, bounds_start=start, bounds_end=end, days_of_week=ordered)


def _dose(row: Row, raw: RawCensus) -> tuple[float | None, str | None, float | None]:
    """dose + unit columns; "1 g" in the dose column with no unit column works too, and a
    range "1-2" (or "1-2 tablets"): the low, the unit and the high."""
    text, unit = row.text("dose"), row.text("unit")
    ranged = re.match(r"^\s*(\d+(?:[.,]\d+)?)\s*-\s*(\d+(?:[.,]\d+)?)\s*([^\d\s].*)?$", text)
    if ranged:
        low, high = (float(part.replace(",", ".")) for part in ranged.group(1, 2))
        if not 0 < low < high:
            raw.problems.append(f"{row.where}: dose range {text!r} must be low to high, above 0")
            return None, None, None
        return low, (unit or (ranged.group(3) or "").strip()) or None, high
    match = re.match(r"^\s*(\d+(?:[.,]\d+)?)\s*([^\d\s].*)?$", text)
    if match and match.group(2) and not unit:
        unit = match.group(2).strip()
        text = match.group(1)
    value = _number(Row(row.file, row.number, {"dose": text}), "dose", raw)
    return value, unit or None, None


def _timing(frequency: str) -> Timing | None:
    text = " ".join(frequency.split()).strip(" ,;")
    if not text:
        return None
    if _TIMES.match(text):
        parts = re.split(r"[;,/+ ]+", text)
        times = [time(int(h), int(m)) for h, m in (re.split(r"[:h]", p) for p in parts)
                 if int(h) < 24 and int(m) < 60]  # fmt: skip
        if len(times) == len(parts):
            return Timing(times_of_day=tuple(sorted(set(times))))
    return Timing(code=text)
