"""Which patients and orders of a FHIR export are printed, and the MRN of each patient.

An order is printed when it is active, an order to give (intent order, original-order or
instance-order, not `doNotPerform` unless the hospital prints those as "DO NOT GIVE"
lines), not a discharge or community prescription, and of the
patient's current encounter. Everything else is left out with its reason, which `prepare`
lists: a left-out order is seen, never silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from papermode.census.fhir.parts import Resources, get, reference_text
from papermode.census.fhir.timing import bound_end, bound_start
from papermode.census.raw import RawCensus
from papermode.core.settings import Settings

Json = dict[str, Any]
ORDER_INTENTS = {"order", "original-order", "instance-order"}
NOT_INPATIENT = {"discharge", "community"}
MR_CODE = "MR"
_NOT_CURRENT_USE = {"old", "temp", "secondary"}


class OrderScope:
    """Decides for each MedicationRequest: print it, leave it out (why), or refuse it."""

    def __init__(
        self,
        resources: Resources,
        current: dict[str, tuple[str, Json]],
        patients: set[str],
        now: datetime,
        print_do_not_perform: bool = False,
    ) -> None:
        self.print_do_not_perform = print_do_not_perform  # [census] do_not_perform = "print"
        self.resources = resources
        self.current = {p: resources.key_of(e) for p, (_, e) in current.items()}
        self.patients = patients
        self.now = now

    def left_out(self, resource: Json, label: str, raw: RawCensus) -> str | None:
        """Why `resource` is not printed; "" to print it; None when it is a problem."""
        status, intent = str(resource.get("status") or ""), resource.get("intent")
        if status != "active":
            return f"status is {status or 'missing'}, not active"
        patient = self.resources.resolve(resource.get("subject"), "Patient")
        if patient is None:
            raw.problems.append(
                f"{label}: its subject ({reference_text(resource.get('subject'))}) is not a "
                "Patient in this Bundle; export the patient with their orders"
            )
            return None
        if not isinstance(intent, str) or not intent:
            raw.problems.append(f"{label}: no intent; R4 requires one (order for an order)")
            return None
        if intent not in ORDER_INTENTS:
            return f"intent is {intent}, not an order to give"
        if resource.get("doNotPerform") is True and not self.print_do_not_perform:
            return "doNotPerform: an order NOT to give this medicine"
        categories = {
            str(c.get("code")) for concept in resource.get("category") or []
            for c in get(concept, "coding") or [] if isinstance(c, dict)
        }  # fmt: skip
        if categories & NOT_INPATIENT:
            return (
                f"category {', '.join(sorted(categories & NOT_INPATIENT))}, not an inpatient order"
            )
        if patient not in self.patients:
            return f"its patient {patient} is left out"
        return self._encounter(resource, label, patient, raw) or self._validity(resource)

    def _encounter(self, resource: Json, label: str, patient: str, raw: RawCensus) -> str | None:
        reference = resource.get("encounter")
        if reference is None:
            return ""
        key = self.resources.resolve(reference, "Encounter")
        if key is None:
            raw.problems.append(
                f"{label}: its encounter ({reference_text(reference)}) is not in this Bundle; "
                "export that encounter with the order"
            )
            return None
        if key != self.current.get(patient):
            return f"of {key}, not the patient's current encounter"
        return ""

    def _validity(self, resource: Json) -> str:
        validity = get(resource, "dispenseRequest", "validityPeriod")
        end = bound_end(get(validity, "end"))
        if end is not None and end <= self.now:
            return f"its validity period ended ({get(validity, 'end')})"
        return ""


def current_mrn(
    resource: Json, label: str, raw: RawCensus, settings: Settings, now: datetime
) -> str:
    """The value of the patient's current MRN identifier, or "" when there is none.

    The MRN is the identifier typed MR (HL7 v2-0203), or of `settings.mrn_system` when the
    hospital sets it; `use` old, temp or secondary and an ended `period` are not current.
    Another identifier (a social-security or national number) is never taken instead.
    """
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict)]
    candidates = [i for i in identifiers if str(i.get("value") or "").strip()]
    if settings.mrn_system:
        candidates = [i for i in candidates if i.get("system") == settings.mrn_system]
    else:
        candidates = [i for i in candidates if _typed_mr(i)]
    values = list(dict.fromkeys(str(i["value"]).strip() for i in candidates if _current(i, now)))
    if len(values) > 1:
        raw.problems.append(
            f"{label}: {len(values)} current MRN identifiers; keep one current (typed MR), "
            "mark the others use old, or set [census] mrn_system"
        )
        return ""
    return values[0] if values else ""


def _typed_mr(identifier: Json) -> bool:
    codings = get(identifier, "type", "coding") or []
    return any(isinstance(c, dict) and c.get("code") == MR_CODE for c in codings)


def _current(identifier: Json, now: datetime) -> bool:
    if identifier.get("use") in _NOT_CURRENT_USE:
        return False
    start = bound_start(get(identifier, "period", "start"))
    end = bound_end(get(identifier, "period", "end"))
    return (start is None or start <= now) and (end is None or end > now)
