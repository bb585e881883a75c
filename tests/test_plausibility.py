"""Plausibility rules: times near their slot and inside the page's period, vitals in human
ranges, doses equal to the order's."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from papermode.census.snapshot import sample_census_path
from papermode.cli.main import main
from papermode.core.model import Box, Field, PageLayout
from papermode.core.settings import PlausibilityLimits, load_settings
from papermode.core.stopwatch import Stopwatch
from papermode.demo.synth.fill import FillProfile, fill_page
from papermode.demo.synth.handwriting import blank_page, draw_comb
from papermode.printing.prepare import prepare_forms
from papermode.reading import fields as fields_module
from papermode.reading.digits import DigitsReading, decide
from papermode.reading.fields import PageContext, read_fields
from papermode.reading.plausibility import (
    check,
    check_blood_pressure,
    check_dose,
    check_time,
    parse_hhmm,
    vital_name,
)
from papermode.state.readings import readings_report
from papermode.store.database import open_store

BOX = Box(10, 10, 24, 8)
PERIOD = (datetime(2026, 3, 1, 7, 0), datetime(2026, 3, 2, 7, 0))


def time_field(scheduled: datetime | None = datetime(2026, 3, 1, 8, 0)) -> Field:
    return Field("t", "digits", BOX, role="time", cells=4, scheduled=scheduled)


def vital(code: str, cells: int = 3, decimals: int = 0) -> Field:
    return Field("v", "digits", BOX, role="vital", cells=cells, decimals=decimals, code=code)


@pytest.mark.parametrize("text", ["2560", "0860", "9999", "12a4", "1"])
def test_invalid_times_fail(text: str) -> None:
    verdict = check(time_field(), text, period=PERIOD)
    assert not verdict.ok and verdict.reason and verdict.factor < 0.5


def test_time_near_its_slot_passes_and_far_from_it_fails() -> None:
    assert check(time_field(), "0815", period=PERIOD).ok
    assert check(time_field(), "0940", period=PERIOD).ok
    far = check(time_field(), "1130", period=PERIOD)
    assert not far.ok and "scheduled" in (far.reason or "")


def test_the_first_slot_given_a_little_early_is_on_its_page_and_far_early_is_not() -> None:
    """A page starting at 07:00 with a 07:00 dose: given at 06:36 the nurse wrote it in
    that slot (on time, ISMP); 05:40 is outside the page and too far to be that dose."""
    first = time_field(datetime(2026, 3, 1, 7, 0))
    early = check(first, "0636", period=PERIOD)
    assert early.ok and early.factor < 1.0
    assert not check(first, "0540", period=PERIOD).ok
    last = time_field(datetime(2026, 3, 2, 6, 30))
    assert check(last, "0720", period=PERIOD).ok  # 06:30 given at 07:20: after the page ends
    assert not check(last, "0815", period=PERIOD).ok


def test_time_across_midnight_is_near_its_slot() -> None:
    field = time_field(datetime(2026, 3, 1, 23, 30))
    assert check(field, "0010", period=PERIOD).ok
    assert check(field, "2400", period=PERIOD).ok


def test_prn_time_must_fall_in_the_page_period() -> None:
    prn = time_field(scheduled=None)
    short = (datetime(2026, 3, 1, 7, 0), datetime(2026, 3, 1, 19, 0))
    assert check(prn, "1015", period=short).ok
    assert not check(prn, "2215", period=short).ok
    assert check(prn, "2215", period=None).ok


@pytest.mark.parametrize(
    ("code", "decimals", "good", "bad"),
    [
        ("8867-4", 0, "72", "300"),
        ("8480-6", 0, "120", "40"),
        ("8462-4", 0, "80", "170"),
        ("8310-5", 1, "37.2", "44.0"),
        ("8310-5", 1, "372", "290"),
        ("59408-5", 0, "97", "49"),
        ("9279-1", 0, "16", "70"),
    ],
)
def test_vitals_in_human_ranges(code: str, decimals: int, good: str, bad: str) -> None:
    field = vital(code, decimals=decimals)
    assert check(field, good).ok
    verdict = check(field, bad)
    assert not verdict.ok and verdict.factor < 1


def test_vital_known_by_its_id_when_no_code() -> None:
    assert vital_name(Field("vitals.0800.hr", "digits", BOX, role="vital", cells=3)) == "heart_rate"
    assert (
        vital_name(Field("x", "digits", BOX, role="vital", cells=3, label="Temp")) == "temperature"
    )
    assert vital_name(Field("x", "digits", BOX, role="vital", cells=3)) is None


def test_diastolic_below_systolic() -> None:
    assert check_blood_pressure("120", "80").ok
    assert not check_blood_pressure("80", "120").ok
    assert check_blood_pressure("120", None).ok


def test_dose_equal_to_the_order() -> None:
    field = Field("d", "digits", BOX, role="dose", cells=3, decimals=1)
    assert check(field, "2.5", order_dose=2.5).ok
    assert check(field, "025", order_dose=2.5).ok
    assert not check(field, "5.0", order_dose=2.5).ok
    assert check_dose("50", None).ok


def test_implausible_value_is_never_auto_accepted() -> None:
    field = vital("8867-4")
    reading = DigitsReading("v", "300", "300", (), 0.9999, ())
    verdict = check(field, reading.value)
    status, confidence = decide(reading, field, factor=verdict.factor, plausible=verdict.ok)
    assert status == "review" and confidence < 0.5
    assert verdict.apply(0.9999) <= 0.5
    ok_status, _ = decide(DigitsReading("v", "72", "72", (), 0.9999, ()), field)
    assert ok_status == "auto"


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_valid_clock_time_parses(hours: int, minutes: int) -> None:
    parsed = parse_hhmm(f"{hours:02d}{minutes:02d}")
    assert parsed is not None and (parsed.hour, parsed.minute) == (hours, minutes)


@given(st.integers(0, 9999))
def test_check_time_never_raises_and_no_impossible_clock_time_is_plausible(number: int) -> None:
    text = f"{number:04d}"
    verdict = check_time(text, scheduled=datetime(2026, 3, 1, 8, 0), period=PERIOD)
    if parse_hhmm(text) is None:  # 2460, 0975, ...: not a time of day
        assert not verdict.ok


def heart_rate_page(texts: list[str]) -> tuple[np.ndarray, PageContext]:
    """A straightened page (8 px/mm) with one handwritten heart-rate comb per text."""
    rng = np.random.default_rng(21)
    page = blank_page((200.0, 100.0), fields_module.PX_PER_MM)
    fields = []
    for index, text in enumerate(texts):
        field = Field(
            f"vitals.{index}.hr",
            "digits",
            Box(10 + index * 31.0, 20, 15.0, 7.0),
            role="vital",
            cells=3,
            code="8867-4",
        )
        draw_comb(page, field, text, rng)
        fields.append(field)
    layout = PageLayout(
        "pg", "vitals", "1", "a4", (200.0, 100.0), "snap", "p1", None, None, 1, 1, tuple(fields)
    )
    return page, PageContext(layout)


def test_a_narrower_vital_range_sends_the_value_read_to_review() -> None:
    texts = [" 72", " 88", "110", " 95", " 64", "120"]
    page, context = heart_rate_page(texts)
    thresholds = load_settings().reading

    def read(limits: PlausibilityLimits) -> dict[str, tuple[str | None, str, tuple[str, ...]]]:
        results = read_fields(page, context, thresholds, Stopwatch(), plausibility_limits=limits)
        return {
            r.reading.field_id: (r.reading.value, r.reading.status, r.reading.flags)
            for r in results
        }

    hospital = PlausibilityLimits(
        vital_ranges={**PlausibilityLimits().vital_ranges, "heart_rate": (40, 100)}
    )
    default, narrow = read(PlausibilityLimits()), read(hospital)
    fast = [f"vitals.{i}.hr" for i, t in enumerate(texts) if int(t) > 100]
    read_right = [
        key
        for key, (value, _, _) in default.items()
        if value == texts[int(key.split(".")[1])].strip()
    ]
    assert set(fast) <= set(read_right), default  # the model reads these clean digits
    for key in read_right:
        assert "implausible" not in default[key][2]
        if key in fast:
            # Read right and confident, yet out of this hospital's range: a person looks.
            assert default[key][1] == "auto"
            assert narrow[key][1] == "review" and "implausible" in narrow[key][2]
        else:
            assert narrow[key] == default[key]


def test_the_time_window_is_the_hospitals() -> None:
    narrow = PlausibilityLimits(time_window_hours=1.0)
    assert check(time_field(), "0940", period=PERIOD).ok  # 1 h 40 from 08:00: inside 2 h
    verdict = check(time_field(), "0940", period=PERIOD, limits=narrow)
    assert not verdict.ok and verdict.reason == "1.7 h from the scheduled time"
    wide = PlausibilityLimits(time_window_hours=4.0)
    assert check(time_field(), "1130", period=PERIOD, limits=wide).ok


def test_ingest_settings_narrow_a_vital_range_and_the_values_go_to_review(
    tmp_path: Path,
) -> None:
    """The real path: a printed vitals chart, filled, scanned, `papermode ingest --settings`."""
    start = datetime(2026, 11, 28, 7, 0)
    forms, template = tmp_path / "forms", tmp_path / "template.db"
    prepare_forms(sample_census_path(), forms, template, start=start, hours=24, lang="en",
                  paper="a4", settings_path=None)  # fmt: skip
    pages = json.loads((forms / "manifest.json").read_text())["pages"]
    page = next(p for p in pages if p["template"] == "vitals")
    document = pdfium.PdfDocument(str(forms / page["pdf"]))
    blank = document[page["pdf_page"] - 1].render(scale=200 / 72).to_numpy()[:, :, :3].copy()
    document.close()
    with open_store(template) as store:
        layout = store.page_layout(page["page_id"])
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    quiet = FillProfile(progress=1.0, vitals_rate=1.0, correction_rate=0.0,
                        contradiction_rate=0.0, crossed_digit_rate=0.0, overshoot_rate=0.0,
                        faint_rate=0.0, touch_rate=0.0, stray_dots=0)  # fmt: skip
    filled, _ = fill_page(blank, layout, 200 / 25.4, np.random.default_rng(5), profile=quiet)
    scan = tmp_path / "vitals.png"
    cv2.imwrite(str(scan), cv2.cvtColor(filled, cv2.COLOR_RGB2BGR))
    hospital = tmp_path / "hospital.toml"
    hospital.write_text("[plausibility.vital_ranges]\nheart_rate = [20, 40]\n", encoding="utf-8")

    def heart_rates(*settings: str) -> dict[str, dict[str, object]]:
        store_path = tmp_path / f"store{len(settings)}.db"
        shutil.copy(template, store_path)
        result = CliRunner().invoke(
            main, ["ingest", "--store", str(store_path), *settings, str(scan), "--json"]
        )
        assert result.exit_code == 0, result.output
        with open_store(store_path) as store:
            report = readings_report(store, page_id=page["page_id"])
        fields = report["pages"][0]["fields"]
        return {f["field_id"]: f for f in fields if f["code"] == "8867-4" and f["value"] != "empty"}

    default, narrow = heart_rates(), heart_rates("--settings", str(hospital))
    accepted = [key for key, f in default.items() if f["status"] == "auto"]
    assert accepted, default  # clean handwriting: most heart rates are accepted as read
    for key in accepted:
        assert 40 < float(str(default[key]["value"])) <= 250
        assert narrow[key]["status"] == "review" and "implausible" in narrow[key]["flags"]


def test_a_reason_box_holds_only_a_number_of_the_legend() -> None:
    reason = Field("mar.o1.20261128T0800.reason", "digits", Box(0, 0, 5, 7), "reason", cells=1)
    assert all(check(reason, code).ok for code in "123456")
    verdict = check(reason, "9")
    assert not verdict.ok and verdict.apply(0.99) <= 0.5  # never auto-accepted
    assert check(reason, "").ok  # nothing written: judged elsewhere
