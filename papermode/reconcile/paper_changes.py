"""What the paper changed, as people confirmed it: the input of `papermode reprint`.

`paper_changes` reads the store's merged page state with the review queue's decisions laid
on top (the same decisions reconciliation uses) and returns `PaperChanges`:

- new orders: the reconciliation's `new_order` items a reviewer confirmed (two people);
- stops: a MAR "stopped" tick (`role` stop) that two people confirmed as ticked;
- leaves: a ward census "discharged" / "transferred" tick confirmed as ticked;
- admissions: a blank pack whose name and temporary number a person confirmed;
- the new orders written on a blank pack's own new-order sheet, once that sheet's
  temporary number is confirmed and names a confirmed admission: confirmed ones (two
  people, like any new order) are the new pack's orders, the others wait;
- awaiting: every one of these the paper shows and a person has not settled yet, stop ticks
  and new orders by id (so reprint can pair the two halves of a dose change), and the
  orders written in on a blank pack's MAR rows (one free-text box, never carried over).

`reprint_forms` is what `papermode reprint` runs: gather, decide (printing/reprint.py),
print (printing/reprint_run.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
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
    WaitingOrder,
    plan_reprint,
)
from papermode.printing.reprint_run import (
    ReprintResult,
    last_run,
    reprint_period,
    write_reprint,
)
from papermode.reconcile.categories import Category
from papermode.reconcile.inputs import (
    Decision,
    FieldState,
    PageInput,
    ReconcileInput,
    apply_decision,
)
from papermode.reconcile.items import Item
from papermode.reconcile.observations import new_order_items
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
    hours: int | None,
    ward: str | None = None,
    mrn: str | None = None,
    settings_path: Path | None = None,
    days: int | None = None,
) -> ReprintResult:
    """Print the next period's forms from the store alone into `out_dir`.

    `days` prints the multi-day MAR (its dates continue from `start`, by default the end of
    the last forms printed); neither `days` nor `hours`: the settings' `mar_days`, else 24 h.

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
        period, settings = reprint_period(store, base.snapshot_id, start, hours, days, settings)
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
    states = list(_change_states(store, review_decisions(store)))
    stops, leaves, more = _stops_and_leaves(states)
    admissions, waiting_packs = _admissions(states)
    items = [*result.items, *blank_pack_order_items(source, admissions)]
    new_orders, awaiting = _new_orders(items, decided_at)
    return PaperChanges(
        new_orders=tuple(new_orders),
        stops=tuple(stops),
        leaves=tuple(leaves),
        admissions=tuple(admissions),
        awaiting=(*awaiting, *more, *waiting_packs, *_blank_pack_waiting(source, admissions)),
        stops_awaiting=tuple(_stops_awaiting(states)),
        orders_awaiting=tuple(_orders_awaiting(items)),
    )


def blank_pack_order_items(
    source: ReconcileInput, admissions: Iterable[PaperAdmission]
) -> list[Item]:
    """The new-order items of every blank-pack new-order sheet whose own temporary number
    a person confirmed and that names a confirmed admission, as that patient's items (the
    same rules as any new-order sheet: two people for every box)."""
    admitted = {a.temp_number: a.patient_id for a in admissions}
    pages = []
    for page in source.pages:
        number = _own_temp_number(page)
        if page.template == "new_orders" and page.patient_id is None and number in admitted:
            pages.append(replace(page, patient_id=admitted[number]))
    return new_order_items(replace(source, pages=tuple(pages)))


def _own_temp_number(page: PageInput) -> str | None:
    """The page's own temporary number, when a person confirmed it (None otherwise)."""
    for state in page.states:
        if state.field.role == "temp_number" and state.marked and _by_people(state):
            return str(state.value)
    return None


def _blank_pack_waiting(
    source: ReconcileInput, admissions: Iterable[PaperAdmission]
) -> list[Awaiting]:
    """Blank-pack writing reprint cannot carry: a new-order sheet whose temporary number is
    not confirmed (or names no confirmed admission), and every written-in MAR row."""
    admitted = {a.temp_number: a.patient_id for a in admissions}
    awaiting: list[Awaiting] = []
    for page in source.pages:
        if page.patient_id is not None:
            continue
        written = [s for s in page.states if s.marked and s.field.role not in _IDENTITY_ROLES]
        number = _own_temp_number(page)
        if page.template == "new_orders" and written and number not in admitted:
            awaiting.append(Awaiting(
                f"blank pack new-order sheet {page.page_id}: its orders wait until the "
                "temporary number on this sheet and the pack's name are confirmed",
                admitted.get(number or ""), page.ward))  # fmt: skip
        for state in written if page.template == "mar" else ():
            if state.field.role != "drug":
                continue
            text = f" ('{state.value}')" if _by_people(state) else ""
            awaiting.append(Awaiting(
                f"blank pack MAR page {page.page_id} box {state.field.field_id}{text}: an "
                "order written in on a MAR row is not carried to the new pack (one free-text "
                "box, no two-person check); copy it onto the new pack's new-order sheet for "
                "the prescriber", admitted.get(number or ""), page.ward))  # fmt: skip
    return awaiting


def _stops_awaiting(
    states: Iterable[tuple[FieldState, str, str | None, str | None]],
) -> list[PaperStop]:
    """Stop ticks on paper two people have not both confirmed as ticked."""
    waiting = []
    for state, _template, _patient, _ward in states:
        if state.field.role != "stop" or not state.marked or not state.field.order_id:
            continue
        if len(set(state.decided_by)) < 2 or not _by_people(state) or state.value != "ticked":
            waiting.append(PaperStop(state.field.order_id, state.page_id, None))
    return waiting


def _orders_awaiting(items: Iterable[Item]) -> list[WaitingOrder]:
    """New orders on paper not yet confirmed, with the drug as read so far (if any)."""
    waiting = []
    for item in items:
        if item.kind != "new_order" or (item.category == Category.NEW_ORDER and item.new_order):
            continue
        drugs = [e.value for e in item.evidence if e.role == "drug"]
        drug = drugs[0] if drugs and drugs[0] not in (None, "", "ink", "empty") else None
        waiting.append(WaitingOrder(item.item_id, item.patient_id, drug))
    return waiting


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
    return list(found.values()), awaiting


def _birth_date(state: FieldState | None) -> date | None:
    """A confirmed birth date: the blank pack's comb ddmmyyyy ("02041961"; a reviewer's
    "2041961" is padded), or typed as YYYY-MM-DD; anything else prints "not recorded"."""
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
