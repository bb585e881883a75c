"""Test material for free photos: record-system screens and paper notes, with their truth.

A screen is a Pillow drawing of a hospital record UI (header bar, patient banner, a table of
medicines) in French or English, light or dark theme, with small or normal fonts; a note is a
sheet of ruled paper written in print or in a jittered "handwriting-ish" oblique font. Both are
then photograph-distorted (perspective, moiré, glare, shadow, blur, JPEG). Everything is seeded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from papermode.core.model import Order, Patient, Snapshot, Timing

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


@dataclass(frozen=True)
class MedicationTruth:
    """One medication line as shown, and what it means (canonical codes as medlines gives)."""

    text: str
    cells: tuple[str, ...]  # name, dose, route, frequency as drawn in the screen's columns
    drug: str  # generic name as in the formulary (English spelling)
    dose_value: float
    dose_unit: str
    route: str
    frequency: str  # "3x/d", "q8h", "PRN", ...


@dataclass(frozen=True)
class FreePhotoTruth:
    kind: str  # "screen" or "note"
    lang: str
    lines: tuple[str, ...]
    medications: tuple[MedicationTruth, ...]
    patient: Patient


# (generic English, French label, dose, unit, route)
DRUGS = (
    ("paracetamol", "Paracétamol", 1.0, "g", "IV"),
    ("amoxicillin", "Amoxicilline", 1.0, "g", "IV"),
    ("enoxaparin", "Énoxaparine", 40.0, "mg", "SC"),
    ("furosemide", "Furosémide", 40.0, "mg", "PO"),
    ("metformin", "Metformine", 850.0, "mg", "PO"),
    ("pantoprazole", "Pantoprazole", 40.0, "mg", "PO"),
    ("ceftriaxone", "Ceftriaxone", 2.0, "g", "IV"),
    ("morphine", "Morphine", 5.0, "mg", "SC"),
    ("insulin glargine", "Insuline glargine", 20.0, "IU", "SC"),
    ("bisoprolol", "Bisoprolol", 2.5, "mg", "PO"),
    ("amlodipine", "Amlodipine", 5.0, "mg", "PO"),
    ("tramadol", "Tramadol", 50.0, "mg", "PO"),
)
# (canonical, French text, English text)
FREQUENCIES = (
    ("3x/d", "3x/j", "TID"),
    ("2x/d", "2 fois par jour", "BID"),
    ("q8h", "toutes les 8 h", "q8h"),
    ("q6h", "/6h", "q6h"),
    ("1x/d", "1x/j", "once daily"),
    ("4x/d", "4x/j", "QID"),
    ("PRN", "si besoin", "PRN"),
)
FAMILIES = ("MARTIN", "DUBOIS", "PEETERS", "JANSSENS", "LAMBERT", "LEROY", "SMITH", "MOREAU")
GIVENS = ("Hélène", "Jean", "Marie", "Luc", "Anne", "Pieter", "Sophie", "Émile")


def font(size: int, *, oblique: bool = False, bold: bool = False) -> ImageFont.ImageFont:
    """DejaVu Sans when installed (fonts-dejavu-core), else Pillow's built-in font."""
    name = "DejaVuSans" + ("-Bold" if bold else "") + ("-Oblique" if oblique and not bold else "")
    for folder in FONT_DIRS:
        path = folder / f"{name}.ttf"
        if path.exists():
            return ImageFont.truetype(str(path), size)  # type: ignore[return-value]
    return ImageFont.load_default(size)  # type: ignore[return-value]


def make_patient(rng: random.Random, index: int = 0) -> Patient:
    """A fictional patient with a 7-digit MRN."""
    return Patient(
        patient_id=f"pat-{index:03d}-{rng.randrange(10**6):06d}",
        mrn=f"{rng.randrange(10**6, 10**7)}",
        family=rng.choice(FAMILIES),
        given=rng.choice(GIVENS),
        birth_date=date(rng.randint(1930, 2005), rng.randint(1, 12), rng.randint(1, 28)),
    )


def make_medications(rng: random.Random, lang: str, count: int) -> tuple[MedicationTruth, ...]:
    """`count` different medicines with a frequency each, phrased in `lang` ("fr" or "en")."""
    meds = []
    for generic, french, dose, unit, route in rng.sample(DRUGS, count):
        canonical, fr_text, en_text = rng.choice(FREQUENCIES)
        name = french if lang == "fr" else generic.capitalize()
        shown_unit = "UI" if lang == "fr" and unit == "IU" else unit
        dose_text = f"{dose:g}".replace(".", ",") if lang == "fr" else f"{dose:g}"
        cells = (name, f"{dose_text} {shown_unit}", route, fr_text if lang == "fr" else en_text)
        meds.append(MedicationTruth(" ".join(cells), cells, generic, dose, unit, route, canonical))
    return tuple(meds)


