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

from papermode.core.errors import ExitCode, PapermodeError
from papermode.core.flags import Threshold


class SettingsError(PapermodeError):
    """The settings file is invalid; `problems` lists every problem with its key."""

    exit_code = ExitCode.SETTINGS

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {len(self.problems)} problem(s) in the settings:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__(
            "\n".join(lines), advice="Correct the settings file (see docs/settings.md)."
        )


# Today's plausibility limits, also the packaged defaults (`[plausibility]` in settings.toml).
DEFAULT_TIME_WINDOW_HOURS = 2.0
# Human ranges a nurse can record; outside them the value is almost surely a misreading.
DEFAULT_VITAL_RANGES: dict[str, tuple[float, float]] = {
    "heart_rate": (20, 250),
    "systolic": (50, 260),
    "diastolic": (20, 160),
    "temperature": (30.0, 43.5),
    "spo2": (50, 100),
    "respiratory_rate": (4, 60),
    # the vitals chart's newer rows (forms/vitals.toml)
    "pain": (0, 10),
    "glucose": (0.5, 35.0),
    "o2_flow": (0.1, 60.0),
    "news2": (0, 20),
}
# The [reading] thresholds the readers use: tick boxes and ink boxes by field kind
# (`reading.fields`), comb fields by field type (`reading.digits.field_type`).
READING_THRESHOLDS: tuple[Threshold, ...] = tuple(Threshold)


@dataclass(frozen=True)
class PlausibilityLimits:
    """How far a written time may be from its slot, and each vital sign's human range.

    Passed down to `papermode.reading.plausibility.check`; `Settings.plausibility` holds a
    hospital's own.
    """

    time_window_hours: float = DEFAULT_TIME_WINDOW_HOURS
    vital_ranges: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_VITAL_RANGES)
    )


