"""The new-order sheet: a dose with its decimal separator, when it was written, who wrote it.

ISMP: a leading zero (0.5 mg), never a trailing one (5 mg): the digits after the printed
separator are a comb of their own, left empty for a whole dose. The date, time and the
prescriber's name in capitals go into the record (authoredOn, requester).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from papermode.census.snapshot import sample_census_path
from papermode.core.flags import Flag
from papermode.core.model import Box, Field
from papermode.export.fhir import build_bundle
from papermode.printing.prepare import prepare_forms
from papermode.reading.digits import CellReading, assemble
from papermode.reading.plausibility import check
from papermode.reconcile.categories import Category
from papermode.reconcile.rules import reconcile

sys.path.insert(0, str(Path(__file__).parent))
import edgepages as edge  # noqa: E402
import test_export_checks as checks  # noqa: E402
import test_reconcile_fixtures as fx  # noqa: E402
from test_reconcile_rules import SETTINGS, one  # noqa: E402

PERIOD = (datetime(2026, 11, 28, 7, 0), datetime(2026, 11, 29, 7, 0))


def _cells(text: str) -> tuple[CellReading, ...]:
    return tuple(
        CellReading(int(c), 0.99, False, ()) if c.isdigit() else CellReading(None, 0.99, True, ())
        for c in text
    )


def _field(role: str, cells: int) -> Field:
    return Field(f"new.1.{role}", "digits", Box(0, 0, 5 * cells, 7), role, cells=cells)


def test_the_decimals_are_written_from_the_left_and_a_blank_before_them_is_a_question() -> None:
    decimals = _field("dose_decimals", 2)
    assert assemble(decimals, _cells("5 ")).value == "5"  # .5
    assert assemble(decimals, _cells("25")).value == "25"
    assert assemble(decimals, _cells("05")).value == "05"  # .05: the zero is kept
    blank_first = assemble(decimals, _cells(" 5"))  # .5 or .05?
    assert blank_first.value is None and Flag.GAP in blank_first.flags


def test_the_date_and_time_keep_their_leading_zeros_and_must_be_of_the_period() -> None:
    day, moment = _field("order_date", 4), _field("order_time", 4)
    assert assemble(day, _cells("0511")).value == "0511"
    assert assemble(moment, _cells("0805")).value == "0805"
    assert check(day, "2811", period=PERIOD).ok and check(day, "2911", period=PERIOD).ok
    assert not check(day, "3011", period=PERIOD).ok  # the day after the sheet's period
    assert not check(day, "3102", period=PERIOD).ok  # no such date
    assert not check(moment, "2575", period=PERIOD).ok


def _states(dose: str, decimals: str | None, day: str | None, moment: str | None) -> list:
    def f(name: str, kind: str, role: str, **extra: object) -> Field:
        return Field(f"new.1.{name}", kind, Box(0, 0, 5, 5), role, **extra)  # type: ignore[arg-type]

    reviewers = ("clerk A", "pharmacist B")
    states = [
        fx.state("NEW-1", f("drug", "text", "drug"), "Morphine", "corrected", decided_by=reviewers),
        fx.state("NEW-1", f("dose", "digits", "dose", cells=4), dose),
        fx.state(
            "NEW-1", f("unit.mg", "checkbox", "unit", group="new.1.unit", value="mg"), "ticked"
        ),
        fx.state(
            "NEW-1",
            f("prescriber_name", "text", "prescriber_name"),
            "DR MARTIN",
            "corrected",
            decided_by=reviewers,
        ),
    ]
    if decimals is not None:
        states.append(fx.state("NEW-1", f("dose_decimals", "digits", "dose_decimals", cells=2),
                               decimals))  # fmt: skip
    if day is not None:
        states.append(fx.state("NEW-1", f("order_date", "digits", "order_date", cells=4), day))
    if moment is not None:
        states.append(fx.state("NEW-1", f("order_time", "digits", "order_time", cells=4), moment))
    return states


def _item(states: list):
    page = fx.page("NEW-1", "new_orders", states)
    return one([page], [])


def test_the_dose_is_the_whole_part_and_the_decimals_written_after_the_separator() -> None:
    half = _item(_states("0", "5", "2811", "1430"))
    assert half.category is Category.NEW_ORDER and half.new_order is not None
    assert half.new_order.dose == 0.5
    assert half.new_order.written_at == datetime(2026, 11, 28, 14, 30)
    assert half.new_order.prescriber == "DR MARTIN"
    whole = _item(_states("500", None, None, None))
    assert whole.new_order is not None and whole.new_order.dose == 500.0
    assert whole.new_order.written_at is None


def test_unread_decimals_never_make_a_whole_dose() -> None:
    item = _item(_states("0", "?", "2811", "1430"))  # 0.? mg must not become 0 mg
    assert item.category is Category.PENDING and not item.exportable
    assert "decimal separator" in item.notes[0]


def test_a_date_outside_the_period_is_said_and_not_exported_as_authored_on() -> None:
    item = _item(_states("2", None, "0312", "0900"))
    assert item.new_order is not None and item.new_order.written_at is None
    assert any("not a day of this sheet's period" in note for note in item.notes)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("new-orders")
    prepare_forms(
        sample_census_path(), folder / "forms", folder / "template.db",
        start=edge.START, hours=24, lang="fr", paper="a4", settings_path=None,
    )  # fmt: skip
    return folder


def test_the_french_sheet_prints_the_separator_the_date_time_and_name_boxes(
    prepared: Path,
) -> None:
    sheet = edge.pages(prepared, "new_orders")[0]
    fields = edge.fields_by_id(sheet)
    assert fields["new.1.dose"]["cells"] == 4 and fields["new.1.dose_decimals"]["cells"] == 2
    assert fields["new.1.order_date"]["role"] == "order_date"
    assert fields["new.1.order_time"]["cells"] == 4
    assert fields["new.1.prescriber_name"]["kind"] == "text"
    dose, decimals = edge.box(fields["new.1.dose"]), edge.box(fields["new.1.dose_decimals"])
    document = pdfium.PdfDocument(str(prepared / "forms" / sheet["pdf"]))
    page = document[sheet["pdf_page"] - 1]
    text = page.get_textpage()
    height_mm = page.get_height() * 25.4 / 72
    # The comma printed between the two combs, level with them.
    commas = []
    for index in range(text.count_chars()):
        if text.get_text_range(index, 1) == ",":
            left, bottom, right, top = text.get_charbox(index)
            x_mm, y_mm = (left + right) / 2 * 25.4 / 72, height_mm - top * 25.4 / 72
            commas.append((x_mm, y_mm))
    assert any(
        dose.x + dose.w < x < decimals.x and dose.y < y < dose.y + dose.h for x, y in commas
    ), commas
    words = text.get_text_range()
    document.close()
    assert "prescrit le, à" in words and "nom du prescripteur (MAJUSCULES)" in words


def test_a_half_milligram_written_on_paper_is_read_as_written(
    prepared: Path, tmp_path: Path
) -> None:
    store = edge.fresh_store(prepared, tmp_path)
    sheet = edge.pages(prepared, "new_orders")[0]
    fields = edge.fields_by_id(sheet)
    image = edge.render(prepared, sheet)
    edge.write_digits(image, fields["new.1.dose"], "   0", seed=1)
    edge.write_digits(image, fields["new.1.dose_decimals"], "5", seed=2)
    edge.write_digits(image, fields["new.1.order_date"], "2811", seed=3)
    edge.write_digits(image, fields["new.1.order_time"], "1430", seed=4)
    edge.ingest(store, edge.photo(image, tmp_path / "new-order.jpg"))
    read = edge.state(store, sheet["page_id"])
    assert read["new.1.dose"]["value"] == "0"
    assert read["new.1.dose_decimals"]["value"] == "5"
    assert read["new.1.order_date"]["value"] == "2811"
    assert read["new.1.order_time"]["value"] == "1430"
    # Every box of a new order waits for a person, whatever the machine read.
    assert {read[f"new.1.{r}"]["status"] for r in ("dose", "dose_decimals", "order_date")} == {
        "review"
    }


def test_the_fhir_order_carries_when_and_by_whom_it_was_written_and_its_decimal_dose() -> None:
    source = fx.source([fx.page("NEW-1", "new_orders", _states("0", "5", "2811", "1430"))], [])
    bundle = build_bundle(reconcile(source, SETTINGS), source, exported_at=datetime(2026, 12, 1, 9))
    assert checks.validate_bundle(bundle) == []
    (request,) = [
        e["resource"] for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]  # fmt: skip
    assert request["authoredOn"].startswith("2026-11-28T14:30")
    assert request["requester"] == {"display": "DR MARTIN"}
    assert request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.5


@pytest.mark.parametrize("role", ["effect_time", "obs_time", "write_in_time", "order_time"])
def test_every_written_time_keeps_its_leading_zero(role: str) -> None:
    assert assemble(_field(role, 4), _cells("0432")).value == "0432"  # 04:32, not 432
