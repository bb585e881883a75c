"""The identifier of an exported item: unique per (order, scheduled time, station), the
station being the ward. Stable across exports and laptops, so a second upload matches."""

from __future__ import annotations

import re
import unicodedata

from papermode.reconcile.items import Item

SYSTEM = "urn:papermode"
ID_ADMINISTRATION = f"{SYSTEM}:administration"
ID_OBSERVATION = f"{SYSTEM}:observation"
ID_NEW_ORDER = f"{SYSTEM}:new-order"


def slug(text: str | None) -> str:
    """ "Médecine interne 3B" -> "medecine-interne-3b": safe in identifiers and file names."""
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "none"


def identifier_of(item: Item) -> tuple[str, str]:
    """(system, value); no patient name or MRN is ever part of it."""
    station = slug(item.ward)
    moment = item.scheduled_at or item.occurred_at
    stamp = f"{moment:%Y%m%dT%H%M}" if moment else "none"
    if item.kind == "vital":
        return ID_OBSERVATION, f"{station}/{item.patient_id}/{stamp}/{item.code}"
    if item.kind == "infusion":  # a period starts at an event: at most one of each per minute
        return ID_ADMINISTRATION, f"{station}/{item.order_id}/{stamp}/{item.event}"
    if item.kind == "new_order":
        return ID_NEW_ORDER, f"{station}/{item.item_id.split(':', 1)[1].replace(':', '/')}"
    return ID_ADMINISTRATION, f"{station}/{item.order_id}/{stamp}"


def identifier_token(item: Item) -> str:
    """ "system|value", as FHIR search tokens and `RecordEntry.identifiers` spell it."""
    system, value = identifier_of(item)
    return f"{system}|{value}"
