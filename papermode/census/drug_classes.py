"""What a medicine is, for the forms: its allergy classes, whether it is a controlled drug.

The record system's allergy check is gone during a downtime, so the printed MAR must flag an
order for a medicine the patient is allergic to (the substance itself, or its class:
penicillins, cephalosporins, NSAIDs, opioids, sulfonamides, ...). The class table is data:
`papermode/data/drug_classes.toml` (its header names the sources), loaded once.

Matching is by name, on whole words after normalising (case, accents, punctuation, salt
words such as "sodium" or "hydrochloride"): an `Order` carries no ATC coding today, so the
table's ATC prefixes document each class but are not matched. Refuted and entered-in-error
allergies never reach a `Patient` (census/fhir/parts.py drops them), nor do inactive or
resolved ones.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from papermode.core.model import Allergy, Order, Patient, Snapshot

# Words that name a salt, a form or a hydrate rather than the medicine (en, fr, nl).
SALT_WORDS = frozenset(
    (
        "sodium",
        "sodique",
        "natrium",
        "potassium",
        "potassique",
        "kalium",
        "calcium",
        "calcique",
        "magnesium",
        "hydrochloride",
        "hydrochlorid",
        "chlorhydrate",
        "hcl",
        "hydrobromide",
        "bromhydrate",
        "bromide",
        "sulfate",
        "sulphate",
        "sulfaat",
        "phosphate",
        "fosfaat",
        "citrate",
        "citraat",
        "tartrate",
        "tartraat",
        "bitartrate",
        "maleate",
        "maleaat",
        "mesilate",
        "mesylate",
        "besilate",
        "besylate",
        "fumarate",
        "fumaraat",
        "succinate",
        "acetate",
        "acetaat",
        "trihydrate",
        "dihydrate",
        "monohydrate",
        "anhydrous",
        "anhydre",
        "de",
        "d",
        "",
    )
)
_LONGEST = 5  # words in the longest name of the table
Kind = Literal["substance", "class", "cross-reactivity"]


@dataclass(frozen=True)
class AllergyConflict:
    """An order that matches one of the patient's recorded allergies."""

    allergy: str  # the allergy's substance as recorded
    via: str  # "substance", or the class both belong to ("penicillins")
    kind: Kind = "substance"  # "cross-reactivity": a documented possible one, not a match
    criticality: str | None = None  # the allergy's ("high", "low", "unable-to-assess")

    @property
    def text(self) -> str:
        """ "penicillin (penicillins)", for warnings and the check: no patient data."""
        if self.kind == "substance":
            return self.allergy
        if self.kind == "class":
            return f"{self.allergy} ({self.via})"
        return f"{self.allergy} (possible cross-reactivity: {self.via})"


@dataclass(frozen=True)
class DrugTable:
    """The data file, indexed: name (word tuple) -> INN, INN -> classes, class aliases."""

    names: dict[tuple[str, ...], str]
    classes_of: dict[str, frozenset[str]]
    class_names: dict[tuple[str, ...], str]
    cross: dict[str, frozenset[str]]
    controlled: frozenset[str]
    labels: dict[str, str]  # class key -> printed name ("NSAIDs")


