"""An infusion band filled with the synthetic pen, photographed, ingested and read back.

The real chain: a census with a heparin infusion printed by `prepare_forms`, the PDF page
rasterised, a start and a rate change written with pen strokes, a phone-like photo, the
ingest pipeline into a real SQLite store, then the `readings` report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402
import test_export_checks as checks  # noqa: E402
from test_census_fidelity import encounter, med, patient  # noqa: E402
from test_census_infusions import HEPARIN, infusion, rate_q  # noqa: E402
from test_prepare_fidelity import write_bundle  # noqa: E402

from papermode.core.settings import load_settings  # noqa: E402
from papermode.export.run import export_store  # noqa: E402
from papermode.printing.prepare import prepare_forms  # noqa: E402
from papermode.reconcile.service import reconcile_store, reconciliation_json  # noqa: E402
from papermode.review.queue import build_queue  # noqa: E402
from papermode.review.service import decide  # noqa: E402
from papermode.store.database import open_store  # noqa: E402


def _prepared(tmp_path: Path) -> Path:
    request = med("m-hep", infusion(rate_q(18, "mL/h")), medicationCodeableConcept=HEPARIN)
    census = write_bundle(tmp_path / "census.json", patient(), encounter(), request)
    prepare_forms(census, tmp_path / "forms", tmp_path / "template.db", start=ep.START,
                  hours=24, lang="en", paper="a4", settings_path=None)  # fmt: skip
    with open_store(tmp_path / "template.db") as template:
        template.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return tmp_path


def test_a_filled_infusion_band_is_read_back(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    page = ep.pages(prepared, "mar")[0]
    fields = ep.fields_by_id(page)
    first, second, third = (f"mar.m-hep.inf0{n}" for n in (1, 2, 3))
    image = ep.render(prepared, page)
    ep.tick(image, fields[f"{first}.start"], seed=1)
    ep.write_digits(image, fields[f"{first}.time"], "281015", seed=1)
    ep.write_digits(image, fields[f"{first}.rate"], "180", seed=1)  # 18.0 mL/h
    ep.initials(image, fields[f"{first}.initials"], seed=1)
    ep.initials(image, fields[f"{first}.second_initials"], seed=2)
    ep.tick(image, fields[f"{second}.change"], seed=3)
    ep.write_digits(image, fields[f"{second}.time"], "281600", seed=3)
    ep.write_digits(image, fields[f"{second}.rate"], "200", seed=3)  # 20.0 mL/h
    ep.initials(image, fields[f"{second}.initials"], seed=3)  # second initials forgotten
    ep.tick(image, fields[f"{third}.stop"], seed=4)  # no time, no initials
    ep.write_digits(image, fields["mar.m-hep.inf04.rate"], "220", seed=5)  # no event ticked
    store = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store, ep.photo(image, tmp_path / "mar.jpg"))
    state = ep.state(store, page["page_id"])

    def value(field_id: str) -> Any:
        return state[field_id]["value"]

    assert [value(f"{first}.{e}") for e in ("start", "change", "bag", "stop")] == [
        "ticked", "empty", "empty", "empty"]  # fmt: skip
    assert (value(f"{first}.time"), value(f"{first}.rate")) == ("281015", "18.0")
    assert value(f"{first}.initials") == value(f"{first}.second_initials") == "ink"
    assert state[f"{first}.start"]["role"] == "infusion_event"
    assert state[f"{first}.rate"]["role"] == "infusion_rate"
    assert state[f"{first}.time"]["order_id"] == "m-hep"
    assert not any(f.startswith("missing_") for f in state[f"{first}.start"]["flags"])
    assert value(f"{second}.change") == "ticked"
    assert (value(f"{second}.time"), value(f"{second}.rate")) == ("281600", "20.0")
    assert "missing_initials" in state[f"{second}.second_initials"]["flags"]
    assert state[f"{second}.change"]["status"] == "review"
    assert value(f"{third}.stop") == "ticked"
    assert {"missing_time", "missing_initials"} <= set(state[f"{third}.stop"]["flags"])

    assert "missing_choice" in state["mar.m-hep.inf04.rate"]["flags"]
    with open_store(store) as opened:
        queued = {item.field_id: item for item in build_queue(opened)}
        result, source = reconcile_store(opened, load_settings())
    rate_item = queued["mar.m-hep.inf04.rate"]  # heparin is high-alert: two people, blind
    assert (rate_item.role, rate_item.two_person, rate_item.blind) == ("infusion_rate", True, True)
    document = reconciliation_json(result, source)
    heparin = [item for item in result.items if item.order_id == "m-hep"]
    assert [item.category.value for item in heparin] == ["pending"] * 4  # rows in review
    assert not any(item.exportable for item in heparin)
    assert document["counts"]["not_documented"] == 0  # no infusion row is a missed dose

    # Two reviewers settle every row as the paper says; two rows still cannot be placed
    # (a stop with no time, a rate with no event): the whole infusion goes to the by-hand
    # list, nothing of it to the FHIR export.
    with open_store(store) as opened:
        _settle_queue(opened)
        result, source = reconcile_store(opened, load_settings())
    heparin = [item for item in result.items if item.order_id == "m-hep"]
    assert {item.category.value for item in heparin} == {"by_hand"}
    assert len(heparin) == 4 and not any(item.exportable for item in heparin)
    why = heparin[0].notes[0]
    assert "inf03: no day and time written" in why and "inf04: no event ticked" in why


def _settle_queue(store: Any) -> None:
    """Confirm every queued item as read: first reviewer ana, second (blind: keyed) ben."""
    for _ in range(4):
        for item in build_queue(store):
            if item.kind != "field":
                continue
            if item.needed == "first":
                decide(store, item.item_id, kind="confirm", reviewer="ana")
            elif item.needed == "second" and item.blind:
                decide(store, item.item_id, kind="correct", value=item.value, reviewer="ben")
            elif item.needed == "second":
                decide(store, item.item_id, kind="confirm", reviewer="ben")


def test_a_cleanly_charted_infusion_is_exported_as_its_periods(tmp_path: Path) -> None:
    """Start 18 mL/h, change to 20 mL/h, stop, each row complete: after the two-person
    review the FHIR export holds two administrations with their periods and UCUM rates."""
    prepared = _prepared(tmp_path)
    page = ep.pages(prepared, "mar")[0]
    fields = ep.fields_by_id(page)
    image = ep.render(prepared, page)
    rows = [("start", "281015", "180"), ("change", "281600", "200"), ("stop", "282230", None)]
    for number, (event, when, rate) in enumerate(rows, start=1):
        prefix = f"mar.m-hep.inf0{number}"
        ep.tick(image, fields[f"{prefix}.{event}"], seed=number)
        ep.write_digits(image, fields[f"{prefix}.time"], when, seed=number)
        if rate:
            ep.write_digits(image, fields[f"{prefix}.rate"], rate, seed=number)
        ep.initials(image, fields[f"{prefix}.initials"], seed=number)
        ep.initials(image, fields[f"{prefix}.second_initials"], seed=number + 10)
    store = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store, ep.photo(image, tmp_path / "mar.jpg"))
    with open_store(store) as opened:
        _settle_queue(opened)
        result, source = reconcile_store(opened, load_settings())
        out = export_store(opened, load_settings(), fmt="fhir", out=tmp_path / "export.json")
    heparin = [item for item in result.items if item.order_id == "m-hep"]
    assert [(i.category.value, i.event, i.quantity) for i in heparin] == [
        ("infusion", "start", 18.0),
        ("infusion", "change", 20.0),
    ]
    assert heparin[0].ends_at == heparin[1].occurred_at
    bundle = json.loads(out.path.read_text(encoding="utf-8"))
    assert checks.validate_bundle(bundle) == []
    given = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    ]
    assert [g["dosage"]["rateQuantity"]["value"] for g in given] == [18.0, 20.0]
    assert all(g["status"] == "completed" and "end" in g["effectivePeriod"] for g in given)
