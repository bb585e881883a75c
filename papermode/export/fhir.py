"""FHIR R4 (4.0.1) transaction Bundle of the reconciled paper record, as plain JSON dicts.

MedicationAdministration per documented dose and per period of a continuous infusion
(`effectivePeriod`, `dosage.rateQuantity` in UCUM), Observation per vital sign (blood pressure
as the 85354-9 panel), MedicationRequest per confirmed new order, DocumentReference per
evidence image (its SHA-256, not its bytes unless asked), and a Provenance per resource.
Each resource has an identifier unique per (order, scheduled time, station) and is created
with `ifNoneExist` on it, so uploading the same export twice creates nothing twice;
Provenance (which has no identifier in R4) is PUT under an id derived from its target.
Only items that were auto-accepted or confirmed by a person are exported.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from papermode.census.vocabulary import rate_ucum
from papermode.core.model import Patient
from papermode.core.reasons import REASONS
from papermode.core.sites import site_by_key
from papermode.reconcile.categories import Category
from papermode.reconcile.identity import SYSTEM, identifier_of
from papermode.reconcile.inputs import CaptureInfo, ReconcileInput
from papermode.reconcile.items import Item, Reconciliation

ID_EVIDENCE = f"{SYSTEM}:evidence-sha256"
SNOMED, LOINC, UCUM = "http://snomed.info/sct", "http://loinc.org", "http://unitsofmeasure.org"
RECORDED_R5 = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationAdministration.recorded"
)
PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# From the R4 example value set reason-medication-not-given-codes (SNOMED CT, is-a
# 182895007 "Drug declined by patient" or 242990004 "Drug not available").
REFUSED_REASON = {"system": SNOMED, "code": "182895007", "display": "Drug declined by patient"}
HELD_REASON_TEXT = "Held (no reason written on the paper MAR)"
VITALS = {
    "8867-4": ("Heart rate", "/min", "/min"),
    "9279-1": ("Respiratory rate", "/min", "/min"),
    "8310-5": ("Body temperature", "Cel", "Cel"),
    "59408-5": ("Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    "8480-6": ("Systolic blood pressure", "mm[Hg]", "mmHg"),
    "8462-4": ("Diastolic blood pressure", "mm[Hg]", "mmHg"),
    "85354-9": ("Blood pressure panel with all children optional", "", ""),
    "72514-3": (
        "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        "{score}",
        "{score}",
    ),
    "14743-9": ("Glucose [Moles/volume] in Capillary blood by Glucometer", "mmol/L", "mmol/L"),
    "3151-8": ("Inhaled oxygen flow rate", "L/min", "L/min"),
    # LOINC's "Level of consciousness" has the AVPU answers; ACVPU's C (new confusion) is
    # not one of them, so the answer is sent as text only (reconcile/observations.py).
    "67775-7": ("Level of consciousness", "", ""),
}
# papermode's own keys: no LOINC code is sent for them, only the text.
OWN_CODES = {
    "news2": ("National Early Warning Score 2 (NEWS2) total, as written", "{score}", "{score}"),
    "o2_device": ("Air or oxygen delivery device", "", ""),
}
# FHIR R4 observation-category: a score reported from an assessment tool is `survey`, a
# point-of-care glucose `laboratory`, a consciousness assessment `exam`; the rest
# `vital-signs`.
CATEGORIES = {
    "72514-3": ("survey", "Survey"),
    "news2": ("survey", "Survey"),
    "14743-9": ("laboratory", "Laboratory"),
    "67775-7": ("exam", "Exam"),
}
_EVENT_TEXT = {
    "start": "infusion started",
    "change": "rate changed",
    "bag": "new bag hung",
    "stop": "infusion stopped",
}
_NAMESPACE = uuid.UUID("5b0c3f7e-9d55-4c2a-8f0e-2f6b2a2d7c11")
ImageBytes = Callable[[str], bytes | None]


def build_bundle(
    result: Reconciliation,
    source: ReconcileInput,
    *,
    exported_at: datetime,
    chain_head: str = "",
    images: ImageBytes | None = None,
) -> dict[str, Any]:
    """The transaction Bundle of every exportable item (`images`: embed evidence bytes)."""
    builder = _Builder(source, images)
    for item in result.exportable():
        builder.add(item)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(builder.counts.items()))
    return {
        "resourceType": "Bundle",
        "meta": {
            "source": SYSTEM,
            "tag": [
                {"system": f"{SYSTEM}:export", "code": "contents", "display": summary or "empty"},
                {"system": f"{SYSTEM}:audit-head", "code": chain_head or "none"},
            ],
        },
        "identifier": {"system": f"{SYSTEM}:export", "value": str(uuid.uuid4())},
        "type": "transaction",
        "timestamp": fhir_time(exported_at),
        "entry": builder.entries,
    }


def fhir_time(moment: datetime) -> str:
    """A naive local wall-clock time as a FHIR dateTime with this machine's UTC offset."""
    return moment.astimezone().isoformat(timespec="seconds")


