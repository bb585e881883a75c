"""Hospital settings: packaged defaults, overrides, and every problem reported with its key."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from papermode.core.settings import SETTINGS, SettingsError, default_settings_path, load_settings


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
        "[reading]\nmy_threshold = 0.5\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.day_start == time(7)
    assert settings.standard_times["q8h"] == (time(7), time(15), time(23))
    assert settings.standard_times["bid"] == (time(8), time(20))  # defaults kept
    assert settings.timing_aliases["3 fois par jour"] == "tid" and "bd" in settings.timing_aliases
    assert "methotrexate" in settings.high_alert_words and "insulin" in settings.high_alert_words
    assert settings.ocr_languages == ("nld", "eng")
    assert settings.reading["my_threshold"] == 0.5 and "checkbox" in settings.reading


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
        "schedule.shift: unknown setting; check its spelling",
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
