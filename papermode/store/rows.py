"""Rows of the store's tables from domain values, and back. Pure functions, no I/O."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, time
from typing import Any

from papermode.core.model import (
    Allergy,
    Box,
    Field,
    Order,
    Patient,
    PrintedPage,
    Timing,
    Weight,
)
from papermode.store.order_json import order_from_json, order_json


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="minutes") if value else None


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def now_text() -> str:
    return datetime.now().isoformat(timespec="seconds")


def now_ordered_text() -> str:
    """Now to the microsecond: the latest census is chosen by registration time, and a
    prepare and a reprint (or two reprints) can register within the same second."""
    return datetime.now().isoformat(timespec="microseconds")


def patient_row(snapshot_id: str, patient: Patient) -> dict[str, Any]:
    row = asdict(patient)
    row.pop("weight")
    row["snapshot_id"] = snapshot_id
    row["birth_date"] = patient.birth_date.isoformat() if patient.birth_date else None
    row["allergies"] = (
        None if patient.allergies is None else json.dumps([asdict(a) for a in patient.allergies])
    )
    row["weight_kg"] = patient.weight.kg if patient.weight else None
    measured = patient.weight.measured_on if patient.weight else None
    row["weight_on"] = measured.isoformat() if measured else None
    return row


def patient_from_row(row: dict[str, Any]) -> Patient:
    allergies = (
        None
        if row["allergies"] is None
        else tuple(Allergy(**a) for a in json.loads(row["allergies"]))
    )
    weight = (
        Weight(row["weight_kg"], date.fromisoformat(row["weight_on"]) if row["weight_on"] else None)
        if row["weight_kg"] is not None
        else None
    )
    return Patient(
        patient_id=row["patient_id"],
        mrn=row["mrn"],
        family=row["family"],
        given=row["given"],
        birth_date=date.fromisoformat(row["birth_date"]) if row["birth_date"] else None,
        sex=row["sex"],
        ward=row["ward"],
        room=row["room"],
        bed=row["bed"],
        encounter=row["encounter"],
        allergies=allergies,
        weight=weight,
    )


def order_row(snapshot_id: str, order: Any) -> dict[str, Any]:
    timing = order.timing
    return {
        "snapshot_id": snapshot_id,
        "order_id": order.order_id,
        "patient_id": order.patient_id,
        "medication": order.medication,
        "dose_value": order.dose_value,
        "dose_unit": order.dose_unit,
        "route": order.route,
        "timing": json.dumps(asdict(timing), default=str) if timing else None,
        "timing_label": timing.label if timing else None,
        "as_needed": int(order.as_needed),
        "indication": order.indication,
        "max_per_period": order.max_per_period,
        "authored_on": iso(order.authored_on),
        "requester": order.requester,
        "high_alert": int(order.high_alert),
        "note": order.note,
        "detail": order_json(order) if isinstance(order, Order) else None,
    }


def order_from_row(row: dict[str, Any]) -> Order:
    if row.get("detail"):
        return order_from_json(row["detail"])  # schema 6: the whole order
    timing = None
    if row["timing"]:
        data = json.loads(row["timing"])
        times = tuple(time.fromisoformat(t) for t in data.get("times_of_day") or ())
        timing = Timing(
            frequency=data.get("frequency"),
            period=data.get("period"),
            period_unit=data.get("period_unit"),
            times_of_day=times,
            code=data.get("code"),
        )
    return Order(
        order_id=row["order_id"],
        patient_id=row["patient_id"],
        medication=row["medication"],
        dose_value=row["dose_value"],
        dose_unit=row["dose_unit"],
        route=row["route"],
        timing=timing,
        as_needed=bool(row["as_needed"]),
        indication=row["indication"],
        max_per_period=row["max_per_period"],
        authored_on=from_iso(row["authored_on"]),
        requester=row["requester"],
        high_alert=bool(row["high_alert"]),
        note=row["note"],
    )


def page_row(printed: PrintedPage) -> dict[str, Any]:
    layout = printed.layout
    return {
        "page_id": layout.page_id,
        "snapshot_id": layout.snapshot_id,
        "template": layout.template,
        "template_version": layout.template_version,
        "paper": layout.paper,
        "width_mm": layout.size_mm[0],
        "height_mm": layout.size_mm[1],
        "patient_id": layout.patient_id,
        "mrn": layout.mrn,
        "ward": layout.ward,
        "page_number": layout.page_number,
        "page_count": layout.page_count,
        "pdf": printed.pdf,
        "pdf_page": printed.pdf_page,
        "also_in": json.dumps([list(entry) for entry in printed.also_in]),
        "period_start": iso(layout.period_start),
        "period_end": iso(layout.period_end),
        "lang": layout.lang,
        "registered_at": now_text(),
    }


def field_row(page_id: str, position: int, field: Field) -> dict[str, Any]:
    return {
        "page_id": page_id,
        "field_id": field.field_id,
        "kind": field.kind,
        "x": field.box.x,
        "y": field.box.y,
        "w": field.box.w,
        "h": field.box.h,
        "role": field.role,
        "cells": field.cells,
        "decimals": field.decimals,
        "order_id": field.order_id,
        "scheduled": iso(field.scheduled),
        "code": field.code,
        "grp": field.group,
        "value": field.value,
        "label": field.label,
        "position": position,
    }


def field_from_row(row: dict[str, Any]) -> Field:
    return Field(
        field_id=row["field_id"],
        kind=row["kind"],
        box=Box(row["x"], row["y"], row["w"], row["h"]),
        role=row["role"],
        cells=row["cells"] or 0,
        decimals=row["decimals"] or 0,
        order_id=row["order_id"],
        scheduled=from_iso(row["scheduled"]),
        code=row["code"],
        group=row["grp"],
        value=row["value"],
        label=row["label"] or "",
    )
