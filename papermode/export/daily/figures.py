"""What the daily report counts, from the store, the review queue and the reconciliation.

Backlog figures (review items, retakes, quarantined files, pages never photographed) are as
of the moment the report is made. Dose figures are for the report's day, for doses due
before that moment: a dose due later today is not "not documented" yet.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from papermode.core.settings import Settings
from papermode.reconcile.categories import Category
from papermode.reconcile.items import Item
from papermode.reconcile.service import reconcile_store
from papermode.review.items import QueueItem
from papermode.review.queue import build_queue
from papermode.store.audit import chain_head
from papermode.store.database import Store

# The review backlog as the crisis cell reads it: the queue's levels, grouped.
BACKLOG_GROUPS: dict[str, tuple[str, ...]] = {
    "identity": ("identity",),
    "new_orders": ("new_order",),
    "high_alert": ("high_alert",),
    "other": ("conflict", "implausible", "other"),
}
WAITING_LEVELS = frozenset(level for group in BACKLOG_GROUPS.values() for level in group) | {
    "retake",
    "quarantined",
}
NO_WARD = "no ward"  # a file that could not be attributed to any page


@dataclass(frozen=True)
class WardFigures:
    """The figures of one ward (or of the whole hospital, `ward` = "hospital")."""

    ward: str
    patients_on_paper: int = 0
    admissions_on_blank_packs: int = 0
    pages_printed: int = 0
    pages_photographed: int = 0
    pages_never_photographed: int = 0
    retakes_waiting: int = 0
    files_quarantined: int = 0
    backlog: Mapping[str, int] = field(default_factory=dict)
    doses_due: int = 0
    doses_not_documented: int = 0
    doses_pending_review: int = 0
    high_alert_without_second_check: int = 0
    new_orders_awaiting: int = 0
    oldest_waiting_hours: float | None = None

    @property
    def backlog_total(self) -> int:
        return sum(self.backlog.values())


@dataclass(frozen=True)
class PatientLine:
    """One patient on a ward page of the report (ward pages may name patients)."""

    patient_id: str
    name: str
    mrn: str
    bed: str
    pages_never_photographed: int
    doses_not_documented: int
    high_alert_without_second_check: int
    review_items: int


@dataclass(frozen=True)
class DailyReport:
    """The whole report: the hospital, each ward, and each ward's patients."""

    day: date
    as_of: datetime
    chain_head: str
    hospital: WardFigures
    wards: tuple[WardFigures, ...]
    patients: Mapping[str, tuple[PatientLine, ...]]


def daily_report(
    store: Store, settings: Settings, *, day: date, now: datetime, ward: str | None = None
) -> DailyReport:
    """The report for `day`, made at `now` (dose figures stop at the earlier of the two)."""
    as_of = min(now, datetime.combine(day + timedelta(days=1), time()))
    facts = _StoreFacts.load(store, ward)
    queue = [i for i in build_queue(store, ward=ward) if i.needed != "none"]
    result, _ = reconcile_store(store, settings, ward=ward)
    doses = [i for i in result.items if _due(i, day, as_of)]
    named = {i.ward or NO_WARD for i in queue} | {i.ward or NO_WARD for i in doses}
    wards = sorted(facts.wards | named)
    figures = tuple(_ward(w, facts, queue, doses, store, as_of) for w in wards)
    head = chain_head(store)
    return DailyReport(
        day,
        as_of,
        head.text if head else "empty",
        _total(figures),
        figures,
        {w: _patients(w, facts, queue, doses) for w in wards},
    )


def _due(item: Item, day: date, as_of: datetime) -> bool:
    moment = item.scheduled_at
    return (
        item.kind == "administration"
        and moment is not None
        and moment.date() == day
        and moment < as_of
    )


@dataclass(frozen=True)
class _StoreFacts:
    """The newest print run's patients and pages, and which pages were photographed."""

    patients: Mapping[str, Mapping[str, str]]  # patient id -> name, mrn, bed, ward
    pages: Mapping[str, tuple[str, str]]  # page id -> (patient id, ward)
    blank_packs_read: Mapping[str, int]  # ward -> blank-pack pages photographed
    first_seen: Mapping[str, str]  # page id -> when it was first read (photographed pages)

    @property
    def photographed(self) -> Mapping[str, str]:
        return self.first_seen

    @property
    def wards(self) -> set[str]:
        return {p["ward"] for p in self.patients.values()} | {w for _, w in self.pages.values()}

    @classmethod
    def load(cls, store: Store, ward: str | None) -> _StoreFacts:
        db = store.db
        latest = db.execute(
            "SELECT snapshot_id FROM snapshots ORDER BY taken_at DESC, registered_at DESC LIMIT 1"
        ).fetchone()
        snapshot = latest[0] if latest else ""
        patients = {
            row["patient_id"]: {
                "name": f"{row['family'] or ''}, {row['given'] or ''}".strip(", "),
                "mrn": row["mrn"] or "",
                "bed": " ".join(p for p in (row["room"], row["bed"]) if p),
                "ward": row["ward"] or NO_WARD,
            }
            for row in db.query("SELECT * FROM patients WHERE snapshot_id = ?", [snapshot])
            if ward is None or row["ward"] == ward
        }
        pages = {
            row["page_id"]: (row["patient_id"], row["ward"] or NO_WARD)
            for row in db.query(
                "SELECT page_id, patient_id, ward FROM pages "
                "WHERE snapshot_id = ? AND patient_id IS NOT NULL",
                [snapshot],
            )
            if ward is None or row["ward"] == ward
        }
        first_seen = {
            row["page_id"]: row["first"]
            for row in db.query(
                "SELECT page_id, MIN(ingested_at) AS first FROM captures "
                "WHERE status = 'read' AND page_id IS NOT NULL GROUP BY page_id"
            )
        }
        blank = Counter(
            row["ward"] or NO_WARD
            for row in db.query(
                "SELECT p.ward FROM pages p WHERE p.template = 'blank_admission' AND EXISTS "
                "(SELECT 1 FROM captures c WHERE c.page_id = p.page_id AND c.status = 'read')"
            )
            if ward is None or row["ward"] == ward
        )
        return cls(patients, pages, blank, first_seen)


