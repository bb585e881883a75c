"""Medication lines in OCR text: drug, dose, unit, route, frequency, times — for review only.

A `MedicationCandidate` is what a line of a screen photo or paper note *seems* to say. It is
never an order: nothing found here becomes an order, an administration or an export until a
person has confirmed it against the image crop (`boxes`). Drug names are matched against the
snapshot's medicines and the formulary lexicon with rapidfuzz, so OCR slips ("amoxicilIine",
"paracetamoI") still match; French and English phrasings and abbreviations are understood.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process

from papermode.core.model import Order
from papermode.free.ocr import TextLine

MIN_FUZZY_LENGTH = 5  # shorter names must match exactly: "morf" is not a drug
FUZZY_CUTOFF = 85.0


@dataclass(frozen=True)
class Lexicon:
    """Spellings (normalised: lower case, no accents) -> the medicine's generic name."""

    spellings: Mapping[str, str] = field(hash=False)

    @classmethod
    def load(cls, extra_names: Iterable[str] = (), path: str | None = None) -> Lexicon:
        """The formulary (papermode/data/formulary.txt, or `path`) plus `extra_names` (the
        snapshot's medicines, which map to themselves unless the formulary knows them)."""
        text = (
            Path(path).read_text("utf-8")
            if path
            else resources.files("papermode").joinpath("data/formulary.txt").read_text("utf-8")
        )
        spellings: dict[str, str] = {}
        for raw in text.splitlines():
            names = [n.strip() for n in raw.split("#")[0].split("|") if n.strip()]
            for name in names:
                spellings.setdefault(normalise_name(name), names[0])
        lexicon = cls(spellings)
        for name in extra_names:
            # "Paracétamol 1 g comprimé": the words before the dose name the medicine.
            key = normalise_name(re.split(r"\d", name)[0])
            if len(key) >= 3 and find_drug(key, lexicon) is None:
                spellings[key] = key
        return cls(spellings)

    def match(self, text: str) -> tuple[str, float] | None:
        """(generic name, score 0..100) for a word or words read by OCR, or None."""
        key = normalise_name(fix_letters(text))
        if len(key) < 3:
            return None
        if key in self.spellings:
            return self.spellings[key], 100.0
        if len(key) < MIN_FUZZY_LENGTH:
            return None
        found = process.extractOne(
            key, list(self.spellings), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        return (self.spellings[found[0]], float(found[1])) if found else None


@lru_cache(maxsize=8)
def lexicon_with(medicines: tuple[str, ...]) -> Lexicon:
    """The formulary plus a census's medicine names, built once per set of names."""
    return Lexicon.load(extra_names=medicines)


def census_lexicon(medicines: Iterable[str]) -> Lexicon:
    """`lexicon_with` keyed on the distinct names, whatever their order or repeats."""
    return lexicon_with(tuple(sorted(set(medicines))))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The formulary alone (no snapshot medicines)."""
    return Lexicon.load()


@dataclass(frozen=True)
class MedicationCandidate:
    """A line that seems to name a medicine. For review only: never an order by itself."""

    line_number: int
    line_text: str
    span: tuple[int, int]  # characters of line_text from the drug to the last field read
    drug: str | None  # generic name from the lexicon; None when only dose/route were read
    drug_text: str  # the words as read
    dose_value: float | None
    dose_unit: str | None
    route: str | None
    frequency: str | None  # "3x/d", "q8h", "PRN"
    as_needed: bool
    times: tuple[str, ...]  # "08:00", or "morning", "noon", "evening", "bedtime"
    boxes: tuple[tuple[int, int, int, int], ...]  # word boxes (px) for the image crop
    confidence: float


UNITS = {
    "mg": "mg", "g": "g", "gr": "g", "mcg": "mcg", "µg": "mcg", "μg": "mcg", "ug": "mcg",
    "ml": "mL", "mmol": "mmol", "ui": "IU", "iu": "IU", "u": "IU", "unites": "IU",
    "unités": "IU", "units": "IU", "unit": "IU", "cp": "tablet", "cpr": "tablet",
    "comprime": "tablet", "comprimé": "tablet", "comprimes": "tablet", "comprimés": "tablet",
    "tab": "tablet", "tabs": "tablet", "tablet": "tablet", "tablets": "tablet",
    "amp": "ampoule", "ampoule": "ampoule", "ampoules": "ampoule", "gtt": "drop",
    "gouttes": "drop", "drops": "drop", "puff": "puff", "puffs": "puff", "bouffees": "puff",
    "bouffées": "puff",
}  # fmt: skip
DOSE_RE = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
ROUTES = (
    (r"\b(?:ivd|ivl|iv|i\.v\.|intraveineuse|intravenous|intraveineux)\b", "IV"),
    (r"(?<![\w|])(?:[l1|]v|vv)\b", "IV"),  # OCR slips of "IV" on small screen fonts
    (r"\b(?:po|p\.o\.|per\s+os|voie\s+orale|oral|orale|by\s+mouth)\b", "PO"),
    (r"(?:\bsc\b|\bs/c\b|\bs\.c\.|sous[- ]cutan\w*|\bsubcut\w*)", "SC"),
    (r"\b(?:im|i\.m\.|intramusculaire|intramuscular)\b", "IM"),
    (r"\b(?:inh|inhal\w*|neb|nébulisation|nebulisation)\b", "INH"),
)
WORD_FREQUENCIES = {
    # "QD" is left out on purpose: ISMP lists it as error-prone, and OCR makes it of "QID".
    "bid": 2, "bd": 2, "tid": 3, "tds": 3, "qid": 4, "qds": 4, "od": 1,
    # OCR slips of the same abbreviations (I read as l, 1 or O; B as 8)
    "bld": 2, "b1d": 2, "8id": 2, "tld": 3, "t1d": 3, "tio": 3, "qld": 4, "q1d": 4, "oid": 4,
}  # fmt: skip
TIME_WORDS = (
    (r"\b(?:matin|morning)\b", "morning"),
    (r"\b(?:midi|noon|lunch)\b", "noon"),
    (r"\b(?:soir|evening)\b", "evening"),
    (r"\b(?:au\s+coucher|coucher|bedtime|at\s+night|hs)\b", "bedtime"),
)
PRN_RE = re.compile(
    r"\b(?:si\s+besoin|au\s+besoin|en\s+cas\s+de\s+besoin|prn|p\.r\.n\.|as\s+needed|if\s+needed)\b",
    re.IGNORECASE,
)
INTERVAL_RE = re.compile(
    r"(?:\bq\s?(\d{1,2})\s?h\b|toutes\s+les\s+(\d{1,2})\s?h|every\s+(\d{1,2})\s?h|/\s?(\d{1,2})\s?h\b)",
    re.IGNORECASE,
)
PER_DAY_RE = re.compile(
    r"(?:\b(\d)\s?x\s?(?:/\s?(?:j|jour|d|day|24\s?h)\b|par\s+jour|per\s+day|daily|a\s+day)"
    r"|\b(\d)\s+(?:fois|[ft]o[il]s|times)\s+(?:par|per|a)\s+(?:jour|day)|\b(\d)\s?x\s?/(?!\s?\d)"
    r"|\b(\d)x[)}\]])",  # "3x)": OCR reading "/j" as a bracket
    re.IGNORECASE,
)
DAILY_RE = re.compile(r"\b(?:once\s+daily|daily|1\s?x\s?/\s?j|une\s+fois\s+par\s+jour)\b", re.I)
CLOCK_RE = re.compile(r"\b([01]?\d|2[0-3])\s?[:hH]\s?([0-5]\d)\b")


def normalise_name(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: 'Énoxaparine ' -> 'enoxaparine'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9\- ]", " ", plain).split())


def fix_letters(word: str) -> str:
    """Undo OCR digit/letter swaps inside a word of letters: 'paracetamoI' -> 'paracetamol'."""
    if sum(c.isalpha() for c in word) < max(3, len(word) - 2):
        return word
    fixed = re.sub(r"(?<=[a-z])I", "l", word)
    return fixed.replace("0", "o").replace("1", "l")


def fix_dose_digits(text: str) -> str:
    """'Smg' -> '5mg', 'lg' -> '1g', 'O,5 mg' -> '0,5 mg': OCR reads digits as letters."""

    def repair(match: re.Match[str]) -> str:
        digits = match.group(1).translate(str.maketrans("SslIO|o", "5511001"))
        return digits + match.group(2)

    text = re.sub(r"\b([SslIO|o\d][\d.,SO]*)(\s?(?:mg|g|mcg|ml)\b)", repair, text)
    text = re.sub(r"(?<=\d)(\s?)m9\b", r"\1mg", text)  # "40 m9": g read as 9
    # A bare number ending in 9 right before a route: "29 IV" is "2g IV" (a dose has a unit).
    return re.sub(r"\b(\d{1,3})9(?=\s+(?:IV|PO|SC|IM)\b)", r"\1g", text)


def parse_frequency(text: str) -> tuple[str | None, bool, tuple[str, ...]]:
    """(frequency code, as needed, times) from one line: '3x/j' -> ('3x/d', False, ())."""
    as_needed = bool(PRN_RE.search(text))
    times = tuple(f"{int(h):02d}:{m}" for h, m in CLOCK_RE.findall(text))
    times += tuple(label for pattern, label in TIME_WORDS if re.search(pattern, text, re.I))
    frequency: str | None = None
    if match := INTERVAL_RE.search(text):
        frequency = f"q{int(next(g for g in match.groups() if g))}h"
    elif match := PER_DAY_RE.search(text):
        frequency = f"{int(next(g for g in match.groups() if g))}x/d"
    elif DAILY_RE.search(text):
        frequency = "1x/d"
    else:
        words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}
        per_day = next((n for w, n in WORD_FREQUENCIES.items() if w in words), None)
        if per_day:
            frequency = f"{per_day}x/d"
        elif times:
            frequency = f"{len(times)}x/d"
    if frequency is None and as_needed:
        frequency = "PRN"
    return frequency, as_needed, times


def parse_route(text: str) -> str | None:
    """The route named in the line (IV, PO, SC, IM, INH), or None."""
    for pattern, route in ROUTES:
        if re.search(pattern, text, re.IGNORECASE):
            return route
    return None


def parse_dose(text: str) -> tuple[float | None, str | None, int]:
    """(value, unit, end offset) of the first dose in the line: '1,5 g' -> (1.5, 'g', ...)."""
    match = DOSE_RE.search(text)
    if not match:
        return None, None, 0
    value = float(match.group(1).replace(",", "."))
    return value, UNITS[match.group(2).lower()], match.end()


def find_drug(text: str, lexicon: Lexicon) -> tuple[str, float, int, int] | None:
    """(generic name, score, start, end) of the best drug name in the line (1-3 words)."""
    words = [(m.start(), m.end()) for m in re.finditer(r"[^\s\d/:,;()]+", text)]
    best: tuple[str, float, int, int] | None = None
    for i in range(len(words)):
        for width in (3, 2, 1):
            if i + width > len(words):
                continue
            start, end = words[i][0], words[i + width - 1][1]
            found = lexicon.match(text[start:end])
            if found and (best is None or (found[1], end - start) > (best[1], best[3] - best[2])):
                best = (found[0], found[1], start, end)
    return best


def extract_medication_lines(
    text_lines: Sequence[str | TextLine], lexicon: Lexicon | None = None
) -> list[MedicationCandidate]:
    """Every line that names a known drug (or has a dose with a route or frequency)."""
    lexicon = lexicon or default_lexicon()
    candidates = []
    for number, line in enumerate(text_lines):
        text = line.text if isinstance(line, TextLine) else str(line)
        candidate = _candidate(number, text, line if isinstance(line, TextLine) else None, lexicon)
        if candidate is not None:
            candidates.append(candidate)
    return candidates


def _candidate(
    number: int, text: str, line: TextLine | None, lexicon: Lexicon
) -> MedicationCandidate | None:
    repaired = fix_dose_digits(text)
    drug = find_drug(repaired, lexicon)
    after = repaired[drug[3] :] if drug else repaired
    dose_value, dose_unit, dose_end = parse_dose(after)
    route = parse_route(after)
    frequency, as_needed, times = parse_frequency(after)
    if drug is None and not (dose_value is not None and (route or frequency)):
        return None
    found = sum(x is not None for x in (dose_value, route, frequency))
    span = (drug[2] if drug else 0, len(text.rstrip()))
    confidence = (drug[1] / 100 if drug else 0.3) * (0.55 + 0.15 * found)
    if line is not None and line.words:
        confidence *= sum(w.confidence for w in line.words) / len(line.words)
    return MedicationCandidate(
        line_number=line.number if line is not None else number,
        line_text=text,
        span=span,
        drug=drug[0] if drug else None,
        drug_text=text[drug[2] : drug[3]] if drug else "",
        dose_value=dose_value,
        dose_unit=dose_unit,
        route=route,
        frequency=frequency,
        as_needed=as_needed,
        times=times,
        boxes=_boxes_in_span(line, span),
        confidence=round(min(confidence, 1.0), 3),
    )


def _boxes_in_span(
    line: TextLine | None, span: tuple[int, int]
) -> tuple[tuple[int, int, int, int], ...]:
    if line is None:
        return ()
    boxes, offset = [], 0
    for word in line.words:
        if offset < span[1] and offset + len(word.text) > span[0]:
            boxes.append(word.box)
        offset += len(word.text) + 1
    return tuple(boxes)


# --------------------------------------------------------------------------- comparison

CONSISTENT = "consistent with the snapshot"


@dataclass(frozen=True)
class Difference:
    """One way a screen or note disagrees with the snapshot's orders (for a person to check).

    kind: "not_in_snapshot", "dose_changed", "route_changed", "frequency_changed",
    "missing_from_screen".
    """

    kind: str
    medication: str
    screen: str  # what the photo says ("" for missing_from_screen)
    snapshot: str  # what the order says ("" for not_in_snapshot)
    order_id: str | None = None
    line_number: int | None = None


def compare_with_snapshot(
    candidates: Sequence[MedicationCandidate], orders: Sequence[Order]
) -> list[Difference]:
    """Differences between a medication list read from a photo and one patient's orders.

    An empty list means the list is consistent with the snapshot (see `summarise`).
    Candidates without a drug name are ignored: they cannot be compared.
    """
    differences: list[Difference] = []
    matched: set[str] = set()
    for candidate in (c for c in candidates if c.drug):
        order = _matching_order(candidate, orders, matched)
        if order is None:
            differences.append(
                Difference(
                    "not_in_snapshot",
                    str(candidate.drug),
                    _screen_text(candidate),
                    "",
                    line_number=candidate.line_number,
                )  # fmt: skip
            )
            continue
        matched.add(order.order_id)
        differences += _field_differences(candidate, order)
    for order in orders:
        if order.order_id not in matched:
            differences.append(
                Difference(
                    "missing_from_screen",
                    order.medication,
                    "",
                    _order_text(order),
                    order_id=order.order_id,
                )  # fmt: skip
            )
    return differences


def summarise(differences: Sequence[Difference]) -> str:
    """'consistent with the snapshot', or how many differences of which kinds."""
    if not differences:
        return CONSISTENT
    kinds = sorted({d.kind for d in differences})
    return f"{len(differences)} difference(s) with the snapshot: {', '.join(kinds)}"


def _matching_order(
    candidate: MedicationCandidate, orders: Sequence[Order], taken: set[str]
) -> Order | None:
    drug = normalise_name(str(candidate.drug))
    best: tuple[float, Order] | None = None
    for order in orders:
        if order.order_id in taken:
            continue
        known = find_drug(order.medication, default_lexicon())
        name = normalise_name(known[0] if known else re.split(r"\d", order.medication)[0])
        score = max(fuzz.ratio(drug, name), fuzz.token_set_ratio(drug, name) - 5)
        if score >= 88 and (best is None or score > best[0]):
            best = (score, order)
    return best[1] if best else None


def _field_differences(candidate: MedicationCandidate, order: Order) -> list[Difference]:
    found: list[Difference] = []

    def add(kind: str, screen: str, snapshot: str) -> None:
        found.append(
            Difference(
                kind, order.medication, screen, snapshot, order.order_id, candidate.line_number
            )  # fmt: skip
        )

    screen_dose = _in_base_unit(candidate.dose_value, candidate.dose_unit)
    order_dose = _in_base_unit(order.dose_value, order.dose_unit)
    if screen_dose and order_dose and not _same_amount(screen_dose, order_dose):
        add("dose_changed", _dose(candidate.dose_value, candidate.dose_unit), order.dose_text)
    if candidate.route and order.route and candidate.route != _route_code(order.route):
        add("route_changed", candidate.route, order.route)
    screen_per_day = per_day(candidate.frequency)
    order_frequency = _order_frequency(order)
    if (
        screen_per_day is not None
        and order_frequency is not None
        and screen_per_day != per_day(order_frequency)
    ):
        add("frequency_changed", str(candidate.frequency), order_frequency)
    return found


def _same_amount(a: tuple[float, str], b: tuple[float, str]) -> bool:
    return a[1] == b[1] and abs(a[0] - b[0]) <= 1e-6 * max(abs(b[0]), 1e-9)


def per_day(frequency: str | None) -> float | None:
    """Administrations per day of a frequency code; PRN is -1 (not comparable to a count)."""
    if frequency is None:
        return None
    if frequency == "PRN":
        return -1.0
    if match := re.fullmatch(r"q(\d+)h", frequency):
        return 24 / int(match.group(1))
    if match := re.fullmatch(r"(\d+)x/d", frequency):
        return float(match.group(1))
    return None


def _order_frequency(order: Order) -> str | None:
    if order.as_needed:
        return "PRN"
    timing = order.timing
    if timing is None:
        return None
    if timing.code:
        code = parse_frequency(timing.code)[0]
        if code:
            return code
    if timing.frequency and timing.period and timing.period_unit:
        days = {"h": 1 / 24, "d": 1.0, "wk": 7.0}.get(timing.period_unit)
        if days:
            return f"{timing.frequency / (timing.period * days):g}x/d"
    if timing.times_of_day:
        return f"{len(timing.times_of_day)}x/d"
    return None


def _in_base_unit(value: float | None, unit: str | None) -> tuple[float, str] | None:
    if value is None or not unit:
        return None
    code = UNITS.get(unit.lower(), unit)
    factors = {"g": (1000.0, "mg"), "mcg": (0.001, "mg"), "mg": (1.0, "mg")}
    factor, base = factors.get(code, (1.0, code))
    return value * factor, base


def _route_code(route: str) -> str:
    return parse_route(route) or route.upper()


def _dose(value: float | None, unit: str | None) -> str:
    return f"{value:g} {unit}" if value is not None else ""


def _screen_text(candidate: MedicationCandidate) -> str:
    return candidate.line_text[candidate.span[0] : candidate.span[1]]


def _order_text(order: Order) -> str:
    frequency = order.timing.label if order.timing else ""
    return " ".join(
        p for p in (order.medication, order.dose_text, order.route or "", frequency) if p
    )
