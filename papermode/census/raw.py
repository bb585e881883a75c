"""What a census reader found, before the checks every census must pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from papermode.core.model import LeftOut, Order, Patient


@dataclass
class RawCensus:
    """What a reader found, before the common checks. Items carry where they came from."""

    source: str
    patients: list[tuple[str, Patient]] = field(default_factory=list)
    orders: list[tuple[str, Order]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    taken_at: datetime | None = None
    left_out: list[LeftOut] = field(default_factory=list)
