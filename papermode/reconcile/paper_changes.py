"""What the paper changed, as people confirmed it: the input of `papermode reprint`.

`paper_changes` reads the store's merged page state with the review queue's decisions laid
on top (the same decisions reconciliation uses) and returns `PaperChanges`:

- new orders: the reconciliation's `new_order` items a reviewer confirmed (two people);
- stops: a MAR "stopped" tick (`role` stop) that two people confirmed as ticked;
- leaves: a ward census "discharged" / "transferred" tick confirmed as ticked;
- admissions: a blank pack whose name and temporary number a person confirmed;
- awaiting: every one of these the paper shows and a person has not settled yet, and the
  orders written on blank packs (never carried over by the machine).

`reprint_forms` is what `papermode reprint` runs: gather, decide (printing/reprint.py),
print (printing/reprint_run.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path

from papermode.core.errors import StoreError, UsageError
from papermode.core.settings import Settings, load_settings
from papermode.printing.layout.census import patient_of_field
from papermode.printing.reprint import (
    Awaiting,
    Leave,
    PaperAdmission,
    PaperChanges,
    PaperLeave,
    PaperOrder,
    PaperStop,
    plan_reprint,
)
from papermode.printing.reprint_run import ReprintResult, last_run, next_period, write_reprint
from papermode.reconcile.categories import Category
from papermode.reconcile.inputs import Decision, FieldState, apply_decision
from papermode.reconcile.items import Item
from papermode.reconcile.reviewed import review_decisions
from papermode.reconcile.service import reconcile_store
from papermode.store.database import Store, open_existing_store
from papermode.store.rows import field_from_row

logger = logging.getLogger(__name__)

_CHANGE_ROLES = ("stop", "discharged", "transferred")
_IDENTITY_ROLES = ("name", "birth_date", "temp_number")
_DECIDED = frozenset({"confirmed", "corrected"})


def reprint_forms(
    store_path: Path,
    out_dir: Path,
    *,
    start: datetime | None,
    hours: int,
    ward: str | None = None,
    mrn: str | None = None,
    settings_path: Path | None = None,
) -> ReprintResult:
    """Print the next period's forms from the store alone into `out_dir`.

    StoreError when there is no store or nothing was ever printed from it; UsageError for
    options that cannot work (an --out folder holding other files, --hours < 1).
    """
    settings = load_settings(settings_path)
    with open_existing_store(store_path) as store:
        base = store.latest_snapshot()
        if base is None:
            raise StoreError(
                f"nothing was ever printed from the store {Path(store_path).name}.",
                advice="Run `papermode prepare` (before the outage) into this store first: "
                "reprint builds on the census prepare printed from.",
            )
        period = next_period(store, base.snapshot_id, start=start, hours=hours)
        run = last_run(store, base.snapshot_id)
        changes = paper_changes(store, settings)
    plan = plan_reprint(base, changes, period=period, settings=settings, ward=ward,
                        patient_mrn=mrn)  # fmt: skip
    if not plan.printed:
        raise UsageError(
            "no patient to print for this --ward / --patient.",
            advice="Check the ward's name as printed on the census sheet, or the MRN.",
        )
    return write_reprint(
        plan, changes, store_path, out_dir, period=period, run=run, settings=settings
    )


def paper_changes(store: Store, settings: Settings) -> PaperChanges:
    """Every change the paper records, confirmed or still awaiting a person."""
    result, source = reconcile_store(store, settings)
    decided_at = {
        (state.page_id, state.field.field_id): state.decided_at
        for page in source.pages
        for state in page.states
    }
    new_orders, awaiting = _new_orders(result.items, decided_at)
    states = list(_change_states(store, review_decisions(store)))
    stops, leaves, more = _stops_and_leaves(states)
    admissions, waiting_packs = _admissions(states)
    return PaperChanges(
        new_orders=tuple(new_orders),
        stops=tuple(stops),
        leaves=tuple(leaves),
        admissions=tuple(admissions),
        awaiting=(*awaiting, *more, *waiting_packs),
    )


def _new_orders(
    items: Iterable[Item], decided_at: Mapping[tuple[str, str], datetime | None]
) -> tuple[list[PaperOrder], list[Awaiting]]:
    orders: list[PaperOrder] = []
    awaiting: list[Awaiting] = []
    for item in items:
        if item.kind != "new_order":
            continue
        _, page_id, block = item.item_id.split(":", 2)
        if item.category != Category.NEW_ORDER or item.new_order is None:
            note = "; ".join(item.notes) or "awaiting confirmation"
            awaiting.append(Awaiting(f"new order, sheet {page_id} block {block}: {note}",
                                     item.patient_id, item.ward))  # fmt: skip
            continue
        moments = [decided_at.get((page_id, e.field_id)) for e in item.evidence]
        written = item.new_order
        orders.append(
            PaperOrder(
                source_id=item.item_id,
                patient_id=item.patient_id,
                drug=written.drug,
                dose=written.dose,
                unit=written.unit,
                route=written.route,
                frequency=written.frequency,
                prescriber=written.prescriber,
                confirmed_at=max((m for m in moments if m is not None), default=None),
            )
        )
    return orders, awaiting


_STATES_SQL = """
SELECT f.*, p.template, p.patient_id AS page_patient, p.ward AS page_ward,
       s.value AS state_value, s.status AS state_status, s.flags AS state_flags
