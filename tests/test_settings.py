"""Hospital settings: packaged defaults, overrides, and every problem reported with its key."""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path

import pytest

from papermode.core.settings import (
    READING_THRESHOLDS,
    REVIEW_LEVELS,
    SETTINGS,
    PlausibilityLimits,
    Settings,
    SettingsError,
    default_settings_path,
    describe_default,
    load_settings,
    settings_table,
    unknown_keys,
)
from papermode.reading import digits, page, plausibility

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_packaged_defaults() -> None:
    settings = load_settings()
    assert settings.standard_times["q8h"] == (time(6), time(14), time(22))
    assert settings.standard_times["bid"] == (time(8), time(20))
    assert settings.timing_aliases["bd"] == "bid"
    assert settings.day_start == time(6)
    assert {"insulin", "heparine", "morfine", "enoxaparin"} <= set(settings.high_alert_words)
    assert "potassium chloride" in settings.high_alert_iv_only_words
    assert settings.ocr_languages == ("fra", "eng")
    assert 0 < settings.reading["checkbox"] <= 1


def test_every_declared_key_is_in_the_defaults() -> None:
    text = default_settings_path().read_text(encoding="utf-8")
    for spec in SETTINGS:
        section, _, name = spec.key.rpartition(".")
        assert f"[{spec.key}]" in text or (f"[{section}]" in text and f"\n{name} =" in text), (
            spec.key
        )