class _Builder:
    def __init__(self, source: ReconcileInput, images: ImageBytes | None) -> None:
        self.source = source
        self.images = images
        self.entries: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.documents: dict[str, str] = {}  # sha256 -> fullUrl

    def add(self, item: Item) -> None:
        patient = self.source.patients.get(item.patient_id)
        if item.kind in ("administration", "prn"):
            resource = self.administration(item, patient)
        elif item.kind == "infusion":
            resource = self.infusion(item, patient)
        elif item.kind == "vital":
            resource = self.observation(item, patient)
        elif item.kind == "new_order" and item.new_order is not None:
            resource = self.medication_request(item, patient)
        else:
            return
        system, value = identifier_of(item)
        resource["identifier"] = [{"system": system, "value": value}]
        target = self.create(resource, f"{system}|{value}")
        self.provenance(item, target, patient)

    def create(self, resource: dict[str, Any], identifier: str) -> str:
        full_url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, identifier)}"
        kind = resource["resourceType"]
        self.entries.append(
            {
                "fullUrl": full_url,
                "resource": resource,
                "request": {
                    "method": "POST",
                    "url": kind,
                    "ifNoneExist": f"identifier={identifier}",
                },
            }
        )
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return full_url

    def administration(self, item: Item, patient: Patient | None) -> dict[str, Any]:
        order = self.source.orders.get(item.order_id or "")
        given = item.category not in (Category.HELD, Category.REFUSED)
        assert item.occurred_at is not None
        resource: dict[str, Any] = {
            "resourceType": "MedicationAdministration",
            "status": "completed" if given else "not-done",
            "medicationCodeableConcept": {"text": item.medication or ""},
            "subject": {"reference": f"Patient/{item.patient_id}"},
            "effectiveDateTime": fhir_time(item.occurred_at),
            "request": {"reference": f"MedicationRequest/{item.order_id}"},
        }
        if not given:
            resource["statusReason"] = [status_reason(item)]
        if patient is not None and patient.encounter:
            resource["context"] = {"reference": f"Encounter/{patient.encounter}"}
        dose = item.quantity if item.quantity is not None else (order.dose_value if order else None)
        unit = item.unit or (order.dose_unit if order else None)
        dosage: dict[str, Any] = {}
        if order is not None and order.route:
            dosage["route"] = {"text": order.route}
        if dose is not None and given:
            dosage["dose"] = {"value": dose, **({"unit": unit} if unit else {})}
        if dosage:
            resource["dosage"] = dosage
        if item.performer:  # the page's signature legend (papermode.reconcile.performer)
            resource["performer"] = [{"actor": {"display": item.performer}}]
        if item.checked_by:  # a dose's second check / witness (reconcile.administrations, .prn)
            resource.setdefault("performer", []).extend(
                second_performer(f) for f in item.checked_by
            )
        if item.site is not None and given and (site := site_by_key(item.site)) is not None:
            dosage["site"] = {"text": site.label}
            resource["dosage"] = dosage
        if item.notes:
            resource["note"] = [{"text": note} for note in item.notes]
        if item.recorded_at is not None:
            resource["extension"] = [
                {"url": RECORDED_R5, "valueDateTime": fhir_time(item.recorded_at)}
            ]
        return resource

    def infusion(self, item: Item, patient: Patient | None) -> dict[str, Any]:
        """One period of a continuous infusion at one rate: `effectivePeriod` from the event
        that set the rate to the next event (still running: no end, `in-progress`)."""
        order = self.source.orders.get(item.order_id or "")
        period: dict[str, str] = {}
        if item.event != "stop" and item.occurred_at is not None:
            period["start"] = fhir_time(item.occurred_at)
        if item.ends_at is not None:
            period["end"] = fhir_time(item.ends_at)
        resource: dict[str, Any] = {
            "resourceType": "MedicationAdministration",
            "status": "completed" if item.ends_at is not None else "in-progress",
            "medicationCodeableConcept": {"text": item.medication or ""},
            "subject": {"reference": f"Patient/{item.patient_id}"},
            "effectivePeriod": period,
            "request": {"reference": f"MedicationRequest/{item.order_id}"},
        }
        if patient is not None and patient.encounter:
            resource["context"] = {"reference": f"Encounter/{patient.encounter}"}
        dosage: dict[str, Any] = {"text": _EVENT_TEXT.get(item.event or "", "")}
        if order is not None and order.route:
            dosage["route"] = {"text": order.route}
        if item.quantity is not None and item.unit:
            rate = {"value": item.quantity, "unit": item.unit}
            code = rate_ucum(item.unit)
            dosage["rateQuantity"] = rate | ({"system": UCUM, "code": code} if code else {})
        resource["dosage"] = dosage
        if item.performer:
            resource["performer"] = [{"actor": {"display": item.performer}}]
        if item.notes:
            resource["note"] = [{"text": note} for note in item.notes]
        if item.recorded_at is not None:
            resource["extension"] = [
                {"url": RECORDED_R5, "valueDateTime": fhir_time(item.recorded_at)}
            ]
        return resource

    def observation(self, item: Item, patient: Patient | None) -> dict[str, Any]:
        assert item.occurred_at is not None and item.code is not None
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [_category(item.code)]}],
            "code": _loinc(item.code),
            "subject": {"reference": f"Patient/{item.patient_id}"},
            "effectiveDateTime": fhir_time(item.occurred_at),
        }
        if patient is not None and patient.encounter:
            resource["encounter"] = {"reference": f"Encounter/{patient.encounter}"}
        if item.components:
            resource["component"] = [
                {"code": _loinc(code), "valueQuantity": _quantity(code, value)}
                for code, value in item.components
            ]
        elif item.quantity is not None:
            resource["valueQuantity"] = _quantity(item.code, item.quantity)
        elif item.value_text is not None:
            resource["valueCodeableConcept"] = {"text": item.value_text}
        resource["note"] = [{"text": note} for note in item.notes]
        return resource

    def medication_request(self, item: Item, patient: Patient | None) -> dict[str, Any]:
        new = item.new_order
        assert new is not None
        dosage: dict[str, Any] = {"text": _dosage_text(item)}
        if new.route:
            dosage["route"] = {"text": new.route}
        if new.frequency:
            dosage["timing"] = {"code": {"text": new.frequency}}
            dosage["asNeededBoolean"] = new.frequency.upper() == "PRN"
        if new.dose is not None:
            quantity = {"value": new.dose, **({"unit": new.unit} if new.unit else {})}
            dosage["doseAndRate"] = [{"doseQuantity": quantity}]
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"text": new.drug},
            "subject": {"reference": f"Patient/{item.patient_id}"},
            "dosageInstruction": [dosage],
            "note": [{"text": "written on the downtime new-order sheet"}],
        }
        if patient is not None and patient.encounter:
            resource["encounter"] = {"reference": f"Encounter/{patient.encounter}"}
        if new.prescriber:
            resource["requester"] = {"display": new.prescriber}
        if new.written_at is not None:
            resource["authoredOn"] = fhir_time(new.written_at)
        if item.reviewers:
            resource["recorder"] = {"display": item.reviewers[0]}
        return resource

    def provenance(self, item: Item, target: str, patient: Patient | None) -> None:
        recorded = item.recorded_at or datetime.now()
        agents = [_agent("author", item.performer or "nurse who signed the paper form")]
        agents.append(_agent("enterer", item.reviewers[0] if item.reviewers else "ward clerk"))
        if len(item.reviewers) > 1:
            agents.append(_agent("verifier", item.reviewers[1]))
        entities = [
            {"role": "source", "what": {"reference": self.document(capture, item.patient_id)}}
            for capture in self._captures(item)
        ]
        resource: dict[str, Any] = {
            "resourceType": "Provenance",
            "id": str(uuid.uuid5(_NAMESPACE, f"provenance|{target}")),
            "target": [{"reference": target}],
            "recorded": fhir_time(recorded),
            "agent": agents,
        }
        if item.occurred_at is not None:
            resource["occurredDateTime"] = fhir_time(item.occurred_at)
        if entities:
            resource["entity"] = entities
        self.entries.append(
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "request": {"method": "PUT", "url": f"Provenance/{resource['id']}"},
            }
        )
        self.counts["Provenance"] = self.counts.get("Provenance", 0) + 1

    def _captures(self, item: Item) -> list[CaptureInfo]:
        return [self.source.captures[c] for c in item.captures if c in self.source.captures]

    def document(self, capture: CaptureInfo, patient_id: str) -> str:
        if capture.sha256 in self.documents:
            return self.documents[capture.sha256]
        attachment: dict[str, Any] = {
            "contentType": _content_type(capture.file_name),
            "title": capture.file_name,
        }
        data = self.images(capture.sha256) if self.images else None
        if data is not None:
            attachment["data"] = base64.b64encode(data).decode("ascii")
        resource = {
            "resourceType": "DocumentReference",
            "identifier": [{"system": ID_EVIDENCE, "value": capture.sha256}],
            "status": "current",
            "description": f"downtime paper form, capture {capture.capture_id}; SHA-256 "
            f"{capture.sha256}",
            "subject": {"reference": f"Patient/{patient_id}"},
            "content": [{"attachment": attachment}],
        }
        if capture.captured_at is not None:
            resource["date"] = fhir_time(capture.captured_at)
        full_url = self.create(resource, f"{ID_EVIDENCE}|{capture.sha256}")
        self.documents[capture.sha256] = full_url
        return full_url