def _ward(
    ward: str,
    facts: _StoreFacts,
    queue: Sequence[QueueItem],
    doses: Sequence[Item],
    store: Store,
    as_of: datetime,
) -> WardFigures:
    items = [i for i in queue if (i.ward or NO_WARD) == ward]
    levels = Counter(i.level for i in items)
    pages = [page for page, (_, w) in facts.pages.items() if w == ward]
    seen = [page for page in pages if page in facts.photographed]
    due = [i for i in doses if (i.ward or NO_WARD) == ward]
    return WardFigures(
        ward=ward,
        patients_on_paper=sum(1 for p in facts.patients.values() if p["ward"] == ward),
        admissions_on_blank_packs=facts.blank_packs_read.get(ward, 0),
        pages_printed=len(pages),
        pages_photographed=len(seen),
        pages_never_photographed=len(pages) - len(seen),
        retakes_waiting=levels["retake"],
        files_quarantined=levels["quarantined"],
        backlog={g: sum(levels[lv] for lv in members) for g, members in BACKLOG_GROUPS.items()},
        doses_due=len(due),
        doses_not_documented=sum(1 for i in due if i.category == Category.NOT_DOCUMENTED),
        doses_pending_review=sum(1 for i in due if i.category == Category.PENDING),
        high_alert_without_second_check=sum(1 for i in due if _no_second_check(i)),
        new_orders_awaiting=len(_new_order_blocks(items)),
        oldest_waiting_hours=_oldest(items, facts, store, as_of),
    )


def _no_second_check(item: Item) -> bool:
    return Category.NO_SECOND_INITIALS in (item.category, *item.concerns)


def _new_order_blocks(items: Iterable[QueueItem]) -> set[tuple[str, str]]:
    """One per order written on a new-order sheet ("new.3.drug" -> block "new.3")."""
    return {
        (i.page_id or "", ".".join((i.field_id or "").split(".")[:2]))
        for i in items
        if i.level == "new_order"
    }


def _oldest(
    items: Sequence[QueueItem], facts: _StoreFacts, store: Store, as_of: datetime
) -> float | None:
    """Hours since the oldest item still waiting for a person reached the store."""
    moments = [_arrived(i, facts, store) for i in items if i.level in WAITING_LEVELS]
    known = [m for m in moments if m is not None]
    if not known:
        return None
    return round(max(0.0, (as_of - min(known)).total_seconds() / 3600), 1)


def _arrived(item: QueueItem, facts: _StoreFacts, store: Store) -> datetime | None:
    text = None
    if item.kind in ("retake", "quarantined") and item.capture_id:
        row = store.db.execute(
            "SELECT ingested_at FROM captures WHERE capture_id = ?", [item.capture_id]
        ).fetchone()
        text = row[0] if row else None
    elif item.kind == "quarantined" and item.file:
        row = store.db.execute(
            "SELECT MIN(ingested_at) FROM ingests WHERE name = ?", [item.file]
        ).fetchone()
        text = row[0] if row else None
    elif item.page_id:
        text = facts.first_seen.get(item.page_id)
    return datetime.fromisoformat(text) if text else None


def _total(wards: Sequence[WardFigures]) -> WardFigures:
    """The hospital: every count added up; the oldest item is the oldest of all."""
    oldest = [w.oldest_waiting_hours for w in wards if w.oldest_waiting_hours is not None]
    backlog: Counter[str] = Counter()
    for w in wards:
        backlog.update(w.backlog)
    sums = {
        name: sum(getattr(w, name) for w in wards)
        for name in (
            "patients_on_paper", "admissions_on_blank_packs", "pages_printed",
            "pages_photographed", "pages_never_photographed", "retakes_waiting",
            "files_quarantined", "doses_due", "doses_not_documented", "doses_pending_review",
            "high_alert_without_second_check", "new_orders_awaiting",
        )
    }  # fmt: skip
    return WardFigures(
        "hospital",
        backlog={g: backlog[g] for g in BACKLOG_GROUPS},
        oldest_waiting_hours=max(oldest) if oldest else None,
        **sums,
    )


def _patients(
    ward: str, facts: _StoreFacts, queue: Sequence[QueueItem], doses: Sequence[Item]
) -> tuple[PatientLine, ...]:
    never: Counter[str] = Counter(
        patient
        for page, (patient, w) in facts.pages.items()
        if w == ward and page not in facts.photographed
    )
    missing: dict[str, Counter[str]] = defaultdict(Counter)
    for item in doses:
        if item.category == Category.NOT_DOCUMENTED:
            missing["not_documented"][item.patient_id] += 1
        if _no_second_check(item):
            missing["second_check"][item.patient_id] += 1
    waiting = Counter(i.patient_id for i in queue if i.patient_id and i.level in WAITING_LEVELS)
    lines = [
        PatientLine(
            patient_id,
            info["name"],
            info["mrn"],
            info["bed"],
            never[patient_id],
            missing["not_documented"][patient_id],
            missing["second_check"][patient_id],
            waiting[patient_id],
        )
        for patient_id, info in facts.patients.items()
        if info["ward"] == ward
    ]
    return tuple(sorted(lines, key=lambda line: (line.bed, line.name)))
