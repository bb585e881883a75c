"""Hospital settings: standard administration times, high-alert words, OCR languages, thresholds.

Settings are declared as data (`SETTINGS`, one `SettingSpec` per key, as datasette does):
the packaged defaults live in `papermode/data/settings.toml`; a hospital's own TOML file
overrides any key. `load_settings` checks every key and reports every problem at once.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any

from papermode.core.errors import PapermodeError


class SettingsError(PapermodeError):
    """The settings file is invalid; `problems` lists every problem with its key."""

    exit_code = 2

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {len(self.problems)} problem(s) in the settings:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__(
            "\n".join(lines), advice="Correct the settings file (see docs/settings.md)."
        )


@dataclass(frozen=True)
class Settings:
    """A hospital's settings. Build with `load_settings`; `Settings()` holds no times at all.

    `standard_times` maps a lower-case timing code ("q8h", "bid", "daily") to its times of
    day; `timing_aliases` maps other spellings ("bd", "2x/j") to such a code. `reading`
    holds confidence thresholds by name (callers use `settings.reading.get(name, default)`).
    """

    day_start: time = time(6, 0)
    standard_times: dict[str, tuple[time, ...]] = field(default_factory=dict)
    timing_aliases: dict[str, str] = field(default_factory=dict)
    high_alert_words: tuple[str, ...] = ()
    high_alert_iv_only_words: tuple[str, ...] = ()
    ocr_languages: tuple[str, ...] = ("fra", "eng")
    reading: dict[str, float] = field(default_factory=dict)
    vitals_times: tuple[time, ...] = ()  # empty: every `vitals_every_hours`
    vitals_every_hours: float | None = None  # None: the vitals template's own interval
    ocr_free_photo_seconds: float = 20.0  # Tesseract's time budget for one free photo


# --------------------------------------------------------------------------- declared keys

Problems = list[str]
Parser = Callable[[str, Any, Problems], Any]
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_LANGUAGE = re.compile(r"^[a-z]{3}(_[a-z]+)?$")


def _parse_time(key: str, value: Any, problems: Problems) -> time | None:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        problems.append(f'{key}: {value!r} is not a time of day; write it as "HH:MM"')
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _parse_times(key: str, value: Any, problems: Problems) -> tuple[time, ...]:
    if not isinstance(value, list) or not value:
        problems.append(f'{key}: must be a non-empty list of times like ["08:00", "20:00"]')
        return ()
    times = [_parse_time(f"{key}[{i}]", item, problems) for i, item in enumerate(value)]
    return tuple(sorted({t for t in times if t is not None}))


def _parse_optional_times(key: str, value: Any, problems: Problems) -> tuple[time, ...]:
    return () if value == [] else _parse_times(key, value, problems)


def _parse_hours(key: str, value: Any, problems: Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 24:
        problems.append(f"{key}: {value!r} must be a number of hours from 0 (not set) to 24")
        return None
    return float(value) or None


def _parse_time_table(key: str, value: Any, problems: Problems) -> dict[str, tuple[time, ...]]:
    if not isinstance(value, dict):
        problems.append(f'{key}: must be a table of code = ["HH:MM", ...]')
        return {}
    return {
        code.strip().lower(): _parse_times(f"{key}.{code}", times, problems)
        for code, times in value.items()
    }


def _parse_aliases(key: str, value: Any, problems: Problems) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.append(f'{key}: must be a table of spelling = "code"')
        return {}
    return {" ".join(k.lower().split()): v.strip().lower() for k, v in value.items()}


def _parse_words(key: str, value: Any, problems: Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        problems.append(f'{key}: must be a list of words like ["insulin", "heparin"]')
        return ()
    return tuple(dict.fromkeys(" ".join(w.split()) for w in value))


def _parse_languages(key: str, value: Any, problems: Problems) -> tuple[str, ...]:
    words = _parse_words(key, value, problems)
    bad = [w for w in words if not _LANGUAGE.match(w)]
    if bad or not words:
        problems.append(f'{key}: {bad or value!r}: use Tesseract language codes like "fra"')
    return words


def _parse_thresholds(key: str, value: Any, problems: Problems) -> dict[str, float]:
    if not isinstance(value, dict):
        problems.append(f"{key}: must be a table of name = number between 0 and 1")
        return {}
    thresholds: dict[str, float] = {}
    for name, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float):
            problems.append(f"{key}.{name}: {number!r} is not a number")
        elif not 0.0 <= float(number) <= 1.0:
            problems.append(f"{key}.{name}: {number!r} must lie between 0 and 1")
        else:
            thresholds[name] = float(number)
    return thresholds


def _parse_seconds(key: str, value: Any, problems: Problems) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 600:
        problems.append(f"{key}: {value!r} must be a number of seconds from 1 to 600")
        return 20.0
    return float(value)


@dataclass(frozen=True)
class SettingSpec:
    """One settings key: where it sits in the TOML file and how its value is checked."""

    key: str  # dotted TOML path, e.g. "schedule.day_start"
    attribute: str  # the Settings attribute it fills
    parse: Parser
    help: str
    merge: bool = False  # tables: a hospital's entries are added to the defaults


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("schedule.day_start", "day_start", _parse_time,
                "First standard hour; regular frequencies with no standard times start here."),
    SettingSpec("schedule.standard_times", "standard_times", _parse_time_table,
                "Times of day per timing code (q8h, bid, daily, ...).", merge=True),
    SettingSpec("schedule.aliases", "timing_aliases", _parse_aliases,
                "Other spellings of the timing codes (bd, 2x/j, ...).", merge=True),
    SettingSpec("high_alert.words", "high_alert_words", _parse_words,
                "Words that make an order high-alert (whole words; case, accents ignored)."),
    SettingSpec("high_alert.iv_only_words", "high_alert_iv_only_words", _parse_words,
                "Words that make an order high-alert when given intravenously."),
    SettingSpec("high_alert.extra_words", "high_alert_words", _parse_words,
                "A hospital's own high-alert words, added to `words`."),
    SettingSpec("ocr.languages", "ocr_languages", _parse_languages,
                "Tesseract languages for printed text, in order of preference."),
    SettingSpec("vitals.times", "vitals_times", _parse_optional_times,
                "Times of day for vital signs on the chart; [] to use every_hours."),
    SettingSpec("vitals.every_hours", "vitals_every_hours", _parse_hours,
                "Hours between vital-sign columns; 0 keeps the template's interval."),
    SettingSpec("reading", "reading", _parse_thresholds,
                "Confidence thresholds (0..1) for reading captured pages.", merge=True),
)  # fmt: skip

# Reading safety at the edges (free photos): a separate block, added after the others.
SETTINGS += (
    SettingSpec("ocr.free_photo_seconds", "ocr_free_photo_seconds", _parse_seconds,
                "Seconds Tesseract may spend on one free photo before it is stopped."),
)  # fmt: skip


# --------------------------------------------------------------------------- loading

_SPEC_KEYS = {spec.key for spec in SETTINGS}


def default_settings_path() -> Path:
    """The packaged defaults, `papermode/data/settings.toml`."""
    return Path(str(resources.files("papermode") / "data" / "settings.toml"))


def load_settings(path: Path | None = None) -> Settings:
    """The packaged defaults, overridden by the hospital's TOML file at `path` if given.

    Raises `SettingsError` listing every problem (with its key) when anything is invalid.
    """
    defaults = _read_toml(default_settings_path())
    overrides = _read_toml(path) if path is not None else {}
    source = path.name if path is not None else "settings.toml (packaged defaults)"
    problems = [f"{key}: unknown setting; check its spelling" for key in _unknown(overrides)]
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        value = _parse_spec(spec, defaults, overrides, problems)
        if spec.key == "high_alert.extra_words":
            value = tuple(dict.fromkeys(values.get(spec.attribute, ()) + value))
        values[spec.attribute] = value
    problems += _cross_check(values)
    if problems:
        raise SettingsError(source, problems)
    return Settings(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise SettingsError(path.name, [f"cannot be read ({error.strerror})"]) from error
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(path.name, [f"not valid TOML: {error}"]) from error


def _lookup(document: dict[str, Any], key: str) -> Any:
    node: Any = document
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _unknown(document: dict[str, Any], prefix: str = "") -> list[str]:
    unknown: list[str] = []
    for name, value in document.items():
        key = f"{prefix}{name}"
        if key in _SPEC_KEYS:
            continue
        if isinstance(value, dict) and any(k.startswith(key + ".") for k in _SPEC_KEYS):
            unknown += _unknown(value, key + ".")
        else:
            unknown.append(key)
    return unknown


def _parse_spec(
    spec: SettingSpec, defaults: dict[str, Any], overrides: dict[str, Any], problems: Problems
) -> Any:
    default = _lookup(defaults, spec.key)
    override = _lookup(overrides, spec.key)
    if spec.merge and isinstance(default, dict) and isinstance(override, dict):
        raw = {**default, **override}
    else:
        raw = override if override is not None else default
    if raw is None:
        raw = [] if spec.key == "high_alert.extra_words" else {}
    if spec.key == "high_alert.extra_words" and raw == []:
        return ()
    return spec.parse(spec.key, raw, problems)


def _cross_check(values: dict[str, Any]) -> Problems:
    codes = values["standard_times"]
    return [
        f"schedule.aliases.{alias}: {code!r} is not a code of schedule.standard_times"
        for alias, code in values["timing_aliases"].items()
        if code not in codes
    ]
