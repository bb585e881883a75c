"""Offline checks of an exported Bundle: the FHIR R4 (4.0.1) models of `fhir.resources`
6.4.0, then our own checks of what the models do not check (codes, units, references,
identifiers), and a fake server that honours `ifNoneExist` for the upload-twice test."""

from __future__ import annotations

import itertools
from typing import Any

from fhir.resources.bundle import Bundle

# R4 example value set reason-medication-not-given-codes: is-a 242990004 or 182895007.
NOT_GIVEN_CODES = {
    "242990004", "182895007", "182896008", "182897004", "182898009", "182899001",
    "182900006", "182901005", "182902003", "182903008",
}  # fmt: skip
LOINC_UNITS = {
    "8867-4": "/min",
    "9279-1": "/min",
    "8310-5": "Cel",
    "59408-5": "%",
    "8480-6": "mm[Hg]",
    "8462-4": "mm[Hg]",
    "72514-3": "{score}",
    "14743-9": "mmol/L",
    "3151-8": "L/min",
}
BP_PANEL = "85354-9"
# FHIR R4 observation-category of the codes not in `vital-signs` (export/fhir.py CATEGORIES).
CATEGORIES = {"72514-3": "survey", "14743-9": "laboratory", "67775-7": "exam"}
ANSWER_CODES = {"67775-7"}  # LOINC codes valued by an answer as text (ACVPU)
# papermode's own observations: a text code (no LOINC code invented), its category, a unit.
OWN_CODES = {
    "National Early Warning Score 2 (NEWS2) total, as written": ("survey", "{score}"),
    "Air or oxygen delivery device": ("vital-signs", None),
}


def validate_bundle(bundle: dict[str, Any], *, forbidden: tuple[str, ...] = ()) -> list[str]:
    """Every problem found (empty: valid). `forbidden`: strings (MRNs, names) that must not
    appear in identifiers, fullUrls or request URLs."""
    Bundle.parse_obj(bundle)  # raises on anything R4 4.0.1 does not allow
    problems: list[str] = []
    assert bundle["type"] == "transaction"
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    identifiers: set[str] = set()
    for entry in bundle["entry"]:
        resource, request = entry["resource"], entry["request"]
        kind = resource["resourceType"]
        for reference in _references(resource):
            if reference.startswith("urn:uuid:") and reference not in full_urls:
                problems.append(f"{kind}: reference {reference} is not in the Bundle")
        if request["method"] == "POST":
            (identifier,) = resource["identifier"]
            token = f"{identifier['system']}|{identifier['value']}"
            if request.get("ifNoneExist") != f"identifier={token}":
                problems.append(f"{kind}: ifNoneExist is not on its identifier")
            if token in identifiers:
                problems.append(f"{kind}: identifier {token} twice")
            identifiers.add(token)
            visible = token + entry["fullUrl"] + request["url"]
        else:
            visible = entry["fullUrl"] + request["url"]
        problems += [
            f"{kind}: patient data {word!r} in an id" for word in forbidden if word in visible
        ]
        problems += _CHECKS.get(kind, lambda r: [])(resource)
    return problems


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for value in node.values() for r in _references(value)]
    if isinstance(node, list):
        return [r for value in node for r in _references(value)]
    return []


def _administration(resource: dict[str, Any]) -> list[str]:
    problems = []
    if not resource["request"]["reference"].startswith("MedicationRequest/"):
        problems.append("MedicationAdministration.request is not a MedicationRequest")
    if not resource["subject"]["reference"].startswith("Patient/"):
        problems.append("MedicationAdministration.subject is not a Patient")
    if resource["status"] == "not-done":
        for reason in resource.get("statusReason", []):
            for coding in reason.get("coding", []):
                if (
                    coding["system"] != "http://snomed.info/sct"
                    or coding["code"] not in NOT_GIVEN_CODES
                ):
                    problems.append(f"statusReason {coding['code']} is not in the R4 value set")
        if not resource.get("statusReason"):
            problems.append("not-done without a statusReason")
    elif resource["status"] == "in-progress":  # an infusion still running on paper
        if "end" in resource.get("effectivePeriod", {"end": None}):
            problems.append("in-progress with an end, or without an effectivePeriod")
    elif resource["status"] != "completed":
        problems.append(f"status {resource['status']}")
    if "effectivePeriod" in resource:
        period = resource["effectivePeriod"]
        if not period or (
            "start" in period and "end" in period and period["end"] < period["start"]
        ):
            problems.append(f"effectivePeriod {period}")
        rate = resource.get("dosage", {}).get("rateQuantity")
        if rate is not None and rate.get("system") != "http://unitsofmeasure.org":
            problems.append(f"rateQuantity {rate} is not UCUM")
    return problems