def banner_text(patient: Patient, lang: str) -> str:
    dob = patient.birth_date.strftime("%d/%m/%Y") if patient.birth_date else ""
    if lang == "fr":
        return f"{patient.family} {patient.given}  IPP: {patient.mrn}  Né(e) le {dob}"
    return f"{patient.family}, {patient.given}  MRN: {patient.mrn}  DOB: {dob}"


def render_screen(
    patient: Patient,
    meds: tuple[MedicationTruth, ...],
    *,
    lang: str = "fr",
    theme: str = "light",
    font_px: int = 20,
    size: tuple[int, int] = (1280, 800),
) -> tuple[Image.Image, tuple[str, ...]]:
    """A record-system screen: header bar, patient banner, medication table. Returns the lines."""
    background, ink, header = (
        ((250, 250, 250), (20, 20, 20), (31, 78, 121))
        if theme == "light"
        else ((30, 32, 36), (225, 225, 225), (70, 90, 140))
    )
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    title = "Dossier patient informatisé" if lang == "fr" else "Electronic patient record"
    draw.rectangle((0, 0, size[0], int(font_px * 2.4)), fill=header)
    draw.text((16, int(font_px * 0.6)), title, font=font(font_px, bold=True), fill=(255, 255, 255))
    y = int(font_px * 3.2)
    banner = banner_text(patient, lang)
    draw.text((16, y), banner, font=font(font_px, bold=True), fill=ink)
    y += int(font_px * 2.2)
    heading = "Traitement en cours" if lang == "fr" else "Active medications"
    draw.text((16, y), heading, font=font(font_px), fill=ink)
    y += int(font_px * 1.8)
    columns = ("Médicament", "Dose", "Voie", "Fréquence") if lang == "fr" else COLUMNS_EN
    draw_row(draw, y, columns, size[0], font(font_px, bold=True), ink)
    y += int(font_px * 1.7)
    lines = [title, banner, heading, " ".join(columns)]
    for index, med in enumerate(meds):
        if index % 2 and theme == "light":
            draw.rectangle((8, y - 4, size[0] - 8, y + int(font_px * 1.3)), fill=(232, 238, 246))
        draw_row(draw, y, med.cells, size[0], font(font_px), ink)
        lines.append(med.text)
        y += int(font_px * 1.7)
    return image, tuple(lines)


COLUMNS_EN = ("Medication", "Dose", "Route", "Frequency")
COLUMN_STARTS = (0.02, 0.40, 0.55, 0.66)


def draw_row(
    draw: ImageDraw.ImageDraw,
    y: int,
    cells: tuple[str, ...],
    width: int,
    face: ImageFont.ImageFont,
    ink: tuple[int, int, int],
) -> None:
    """One table row: each cell at its column's start."""
    for start, cell in zip(COLUMN_STARTS, cells, strict=False):
        draw.text((int(start * width), y), cell, font=face, fill=ink)


def render_note(
    patient: Patient,
    meds: tuple[MedicationTruth, ...],
    rng: random.Random,
    *,
    lang: str = "fr",
    hand: bool = True,
    size: tuple[int, int] = (1240, 1700),
) -> tuple[Image.Image, tuple[str, ...]]:
    """A ruled paper note: patient line then medication lines, in print or jittered oblique."""
    paper = Image.new("RGB", size, (246, 244, 236))
    draw = ImageDraw.Draw(paper)
    pitch = 64
    for y in range(160, size[1] - 40, pitch):
        draw.line((0, y, size[0], y), fill=(150, 180, 220), width=2)
    draw.line((110, 0, 110, size[1]), fill=(220, 120, 120), width=2)
    lines = [banner_text(patient, lang), *(m.text for m in meds)]
    for row, text in enumerate(lines):
        baseline = 160 + (row + 1) * pitch - 12
        write_line(draw, (140, baseline), text, rng, size_px=34, hand=hand)
    return paper, tuple(lines)


def write_line(
    draw: ImageDraw.ImageDraw,
    origin: tuple[int, int],
    text: str,
    rng: random.Random,
    *,
    size_px: int,
    hand: bool,
) -> None:
    """Write `text` on a baseline; `hand` jitters each letter's place and size, in blue ink."""
    x, baseline = origin
    ink = (25, 40, 120) if hand else (20, 20, 20)
    for char in text:
        glyph_size = size_px + (rng.randint(-2, 2) if hand else 0)
        face = font(glyph_size, oblique=hand)
        dy = rng.randint(-2, 2) if hand else 0
        draw.text((x, baseline + dy), char, font=face, fill=ink, anchor="ls")
        x += int(draw.textlength(char, font=face)) + (rng.randint(0, 2) if hand else 0)


