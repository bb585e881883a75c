"""Census export (FHIR R4 Bundle in JSON, or CSV files) -> a typed, checked `Snapshot`.

`load_census` never produces a partial snapshot silently: every problem found in the
export is collected and raised at once as `CensusError`, each problem a line naming the
resource or row it came from (never a name, MRN or birth date) and saying what to fix.
What can still be printed safely (no weight, allergies not recorded) becomes a warning in
`Snapshot.warnings`. The two readers live in `census.fhir` and `census.csv_files`; the checks
every census must pass, the high-alert flags and the snapshot itself are made here.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, replace
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from papermode.census.csv_files import read_csv_census
from papermode.census.fhir.bundle import read_bundle
from papermode.census.raw import RawCensus
from papermode.census.schedule import describes
from papermode.census.vocabulary import known_route, known_unit
from papermode.core.errors import CensusError
from papermode.core.model import Dosage, Order, Patient, Snapshot, Timing
from papermode.core.settings import Settings, load_settings


def sample_census_path() -> Path:
    """The built-in sample ward, a FHIR R4 Bundle (`papermode/data/sample_ward.json`)."""
    return Path(str(resources.files("papermode") / "data" / "sample_ward.json"))


def sample_csv_path() -> Path:
    """The same sample ward as CSV files (`papermode/data/sample_csv/`)."""
    return Path(str(resources.files("papermode") / "data" / "sample_csv"))


def load_census(path: Path, settings: Settings | None = None) -> Snapshot:
    """Read a census export: a FHIR R4 Bundle (.json), a folder of CSVs, or patients.csv.

    Patients come out in (ward, room, bed) order. Raises `CensusError` listing every
    problem when anything would make a printed form wrong or incomplete.
    """
    settings = settings or load_settings()
    path = Path(path)
    if not path.exists():
        raise CensusError(path.name, [f"{path} does not exist; check the path of the export"])
    path = _bundle_in_folder(path)
    if path.is_dir() or path.suffix.lower() in {".csv", ".txt"}:
        raw = read_csv_census(path, settings)
    else:
        raw = read_bundle(path, settings)
    return _snapshot(raw, path, settings)


def _bundle_in_folder(path: Path) -> Path:
    """A folder holding one JSON file and no patients.csv means that JSON file."""
    if not path.is_dir():
        return path
    names = {child.name.lower() for child in path.iterdir()}
    bundles = sorted(child for child in path.iterdir() if child.suffix.lower() == ".json")
    return bundles[0] if "patients.csv" not in names and len(bundles) == 1 else path


def _snapshot(raw: RawCensus, path: Path, settings: Settings) -> Snapshot:
    problems = raw.problems + _check_patients(raw) + _check_orders(raw, settings)
    if not problems and not raw.patients:
        left = f" ({len(raw.left_out)} left out: see below)" if raw.left_out else ""
        problems = [f"no patient to print for{left}; check that this is the right export"]
        problems += [item.line for item in raw.left_out if item.kind == "patient"][:20]
    if problems:
        raise CensusError(raw.source, problems)
    warnings = raw.warnings + _patient_warnings(raw)
    patients = tuple(sorted((p for _, p in raw.patients), key=_bed_order))
    orders = tuple(replace(o, high_alert=is_high_alert(o, settings)) for _, o in raw.orders)
    taken_at = raw.taken_at or datetime.fromtimestamp(path.stat().st_mtime)
    return Snapshot(
        snapshot_id=_content_hash(patients, orders),
        taken_at=taken_at.replace(microsecond=0),
        source=raw.source,
        patients=patients,
        orders=orders,
        warnings=tuple(warnings),
        left_out=tuple(raw.left_out),
    )


# --------------------------------------------------------------------------- checks


def _check_patients(raw: RawCensus) -> list[str]:
    problems: list[str] = []
    seen_mrn: dict[str, str] = {}
    seen_id: dict[str, str] = {}
    for where, patient in raw.patients:
        if not patient.mrn.strip():
            problems.append(f"{where}: no MRN; every patient needs the hospital's record number")
        elif patient.mrn.strip().upper() in seen_mrn:
            first = seen_mrn[patient.mrn.strip().upper()]
            problems.append(f"{where}: same MRN as {first}; each patient needs their own MRN")
        else:
            seen_mrn[patient.mrn.strip().upper()] = where
        if patient.patient_id in seen_id:
            problems.append(
                f"{where}: patient id {patient.patient_id} is used twice "
                f"(also {seen_id[patient.patient_id]}); each patient needs their own id"
            )
        seen_id.setdefault(patient.patient_id, where)
        if not patient.family.strip() and not patient.given.strip():
            problems.append(f"{where}: no patient name; add the family and given names")
        if not patient.ward.strip():
            problems.append(f"{where}: no ward; add the ward the patient is in")
    return problems


def _check_orders(raw: RawCensus, settings: Settings) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    # an order the reader already refused is not refused twice for the same dosage
    flagged = {problem.split(":")[0].split(" dosageInstruction")[0] for problem in raw.problems}
    for where, order in raw.orders:
        if order.order_id in seen:
            problems.append(
                f"{where}: order id {order.order_id} is used twice (also {seen[order.order_id]})"
            )
        seen.setdefault(order.order_id, where)
        if not order.medication.strip():
            problems.append(f"{where}: no medication name; add the medicine to the order")
        if where not in flagged:
            problems += _check_vocabulary(where, order, settings)
        checked = where not in flagged and not order.do_not_perform  # DO NOT GIVE: no schedule
        for dosage in _dosages(order) if checked else ():
            problems += _check_dose(where, order, dosage)
            problems += _check_timing(where, order, dosage.timing, settings)
    return problems


def _check_vocabulary(where: str, order: Order, settings: Settings) -> list[str]:
    problems = []
    units = {d.dose_unit for d in _dosages(order) if d.dose_unit}
    for unit in sorted(u for u in units if not known_unit(u, settings)):
        problems.append(
            f"{where}: the dose unit {unit!r} is not known (UCUM units such as mg, mL, [iU], "
            "or their usual spellings); correct it, or add it to [census] units in the settings"
        )
    if order.route and not known_route(order.route, settings, (order.route,)):
        problems.append(
            f"{where}: the route {order.route!r} is not known (SNOMED CT routes, PO, IV, SC, "
            "IM...); correct it, or add it to [census] routes in the settings"
        )
    return problems


def _dosages(order: Order) -> tuple[Dosage, ...]:
    """What is checked of an order: each scheduled dosage, or its single dose and timing."""
    if order.dosages:
        return order.dosages
    return (Dosage(order.timing or Timing(), order.dose_value, order.dose_unit, order.dose_max),)


def _check_dose(where: str, order: Order, dosage: Dosage) -> list[str]:
    if dosage.dose_value is not None and not (dosage.dose_unit or "").strip():
        dose = f"{dosage.dose_value:g}"
        return [f"{where}: the dose {dose} has no unit; add the unit (mg, g, mL, units...)"]
    if (
        dosage.dose_value is None
        and not order.as_needed
        and not order.continuous
        and (order.timing is not None)
    ):
        return [f"{where}: a scheduled order with no dose; add the dose and its unit"]
    return []


def _check_timing(where: str, order: Order, timing: Timing, settings: Settings) -> list[str]:
    if order.as_needed or order.continuous:  # printed as written, never scheduled
        return []
    if timing == Timing() or not timing.label and not timing.frequency and not timing.count:
        return [
            f"{where}: no timing; add a frequency (q8h, BID, daily, or times like 08:00;20:00) "
            "or mark the order as needed (PRN)"
        ]
    if not describes(timing, settings):
        return [
            f"{where}: the timing '{timing.label}' is not known; use a standard code "
            "(q4h, q6h, q8h, q12h, BID, TID, QID, daily, nightly), times like 08:00;20:00, "
            "or add it to [schedule.aliases] in the settings"
        ]
    return []


def _patient_warnings(raw: RawCensus) -> list[str]:
    warnings: list[str] = []
    for where, patient in raw.patients:
        if patient.weight is None:
            warnings.append(f"{where}: no body weight recorded; the forms leave it blank")
        if patient.allergies is None:
            warnings.append(
                f"{where}: allergy information not recorded; the forms print "
                "'allergies: NOT RECORDED'"
            )
    return warnings


# --------------------------------------------------------------------------- high alert

_IV_ROUTE = re.compile(
    r"(?<![a-z0-9])(iv|i\.v\.?|ivd|ivl|ivse|intravenous|intraveineuse|intraveineux|"
    r"intraveneus|intravenoos|perfusion|infusion|infuus)(?![a-z0-9])"
)


def plain(text: str) -> str:
    """Lower case without accents, for matching words across spellings (héparine = heparine)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _has_word(text: str, words: tuple[str, ...]) -> bool:
    return any(
        re.search(rf"(?<![a-z0-9]){re.escape(plain(word))}(?![a-z0-9])", text) for word in words
    )