PERFORM_FUNCTION = "http://terminology.hl7.org/CodeSystem/med-admin-perform-function"
SECOND_PERSON = "initials on the paper form (not read as a name: see the page's image)"


def second_performer(function: str) -> dict[str, Any]:
    """A second nurse's initials on a PRN entry as an R4 performer: its function from the
    R4 code system (`verifier`, `witness`); the initials are ink, never read as a name."""
    display = {"verifier": "Verifier", "witness": "Witness"}[function]
    return {
        "function": {
            "coding": [{"system": PERFORM_FUNCTION, "code": function, "display": display}],
            "text": function,
        },
        "actor": {"display": SECOND_PERSON},
    }


def status_reason(item: Item) -> dict[str, Any]:
    """Why a dose was not given: the legend's reason the nurse wrote, coded from the R4
    example value set where one of its codes says it, else as text; a refusal ticked with no
    reason is SNOMED CT 182895007."""
    outcome = "Refused" if item.category is Category.REFUSED else "Held"
    reason = next((r for r in REASONS if r.key == item.reason), None)
    if reason is None:
        if item.category is Category.REFUSED:
            return {"coding": [REFUSED_REASON], "text": "Refused"}
        return {"text": HELD_REASON_TEXT}
    concept: dict[str, Any] = {"text": f"{outcome}: {reason.label}"}
    if reason.snomed is not None:
        code, display = reason.snomed
        concept["coding"] = [{"system": SNOMED, "code": code, "display": display}]
    return concept


def _agent(code: str, who: str) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": PARTICIPANT, "code": code}]},
        "who": {"display": who},
    }


def _loinc(code: str) -> dict[str, Any]:
    if code in OWN_CODES:
        return {"text": OWN_CODES[code][0]}
    display = VITALS.get(code, (code, "", ""))[0]
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _category(code: str) -> dict[str, str]:
    name, display = CATEGORIES.get(code, ("vital-signs", "Vital Signs"))
    return {"system": CATEGORY, "code": name, "display": display}


def _quantity(code: str, value: float) -> dict[str, Any]:
    _, ucum, unit = VITALS.get(code) or OWN_CODES.get(code) or (code, "1", "1")
    return {"value": value, "unit": unit, "system": UCUM, "code": ucum}


def _dosage_text(item: Item) -> str:
    new = item.new_order
    assert new is not None
    dose = f"{new.dose:g} {new.unit or ''}".strip() if new.dose is not None else ""
    return " ".join(part for part in (new.drug, dose, new.route, new.frequency) if part)


def _content_type(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "png": "image/png",
        "heic": "image/heic",
        "tif": "image/tiff",
        "tiff": "image/tiff",
        "pdf": "application/pdf",
    }.get(suffix, "application/octet-stream")
