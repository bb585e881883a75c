"""The official HL7 FHIR R4 examples (CC0, tests/data/hl7-r4-examples/README.md) through the census.

Each MedicationRequest example is read twice: as exported (most are completed, on hold or
of an earlier encounter, so they are left out with their reason), and as if it were an
active order of the patient's current stay, which puts its Dosage shape to the test: it is
printed exactly (the doses due on 2015-01-16) or refused naming the resource.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from papermode.census.schedule import scheduled_doses
from papermode.census.snapshot import load_census
from papermode.core.errors import CensusError
from papermode.core.settings import load_settings

EXAMPLES = Path(__file__).parent / "data" / "hl7-r4-examples"
START = datetime(2015, 1, 16, 7, 0)
CURRENT_STAY = {
    "resourceType": "Encounter",
    "id": "current",
    "status": "in-progress",
    "subject": {"reference": "Patient/pat1"},
    "location": [{"location": {"display": "Ward A"}}, {"location": {"display": "Bed 3"}}],
}


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def census(tmp_path: Path, *resources: dict[str, Any]) -> Path:
    others = [example(f"Encounter-{e}.json") for e in ("f001", "f002", "f201")]
    entries = [example("Patient-pat1.json"), CURRENT_STAY, *others]
    entries += [example("Medication-med0316.json"), *resources]
    document = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": "2015-01-16T06:00:00",
        "entry": [{"resource": r} for r in entries],
    }
    path = tmp_path / "census.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def outcome(request: dict[str, Any], tmp_path: Path, *, as_exported: bool) -> str:
    """ "printed: dose | times", "as needed: dose", "left out: why" or "refused: problem"."""
    if not as_exported:
        request = {**request, "status": "active"}
        request.pop("encounter", None)
    try:
        snapshot = load_census(census(tmp_path, request))
    except CensusError as error:
        return "refused: " + error.problems[0].split(": ", 1)[1]
    if not snapshot.orders:
        return "left out: " + snapshot.left_out[0].reason
    order = snapshot.orders[0]
    if order.as_needed:
        return f"as needed: {order.dose_text}"
    if order.continuous and order.rate is not None:  # charted as start / change / stop
        return f"infusion: {order.rate.text} | {order.dose_text or 'no dose'} | {order.medication}"
    doses = scheduled_doses(order, START, START + timedelta(hours=24), load_settings())
    times = " ".join(f"{d.scheduled_at:%H:%M}={d.dose_text}" for d in doses)
    return f"printed: {order.dose_text} | {times or 'none due'}"


NO_DURATION = (
    "refused: an infusion given on a schedule needs timing.repeat.duration (how long each dose "
    "runs, e.g. 1 h); add it, or send a continuous infusion without a frequency"
)
DOPAMINE = "Dopamine 400mg in 500mL D5W"
OF_F001 = "left out: of Encounter/f001, not the patient's current encounter"
NO_BOUNDS = (
    "refused: step 1 of a multi-step order has no bounds; give each step a boundsPeriod "
    "or boundsDuration"
)
COMPLETED = "left out: status is completed, not active"
ON_HOLD = "left out: status is on-hold, not active"
THREE_A_WEEK = "refused: 3 times a week needs 3 days in dayOfWeek (the MAR cannot choose the days)"
TAPER = (
    "printed: 4 TAB 1x / 1 d 2015-01-16 to 2015-01-20; 2 TAB 1x / 1 d 2015-01-23 to "
    "2015-01-30; 1 TAB 1x / 1 d 2015-01-31 to 2015-02-06 | 08:00=4 TAB"
)

EXPECTED: dict[str, tuple[str, str]] = {
    "medrx002": (
        OF_F001,
        "refused: no timing; add a frequency (q8h, BID, daily, or times like 08:00;20:00) "
        "or mark the order as needed (PRN)",
    ),
    "medrx0301": (COMPLETED, "as needed: 1-2 TAB"),
    "medrx0302": (
        OF_F001,
        NO_BOUNDS,
    ),
    "medrx0303": (
        OF_F001,
        TAPER,
    ),
    "medrx0304": (
        COMPLETED,
        "printed: 10 drop | 08:00=10 drop 12:00=10 drop 16:00=10 drop 20:00=10 drop",
    ),
    "medrx0305": (COMPLETED, "as needed: 1 TAB"),
    "medrx0306": ("printed: 6 mg | 08:00=6 mg", "printed: 6 mg | 08:00=6 mg"),
    "medrx0307": (COMPLETED, "as needed: 1 TAB"),
    "medrx0308": (COMPLETED, "as needed: 1 TAB"),
    "medrx0309": (
        OF_F001,
        "printed: 1000 mg/m2 | none due",
    ),
    "medrx0310": (
        OF_F001,
        "as needed: 1-2 TAB",
    ),
    "medrx0311": (
        OF_F001,
        "printed: 1 TAB | 08:00=1 TAB",
    ),
    "medrx0312": (
        "printed: 100 mg | 08:00=100 mg 14:00=100 mg 20:00=100 mg",
        "printed: 100 mg | 08:00=100 mg 14:00=100 mg 20:00=100 mg",
    ),
    "medrx0313": (COMPLETED, "printed: 500 mg | 08:00=500 mg"),
    "medrx0314": (COMPLETED, "printed: 75 mcg | 08:00=75 mcg"),
    "medrx0315": (
        OF_F001,
        "refused: an as-needed order with a rate; the PRN record has no rate: send an infusion "
        "as a scheduled order, or the as-needed dose without the rate",
    ),
    "medrx0316": (
        COMPLETED,
        "refused: the rate is given per 20 min; send it per 1 min (for example rateQuantity in "
        "mL/h) so the nurse reads the pump's rate",
    ),
    "medrx0317": (
        COMPLETED,
        THREE_A_WEEK,
    ),
    "medrx0318": (
        OF_F001,
        "printed: 500 mg | 12:00=500 mg 18:00=500 mg 00:00=500 mg 06:00=500 mg",
    ),
    "medrx0319": (
        COMPLETED,
        NO_DURATION,
    ),
    "medrx0320": (
        COMPLETED,
        "printed: 20 units | 08:00=20 units 14:00=20 units 20:00=20 units",
    ),
    "medrx0321": (
        NO_BOUNDS,
        NO_BOUNDS,
    ),
    "medrx0322": (
        COMPLETED,
        NO_DURATION,
    ),
    "medrx0323": (
        COMPLETED,
        "refused: the timing gives both event and a repeating rhythm; send one of them",
    ),
    "medrx0324": (COMPLETED, "as needed: 240 mg"),
    "medrx0325": (
        ON_HOLD,
        "printed: 1 ea | 08:00=1 ea 12:00=1 ea 16:00=1 ea 20:00=1 ea",
    ),
    "medrx0326": (
        ON_HOLD,
        "printed: 1 ea | 08:00=1 ea 20:00=1 ea",
    ),
    "medrx0327": (
        THREE_A_WEEK,
        THREE_A_WEEK,
    ),
    "medrx0328": ("printed: 1 ea | 08:00=1 ea 20:00=1 ea", "printed: 1 ea | 08:00=1 ea 20:00=1 ea"),
    "medrx0329": (
        ON_HOLD,
        "printed: 1 ea | 08:00=1 ea 20:00=1 ea",
    ),
    "medrx0330": (
        "left out: of Encounter/f002, not the patient's current encounter",
        "printed: 1 OPDROP | 08:00=1 OPDROP 20:00=1 OPDROP",
    ),
    "medrx0331": ("printed: 7 mg | 08:00=7 mg", "printed: 7 mg | 08:00=7 mg"),
    "medrx0332": (
        OF_F001,
        "refused: count 1 with no time: give timing.event, timeOfDay or a frequency",
    ),
    "medrx0333": (
        OF_F001,
        "printed: 1-2 TAB | 08:00=1-2 TAB",
    ),
    "medrx0334": (ON_HOLD, "printed: 1 ea | none due"),
    "medrx0335": (ON_HOLD, "printed: 1 ea | 09:00=1 ea"),
    "medrx0336": (
        COMPLETED,
        f"infusion: 4 mcg/kg/min | no dose | {DOPAMINE}",
    ),
    "medrx0337": (
        COMPLETED,
        f"infusion: 200 mcg/min | no dose | {DOPAMINE}",
    ),
    "medrx0338": (
        COMPLETED,
        f"infusion: 7.5 mL/h | 400 mg | {DOPAMINE}",
    ),
    "medrx0339": (
        OF_F001,
        "refused: its dosages give different routes (Vaginal Route, Topical Route); "
        "send one order per route",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hl7_example_is_printed_right_or_refused_by_name(tmp_path: Path, name: str) -> None:
    request = example(f"MedicationRequest-{name}.json")
    as_exported, as_current = EXPECTED[name]
    assert outcome(request, tmp_path, as_exported=True) == as_exported
    assert outcome(request, tmp_path, as_exported=False) == as_current


def test_every_vendored_medication_request_is_checked() -> None:
    names = {
        p.stem.removeprefix("MedicationRequest-") for p in EXAMPLES.glob("MedicationRequest-*")
    }
    assert names == set(EXPECTED)


@pytest.mark.parametrize(
    ("name", "allergies"),
    [
        ("nka", ()),
        ("nkda", ("No known drug allergy",)),
        ("nkla", ("No known latex allergy",)),
        ("fishallergy", ("Allergic to fresh fish. Tolerates canned fish",)),
        ("medication", ("Penicillin G",)),
        ("example", ("Cashew nuts",)),
    ],
)
def test_hl7_allergy_examples(tmp_path: Path, name: str, allergies: tuple[str, ...]) -> None:
    record = {
        **example(f"AllergyIntolerance-{name}.json"),
        "patient": {"reference": "Patient/pat1"},
    }
    snapshot = load_census(census(tmp_path, record))
    found = snapshot.patients[0].allergies
    assert found is not None and tuple(a.substance for a in found) == allergies
