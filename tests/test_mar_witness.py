"""A controlled drug given on schedule (not only PRN) gets a witness box in every MAR dose
cell, per-day and multi-day; a high-alert controlled drug gets one "2nd / witness" box. A
dose given with the witness's initials exports a `witness` performer; without them it
carries `no_witness`. Real PDFs, a photographed page, a real store."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402

from papermode.export.fhir import build_bundle  # noqa: E402
from papermode.printing.prepare import prepare_forms  # noqa: E402
from papermode.reconcile.categories import Category  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

START = datetime(2026, 11, 28, 7, 0)
NOW = datetime(2026, 12, 20, 9, 0)
LORAZEPAM, OXYCODONE, PARACETAMOL = "o-lor", "o-oxy", "o-para"


def _census(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {
        "patients.csv": [
            ["patient_id", "mrn", "family", "given", "birth_date", "sex", "ward", "room", "bed",
             "encounter", "weight_kg", "weight_date", "allergies_recorded"],
            ["p-1", "40010001", "Peeters", "Anna", "1950-02-03", "female", "Gériatrie 1",
             "12", "A", "V1", "58", "2026-11-27", "no"],
        ],
        "orders.csv": [
            ["order_id", "patient_id", "medication", "dose", "unit", "route", "frequency",
             "as_needed", "indication", "max_per_period", "authored_on", "prescriber", "note"],
            [LORAZEPAM, "p-1", "Lorazépam 1 mg comprimé", "1", "mg", "PO", "BID", "no", "",
             "", "2026-11-27T10:00", "Dr A. Janssens", ""],
            [OXYCODONE, "p-1", "Oxycodone 10 mg LP", "10", "mg", "PO", "q12h", "no", "", "",
             "2026-11-27T10:00", "Dr A. Janssens", ""],
            [PARACETAMOL, "p-1", "Paracétamol 1 g", "1", "g", "PO", "TID", "no", "", "",
             "2026-11-27T10:00", "Dr A. Janssens", ""],
        ],
        "allergies.csv": [["patient_id", "substance", "reaction", "criticality"]],
    }  # fmt: skip
    for name, table in rows.items():
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(table)
    return folder


def _prepare(folder: Path, **kwargs: Any) -> Path:
    options: dict[str, Any] = {"hours": 24, "lang": "en", "paper": "a4"} | kwargs
    prepare_forms(_census(folder / "census"), folder / "forms", folder / "template.db",
                  start=START, settings_path=None, **options)  # fmt: skip
    return folder


def _cells(folder: Path) -> dict[str, dict[str, set[str]]]:
    """order id -> role -> field ids, over the MAR pages."""
    manifest = json.loads((folder / "forms" / "manifest.json").read_text())
    found: dict[str, dict[str, set[str]]] = {}
    for page in manifest["pages"]:
        if page["template"] != "mar":
            continue
        for field in page["fields"]:
            if field.get("order_id") and field.get("scheduled"):
                roles = found.setdefault(field["order_id"], {})
                roles.setdefault(field["role"], set()).add(field["field_id"])
    return found


def _text(folder: Path) -> str:
    manifest = json.loads((folder / "forms" / "manifest.json").read_text())
    pdfs = sorted({p["pdf"] for p in manifest["pages"] if p["template"] == "mar"})
    text = []
    for name in pdfs:
        document = pdfium.PdfDocument(str(folder / "forms" / name))
        text += [page.get_textpage().get_text_range() for page in document]
        document.close()
    return "\n".join(text)


@pytest.mark.parametrize("days", [None, 3])
def test_every_dose_of_a_controlled_drug_has_a_witness_box(
    tmp_path: Path, days: int | None
) -> None:
    folder = _prepare(tmp_path, **({"days": days, "hours": None} if days else {}))
    cells = _cells(folder)
    lorazepam, oxycodone, paracetamol = cells[LORAZEPAM], cells[OXYCODONE], cells[PARACETAMOL]
    # controlled, not high-alert: a witness box in each cell, no second-check box
    assert len(lorazepam["witness"]) == len(lorazepam["given"]) >= 2
    assert "second_initials" not in lorazepam
    # high-alert and controlled: one second person's box per cell, the witness too
    assert len(oxycodone["second_initials"]) == len(oxycodone["given"]) >= 2
    assert "witness" not in oxycodone
    assert "witness" not in paracetamol and "second_initials" not in paracetamol
    text = _text(folder)
    assert "CONTROLLED DRUG" in text and "a witness initials every dose" in text
    assert "2nd / witness" in text and "\nwitness" in text.replace("\r\n", "\n")
    if days:  # the legend says what a cell with no dose due looks like: a dash, never grey
        assert "— : no dose due" in text and "grey" not in text


def test_the_french_mar_names_the_witness(tmp_path: Path) -> None:
    text = " ".join(_text(_prepare(tmp_path, lang="fr")).split())  # wrapped, never cut
    assert "STUPÉFIANT / PSYCHOTROPE" in text and "un témoin paraphe chaque dose" in text
    assert "2e / témoin" in text and "…" not in text


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _prepare(tmp_path_factory.mktemp("witness"))
    with open_store(folder / "template.db") as store:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder


def _given(prepared: Path, tmp_path: Path, order_id: str, witnessed: bool) -> Any:
    page = next(
        p for p in ep.pages(prepared, "mar") if any(f.get("order_id") == order_id
                                                     for f in p["fields"])
    )  # fmt: skip
    fields, image = ep.fields_by_id(page), ep.render(prepared, page)
    cell = next(f["field_id"].removesuffix(".given") for f in page["fields"]
                if f.get("order_id") == order_id and f["role"] == "given")  # fmt: skip
    ep.tick(image, fields[f"{cell}.given"], seed=1)
    ep.write_digits(image, fields[f"{cell}.time"], cell[-4:], seed=2)
    ep.initials(image, fields[f"{cell}.initials"], seed=3)
    second = f"{cell}.witness" if f"{cell}.witness" in fields else f"{cell}.second_initials"
    if witnessed:
        ep.initials(image, fields[second], seed=4)
    store_path = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store_path, ep.photo(image, tmp_path / "mar.jpg"))
    state = ep.state(store_path, page["page_id"])
    assert state[f"{cell}.given"]["value"] == "ticked"
    assert state[second]["value"] == ("ink" if witnessed else "empty")
    result, source = ep.reconciled(store_path, page["page_id"], cell, NOW)
    _, _, stamp = cell.split(".")
    item = next(i for i in result.items if i.item_id == f"mar:{order_id}:{stamp}")
    return item, build_bundle(result, source, exported_at=NOW), stamp


def _performers(bundle: dict[str, Any], order_id: str, stamp: str) -> list[str]:
    resource = next(
        e["resource"] for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
        and e["resource"]["identifier"][0]["value"].endswith(f"/{order_id}/{stamp}")
    )  # fmt: skip
    return [
        coding["code"]
        for performer in resource.get("performer", [])
        for coding in performer.get("function", {}).get("coding", [])
    ]


def test_a_witnessed_dose_exports_its_witness(prepared: Path, tmp_path: Path) -> None:
    item, bundle, stamp = _given(prepared, tmp_path, LORAZEPAM, witnessed=True)
    assert item.exportable and item.checked_by == ("witness",), item.notes
    assert Category.NO_WITNESS not in item.concerns
    assert "witness" in _performers(bundle, LORAZEPAM, stamp)


def test_a_dose_given_without_its_witness_says_so(prepared: Path, tmp_path: Path) -> None:
    item, bundle, stamp = _given(prepared, tmp_path, LORAZEPAM, witnessed=False)
    assert item.exportable and Category.NO_WITNESS in item.concerns
    assert "witness" not in _performers(bundle, LORAZEPAM, stamp)


def test_one_second_person_box_is_the_double_check_and_the_witness(
    prepared: Path, tmp_path: Path
) -> None:
    item, bundle, stamp = _given(prepared, tmp_path, OXYCODONE, witnessed=True)
    assert item.checked_by == ("verifier", "witness")
    assert not {Category.NO_WITNESS, Category.NO_SECOND_INITIALS} & set(item.concerns)
    assert {"verifier", "witness"} <= set(_performers(bundle, OXYCODONE, stamp))
    (tmp_path / "none").mkdir()
    missing, _, _ = _given(prepared, tmp_path / "none", OXYCODONE, witnessed=False)
    assert {Category.NO_WITNESS, Category.NO_SECOND_INITIALS} <= set(missing.concerns)
