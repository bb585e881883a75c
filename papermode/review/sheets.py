"""Photocopies in the review queue: ONE identity item per sheet of paper, not one per box.

One page id on several sheets (`papermode.state.sheets`) sends every field of the page to
review flagged `copy_of_page`. A person does not decide that box by box: they decide, once
per sheet, whose record the sheet is (`sheet:PAGE_ID:FIRST_CAPTURE`):

- `--confirm`: the sheet is the record of the page as printed (its patient, or for a blank
  pack the identity written on it). One sheet per page id at most;
- `--value V`: the sheet is a separate record, of the patient with temporary number or
  MRN `V`: its values are never exported under the printed page.

Until the first (oldest) sheet, whose merged state is the page's, is confirmed, none of
the page's fields is in the queue on its own, auto, or exported; once confirmed, the
fields follow the normal thresholds (`merged_status`: doubtful ones still go to review).
The values of later sheets stay out of exports (see docs/review-queue.md: not built).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from papermode.core.errors import ReviewError
from papermode.review.decisions import Decision, ItemFacts, review_state
from papermode.review.items import QueueItem
from papermode.review.records import ensure_schema, load_decisions
from papermode.store.database import Store

SHEET_PREFIX = "sheet:"


@dataclass(frozen=True)
class CopiedPages:
    """Pages on several sheets: those still blocked, and those whose first sheet a person
    confirmed as the page's own record."""

    blocked: frozenset[str]
    released: frozenset[str]

    def covers(self, page_id: str) -> bool:
        return page_id in self.blocked


def sheet_item_id(page_id: str, sheet: str) -> str:
    return f"{SHEET_PREFIX}{page_id}:{sheet}"


def sheet_items(store: Store) -> Iterable[QueueItem]:
    """One identity item per sheet of every page id found on several sheets."""
    rows = store.db.query(
        "SELECT s.*, p.ward, p.patient_id, p.template, p.pdf, p.pdf_page, "
        "(SELECT COUNT(*) FROM page_sheets t WHERE t.page_id = s.page_id) AS sheets "
        "FROM page_sheets s JOIN pages p USING (page_id) ORDER BY s.page_id, s.position"
    )
    for row in rows:
        yield QueueItem(
            item_id=sheet_item_id(row["page_id"], row["sheet"]),
            kind="sheet",
            level="identity",
            ward=row["ward"],
            patient_id=row["patient_id"],
            page_id=row["page_id"],
            template=row["template"],
            capture_id=row["sheet"],
            flags=("copy_of_page",),
            message=f"sheet {row['position']} of {row['sheets']} with this page id "
            f"({len(json.loads(row['captures']))} photo(s)): a separate sheet of paper. "
            "Confirm it is the printed page's record, or type the temporary number or "
            "MRN written on it",
            sort_key=(row["ward"] or "", row["patient_id"] or "", row["pdf"] or "",
                      row["pdf_page"] or 0, row["position"]),
        )  # fmt: skip


def copied_pages(store: Store, decisions: Mapping[str, Sequence[Decision]]) -> CopiedPages:
    """Which copied pages are blocked, and which a person released (`decisions`: by item;
    the sheet items' own are loaded when missing)."""
    ensure_schema(store.db)
    firsts = {
        row["page_id"]: sheet_item_id(row["page_id"], row["sheet"])
        for row in store.db.query("SELECT page_id, sheet FROM page_sheets WHERE position = 1")
    }
    released = set()
    for page_id, item_id in firsts.items():
        found = decisions.get(item_id)
        if found is None:
            found = _decisions_of(store, item_id)
        state = review_state(ItemFacts(item_id, None), found)
        if state.needed == "none" and state.outcome == "confirmed":
            released.add(page_id)
    return CopiedPages(frozenset(set(firsts) - released), frozenset(released))


def check_sheet_decision(store: Store, item: QueueItem, kind: str) -> None:
    """Only one sheet of a page id can be the printed page's own record."""
    if kind != "confirm" or item.page_id is None:
        return
    for row in store.db.query("SELECT sheet FROM page_sheets WHERE page_id = ? ", [item.page_id]):
        other = sheet_item_id(item.page_id, row["sheet"])
        if other == item.item_id:
            continue
        state = review_state(ItemFacts(other, None), _decisions_of(store, other))
        if state.needed == "none" and state.outcome == "confirmed":
            raise ReviewError(
                f"another sheet of page {item.page_id} ({other}) is already the printed "
                "page's record.",
                advice="Type the temporary number or MRN written on this sheet (--value V), "
                "or undo the other decision first.",
            )


def _decisions_of(store: Store, item_id: str) -> list[Decision]:
    return load_decisions(store.db, [item_id]).get(item_id, [])