def _own_observation(resource: dict[str, Any]) -> list[str]:
    """A NEWS2 total or an air / O2 device answer: text code, no LOINC coding."""
    text = resource["code"].get("text")
    if text not in OWN_CODES or "coding" in resource["code"]:
        return [f"Observation code {resource['code']} is neither LOINC nor one of ours"]
    category, unit = OWN_CODES[text]
    problems = []
    if resource["category"][0]["coding"][0]["code"] != category:
        problems.append(f"{text}: not in the {category} category")
    if unit is None and "text" not in resource.get("valueCodeableConcept", {}):
        problems.append(f"{text}: no answer as text")
    if unit is not None and resource.get("valueQuantity", {}).get("code") != unit:
        problems.append(f"{text}: not the UCUM unit {unit}")
    return problems


def _observation(resource: dict[str, Any]) -> list[str]:
    if "coding" not in resource["code"]:
        return _own_observation(resource)
    problems = []
    (coding,) = resource["code"]["coding"]
    category = resource["category"][0]["coding"][0]
    if category["code"] != CATEGORIES.get(coding["code"], "vital-signs"):
        problems.append(f"Observation {coding['code']} in the wrong category {category['code']}")
    if coding["system"] != "http://loinc.org":
        problems.append("Observation code is not LOINC")
    if coding["code"] in ANSWER_CODES:
        if "text" not in resource.get("valueCodeableConcept", {}) or "valueQuantity" in resource:
            problems.append(f"LOINC {coding['code']}: no answer as text")
        return problems
    quantities = [(coding["code"], resource.get("valueQuantity"))]
    if coding["code"] == BP_PANEL:
        if "valueQuantity" in resource:
            problems.append("blood pressure panel with a value of its own")
        quantities = [
            (c["code"]["coding"][0]["code"], c["valueQuantity"]) for c in resource["component"]
        ]
        if not {code for code, _ in quantities} <= {"8480-6", "8462-4"}:
            problems.append("blood pressure components are not 8480-6 / 8462-4")
    for code, quantity in quantities:
        if code not in LOINC_UNITS:
            problems.append(f"LOINC {code} is not a vital sign we export")
        elif (
            quantity is None
            or quantity["system"] != "http://unitsofmeasure.org"
            or quantity["code"] != LOINC_UNITS[code]
        ):
            problems.append(f"LOINC {code}: not the UCUM unit {LOINC_UNITS[code]}")
    return problems


def _provenance(resource: dict[str, Any]) -> list[str]:
    types = {agent["type"]["coding"][0]["code"] for agent in resource["agent"]}
    problems = [] if {"author", "enterer"} <= types else ["Provenance without author and enterer"]
    for entity in resource.get("entity", []):
        if entity["role"] != "source":
            problems.append("Provenance entity is not the source")
    return problems


def _document(resource: dict[str, Any]) -> list[str]:
    (identifier,) = resource["identifier"]
    digest = identifier["value"]
    ok = len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
    return [] if ok else ["DocumentReference without the evidence's SHA-256"]


_CHECKS = {
    "MedicationAdministration": _administration,
    "Observation": _observation,
    "Provenance": _provenance,
    "DocumentReference": _document,
}


class FakeServer:
    """A FHIR server that honours conditional create (`ifNoneExist` on identifier) and PUT."""

    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def transaction(self, bundle: dict[str, Any]) -> dict[str, int]:
        """Process a transaction; returns how many resources each method created."""
        created = {"POST": 0, "PUT": 0}
        for entry in bundle["entry"]:
            resource, request = entry["resource"], entry["request"]
            kind = resource["resourceType"]
            if request["method"] == "POST":
                token = request["ifNoneExist"].removeprefix("identifier=")
                if self._find(kind, token) is None:
                    self.resources[(kind, str(next(self._ids)))] = resource
                    created["POST"] += 1
            else:
                _, rid = request["url"].split("/", 1)
                created["PUT"] += (kind, rid) not in self.resources
                self.resources[(kind, rid)] = resource
        return created

    def _find(self, kind: str, token: str) -> dict[str, Any] | None:
        for (stored_kind, _), resource in self.resources.items():
            tokens = {f"{i['system']}|{i['value']}" for i in resource.get("identifier", [])}
            if stored_kind == kind and token in tokens:
                return resource
        return None

    def count(self, kind: str) -> int:
        return sum(1 for stored_kind, _ in self.resources if stored_kind == kind)