FROM fields f JOIN pages p USING (page_id)
JOIN page_state s ON s.page_id = f.page_id AND s.field_id = f.field_id
WHERE f.role IN ({roles})
ORDER BY p.ward, p.pdf, p.pdf_page, f.position
"""


def _change_states(
    store: Store, decisions: Mapping[tuple[str, str], Decision]
) -> Iterable[tuple[FieldState, str, str | None, str | None]]:
    """(state with decisions applied, template, page patient, ward) of every captured box
    that changes orders or patients, and every blank-pack identity box."""
    roles = (*_CHANGE_ROLES, *_IDENTITY_ROLES)
    sql = _STATES_SQL.format(roles=",".join("?" * len(roles)))
    for row in store.db.query(sql, list(roles)):
        printed = field_from_row(row)
        state = FieldState(
            row["page_id"],
            printed,
            row["state_value"],
            row["state_status"] or "review",
            tuple(json.loads(row["state_flags"] or "[]")),
        )
        state = apply_decision(state, decisions.get((row["page_id"], printed.field_id)))
        yield state, row["template"], row["page_patient"], row["page_ward"]


def _by_people(state: FieldState) -> bool:
    """Settled by a person (confirmed or corrected), not by the machine alone."""
    return state.status in _DECIDED and bool(state.decided_by)


def _stops_and_leaves(
    states: Iterable[tuple[FieldState, str, str | None, str | None]],
) -> tuple[list[PaperStop], list[PaperLeave], list[Awaiting]]:
    stops: list[PaperStop] = []
    leaves: list[PaperLeave] = []
    awaiting: list[Awaiting] = []
    for state, _template, patient_id, ward in states:
        role = state.field.role
        if role not in _CHANGE_ROLES or not state.marked:
            continue
        owner = patient_of_field(state.field.field_id) if role != "stop" else patient_id
        # Two different people, always: a box one reviewer corrected to "ticked" waits.
        if len(set(state.decided_by)) < 2 or not _by_people(state) or state.value != "ticked":
            if state.marked:
                what = f"{role} tick, page {state.page_id} box {state.field.field_id}"
                awaiting.append(Awaiting(f"{what}: awaiting confirmation", owner, ward))
            continue
        if role == "stop" and state.field.order_id:
            stops.append(PaperStop(state.field.order_id, state.page_id, state.decided_at))
            logger.info("reprint: stop of order %s confirmed (page %s)",
                        state.field.order_id, state.page_id)  # fmt: skip
        elif owner is not None and role in ("discharged", "transferred"):
            leave: Leave = "discharged" if role == "discharged" else "transferred"
            leaves.append(PaperLeave(owner, leave, state.page_id, state.decided_at))
    return stops, leaves, awaiting


def _admissions(
    states: Iterable[tuple[FieldState, str, str | None, str | None]],
) -> tuple[list[PaperAdmission], list[Awaiting]]:
    """Blank packs whose temporary number and name a person confirmed, one per number."""
    pages: dict[str, dict[str, FieldState]] = {}
    wards: dict[str, str] = {}
    for state, _template, patient_id, ward in states:
        if patient_id is None and state.field.role in _IDENTITY_ROLES:
            pages.setdefault(state.page_id, {})[str(state.field.role)] = state
            wards[state.page_id] = ward or ""
    found: dict[str, PaperAdmission] = {}
    awaiting: list[Awaiting] = []
    for page_id, roles in pages.items():
        number, name = roles.get("temp_number"), roles.get("name")
        if number is None or not number.marked:
            continue
        if name is None or not (_by_people(number) and _by_people(name)) or not name.marked:
            awaiting.append(Awaiting(
                f"blank pack page {page_id}: name and temporary number awaiting confirmation",
                ward=wards[page_id]))  # fmt: skip
            continue
        family, _, given = str(name.value).partition(",")
        admission = PaperAdmission(
            pack_id=page_id,
            ward=wards[page_id],
            family=family.strip(),
            given=given.strip(),
            temp_number=str(number.value),
            birth_date=_birth_date(roles.get("birth_date")),
            confirmed_at=max((m for m in (number.decided_at, name.decided_at) if m), default=None),
        )
        found.setdefault(admission.temp_number, admission)
    for admission in found.values():
        awaiting.append(Awaiting(
            f"blank pack {admission.pack_id}: orders written on the blank pack are not "
            "printed; copy each onto the new pack's new-order sheet for the prescriber",
            patient_id=admission.patient_id))  # fmt: skip
    return list(found.values()), awaiting


def _birth_date(state: FieldState | None) -> date | None:
    """A confirmed birth date: the blank pack's comb ddmmyyyy (read without its leading
    zero, "2041961"), or typed as YYYY-MM-DD; anything else prints "not recorded"."""
    if state is None or not _by_people(state) or not state.value:
        return None
    text = str(state.value).strip()
    try:
        if text.isdigit() and 7 <= len(text) <= 8:
            digits = text.zfill(8)
            return date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
        return date.fromisoformat(text)
    except ValueError:
        return None
