"""The performer of a dose from the page's signature legend (pages built here: the legend
rows `legend.{n}.initials|name|signature`), exported as MedicationAdministration.performer
and the Provenance author; no performer, with a note saying why, whenever it is ambiguous."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import test_export_checks as checks  # noqa: E402
import test_reconcile_fixtures as fx  # noqa: E402

from papermode.core.model import Field  # noqa: E402
from papermode.core.settings import load_settings  # noqa: E402
from papermode.export.fhir import build_bundle  # noqa: E402
from papermode.reconcile.inputs import Decision, FieldState, apply_decision  # noqa: E402
from papermode.reconcile.items import Item, Reconciliation  # noqa: E402
from papermode.reconcile.performer import NOBODY, NOT_TYPED  # noqa: E402
from papermode.reconcile.rules import reconcile  # noqa: E402

SETTINGS = load_settings()
T14 = fx.DAY.replace(hour=14)


def legend_row(n: int, *, ink: bool, name: str | None = None) -> list[FieldState]:
    """One legend row; `name`: what a reviewer typed for the handwritten name."""
    prefix = f"legend.{n}"
    rows = [
        fx.state("PAGE-1", Field(f"{prefix}.initials", "signature", fx.BOX, "legend_initials"),
                 "ink" if ink else "empty"),
        fx.state("PAGE-1", Field(f"{prefix}.name", "text", fx.BOX, "legend_name"),
                 "ink" if ink else "empty", "review" if ink else "auto"),
        fx.state("PAGE-1", Field(f"{prefix}.signature", "signature", fx.BOX, "legend_signature"),
                 "ink" if ink else "empty"),
    ]  # fmt: skip
    if name is not None:
        decision = Decision("correct", name, ("clerk A",), datetime(2026, 12, 1, 9, 0))
        rows[1] = apply_decision(rows[1], decision)
    return rows


def dose(*legend: list[FieldState]) -> Item:
    cell = fx.mar_cell("PAGE-1", "o1", T14, answer="given", time="1405", initials=True)
    page = fx.page("PAGE-1", "mar", [*cell, *(s for row in legend for s in row)])
    (item,) = reconcile(fx.source([page], [fx.order()]), SETTINGS).items
    assert item.exportable
    return item


def test_one_legend_row_whose_name_a_reviewer_typed_is_the_performer() -> None:
    item = dose(legend_row(1, ink=True, name="Marie Curie"), legend_row(2, ink=False))
    assert item.performer == "Marie Curie"
    bundle = build_bundle(
        _alone(item), fx.source([], [fx.order()]), exported_at=datetime(2026, 12, 1, 10)
    )
    assert checks.validate_bundle(bundle) == []
    given = next(
        e["resource"] for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    )  # fmt: skip
    assert given["performer"] == [{"actor": {"display": "Marie Curie"}}]
    provenance = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"
    )
    authors = [a["who"]["display"] for a in provenance["agent"]
               if a["type"]["coding"][0]["code"] == "author"]  # fmt: skip
    assert authors == ["Marie Curie"]


def test_a_name_not_yet_typed_gives_no_performer_and_says_why() -> None:
    item = dose(legend_row(1, ink=True))
    assert item.performer is None and NOT_TYPED in item.notes


def test_two_nurses_on_the_legend_give_no_performer() -> None:
    item = dose(legend_row(1, ink=True, name="Marie Curie"), legend_row(2, ink=True, name="Ada L"))
    assert item.performer is None
    assert any("2 nurses signed the page's legend" in note for note in item.notes)


def test_an_empty_legend_gives_no_performer_and_a_page_without_one_adds_nothing() -> None:
    empty = dose(legend_row(1, ink=False), legend_row(2, ink=False))
    assert empty.performer is None and NOBODY in empty.notes
    plain = dose()
    assert plain.performer is None and not any("performer" in n for n in plain.notes)


def _alone(item: Item) -> Reconciliation:
    return Reconciliation((item,))