def photograph(
    image: Image.Image, rng: random.Random, *, kind: str, strength: float = 1.0
) -> np.ndarray:
    """Distort like a phone photo: perspective, moiré (screens), glare or shadow, blur, JPEG."""
    bgr = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
    if kind == "screen":
        bgr = _moire(bgr, rng, strength)
    bgr = _perspective(bgr, rng, strength, bezel=kind == "screen")
    bgr = _glare(bgr, rng, strength) if kind == "screen" else _shadow(bgr, rng, strength)
    sigma = 0.6 + 0.6 * strength * rng.random()
    bgr = cv2.GaussianBlur(bgr, (0, 0), sigma)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 3 * strength, bgr.shape)
    bgr = np.clip(bgr.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 82])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    return np.asarray(decoded) if decoded is not None else bgr


def _moire(bgr: np.ndarray, rng: random.Random, strength: float) -> np.ndarray:
    """An interference pattern between the screen's pixel grid and the camera sensor."""
    h, w = bgr.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0.2, 1.2)
    period = rng.uniform(3.0, 6.0)
    wave = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    factor = 1.0 + 0.10 * strength * wave
    return np.clip(bgr.astype(np.float32) * factor[..., None], 0, 255).astype(np.uint8)


def _perspective(
    bgr: np.ndarray, rng: random.Random, strength: float, *, bezel: bool
) -> np.ndarray:
    """Place the picture, seen at an angle, on a larger dark (desk/bezel) or grey background."""
    h, w = bgr.shape[:2]
    margin = int(0.12 * max(h, w))
    jitter = 0.06 * strength
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    dst = np.array(
        [
            [margin + rng.uniform(-jitter, jitter) * w, margin + rng.uniform(-jitter, jitter) * h]
            for _ in range(4)
        ],
        dtype=np.float32,
    )
    dst += src
    size = (w + 2 * margin, h + 2 * margin)
    fill = (18, 18, 22) if bezel else (90, 100, 95)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(bgr, matrix, size, borderValue=fill)


def _glare(bgr: np.ndarray, rng: random.Random, strength: float) -> np.ndarray:
    h, w = bgr.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    radius = rng.uniform(0.08, 0.18) * w
    blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)) * 70 * strength
    return np.clip(bgr.astype(np.float32) + blob[..., None], 0, 255).astype(np.uint8)


def _shadow(bgr: np.ndarray, rng: random.Random, strength: float) -> np.ndarray:
    h, w = bgr.shape[:2]
    ramp = np.linspace(1.0, 1.0 - 0.45 * strength * rng.uniform(0.5, 1.0), w, dtype=np.float32)
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    return np.clip(bgr.astype(np.float32) * ramp[None, :, None], 0, 255).astype(np.uint8)


def synth_free_photo(
    seed: int,
    *,
    kind: str = "screen",
    lang: str = "fr",
    theme: str = "light",
    font_px: int = 20,
    hand: bool = True,
    distort: bool = True,
    medications: int = 4,
) -> tuple[np.ndarray, FreePhotoTruth]:
    """One seeded screen photo or note photo (BGR) and its truth."""
    rng = random.Random(seed)
    patient = make_patient(rng, seed)
    meds = make_medications(rng, lang, medications)
    if kind == "screen":
        picture, lines = render_screen(patient, meds, lang=lang, theme=theme, font_px=font_px)
    else:
        picture, lines = render_note(patient, meds, rng, lang=lang, hand=hand)
    if distort:
        photo = photograph(picture, rng, kind=kind)
    else:
        photo = cv2.cvtColor(np.asarray(picture), cv2.COLOR_RGB2BGR)
    return photo, FreePhotoTruth(kind, lang, lines, meds, patient)


def snapshot_for(
    truths: list[FreePhotoTruth], *, extra_patients: tuple[Patient, ...] = ()
) -> Snapshot:
    """A census snapshot holding every truth's patient and its medications as orders."""
    patients = {t.patient.patient_id: t.patient for t in truths}
    for extra in extra_patients:
        patients.setdefault(extra.patient_id, extra)
    orders = []
    for truth in truths:
        for n, med in enumerate(truth.medications):
            orders.append(
                Order(
                    order_id=f"{truth.patient.patient_id}-o{n}",
                    patient_id=truth.patient.patient_id,
                    medication=med.drug,
                    dose_value=med.dose_value,
                    dose_unit=med.dose_unit,
                    route=med.route,
                    timing=Timing(code=med.frequency),
                    as_needed=med.frequency == "PRN",
                )
            )
    return Snapshot(
        "synth", datetime(2026, 1, 1, 6, 0), "synth", tuple(patients.values()), tuple(orders)
    )