def is_high_alert(order: Order, settings: Settings) -> bool:
    """True for the medicines that need an independent double check (ISMP high-alert)."""
    medication = plain(order.medication)
    if _has_word(medication, settings.high_alert_words):
        return True
    given_iv = bool(_IV_ROUTE.search(plain(order.route or "")) or _IV_ROUTE.search(medication))
    return given_iv and _has_word(medication, settings.high_alert_iv_only_words)


# --------------------------------------------------------------------------- snapshot


def _natural(text: str | None) -> tuple[tuple[int, int | str], ...]:
    """ "Bed 10" after "Bed 9": digits compare as numbers."""
    parts = re.findall(r"\d+|\D+", plain(text or ""))
    return tuple((0, int(p)) if p.isdigit() else (1, p.strip()) for p in parts)


def _bed_order(patient: Patient) -> tuple[object, ...]:
    return (_natural(patient.ward), _natural(patient.room), _natural(patient.bed), patient.mrn)


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _content_hash(patients: tuple[Patient, ...], orders: tuple[Order, ...]) -> str:
    """A short hash of what will be printed: the same census content, the same id.

    Fields added to the model later are left out while they hold their default, so a
    census that uses none of them keeps the id (and the page ids) it always had.
    """
    content = {
        "patients": [asdict(p) for p in patients],
        "orders": [_order_content(o) for o in orders],
    }
    text = json.dumps(content, sort_keys=True, default=_json_default, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


_ADDED_TIMING = {"when": (), "offset_minutes": 0, "events": (), "count": None,
                 "days_of_week": (), "bounds_start": None, "bounds_end": None,
                 "frequency_max": None, "period_max": None}  # fmt: skip


def _order_content(order: Order) -> dict[str, object]:
    content = asdict(order)
    if not order.dosages:
        del content["dosages"]
    for name in ("dose_max", "rate", "calculated_rate"):
        if content[name] is None:
            del content[name]
    for name in ("continuous", "do_not_perform"):
        if not content[name]:
            del content[name]
    for dosage in content.get("dosages") or []:  # fields added since: absent at default
        if dosage["rate"] is None:
            del dosage["rate"]
        for name in ("frequency_max", "period_max"):
            if dosage["timing"][name] is None:
                del dosage["timing"][name]
    if "; ".join(order.instructions + order.dosage_text) == (order.note or ""):
        del content["instructions"]  # the note already carries the same words
        del content["dosage_text"]
    if isinstance(content.get("timing"), dict):
        timing = content["timing"]
        for name, empty in _ADDED_TIMING.items():
            if timing[name] in (empty, [] if empty == () else empty):
                del timing[name]
    return content