def test_hospital_file_overrides_and_merges(tmp_path: Path) -> None:
    path = tmp_path / "hospital.toml"
    path.write_text(
        '[schedule]\nday_start = "07:00"\n'
        '[schedule.standard_times]\nq8h = ["07:00", "15:00", "23:00"]\n'
        '[schedule.aliases]\n"3 fois par jour" = "tid"\n'
        '[high_alert]\nextra_words = ["methotrexate"]\n'
        '[ocr]\nlanguages = ["nld", "eng"]\n'
        "[reading]\ntime = 0.95\n"
        "[plausibility]\ntime_window_hours = 1.5\n"
        "[plausibility.vital_ranges]\nheart_rate = [30, 220]\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.day_start == time(7)
    assert settings.standard_times["q8h"] == (time(7), time(15), time(23))
    assert settings.standard_times["bid"] == (time(8), time(20))  # defaults kept
    assert settings.timing_aliases["3 fois par jour"] == "tid" and "bd" in settings.timing_aliases
    assert "methotrexate" in settings.high_alert_words and "insulin" in settings.high_alert_words
    assert settings.ocr_languages == ("nld", "eng")
    assert settings.reading["time"] == 0.95 and settings.reading["checkbox"] == 0.9
    assert settings.plausibility.time_window_hours == 1.5
    assert settings.plausibility.vital_ranges["heart_rate"] == (30, 220)
    assert settings.plausibility.vital_ranges["spo2"] == (50, 100)  # defaults kept


def test_every_problem_is_reported_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[schedule]\nday_start = "25:00"\nshift = 3\n'
        '[schedule.standard_times]\nq8h = ["6am"]\n'
        '[schedule.aliases]\nbiquotidien = "twice"\n'
        '[ocr]\nlanguages = ["French"]\n'
        "[reading]\ncheckbox = 1.5\n",
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert caught.value.problems == [
        "schedule.shift: unknown setting; the known keys of [schedule] are: aliases, "
        "day_start, event_times, mar_days, meal_minutes, meals, standard_times",
        "schedule.day_start: '25:00' is not a time of day; write it as \"HH:MM\"",
        "schedule.standard_times.q8h[0]: '6am' is not a time of day; write it as \"HH:MM\"",
        "ocr.languages: ['French']: use Tesseract language codes like \"fra\"",
        "reading.checkbox: 1.5 must lie between 0 and 1",
        "schedule.aliases.biquotidien: 'twice' is not a code of schedule.standard_times",
    ]
    assert str(caught.value).startswith("bad.toml: 6 problem(s) in the settings:")


def test_unreadable_toml(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[schedule\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert caught.value.problems[0].startswith("not valid TOML: ")
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(tmp_path / "missing.toml")


def test_vitals_times_for_the_chart(tmp_path: Path) -> None:
    assert load_settings().vitals_times == () and load_settings().vitals_every_hours is None
    path = tmp_path / "hospital.toml"
    path.write_text('[vitals]\ntimes = ["22:00", "06:00"]\nevery_hours = 4\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.vitals_times == (time(6), time(22)) and settings.vitals_every_hours == 4.0


def load_text(tmp_path: Path, text: str) -> SettingsError:
    path = tmp_path / "hospital.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    return caught.value


def test_unknown_threshold_name_is_an_error_naming_the_known_ones(tmp_path: Path) -> None:
    # docs/settings.md once documented names no reader used: a hospital setting one believed
    # it raised a threshold while nothing changed.
    error = load_text(tmp_path, "[reading]\nauto_accept = 0.99\ncheckbox_confidence = 0.95\n")
    known = "checkbox, dose, number, signature, text, time, vital"
    assert error.problems == [
        f"reading.auto_accept: unknown setting; the known keys of [reading] are: {known}",
        f"reading.checkbox_confidence: unknown setting; the known keys of [reading] are: {known}",
    ]


def test_unknown_key_anywhere_names_the_known_keys_of_its_table(tmp_path: Path) -> None:
    error = load_text(
        tmp_path,
        "colour = 1\n"
        '[ocr]\nlanguage = ["fra"]\n'
        "[vitals]\nevery_hour = 4\n"
        "[plausibility]\ntime_window = 3\n"
        "[plausibility.vital_ranges]\npulse = [20, 200]\n"
        '[printing]\npaper = "a4"\n',
    )
    assert error.problems == [
        "colour: unknown setting; the known keys of the file are: census, high_alert, ocr, "
        "plausibility, reading, reconcile, review, schedule, vitals",
        "ocr.language: unknown setting; the known keys of [ocr] are: free_photo_seconds, languages",
        "vitals.every_hour: unknown setting; the known keys of [vitals] are: every_hours, times",
        "plausibility.time_window: unknown setting; the known keys of [plausibility] are: "
        "time_window_hours, vital_ranges",
        "plausibility.vital_ranges.pulse: unknown setting; the known keys of "
        "[plausibility.vital_ranges] are: diastolic, glucose, heart_rate, news2, o2_flow, "
        "pain, respiratory_rate, spo2, systolic, temperature",
        "printing: unknown setting; the known keys of the file are: census, high_alert, ocr, "
        "plausibility, reading, reconcile, review, schedule, vitals",
    ]


def test_a_table_written_as_a_value_is_an_error(tmp_path: Path) -> None:
    error = load_text(tmp_path, "reading = 0.9\n")
    assert error.problems == ["reading: must be a table ([reading] with its own keys)"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[reading]\nvital = 1.2\n", "reading.vital: 1.2 must lie between 0 and 1"),
        ("[reading]\ndose = -0.1\n", "reading.dose: -0.1 must lie between 0 and 1"),
        ('[reading]\ntime = "high"\n', "reading.time: 'high' is not a number"),
        ("[reading]\ntext = true\n", "reading.text: True is not a number"),
        (
            "[plausibility]\ntime_window_hours = 0\n",
            "plausibility.time_window_hours: 0 must be a number of hours above 0, at most 12",
        ),
        (
            "[plausibility]\ntime_window_hours = 13\n",
            "plausibility.time_window_hours: 13 must be a number of hours above 0, at most 12",
        ),
        (
            "[plausibility.vital_ranges]\nspo2 = [100, 50]\n",
            "plausibility.vital_ranges.spo2: [100, 50]: the lowest must be 0 or more, below the "
            "highest",
        ),
        (
            "[plausibility.vital_ranges]\nspo2 = 90\n",
            "plausibility.vital_ranges.spo2: 90 must be two numbers [lowest, highest], like "
            "[20, 250]",
        ),
        (
            '[plausibility.vital_ranges]\nspo2 = [50, "100"]\n',
            "plausibility.vital_ranges.spo2: [50, '100'] must be two numbers [lowest, highest], "
            "like [20, 250]",
        ),
    ],
)
def test_out_of_range_values_are_errors(tmp_path: Path, text: str, problem: str) -> None:
    assert load_text(tmp_path, text).problems == [problem]


def test_the_thresholds_declared_are_the_ones_the_readers_use() -> None:
    readers = {**page.DEFAULT_THRESHOLDS, **digits.DEFAULT_THRESHOLDS}
    assert set(READING_THRESHOLDS) == set(readers)
    # The readers' own defaults (no settings passed) are the packaged ones.
    assert load_settings().reading == readers


def test_plausibility_defaults_are_todays_limits() -> None:
    limits = load_settings().plausibility
    assert limits == PlausibilityLimits() == Settings().plausibility == plausibility.DEFAULT_LIMITS
    assert limits.time_window_hours == 2.0
    assert limits.vital_ranges == {
        "heart_rate": (20, 250),
        "systolic": (50, 260),
        "diastolic": (20, 160),
        "temperature": (30.0, 43.5),
        "spo2": (50, 100),
        "respiratory_rate": (4, 60),
        "pain": (0, 10),
        "glucose": (0.5, 35.0),
        "o2_flow": (0.1, 60.0),
        "news2": (0, 20),
    }
    assert set(limits.vital_ranges) == set(plausibility.VITAL_WORDS)


def test_the_packaged_file_has_no_undeclared_key() -> None:
    with default_settings_path().open("rb") as handle:
        assert unknown_keys(tomllib.load(handle)) == []


def _docs_table() -> dict[str, tuple[str, str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("<!-- settings-table: start -->")
    end = text.index("<!-- settings-table: end -->")
    rows: dict[str, tuple[str, str, str]] = {}
    for line in text[start:end].splitlines()[3:]:
        key, default, target, meaning = (cell.strip() for cell in line.strip("|").split(" | "))
        rows[key.removesuffix(" (merged)").strip("`")] = (default, target.strip("`"), meaning)
    return rows


def test_docs_table_equals_the_settings_schema() -> None:
    documented = _docs_table()
    declared = {spec.key: spec for spec in SETTINGS}
    assert sorted(set(declared) - set(documented)) == [], "declared but not in docs/settings.md"
    assert sorted(set(documented) - set(declared)) == [], "in docs/settings.md but not read"
    with default_settings_path().open("rb") as handle:
        defaults = tomllib.load(handle)
    for key, spec in declared.items():
        node = defaults
        for part in key.split("."):
            node = node[part]
        assert documented[key] == (describe_default(node), spec.target, spec.help), key
    assert settings_table() in DOCS.read_text(encoding="utf-8")


def test_the_review_queue_order_is_a_setting_checked_level_by_level(tmp_path: Path) -> None:
    assert load_settings().review_order == REVIEW_LEVELS
    assert REVIEW_LEVELS[0] == "identity" and REVIEW_LEVELS[-1] == "never_photographed"
    mine = ["high_alert", *[n for n in REVIEW_LEVELS if n != "high_alert"]]
    path = tmp_path / "hospital.toml"
    path.write_text(f"[review]\norder = {mine!r}\n".replace("'", '"'), encoding="utf-8")
    assert load_settings(path).review_order == tuple(mine)
    wrong = ["identity", "new_order", "high_alert", "urgent", "identity"]
    path.write_text(f"[review]\norder = {wrong!r}\n".replace("'", '"'), encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    known = ", ".join(REVIEW_LEVELS)
    assert error.value.problems == [
        f"review.order: unknown level(s) urgent; the levels are: {known}",
        "review.order: missing level(s) conflict, implausible, other, retake, quarantined, "
        f"never_photographed; the levels are: {known}",
        f"review.order: named twice level(s) identity; the levels are: {known}",
    ]
