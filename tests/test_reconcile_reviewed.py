"""Reconcile and export use the review decisions, through the CLI and a real store:
prepare -> one MAR page filled and photographed -> ingest -> `review --decide` (correct one
cell, leave one, a high-alert cell by one then two reviewers) -> `reconcile --json` /
`export --format fhir`."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as ep  # noqa: E402

from papermode.cli.reconcile import export_command, reconcile_command  # noqa: E402
from papermode.cli.review import review  # noqa: E402
from papermode.store.database import open_store  # noqa: E402

# Three dose cells of patient p-101's MAR page (the sample ward printed from 28/11 07:00),
# each named by its fields' common prefix: mar.<order>.<scheduled>.
DECIDED = "mar.ord-1001.20261128T1200"  # paracetamol: ordinary
LEFT = "mar.ord-1002.20261128T1400"  # amoxicillin: ordinary
CHECKED = "mar.ord-1003.20261128T0800"  # enoxaparin SC: high-alert, second check, site
# The times as written are far from their slots (02:10 meant 12:10, 14:00 meant 08:15; the
# reviewer corrects them): a time more than `[plausibility] time_window_hours` (2 h) from its
# slot is never auto-accepted, the reader sends it to review flagged `implausible` however
# well it reads the digits. Queued for a reason independent of handwriting recognition.
DECIDED_WRITTEN, DECIDED_MEANT = "0210", "1210"
CHECKED_WRITTEN, CHECKED_MEANT = "1400", "0815"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield ep.prepare(tmp_path_factory.mktemp("reconcile-reviewed"))


def _mar_page(prepared: Path) -> dict[str, Any]:
    return next(
        page for page in ep.pages(prepared, "mar") if f"{CHECKED}.given" in ep.fields_by_id(page)
    )


def _sign(image: np.ndarray, fields: dict[str, Any], cell: str, clock: str, seed: int) -> None:
    """A "given" tick, the time written and the nurse's initials (and the second check's,
    the site in its legend, where the cell has their boxes)."""
    ep.tick(image, fields[f"{cell}.given"], seed=seed)
    ep.write_digits(image, fields[f"{cell}.time"], clock, seed=seed + 1)
    for role in ("initials", "second_initials"):
        if f"{cell}.{role}" in fields:
            ep.initials(image, fields[f"{cell}.{role}"], seed=seed + len(role))
    if f"{cell}.site" in fields:
        ep.write_digits(image, fields[f"{cell}.site"], "3", seed=seed + 2)


@pytest.fixture()
def store_path(prepared: Path, tmp_path: Path) -> Path:
    """The page filled: DECIDED and CHECKED signed with a slipped time, LEFT given at its
    slot but unsigned (no initials: `missing_initials` sends it to review)."""
    page = _mar_page(prepared)
    fields, image = ep.fields_by_id(page), ep.render(prepared, page)
    _sign(image, fields, DECIDED, DECIDED_WRITTEN, seed=10)
    _sign(image, fields, CHECKED, CHECKED_WRITTEN, seed=30)
    ep.tick(image, fields[f"{LEFT}.given"], seed=20)
    ep.write_digits(image, fields[f"{LEFT}.time"], "1405", seed=21)
    store_path = ep.fresh_store(prepared, tmp_path)
    ep.ingest(store_path, ep.photo(image, tmp_path / "mar.jpg"))
    return store_path


def _run(command: Any, *args: str) -> str:
    result = CliRunner().invoke(command, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _queued_cells(store: Path) -> dict[str, list[dict[str, Any]]]:
    """Queued MAR fields by cell (their field ids' common prefix)."""
    queue = json.loads(_run(review, "--list", "--json", "--store", str(store)))["items"]
    cells: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in queue:
        if item["kind"] == "field" and item["template"] == "mar" and item["order_id"]:
            cells[item["field_id"].rsplit(".", 1)[0]].append(item)
    return cells


def _decide(store: Path, items: list[dict[str, Any]], reviewer: str, time: str = "") -> None:
    """Each item decided by `reviewer`: a time corrected to `time`, anything else confirmed."""
    for item in items:
        choice = ["--value", time] if item["role"] == "time" else ["--confirm"]
        _run(review, "--store", str(store), "--decide", item["item_id"], *choice,
             "--reviewer", reviewer)  # fmt: skip


def _export(store: Path, out: Path) -> dict[str, Any]:
    _run(export_command, "--store", str(store), "--format", "fhir", "--out", str(out))
    bundle: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return bundle


def _administration(bundle: dict[str, Any], cell: str) -> tuple[dict[str, Any], list[str]]:
    """The cell's MedicationAdministration (or {}) and its Provenance's agents."""
    _, order_id, stamp = cell.split(".")
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "MedicationAdministration" and resource["identifier"][0][
            "value"
        ].endswith(f"/{order_id}/{stamp}"):
            agents = [
                f"{a['type']['coding'][0]['code']}={a['who']['display']}"
                for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Provenance"
                and e["resource"]["target"][0]["reference"] == entry["fullUrl"]
                for a in e["resource"]["agent"]
            ]
            return resource, agents
    return {}, []


def _roles(items: list[dict[str, Any]]) -> dict[str, tuple[str, str, bool]]:
    return {i["role"]: (i["value"], i["machine_status"], i["two_person"]) for i in items}


def _assert_queued_as_filled(store: Path, cells: dict[str, list[dict[str, Any]]]) -> None:
    """What the test decides, stated: a reader change that stops queuing these cells
    fails here, by name, instead of letting the test prove nothing."""
    with open_store(store) as opened:
        high_alert = {row["order_id"]: bool(row["high_alert"]) for row in opened.db.query(
            "SELECT order_id, high_alert FROM orders")}  # fmt: skip
    order_of = {cell: cell.split(".")[1] for cell in (DECIDED, LEFT, CHECKED)}
    assert {cell: high_alert[order] for cell, order in order_of.items()} == {
        DECIDED: False, LEFT: False, CHECKED: True}  # fmt: skip
    assert set(cells) == {DECIDED, LEFT, CHECKED}
    assert _roles(cells[DECIDED]) == {"time": (DECIDED_WRITTEN, "review", False)}
    assert "implausible" in cells[DECIDED][0]["flags"]
    left = _roles(cells[LEFT])
    assert {role: left[role] for role in ("given", "initials")} == {
        "given": ("ticked", "review", False),
        "initials": ("empty", "review", False),
    }
    # Its time, written at the slot, waits for a person only when its digits are read
    # unsurely (0.72 with the ensemble of 8,500 digits), and then as written.
    assert set(left) <= {"given", "initials", "time"}
    assert left.get("time", ("1405", "review", False)) == ("1405", "review", False)
    # A high-alert order's every mark waits for two people, even one read with confidence.
    assert _roles(cells[CHECKED]) == {
        "given": ("ticked", "auto", True),
        "time": (CHECKED_WRITTEN, "review", True),
        "initials": ("ink", "auto", True),
        "second_initials": ("ink", "auto", True),
        "site": ("3", "auto", True),
    }
    assert "implausible" in next(i for i in cells[CHECKED] if i["role"] == "time")["flags"]


def test_decisions_in_review_reach_the_export_and_undecided_items_never_do(
    store_path: Path, tmp_path: Path
) -> None:
    cells = _queued_cells(store_path)
    _assert_queued_as_filled(store_path, cells)
    before = _export(store_path, tmp_path / "before.json")
    for cell in (DECIDED, LEFT, CHECKED):
        assert _administration(before, cell)[0] == {}, cell

    _decide(store_path, cells[DECIDED], "clerk A", DECIDED_MEANT)
    doubted = [i for i in cells[CHECKED] if i["machine_status"] != "auto"]
    read_well = [i for i in cells[CHECKED] if i["machine_status"] == "auto"]
    _decide(store_path, doubted, "clerk A", CHECKED_MEANT)
    _decide(store_path, doubted, "nurse B", CHECKED_MEANT)
    one_reviewer = _export(store_path, tmp_path / "one.json")
    given, agents = _administration(one_reviewer, DECIDED)
    assert given["status"] == "completed"
    assert given["effectiveDateTime"].startswith("2026-11-28T12:10")  # the corrected time
    assert "enterer=clerk A" in agents and not any(a.startswith("verifier") for a in agents)
    assert _administration(one_reviewer, LEFT)[0] == {}  # never decided: never exported
    # A high-alert tick read with confidence still waits for its two people.
    assert _administration(one_reviewer, CHECKED)[0] == {}
    _decide(store_path, read_well, "clerk A")
    assert _administration(_export(store_path, tmp_path / "two.json"), CHECKED)[0] == {}

    _decide(store_path, read_well, "nurse B")
    both = _export(store_path, tmp_path / "both.json")
    dose, agents = _administration(both, CHECKED)
    assert dose["status"] == "completed"
    assert dose["effectiveDateTime"].startswith("2026-11-28T08:15")  # the corrected time
    assert {"enterer=clerk A", "verifier=nurse B"} <= set(agents)
    assert _administration(both, LEFT)[0] == {}

    document = json.loads(_run(reconcile_command, "--store", str(store_path), "--json"))
    items = {item["item_id"]: item for item in document["items"]}
    item_id = lambda cell: "mar:{1}:{2}".format(*cell.split("."))  # noqa: E731
    assert items[item_id(DECIDED)]["reviewers"] == ["clerk A"]
    assert items[item_id(CHECKED)]["reviewers"] == ["clerk A", "nurse B"]
    pending = items[item_id(LEFT)]
    assert pending["category"] == "pending" and pending["exportable"] is False