def normalise(text: str) -> tuple[str, ...]:
    """Lower case, accents removed, punctuation as spaces, salt words dropped: the words."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return tuple(w for w in re.split(r"[^a-z0-9]+", plain) if w and w not in SALT_WORDS)


@functools.cache
def drug_table() -> DrugTable:
    """The packaged table, read once per process."""
    text = resources.files("papermode").joinpath("data/drug_classes.toml").read_text("utf-8")
    return build_table(tomllib.loads(text))


def build_table(data: dict[str, Any]) -> DrugTable:
    names: dict[tuple[str, ...], str] = {}
    classes_of: dict[str, set[str]] = {}
    class_names: dict[tuple[str, ...], str] = {}
    cross: dict[str, frozenset[str]] = {}
    labels: dict[str, str] = {}
    for key, entry in data.get("classes", {}).items():
        labels[key] = entry.get("name", key.replace("_", " "))
        cross[key] = frozenset(entry.get("cross_reactivity", ()))
        for alias in (key.replace("_", " "), *entry.get("aliases", ())):
            class_names[normalise(alias)] = key
        for inn, spellings in entry.get("members", {}).items():
            _add_names(names, inn, spellings)
            classes_of.setdefault(inn, set()).add(key)
    controlled_entry = data.get("controlled", {})
    controlled = set(controlled_entry.get("substances", ()))
    for inn, spellings in controlled_entry.get("members", {}).items():
        _add_names(names, inn, spellings)
        controlled.add(inn)
    for key in controlled_entry.get("classes", ()):
        controlled |= {inn for inn, keys in classes_of.items() if key in keys}
    return DrugTable(
        names=names,
        classes_of={inn: frozenset(keys) for inn, keys in classes_of.items()},
        class_names=class_names,
        cross=cross,
        controlled=frozenset(controlled),
        labels=labels,
    )


def _add_names(names: dict[tuple[str, ...], str], inn: str, spellings: Iterable[str]) -> None:
    for spelling in (inn.replace("_", " "), *spellings):
        words = normalise(spelling)
        if words:
            names.setdefault(words, inn)


def _phrases(words: Sequence[str]) -> set[tuple[str, ...]]:
    return {
        tuple(words[i : i + n])
        for n in range(1, _LONGEST + 1)
        for i in range(0, len(words) - n + 1)
    }


@functools.lru_cache(maxsize=4096)
def substances(medication: str) -> frozenset[str]:
    """The INNs of the table that `medication` names ("Augmentin 875 mg" -> amoxicillin)."""
    table = drug_table()
    return frozenset(table.names[p] for p in _phrases(normalise(medication)) if p in table.names)


def _allergy_classes(words: tuple[str, ...]) -> frozenset[str]:
    """The classes an allergy names, itself ("penicillins") or through a member."""
    table = drug_table()
    phrases = _phrases(words)
    named = {table.class_names[p] for p in phrases if p in table.class_names}
    for p in phrases:
        if p in table.names:
            named |= table.classes_of.get(table.names[p], frozenset())
    return frozenset(named)


def allergy_conflicts(patient: Patient, order: Order) -> tuple[AllergyConflict, ...]:
    """Every recorded allergy of `patient` that `order`'s medicine matches.

    One conflict per allergy, the strongest: the same substance, else a shared class, else
    a documented possible cross-reactivity (a cephalosporin for a penicillin allergy).
    """
    if not patient.allergies:
        return ()
    return conflicts_for(patient.allergies, order.medication)


@functools.lru_cache(maxsize=8192)
def conflicts_for(allergies: tuple[Allergy, ...], medication: str) -> tuple[AllergyConflict, ...]:
    table = drug_table()
    order_words = normalise(medication)
    order_phrases = _phrases(order_words)
    order_inns = substances(medication)
    order_classes = frozenset(k for inn in order_inns for k in table.classes_of.get(inn, ()))
    found = []
    for allergy in allergies:
        words = normalise(allergy.substance)
        if not words:
            continue
        allergy_inns = {table.names[p] for p in _phrases(words) if p in table.names}
        classes = _allergy_classes(words)
        shared = sorted(classes & order_classes)
        crossed = sorted(order_classes & {c for k in classes for c in table.cross.get(k, ())})
        conflict: tuple[str, Kind] | None = None
        if (allergy_inns & order_inns) or words in order_phrases:
            conflict = ("substance", "substance")
        elif shared:
            conflict = (table.labels[shared[0]], "class")
        elif crossed:
            conflict = (table.labels[crossed[0]], "cross-reactivity")
        if conflict is not None:
            found.append(AllergyConflict(allergy.substance, *conflict, allergy.criticality))
    return tuple(found)


def is_controlled(order: Order) -> bool:
    """Whether the medicine is a controlled drug (a witness signs each administration)."""
    return bool(substances(order.medication) & drug_table().controlled)


def conflict_warnings(snapshot: Snapshot) -> list[str]:
    """One prepare warning per order that matches an allergy: order id and allergy only,
    never the patient's name, so pharmacy can see them before printing."""
    patients = {p.patient_id: p for p in snapshot.patients if p.allergies}
    warnings = []
    for order in snapshot.orders:
        patient = patients.get(order.patient_id)
        if patient is None or order.do_not_perform:
            continue
        for conflict in allergy_conflicts(patient, order):
            warnings.append(
                f"order {order.order_id}: {order.medication} matches the allergy "
                f"{conflict.text}; printed with an ALLERGY flag, check it with the prescriber"
            )
    return warnings
