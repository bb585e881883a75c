"""Who gave a dose: the performer, from the page's signature legend, only when unambiguous.

MAR and PRN pages carry a signature legend: rows of initials (`legend_initials`), a name
(`legend_name`, handwriting: a reviewer types it) and a signature. The initials in a cell
are read as ink, never as letters, so a cell's initials cannot be matched to one legend row.
The rule (docs/export.md, "Performer"):

- exactly ONE legend row of the page is used (its initials or name hold ink) and its name
  was typed or confirmed by a reviewer: every administration on that page was performed by
  that name;
- otherwise no performer, and a note on each administration of the page says why (no row
  used, several nurses signed, the name not yet typed). A page printed without a legend
  adds nothing.

A dose on two pages (a reprint) whose legends name different people gets no performer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from papermode.reconcile.inputs import FieldState, PageInput, ReconcileInput
from papermode.reconcile.items import Evidence, Item

LEGEND_ROLES = frozenset({"legend_initials", "legend_name", "legend_signature"})
LEGEND_TEMPLATES = frozenset({"mar", "prn"})
NOT_A_NAME = frozenset({"", "empty", "ink", "filled"})
BY_A_PERSON = frozenset({"confirmed", "corrected"})
NOBODY = "performer not resolved: nobody signed the page's signature legend"
NOT_TYPED = "performer not resolved: the legend's name is still to be typed in review"
DISAGREE = "performer not resolved: the pages of this dose name different people"


@dataclass(frozen=True)
class Legend:
    """What a page's signature legend says: one performer, or why not."""

    performer: str | None
    note: str | None = None


def page_legend(page: PageInput) -> Legend | None:
    """The page's legend; None when the page was printed without one."""
    rows: dict[str, list[FieldState]] = {}
    for state in page.states:
        if state.field.role in LEGEND_ROLES or state.field.field_id.startswith("legend."):
            rows.setdefault(state.field.field_id.rsplit(".", 1)[0], []).append(state)
    if not rows:
        return None
    used = [row for row in rows.values() if any(s.marked or s.awaiting for s in row)]
    if not used:
        return Legend(None, NOBODY)
    if len(used) > 1:
        return Legend(
            None,
            f"performer not resolved: {len(used)} nurses signed the page's legend and the "
            "initials in a cell are not read as letters",
        )
    name = next((s for s in used[0] if s.field.role == "legend_name"), None)
    typed = (name.value or "").strip() if name is not None else ""
    if name is None or name.status not in BY_A_PERSON or typed.lower() in NOT_A_NAME:
        return Legend(None, NOT_TYPED)
    return Legend(typed)


def with_performers(items: Sequence[Item], source: ReconcileInput) -> list[Item]:
    """The administrations with their performer (or a note saying why there is none)."""
    legends = {
        page.page_id: page_legend(page)
        for page in source.pages
        if page.template in LEGEND_TEMPLATES
    }
    return [_with_performer(item, legends) for item in items]


def _with_performer(item: Item, legends: dict[str, Legend | None]) -> Item:
    if item.kind not in ("administration", "prn") or not item.exportable:
        return item
    found = [legend for p in _pages(item.evidence) if (legend := legends.get(p)) is not None]
    if not found:
        return item
    names = {legend.performer for legend in found}
    if len(names) == 1 and found[0].performer:
        return replace(item, performer=found[0].performer)
    note = next((legend.note for legend in found if legend.note), DISAGREE)
    return replace(item, notes=(*item.notes, note))


def _pages(evidence: Iterable[Evidence]) -> list[str]:
    return list(dict.fromkeys(e.page_id for e in evidence))