@dataclass(frozen=True)
class Settings:
    """A hospital's settings. Build with `load_settings`; `Settings()` holds no times at all.

    `standard_times` maps a lower-case timing code ("q8h", "bid", "daily") to its times of
    day; `timing_aliases` maps other spellings ("bd", "2x/j") to such a code. `reading`
    holds the confidence thresholds by name (`READING_THRESHOLDS`: checkbox, time, ...);
    `time_window_hours` and `vital_ranges` are the plausibility limits (`plausibility`).
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
    time_window_hours: float = DEFAULT_TIME_WINDOW_HOURS
    vital_ranges: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_VITAL_RANGES)
    )
    # census fidelity (docs/settings.md, [schedule.meals] and [census])
    meal_times: dict[str, time] = field(default_factory=dict)  # breakfast, lunch, dinner
    before_meal_minutes: int = 30  # FHIR AC* with no offset: this long before the meal
    after_meal_minutes: int = 30  # FHIR PC* with no offset: this long after the meal
    event_times: dict[str, tuple[time, ...]] = field(default_factory=dict)  # "hs" -> (22:00,)
    census_max_age_hours: float = 12.0
    mrn_system: str = ""  # "" : any system, the identifier typed MR decides
    census_units: tuple[str, ...] = ()  # the hospital's own dose-unit spellings
    census_routes: tuple[str, ...] = ()  # the hospital's own route spellings
    do_not_perform: str = "leave_out"  # doNotPerform orders: "leave_out" or "print" (DO NOT GIVE)
    # reconcile: ISMP acute-care windows (minutes either side of the scheduled time), the
    # time-critical medicines, the one-time timing codes and the back-entry priority.
    reconcile_time_critical_minutes: float = 30.0
    reconcile_frequent_minutes: float = 60.0
    reconcile_daily_minutes: float = 120.0
    reconcile_very_frequent_share: float = 0.25
    reconcile_time_critical_words: tuple[str, ...] = ()
    reconcile_one_time_codes: tuple[str, ...] = ()
    reconcile_match_minutes: float = 60.0
    reconcile_priority: tuple[str, ...] = ()
    reconcile_priority_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # reading safety at the edges: Tesseract's time budget for one free photo
    ocr_free_photo_seconds: float = 20.0
    # review: the queue's levels, most clinically important first (docs/review-queue.md)
    review_order: tuple[str, ...] = ()
    # forms: days on one multi-day MAR sheet (1-7); 0 prints today's per-day MAR
    mar_days: int = 0

    @property
    def plausibility(self) -> PlausibilityLimits:
        """What the plausibility checks of the readers need (`[plausibility]`)."""
        return PlausibilityLimits(self.time_window_hours, dict(self.vital_ranges))


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


def _parse_threshold(key: str, value: Any, problems: Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{key}: {value!r} is not a number")
        return None
    if not 0.0 <= float(value) <= 1.0:
        problems.append(f"{key}: {value!r} must lie between 0 and 1")
        return None
    return float(value)


def _parse_window(key: str, value: Any, problems: Problems) -> float | None:
    # Beyond 12 h the nearest day of a written time is ambiguous: no window is wider.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 12:
        problems.append(f"{key}: {value!r} must be a number of hours above 0, at most 12")
        return None
    return float(value)


def _parse_range(key: str, value: Any, problems: Problems) -> tuple[float, float] | None:
    numbers = value if isinstance(value, list) and len(value) == 2 else None
    if numbers is None or any(
        isinstance(n, bool) or not isinstance(n, int | float) for n in numbers
    ):
        problems.append(f"{key}: {value!r} must be two numbers [lowest, highest], like [20, 250]")
        return None
    low, high = numbers
    if not 0 <= low < high:
        problems.append(f"{key}: {value!r}: the lowest must be 0 or more, below the highest")
        return None
    return (low, high)


MEALS = ("breakfast", "lunch", "dinner")


def _parse_meals(key: str, value: Any, problems: Problems) -> dict[str, time]:
    if not isinstance(value, dict) or sorted(value) != sorted(MEALS):
        problems.append(f'{key}: must be a table of breakfast, lunch and dinner = "HH:MM"')
        return {}
    meals = {meal: _parse_time(f"{key}.{meal}", value[meal], problems) for meal in MEALS}
    return {meal: at for meal, at in meals.items() if at is not None}


def _parse_minutes(key: str, value: Any, problems: Problems) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 240:
        problems.append(f"{key}: {value!r} must be a whole number of minutes from 0 to 240")
        return 0
    return value


def _parse_age_hours(key: str, value: Any, problems: Problems) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 24 * 14:
        problems.append(f"{key}: {value!r} must be a number of hours above 0 (at most 336)")
        return 12.0
    return float(value)


def _parse_text(key: str, value: Any, problems: Problems) -> str:
    if not isinstance(value, str):
        problems.append(f'{key}: {value!r} must be text, like "https://ehr.example.org/mrn"')
        return ""
    return value.strip()


DO_NOT_PERFORM_CHOICES = ("leave_out", "print")


def _parse_do_not_perform(key: str, value: Any, problems: Problems) -> str:
    if value not in DO_NOT_PERFORM_CHOICES:
        problems.append(f'{key}: {value!r} must be "leave_out" or "print"')
        return "leave_out"
    return str(value)


def _parse_window_minutes(key: str, value: Any, problems: Problems) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 24 * 60:
        problems.append(f"{key}: {value!r} must be a number of minutes above 0, at most 1440")
        return 0.0
    return float(value)


def _parse_share(key: str, value: Any, problems: Problems) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 0.5:
        problems.append(f"{key}: {value!r} must be a share of the interval above 0, at most 0.5")
        return 0.0
    return float(value)


def _parse_optional_words(key: str, value: Any, problems: Problems) -> tuple[str, ...]:
    return () if value == [] else _parse_words(key, value, problems)


def _parse_word_table(key: str, value: Any, problems: Problems) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        problems.append(f'{key}: must be a table of group = ["word", ...]')
        return {}
    return {
        name.strip().lower(): _parse_words(f"{key}.{name}", words, problems)
        for name, words in value.items()
    }


def _parse_seconds(key: str, value: Any, problems: Problems) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 600:
        problems.append(f"{key}: {value!r} must be a number of seconds from 1 to 600")
        return 20.0
    return float(value)


# The review queue's levels (papermode.review.queue), in the documented default order.
REVIEW_LEVELS: tuple[str, ...] = (
    "identity", "new_order", "high_alert", "conflict", "implausible", "other", "retake",
    "quarantined", "never_photographed",
)  # fmt: skip


def _parse_review_order(key: str, value: Any, problems: Problems) -> tuple[str, ...]:
    """Every level of the queue, each once: a level left out would never be shown."""
    known = ", ".join(REVIEW_LEVELS)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{key}: must be a list of the queue's levels: {known}")
        return REVIEW_LEVELS
    names = [v.strip() for v in value]
    unknown = [n for n in names if n not in REVIEW_LEVELS]
    missing = [n for n in REVIEW_LEVELS if n not in names]
    twice = sorted({n for n in names if names.count(n) > 1})
    for what, found in (("unknown", unknown), ("missing", missing), ("named twice", twice)):
        if found:
            problems.append(f"{key}: {what} level(s) {', '.join(found)}; the levels are: {known}")
    return tuple(names) if not (unknown or missing or twice) else REVIEW_LEVELS


@dataclass(frozen=True)
class SettingSpec:
    """One settings key: where it sits in the TOML file and how its value is checked.

    `item` set: the value is one entry of a dict attribute (`reading["checkbox"]`).
    """

    key: str  # dotted TOML path, e.g. "schedule.day_start"
    attribute: str  # the Settings attribute it fills
    parse: Parser
    help: str
    merge: bool = False  # tables: a hospital's entries are added to the defaults
    item: str | None = None

    @property
    def target(self) -> str:
        """Where the value lands in `Settings`: `day_start`, `reading["checkbox"]`."""
        return f'{self.attribute}["{self.item}"]' if self.item else self.attribute


_THRESHOLD_HELP = {
    Threshold.CHECKBOX: "tick boxes (empty / ticked / filled)",
    Threshold.SIGNATURE: "initials and signature boxes (ink or empty)",
    Threshold.TEXT: "handwritten text boxes left empty (ink always goes to review)",
    Threshold.TIME: "HHMM comb boxes",
    Threshold.VITAL: "vital signs",
    Threshold.DOSE: "doses",
    Threshold.NUMBER: "other numbers (temporary admission number)",
}
_VITAL_HELP = {
    "heart_rate": "heart rate, /min",
    "systolic": "systolic blood pressure, mmHg",
    "diastolic": "diastolic blood pressure, mmHg",
    "temperature": "temperature, °C",
    "spo2": "oxygen saturation, %",
    "respiratory_rate": "respiratory rate, /min",
    "pain": "pain score, 0-10",
    "glucose": "capillary glucose, mmol/L",
    "o2_flow": "oxygen flow, L/min",
    "news2": "the NEWS2 total written, 0-20",
}

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("schedule.day_start", "day_start", _parse_time,
                "First standard hour; regular frequencies with no standard times start here."),
    SettingSpec("schedule.standard_times", "standard_times", _parse_time_table,
                "Times of day per lower-case timing code (q8h, bid, daily, ...).", merge=True),
    SettingSpec("schedule.aliases", "timing_aliases", _parse_aliases,
                "Other spellings of the timing codes (bd, 2x/j, ...) -> a code.", merge=True),
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
    *(
        SettingSpec(f"reading.{name}", "reading", _parse_threshold,
                    f"Confidence threshold (0 to 1) for {_THRESHOLD_HELP[name]}; below it, "
                    "review.", item=name)
        for name in READING_THRESHOLDS
    ),
    SettingSpec("plausibility.time_window_hours", "time_window_hours", _parse_window,
                "Hours (above 0, at most 12) a written time may be from its scheduled slot; "
                "further: review."),
    *(
        SettingSpec(f"plausibility.vital_ranges.{name}", "vital_ranges", _parse_range,
                    f"Human range [lowest, highest] of {help}; outside it: review.", item=name)
        for name, help in _VITAL_HELP.items()
    ),
)  # fmt: skip

# Census fidelity: FHIR EventTiming codes, census age, MRN identifier (docs/settings.md).
SETTINGS += (
    SettingSpec("schedule.meals", "meal_times", _parse_meals,
                "Meal times (breakfast, lunch, dinner) that place FHIR AC/C/PC codes."),
    SettingSpec("schedule.meal_minutes.before", "before_meal_minutes", _parse_minutes,
                "Minutes before the meal for AC, ACM, ACD, ACV when no offset is given."),
    SettingSpec("schedule.meal_minutes.after", "after_meal_minutes", _parse_minutes,
                "Minutes after the meal for PC, PCM, PCD, PCV when no offset is given."),
    SettingSpec("schedule.event_times", "event_times", _parse_time_table,
                "Times of the other FHIR EventTiming codes (HS, WAKE, MORN, NOON, ...).",
                merge=True),
    SettingSpec("census.max_age_hours", "census_max_age_hours", _parse_age_hours,
                "Warn when the census is older than this at the start of the printed period."),
    SettingSpec("census.mrn_system", "mrn_system", _parse_text,
                "The identifier system of the MRN; empty: the identifier typed MR."),
    SettingSpec("census.units", "census_units", _parse_words,
                "Dose units the hospital writes beyond UCUM and the usual spellings."),
    SettingSpec("census.routes", "census_routes", _parse_words,
                "Routes the hospital writes beyond SNOMED CT and the usual spellings."),
)  # fmt: skip

# Reconcile (docs/reconcile.md): ISMP acute-care timing windows and back-entry order.
SETTINGS += (
    SettingSpec("reconcile.time_critical_minutes", "reconcile_time_critical_minutes",
                _parse_window_minutes,
                "Window either side for time-critical medicines (ISMP: 30)."),
    SettingSpec("reconcile.frequent_minutes", "reconcile_frequent_minutes", _parse_window_minutes,
                "Window for doses more often than daily, at most every 4 h (ISMP: 60)."),
    SettingSpec("reconcile.daily_minutes", "reconcile_daily_minutes", _parse_window_minutes,
                "Window for doses daily or less often (ISMP: 120)."),
    SettingSpec("reconcile.very_frequent_share", "reconcile_very_frequent_share", _parse_share,
                "Window for doses more often than every 4 h, as a share of the interval."),
    SettingSpec("reconcile.time_critical", "reconcile_time_critical_words",
                _parse_optional_words, "Words of time-critical medicines (whole words)."),
    SettingSpec("reconcile.one_time_codes", "reconcile_one_time_codes", _parse_optional_words,
                "Timing codes of STAT and one-time doses (no timing window)."),
    SettingSpec("reconcile.match_minutes", "reconcile_match_minutes", _parse_window_minutes,
                "How far a restored record's time may be from the paper's to match it."),
    SettingSpec("reconcile.priority", "reconcile_priority", _parse_words,
                "Back-entry order of groups: high_alert, time_critical, a priority_words group."),
    SettingSpec("reconcile.priority_words", "reconcile_priority_words", _parse_word_table,
                "Medicine words per back-entry group (anti_infectives = [...])."),
)  # fmt: skip

# Reading safety at the edges (free photos): a separate block, added after the others.
SETTINGS += (
    SettingSpec("ocr.free_photo_seconds", "ocr_free_photo_seconds", _parse_seconds,
                "Seconds Tesseract may spend on one free photo before it is stopped."),
)  # fmt: skip

# Orders NOT to give (docs/census.md#left-out-printed-by-prepare-never-silent).
SETTINGS += (
    SettingSpec("census.do_not_perform", "do_not_perform", _parse_do_not_perform,
                'Orders NOT to give (doNotPerform): "leave_out" (listed) or "print" a '
                "DO NOT GIVE line on the MAR."),
)  # fmt: skip


# Review (docs/review-queue.md): the order of the queue's levels.
SETTINGS += (
    SettingSpec("review.order", "review_order", _parse_review_order,
                "The review queue's levels, most important first (all nine, each once)."),
)  # fmt: skip


MAR_DAYS_MAX = 7  # the chart habit nurses know: one week on a sheet


def _parse_mar_days(key: str, value: Any, problems: Problems) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAR_DAYS_MAX:
        problems.append(
            f"{key}: {value!r} must be a whole number of days from 0 (per-day MAR) to 7"
        )
        return 0
    return value


# The multi-day MAR (docs/templates.md#multi-day-mar): its days, like --days.
SETTINGS += (
    SettingSpec("schedule.mar_days", "mar_days", _parse_mar_days,
                "Days on one multi-day MAR sheet (1-7, like --days); 0: the per-day MAR."),
)  # fmt: skip


# --------------------------------------------------------------------------- loading

_SPEC_KEYS = {spec.key for spec in SETTINGS}


def default_settings_path() -> Path:
    """The packaged defaults, `papermode/data/settings.toml`."""
    return Path(str(resources.files("papermode") / "data" / "settings.toml"))


def load_settings(path: Path | None = None) -> Settings:
    """The packaged defaults, overridden by the hospital's TOML file at `path` if given.

    Raises `SettingsError` listing every problem (with its key) when anything is invalid;
    an unknown key is a problem that names the known keys of its table.
    """
    defaults = _read_toml(default_settings_path())
    overrides = _read_toml(path) if path is not None else {}
    source = path.name if path is not None else "settings.toml (packaged defaults)"
    problems = unknown_keys(overrides)
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        value = _parse_spec(spec, defaults, overrides, problems)
        if spec.key == "high_alert.extra_words":
            value = tuple(dict.fromkeys(values.get(spec.attribute, ()) + value))
        if spec.item is not None:
            values.setdefault(spec.attribute, {})[spec.item] = value
        else:
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


def unknown_keys(document: dict[str, Any], prefix: str = "") -> Problems:
    """A problem for every key of `document` that no `SettingSpec` declares, each naming the
    known keys of its table."""
    problems: Problems = []
    for name, value in document.items():
        key = f"{prefix}{name}"
        if key in _SPEC_KEYS:
            continue
        if any(k.startswith(key + ".") for k in _SPEC_KEYS):
            if isinstance(value, dict):
                problems += unknown_keys(value, key + ".")
            else:
                problems.append(f"{key}: must be a table ([{key}] with its own keys)")
            continue
        table = f"[{prefix[:-1]}]" if prefix else "the file"
        known = ", ".join(_known_keys(prefix))
        problems.append(f"{key}: unknown setting; the known keys of {table} are: {known}")
    return problems


def _known_keys(prefix: str) -> list[str]:
    names = (k[len(prefix) :].split(".")[0] for k in _SPEC_KEYS if k.startswith(prefix))
    return sorted(set(names))


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
    problems = [
        f"schedule.aliases.{alias}: {code!r} is not a code of schedule.standard_times"
        for alias, code in values["timing_aliases"].items()
        if code not in codes
    ]
    groups = {"high_alert", "time_critical", *values["reconcile_priority_words"]}
    problems += [
        f"reconcile.priority: {name!r} is not high_alert, time_critical or a group of "
        "reconcile.priority_words"
        for name in values["reconcile_priority"]
        if name not in groups
    ]
    return problems


# --------------------------------------------------------------------------- documentation


def settings_table() -> str:
    """The Markdown table of every declared key (docs/settings.md holds it, a test keeps it
    equal): key, packaged default, where it lands in `Settings`, meaning."""
    defaults = _read_toml(default_settings_path())
    lines = [
        "| key | default | `Settings` attribute | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for spec in SETTINGS:
        default = describe_default(_lookup(defaults, spec.key))
        merged = " (merged)" if spec.merge else ""
        lines.append(f"| `{spec.key}`{merged} | {default} | `{spec.target}` | {spec.help} |")
    return "\n".join(lines)


def describe_default(value: Any) -> str:
    """A packaged default as written in settings.toml, or where to find a long one."""
    if isinstance(value, dict):
        return f"{len(value)} entries in `settings.toml`"
    text = _toml_value(value)
    if len(text) > 30:
        return f"{len(value)} items in `settings.toml`"
    return f"`{text}`"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)
