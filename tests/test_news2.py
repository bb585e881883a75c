"""NEWS2 (papermode.reading.news2): the RCP 2017 chart, and the written-total check."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from papermode.core.flags import Flag
from papermode.core.model import Box, Field, PageLayout, Reading, ReadingStatus
from papermode.reading.completeness import check_completeness
from papermode.reading.news2 import News2, Vitals, check_news2, news2

# The RCP NEWS2 chart (2017) written out as its rows of whole values, independently of the
# banded code under test: score -> the values that get it.
RESPIRATION = {3: [*range(0, 9), *range(25, 80)], 1: range(9, 12), 0: range(12, 21)}
RESPIRATION[2] = range(21, 25)
SPO2_SCALE_1 = {3: range(50, 92), 2: range(92, 94), 1: range(94, 96), 0: range(96, 101)}
SPO2_SCALE_2_AIR = {3: range(50, 84), 2: range(84, 86), 1: range(86, 88), 0: range(88, 101)}
SPO2_SCALE_2_O2 = {
    3: [*range(50, 84), *range(97, 101)],
    2: [*range(84, 86), *range(95, 97)],
    1: [*range(86, 88), *range(93, 95)],
    0: range(88, 93),
}
SYSTOLIC = {3: [*range(40, 91), *range(220, 300)], 2: range(91, 101), 1: range(101, 111)}
SYSTOLIC[0] = range(111, 220)
PULSE = {3: [*range(20, 41), *range(131, 250)], 1: [*range(41, 51), *range(91, 111)]}
PULSE |= {0: range(51, 91), 2: range(111, 131)}
# Temperature in tenths of a degree.
TEMPERATURE = {3: range(300, 351), 1: [*range(351, 361), *range(381, 391)], 0: range(361, 381)}
TEMPERATURE[2] = range(391, 440)


def _table_score(table: dict[int, object], value: int) -> int:
    found = [score for score, values in table.items() if value in values]  # type: ignore[operator]
    assert len(found) == 1, f"{value} is in {len(found)} rows of the chart"
    return found[0]


vitals_strategy = st.builds(
    Vitals,
    respiration=st.integers(0, 79),
    spo2=st.integers(50, 100),
    on_oxygen=st.booleans(),
    systolic=st.integers(40, 299),
    pulse=st.integers(20, 249),
    consciousness=st.sampled_from("ACVPU"),
    temperature=st.integers(300, 439).map(lambda tenths: tenths / 10),
    scale=st.sampled_from([1, 2]),
)


@given(vitals_strategy)
def test_news2_scores_as_the_rcp_chart(vitals: Vitals) -> None:
    spo2_table = (
        SPO2_SCALE_1
        if vitals.scale == 1
        else SPO2_SCALE_2_O2
        if vitals.on_oxygen
        else SPO2_SCALE_2_AIR
    )
    expected = {
        "respiration": _table_score(RESPIRATION, int(vitals.respiration)),
        "spo2": _table_score(spo2_table, int(vitals.spo2)),
        "air_or_oxygen": 2 if vitals.on_oxygen else 0,
        "systolic": _table_score(SYSTOLIC, int(vitals.systolic)),
        "pulse": _table_score(PULSE, int(vitals.pulse)),
        "consciousness": 0 if vitals.consciousness == "A" else 3,
        "temperature": _table_score(TEMPERATURE, round(vitals.temperature * 10)),
    }
    result = news2(vitals)
    assert dict(result.scores) == expected
    assert result.total == sum(expected.values())


def test_chart_examples() -> None:
    well = Vitals(16, 98, False, 125, 72, "A", 36.8)
    assert news2(well).total == 0 and not news2(well).escalation
    ill = Vitals(24, 93, True, 98, 112, "C", 38.4)  # 2 + 2 + 2 + 2 + 2 + 3 + 1
    assert news2(ill).total == 14 and news2(ill).escalation
    one_three = News2({"respiration": 3, "pulse": 0})
    assert one_three.total == 3 and one_three.escalation  # a 3 alone: information only


# --------------------------------------------------------------------------- page check

T = datetime(2026, 11, 28, 16, 0)
COLUMN = "vitals.20261128T1600"


def _digits(name: str, code: str, decimals: int = 0) -> Field:
    return Field(f"{COLUMN}.{name}", "digits", Box(0, 0, 15, 7), role="vital", cells=3,
                 decimals=decimals, code=code, scheduled=T)  # fmt: skip


def _tick(name: str, code: str, value: str) -> Field:
    return Field(f"{COLUMN}.{name}.{value}", "checkbox", Box(0, 0, 5, 5), role="vital",
                 code=code, group=f"{COLUMN}.{name}", value=value, scheduled=T)  # fmt: skip


FIELDS = (
    _digits("rr", "9279-1"),
    _digits("spo2", "59408-5"),
    _tick("spo2_scale", "spo2_scale", "2"),
    *(_tick("o2", "o2_device", v) for v in ("air", "nasal", "mask", "other")),
    _digits("sbp", "8480-6"),
    _digits("hr", "8867-4"),
    *(_tick("acvpu", "67775-7", v) for v in "ACVPU"),
    _digits("temp", "8310-5", 1),
    _digits("news2", "news2"),
)
LAYOUT = PageLayout(
    page_id="P", template="vitals", template_version="1", paper="a4", size_mm=(210, 297),
    snapshot_id="s", patient_id="pat-1", mrn="M1", ward="3B", page_number=1, page_count=1,
    fields=FIELDS, drawings=(), period_start=T, period_end=T, lang="en",
)  # fmt: skip


def _readings(total: str, **changes: str) -> dict[str, Reading]:
    """RR 24, SpO2 93 on a mask, BP 98, pulse 112, new confusion, 38.4: NEWS2 14."""
    values = {"rr": "24", "spo2": "93", "sbp": "98", "hr": "112", "temp": "38.4"}
    values |= {"news2": total, **changes}
    ticked = {"o2.mask", "acvpu.C"}
    readings = {}
    for f in FIELDS:
        short = f.field_id.removeprefix(f"{COLUMN}.")
        if f.kind == "checkbox":
            value = "ticked" if short in ticked else "empty"
        else:
            value = values.get(short, "empty")
        readings[f.field_id] = Reading(f.field_id, value, 0.99, ReadingStatus.AUTO)
    return readings


def test_a_written_total_that_differs_goes_to_review() -> None:
    checked = check_completeness(LAYOUT, _readings("4"))
    total = checked[f"{COLUMN}.news2"]
    assert total.status == ReadingStatus.REVIEW and Flag.NEWS2_MISMATCH in total.flags
    others = [r for k, r in checked.items() if k != f"{COLUMN}.news2"]
    assert all(r.status == ReadingStatus.AUTO for r in others)


def test_the_right_total_stays_auto() -> None:
    checked = check_news2(LAYOUT, _readings("14"))
    assert checked[f"{COLUMN}.news2"].status == ReadingStatus.AUTO
    assert checked[f"{COLUMN}.news2"].flags == ()


def test_scale_2_ticked_scores_spo2_on_scale_2() -> None:
    readings = _readings("12")  # SpO2 93 on oxygen scores 1 on scale 2 (2 on scale 1): 13
    readings[f"{COLUMN}.spo2_scale.2"] = Reading(f"{COLUMN}.spo2_scale.2", "ticked", 0.99,
                                                 ReadingStatus.AUTO)  # fmt: skip
    assert Flag.NEWS2_MISMATCH in check_news2(LAYOUT, readings)[f"{COLUMN}.news2"].flags
    readings[f"{COLUMN}.news2"] = Reading(f"{COLUMN}.news2", "13", 0.99, ReadingStatus.AUTO)
    assert check_news2(LAYOUT, readings)[f"{COLUMN}.news2"].flags == ()


def test_no_comparison_when_an_input_is_missing() -> None:
    missing = _readings("4", hr="empty")
    assert check_news2(LAYOUT, missing)[f"{COLUMN}.news2"].status == ReadingStatus.AUTO
    no_device = _readings("4")
    no_device[f"{COLUMN}.o2.mask"] = Reading(f"{COLUMN}.o2.mask", "empty", 0.99,
                                             ReadingStatus.AUTO)  # fmt: skip
    assert check_news2(LAYOUT, no_device)[f"{COLUMN}.news2"].status == ReadingStatus.AUTO


def test_a_total_whose_inputs_are_in_doubt_goes_to_review_unchecked() -> None:
    doubtful = _readings("14")  # right, but the machine cannot know it
    doubtful[f"{COLUMN}.rr"] = Reading(f"{COLUMN}.rr", "24", 0.5, ReadingStatus.REVIEW)
    total = check_news2(LAYOUT, doubtful)[f"{COLUMN}.news2"]
    assert total.status == ReadingStatus.REVIEW and total.flags == (Flag.NEWS2_UNCHECKED,)
    confirmed = dict(doubtful)
    confirmed[f"{COLUMN}.rr"] = Reading(f"{COLUMN}.rr", "24", 1.0, ReadingStatus.CONFIRMED)
    assert check_news2(LAYOUT, confirmed)[f"{COLUMN}.news2"].flags == ()


def test_only_the_vitals_chart_is_checked() -> None:
    other = replace(LAYOUT, template="mar")
    assert check_news2(other, _readings("4")) == _readings("4")
