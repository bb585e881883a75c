"""Room, bed and allergies read from photos of screens (docs/screen-photos.md): proposed
when the screen shows them under their label, printed only as two reviewers confirmed
them. A screen with no allergy line gives "allergies unknown" (NOT RECORDED), never "no
known allergies"; an allergy list one reviewer confirmed is not printed either."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from PIL import ImageDraw

from papermode.cli.main import main
from papermode.core.model import Allergy, Patient
from papermode.demo.synth.screens import font, make_medications, make_patient, render_screen
from papermode.free.identity import NONE_KNOWN, allergies_of, read_identity
from papermode.review.from_photos import LeftOff, _merged
from papermode.review.queue import build_queue
from papermode.review.service import decide
from papermode.store.database import open_store
from papermode.store.rows import patient_from_row

START = "2026-11-28T08:00"
# seed -> extra lines on the screen under the banner's table
SCREENS: dict[int, tuple[str, ...]] = {
    4: ("Room: 302   Bed: B", "Allergies: Penicillin (hives), Latex"),
    5: (),  # no location, no allergy line: allergies unknown
    7: ("Room: 118   Bed: A", "Allergies: Sulfonamides"),  # allergies: one reviewer only
}
HALF_ALLERGIES = 7


def test_room_bed_and_allergies_are_read_under_their_labels() -> None:
    found = read_identity(
        "LAMBERT, Jean  MRN: 2058756  DOB: 16/08/1993\nRoom: 302  Bed: B\n"
        "Allergies: Penicillin (hives), Latex\nAmlodipine 5 mg PO"
    )
    assert (found.room, found.bed, found.allergies) == ("302", "B", "Penicillin; Latex")
    assert found.shown == {"room", "bed", "allergies"}
    french = read_identity("LAMBERT Jean  IPP: 2058756\nChambre 12 Lit 2\nAllergies : aucune")
    assert (french.room, french.bed, french.allergies) == ("12", "2", NONE_KNOWN)
    silent = read_identity("LAMBERT, Jean  MRN: 2058756  DOB: 16/08/1993\nAmlodipine 5 mg PO")
    assert silent.allergies is None and silent.shown == frozenset()  # no line: no item
    two = read_identity("MRN: 2058756\nRoom 302\nRoom 304\nAllergies: Latex\nAllergy: Iodine")
    assert two.room is None and two.allergies is None  # two readings: a person keys it
    assert two.shown == {"room", "allergies"}


def test_only_an_explicit_none_known_means_no_known_allergies() -> None:
    assert allergies_of(None) is None and allergies_of("-") is None and allergies_of(" ") is None
    assert allergies_of(NONE_KNOWN) == ()
    assert allergies_of("Penicillin; Latex") == (Allergy("Penicillin"), Allergy("Latex"))


def _screen(seed: int, extra: tuple[str, ...], path: Path) -> Patient:
    rng = random.Random(seed)
    patient = make_patient(rng, seed)
    image, _lines = render_screen(patient, make_medications(rng, "en", 2), lang="en")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(extra):
        draw.text((16, 640 + 50 * index), line, font=font(20), fill=(20, 20, 20))
    cv2.imwrite(str(path), cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR))
    return patient


def _truth(patient: Patient, extra: tuple[str, ...], part: str, value: str | None) -> str:
    birth = patient.birth_date.isoformat() if patient.birth_date else ""
    known = {"family": patient.family, "given": patient.given, "mrn": patient.mrn,
             "birth_date": birth}  # fmt: skip
    if part in known:
        return known[part]
    if part in ("room", "bed") and extra:
        room, bed = extra[0].replace("Room: ", "").split("   Bed: ")
        return room if part == "room" else bed
    if part == "allergies" and len(extra) > 1:
        return "; ".join(s.split(" (")[0] for s in extra[1].split(": ")[1].split(", "))
    return value or "-"  # an order part: what the clean screen shows is what OCR read


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("screen-identity")
    patients = {seed: _screen(seed, extra, folder / f"screen-{seed}.png")
                for seed, extra in SCREENS.items()}  # fmt: skip
    store_path = folder / "ward.db"
    files = [str(folder / f"screen-{seed}.png") for seed in SCREENS]
    result = CliRunner().invoke(
        main, ["ingest", *files, "--kind", "screen", "--new-store", "--store", str(store_path)]
    )
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store_path) as db:
        rows = db.execute("SELECT capture_id, file_name FROM free_photos").fetchall()
    seeds = {row[0]: int(Path(row[1]).stem.split("-")[1]) for row in rows}
    with open_store(store_path) as store:
        items = [i for i in build_queue(store) if i.capture_id in seeds]
        proposed = {(seeds[str(i.capture_id)], i.field_id): i.value for i in items}
        for item in items:
            seed = seeds[str(item.capture_id)]
            right = _truth(patients[seed], SCREENS[seed], str(item.field_id), item.value)
            kind = "confirm" if item.value == right else "correct"
            decide(store, item.item_id, kind=kind, reviewer="alice",
                   value=None if kind == "confirm" else right)  # fmt: skip
            if seed == HALF_ALLERGIES and item.field_id == "allergies":
                continue  # bob has not looked at this one yet
            if item.blind or item.value != right:
                decide(store, item.item_id, kind="correct", value=right, reviewer="bob")
            else:
                decide(store, item.item_id, kind="confirm", reviewer="bob")
    out = folder / "forms"
    args = ["prepare", "--from-photos", "--out", str(out), "--store", str(store_path),
            "--start", START, "--ward", "3 North", "--json"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    with open_store(store_path) as store:
        rows = store.db.query("SELECT * FROM patients WHERE snapshot_id = ?",
                              [summary["snapshot_id"]])  # fmt: skip
        stored = {p.mrn: p for p in map(patient_from_row, rows)}
    return {"patients": patients, "stored": stored, "proposed": proposed, "out": out,
            "summary": summary}  # fmt: skip


def test_room_bed_and_allergies_are_proposed_only_when_shown(printed: dict[str, Any]) -> None:
    proposed = printed["proposed"]
    assert proposed[(4, "room")] == "302" and proposed[(4, "bed")] == "B"
    assert proposed[(4, "allergies")] == "Penicillin; Latex"
    assert not {part for seed, part in proposed if seed == 5} & {"room", "bed", "allergies"}


def test_confirmed_room_bed_allergies_are_printed(printed: dict[str, Any]) -> None:
    patient = printed["stored"][printed["patients"][4].mrn]
    assert (patient.room, patient.bed) == ("302", "B")
    assert patient.allergies == (Allergy("Penicillin"), Allergy("Latex"))
    text = _patient_pdf_text(printed["out"], printed["patients"][4].mrn)
    assert "Penicillin" in text and "Latex" in text and "302" in text


def test_no_allergy_line_is_unknown_never_no_known_allergies(printed: dict[str, Any]) -> None:
    """The dangerous case: a screen that does not show allergies says nothing about them."""
    silent = printed["stored"][printed["patients"][5].mrn]
    assert silent.allergies is None and silent.room is None and silent.bed is None
    text = _patient_pdf_text(printed["out"], printed["patients"][5].mrn)
    assert "ALLERGIES: NOT RECORDED" in text and "No known allergies" not in text


def test_allergies_one_reviewer_confirmed_are_not_printed(printed: dict[str, Any]) -> None:
    half = printed["stored"][printed["patients"][HALF_ALLERGIES].mrn]
    assert half.allergies is None and half.room == "118"  # the room had both reviewers
    text = _patient_pdf_text(printed["out"], printed["patients"][HALF_ALLERGIES].mrn)
    assert "Sulfonamides" not in text and "ALLERGIES: NOT RECORDED" in text
    assert any("allergies not printed: not confirmed by two reviewers" in line
               for line in printed["summary"]["not_printed"])  # fmt: skip


def _patient_pdf_text(out: Path, mrn: str) -> str:
    manifest = json.loads((out / "manifest.json").read_text())
    name = next(p["pdf"] for p in manifest["pages"] if p["mrn"] == mrn)
    document = pdfium.PdfDocument(str(out / name))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_two_photos_of_one_patient_keep_what_one_shows_and_drop_what_they_dispute() -> None:
    left: list[LeftOff] = []
    first = Patient("photo-1", "1", "LAMBERT", "Jean", room="302", allergies=(Allergy("Latex"),))
    second = Patient("photo-1", "1", "LAMBERT", "Jean", room="304", bed="B")
    merged = _merged(first, second, left, "screen-2.png")
    assert merged.bed == "B" and merged.allergies == (Allergy("Latex"),)  # shown on one only
    assert merged.room is None  # disputed: unknown, never one of them picked
    assert [line.what for line in left] == ["room"]
