"""Every fact of an order as one JSON text, and back: what `reprint` needs to print an
order again exactly as `prepare` printed it (dosages, bounds, course length, rates).

The older columns of the `orders` table keep the simple facts for `sqlite3` readers; this
text (column `detail`, schema 7) is the whole order. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, time
from typing import Any

from papermode.core.model import Dosage, Order, Rate, Timing


def order_json(order: Order) -> str:
    """The whole order as JSON (dates and times as ISO text)."""
    return json.dumps(asdict(order), default=_text, sort_keys=True)


def order_from_json(text: str) -> Order:
    """The order `order_json` wrote."""
    data: dict[str, Any] = json.loads(text)
    data["timing"] = _timing(data.get("timing"))
    data["dosages"] = tuple(_dosage(d) for d in data.get("dosages") or ())
    data["rate"] = _rate(data.get("rate"))
    data["calculated_rate"] = _rate(data.get("calculated_rate"))
    data["authored_on"] = _moment(data.get("authored_on"))
    data["instructions"] = tuple(data.get("instructions") or ())
    data["dosage_text"] = tuple(data.get("dosage_text") or ())
    return Order(**data)


def _text(value: object) -> str:
    if isinstance(value, datetime | time):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _rate(data: dict[str, Any] | None) -> Rate | None:
    return Rate(**data) if data else None


def _dosage(data: dict[str, Any]) -> Dosage:
    return Dosage(**{**data, "timing": _timing(data["timing"]), "rate": _rate(data.get("rate"))})


def _timing(data: dict[str, Any] | None) -> Timing | None:
    if data is None:
        return None
    return Timing(
        **{
            **data,
            "times_of_day": tuple(time.fromisoformat(t) for t in data.get("times_of_day") or ()),
            "when": tuple(data.get("when") or ()),
            "events": tuple(datetime.fromisoformat(e) for e in data.get("events") or ()),
            "days_of_week": tuple(data.get("days_of_week") or ()),
            "bounds_start": _moment(data.get("bounds_start")),
            "bounds_end": _moment(data.get("bounds_end")),
        }
    )
