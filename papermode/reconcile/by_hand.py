"""Paper that holds care but cannot be exported as it stands: listed so nothing is forgotten.

- **Blank packs** (patients admitted during the downtime): their pages name no patient of
  the record system, only a temporary number written by hand. Until IT registers the
  patient, no resource can name a `subject`; each page with anything written on it is one
  item "back-enter by hand", with the temporary number as written and the capture to open.
- **Photocopied pages** (`papermode.state.sheets`): a later sheet of one page id that a
  reviewer decided is another patient's record, or that was confirmed as the printed page's
  own record in place of the first sheet, is never exported under the printed page; each is
  one item "back-enter by hand". A sheet nobody decided yet is pending.
- **Write-in orders** of a multi-day MAR (`mar.new<n>.*`, orders added during the outage):
  each block with anything written on it is one item "back-enter by hand", under the
  page's patient, with the capture to open (its drug is handwriting, its cells ink only).

These items are never in the FHIR export; they are on the worklist and in the PDF report.
"""

from __future__ import annotations

from papermode.reconcile.categories import Category
from papermode.reconcile.inputs import FieldState, PageInput, ReconcileInput, SheetInput
from papermode.reconcile.items import Evidence, Item

_TEMPLATES = {"mar": "MAR", "prn": "PRN", "vitals": "vital signs", "new_orders": "new orders"}


def by_hand_items(source: ReconcileInput) -> list[Item]:
    """Blank-pack pages with writing on them, and photocopied sheets kept apart."""
    items = [_blank_page(page) for page in source.pages if _written_blank(page)]
    items += [item for page in source.pages for item in _written_in_orders(page)]
    pages = {page.page_id: page for page in source.pages}
    for sheet in source.sheets:
        page = pages.get(sheet.page_id)
        if page is not None and _kept_apart(sheet):
            items.append(_sheet_item(page, sheet))
    return items


def _written_blank(page: PageInput) -> bool:
    return page.patient_id is None and any(
        state.marked for state in page.states if state.field.role != "temp_number"
    )


def _blank_page(page: PageInput) -> Item:
    written = [state for state in page.states if state.marked]
    numbers = [s for s in page.states if s.field.role == "temp_number" and s.marked]
    number = str(numbers[0].value) if numbers and numbers[0].settled else None
    waiting = [state for state in page.states if state.awaiting]
    label = _TEMPLATES.get(page.template, page.template)
    who = f"temporary number {number}" if number else "temporary number not read yet"
    notes = [
        f"blank-pack admission ({who}): {len(written)} values on this {label} page; "
        "back-enter them by hand once IT has registered the patient (open the capture)"
    ]
    if waiting:
        notes.append(f"{len(waiting)} of its fields are still in the review queue")
    return Item(
        item_id=f"blank:{page.page_id}",
        kind="blank_pack",
        category=Category.PENDING if numbers and not numbers[0].settled else Category.BY_HAND,
        patient_id=f"temp:{number}" if number else f"blank:{page.page_id}",
        ward=page.ward,
        notes=tuple(notes),
        evidence=tuple(Evidence.of(state) for state in written),
    )


def _written_in_orders(page: PageInput) -> list[Item]:
    """One item per used write-in order block of a patient's MAR."""
    if page.template != "mar" or page.patient_id is None:
        return []
    blocks: dict[str, list[FieldState]] = {}
    for state in page.states:
        parts = state.field.field_id.split(".")
        if len(parts) >= 3 and parts[0] == "mar" and parts[1].startswith("new"):
            blocks.setdefault(parts[1], []).append(state)
    items = []
    for block, states in sorted(blocks.items()):
        written = [state for state in states if state.marked]
        if not written:
            continue
        notes = [
            f"order written in on the MAR ({block}, {len(written)} values): back-enter it "
            "by hand once a prescriber has confirmed it (open the capture)"
        ]
        waiting = [state for state in states if state.awaiting]
        if waiting:
            notes.append(f"{len(waiting)} of its fields are still in the review queue")
        items.append(
            Item(
                item_id=f"writein:{page.page_id}:{block}",
                kind="write_in",
                category=Category.BY_HAND,
                patient_id=page.patient_id,
                ward=page.ward,
                notes=tuple(notes),
                evidence=tuple(Evidence.of(state) for state in written),
            )
        )
    return items


def _kept_apart(sheet: SheetInput) -> bool:
    """Every sheet but the first one confirmed as the page's record (the merged state)."""
    return not (sheet.position == 1 and sheet.outcome == "page_record")


def _sheet_item(page: PageInput, sheet: SheetInput) -> Item:
    label = _TEMPLATES.get(page.template, page.template)
    place = f"sheet {sheet.position} of page {page.page_id} ({label})"
    photos = f"{len(sheet.captures)} photo(s), first {sheet.sheet}"
    if sheet.outcome == "pending":
        category, note = Category.PENDING, f"{place}: a photocopy nobody has decided yet"
    elif sheet.outcome == "separate":
        note = (
            f"{place} is the record of {sheet.record_of} (decided by "
            f"{', '.join(sheet.reviewers)}): {sheet.marked_fields} values on it; back-enter "
            f"them by hand under that patient ({photos})"
        )
        category = Category.BY_HAND
    else:
        note = (
            f"{place} was confirmed as the printed page's record, not the first sheet: "
            f"{sheet.marked_fields} values on it; back-enter them by hand ({photos})"
        )
        category = Category.BY_HAND
    return Item(
        item_id=f"sheet:{page.page_id}:{sheet.sheet}",
        kind="sheet",
        category=category,
        patient_id=page.patient_id or f"blank:{page.page_id}",
        ward=page.ward,
        notes=(note,),
    )
