"""Form templates: load and validate `forms/*.toml` and their translations, all errors at once.

A template is data: which form it is, its version (printed on every page and recorded in the
manifest), its title, its geometry in millimetres and its answer lists (units, routes,
frequencies, vital signs). Every label goes through the i18n tables in `forms/i18n/`
(`en`, `fr`, `nl`); a key missing from any language is a template error, so a page can never
print a raw key. `load_templates` reports every problem found, each with file and key.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from papermode.core.errors import TemplateError
from papermode.printing.layout.wording import WORDING_KEYS

LANGUAGES = ("en", "fr", "nl")
FORMS = ("mar", "prn", "new_orders", "vitals", "notes", "ward_census", "blank_admission")
_TOP_KEYS = {"name", "version", "form", "title", "geometry", "units", "routes", "frequencies"}
_TOP_KEYS |= {"vitals", "print"}
_PRINT_WHEN = ("always", "has_scheduled", "has_prn")
_VALUE_RE = re.compile(r"^[A-Za-z0-9_]+$")

# Minimum sizes so a nurse can write in a box and a tick does not run into the next box.
MIN_TICK_MM = 5.0
MIN_CELL_W_MM = 5.0
MIN_CELL_H_MM = 7.0
MIN_GAP_MM = 2.0

# Geometry keys each form needs, with their minimum value in mm (or count).
_TICK = ("tick_size", MIN_TICK_MM)
_CELL_W = ("cell_w", MIN_CELL_W_MM)
_CELL_H = ("cell_h", MIN_CELL_H_MM)
_GAP = ("gap", MIN_GAP_MM)
_SIGN_H = ("sign_h", MIN_CELL_H_MM)
GEOMETRY: dict[str, dict[str, float]] = {
    "mar": dict([_TICK, _CELL_W, _CELL_H, _GAP, _SIGN_H, ("info_w", 30.0), ("dose_w", 20.0)]),
    "prn": dict(
        [_CELL_W, _CELL_H, _GAP, _SIGN_H, ("entries", 1), ("dose_cells", 2), ("sign_w", 12.0)]
    ),
    "new_orders": dict(
        [_TICK, _CELL_W, _CELL_H, _GAP, _SIGN_H, ("dose_cells", 2), ("drug_h", 7.0)]
    ),
    "vitals": dict([_CELL_W, _CELL_H, _GAP, _SIGN_H, ("label_w", 20.0), ("every_hours", 1)]),
    "notes": dict([_CELL_W, _CELL_H, _SIGN_H, ("line_pitch", 6.0), ("sign_w", 20.0)]),
    "ward_census": dict([("row_pad", 0.5), ("text_size", 6.0)]),
    "blank_admission": dict([_CELL_W, _CELL_H, ("temp_cells", 6), ("name_w", 30.0)]),
}
# Upper bounds keep every form within a page (and a row within the page height).
MAXIMUM: dict[str, float] = {
    "tick_size": 10, "cell_w": 10, "cell_h": 15, "gap": 6, "sign_h": 20, "info_w": 90,
    "dose_w": 45, "entries": 12, "dose_cells": 8, "sign_w": 90, "drug_h": 15, "label_w": 80,
    "every_hours": 24, "line_pitch": 20, "row_pad": 5, "text_size": 12, "temp_cells": 10,
    "name_w": 100,
}  # fmt: skip
_ROOM_MM = {"prn": 190.0, "blank_admission": 45.0}
_LISTS = {"new_orders": ("units", "routes", "frequencies")}

# Keys the layout engine prints on every page or in every form, beyond a template's own.
COMMON_KEYS = (
    "banner.born",
    "banner.sex",
    "banner.location",
    "banner.allergies",
    "banner.allergies_not_recorded",
    "banner.no_known_allergies",
    "banner.weight",
    "banner.weight_undated",
    "banner.weight_not_recorded",
    "footer.page",
    "footer.orders_as_of",
    "footer.template",
    "footer.period",
    "date.short",
    *(f"month.{n}" for n in range(1, 13)),
    *WORDING_KEYS,  # layout/wording.py: doses, units, frequencies, sex
)
FORM_KEYS: dict[str, tuple[str, ...]] = {
    "mar": (
        "mar.legend",
        "mar.given",
        "mar.held",
        "mar.refused",
        "mar.initials",
        "mar.second_initials",
        "mar.reasons",
        "mar.reason",
        "mar.high_alert",
        "mar.double_check",
        "mar.prescriber",
        "mar.no_orders",
        "mar.no_dose_due",
        "mar.drug_write_in",
    ),
    "prn": ("prn.indication", "prn.max", "prn.time", "prn.dose", "prn.initials", "prn.no_orders"),
    "new_orders": (
        "new_orders.hint",
        "new_orders.drug",
        "new_orders.dose",
        "new_orders.unit",
        "new_orders.route",
        "new_orders.frequency",
        "new_orders.prescriber",
        "new_orders.readback",
    ),
    "vitals": ("vitals.initials",),
    "notes": ("notes.signature", "notes.time"),
    "ward_census": (
        "census.ward",
        "census.bed",
        "census.name",
        "census.mrn",
        "census.pages",
        "census.blank",
    ),
    "blank_admission": (
        "blank.name",
        "blank.birth_date",
        "blank.temp_number",
        "blank.instructions",
    ),
}
# The MAR's infusion band and DO NOT GIVE line (printing/layout/infusion.py, do_not_give.py).
FORM_KEYS["mar"] += (
    *(f"mar.infusion{part}" for part in ("", "_rate", "_calculated", "_legend", "_start",
                                         "_change", "_bag", "_stop", "_when", "_new_rate",
                                         "_from", "_until")),
    "mar.do_not_give",
    "mar.do_not_give_note",
)  # fmt: skip
# The MAR's "stopped" box; the census sheet's leave ticks and short form names (reprint).
FORM_KEYS["mar"] += ("mar.stop",)
FORM_KEYS["mar"] += ("mar.days_legend",)  # the multi-day MAR (printing/layout/mar_days.py)
FORM_KEYS["mar"] += ("mar.site", "mar.sites")  # SC / IM injection site box (core/sites.py)
# A controlled drug's witness box in each dose cell; "2nd / witness" when it is high-alert too.
FORM_KEYS["mar"] += ("mar.controlled", "mar.controlled_note", "mar.witness", "mar.second_witness")
# The PRN entry's date, site, second check, witness, reason and effect; its band and legend.
FORM_KEYS["prn"] += tuple(
    f"prn.{key}"
    for key in ("unit_as_ordered", "unit_as_written", "high_alert", "high_alert_note",
                "controlled", "controlled_note", "interval", "sites", "site", "second_check",
                "witness", "reason", "effect_time", "effect")
)  # fmt: skip
COMMON_KEYS += ("footer.orders_as_of_paper", "footer.orders_as_of_no_paper")
FORM_KEYS["new_orders"] += tuple(
    f"new_orders.{key}" for key in ("when", "date_hint", "time_hint", "prescriber_name")
)
# A blank pack's chart: each column's time written by hand (printing/layout/vitals.py).
FORM_KEYS["vitals"] += ("vitals.time_hhmm",)
# A blank pack's identity strip and undated footer (printing/layout/blank_pack.py).
FORM_KEYS["blank_admission"] += (
    "blank.ddmmyyyy",
    "blank.sex",
    "blank.sex_male",
    "blank.sex_female",
    "blank.sex_other",
    "blank.bed",
    "blank.weight_kg",
    "blank.date",
    "blank.allergies",
    "blank.no_known_allergies",
    "blank.undated",
)
FORM_KEYS["ward_census"] += (
    "census.discharged",
    "census.transferred",
    *(f"census.form_{name}" for name in ("mar", "prn", "new_orders", "vitals", "notes")),
)
COMMON_KEYS += ("census.form_ward_census",)  # the census sheet's own footer (kit.form_version)
# The banner's allergy box, the ALLERGY flag beside an order, the signature legend.
COMMON_KEYS += tuple(f"allergies.{k}" for k in ("label", "high", "more", "unassessed"))
COMMON_KEYS += tuple(f"allergies.nk_{k}" for k in ("drug", "food", "environmental", "insect",
                                                    "latex"))  # fmt: skip
FORM_KEYS["mar"] += ("allergies.flag", "allergies.flag_class", "allergies.flag_cross")
FORM_KEYS["prn"] += ("allergies.flag", "allergies.flag_class", "allergies.flag_cross")
COMMON_KEYS += tuple(f"legend.{k}" for k in ("title", "initials", "name", "signature"))


@dataclass(frozen=True)
class Option:
    """One answer of a tick-box group: `value` goes to the manifest, `label` is an i18n key."""

    value: str
    label: str


@dataclass(frozen=True)
class Vital:
    """One vital sign row of the chart."""

    name: str
    code: str
    label: str
    cells: int
    decimals: int = 0
    # A row of tick boxes instead of a comb (ACVPU, O2 device): one answer per time column,
    # each answer's label the i18n key `vitals.<name>_<choice>`.
    choices: tuple[str, ...] = ()
    ink: bool = False  # a write-in box read as ink only (the extra observation)

    @property
    def kind(self) -> str:
        """How the row is written: `digits` (a comb), `choice` (ticks) or `ink`."""
        return "choice" if self.choices else "ink" if self.ink else "digits"

    def choice_label(self, choice: str) -> str:
        return f"{self.label}_{choice}"


def answer_key(label: str) -> str:
    """The key printed beside an answer's tick on the vitals chart: the first word of the
    answer's label (`A` of "A alert", `N` of "N nasal cannula"), one letter."""
    return label.split(maxsplit=1)[0] if label.split() else ""


@dataclass(frozen=True)
class Template:
    """One validated form template."""

    name: str
    version: str
    form: str
    title: str  # i18n key
    source: str  # file name, for messages
    geometry: Mapping[str, float]
    print_when: str = "always"
    units: tuple[Option, ...] = ()
    routes: tuple[Option, ...] = ()
    frequencies: tuple[Option, ...] = ()
    vitals: tuple[Vital, ...] = ()

    def g(self, key: str) -> float:
        """A geometry value in mm (validated at load, so always present)."""
        return self.geometry[key]

    def count(self, key: str) -> int:
        return int(self.geometry[key])


@dataclass(frozen=True)
class TemplateSet:
    """All templates (one per form) and the translation tables."""

    templates: Mapping[str, Template]  # by form
    translations: Mapping[str, Mapping[str, str]]  # lang -> key -> text
    source: str = ""

    def for_form(self, form: str) -> Template:
        return self.templates[form]

    def text(self, lang: str, key: str, **values: object) -> str:
        """The translated label `key` in `lang`, with `{placeholders}` filled."""
        table = self.translations.get(lang)
        if table is None:
            raise TemplateError([f"language {lang!r} is not one of {', '.join(LANGUAGES)}"])
        template = table[key]
        return template.format(**values) if values else template


def default_forms_dir() -> Path:
    """`$PAPERMODE_FORMS`, or the templates shipped with papermode (`papermode.forms`).

    The wheel carries the repository's top-level `forms/` as the `papermode.forms` package
    (see setup.py); an editable install maps the same name onto `forms/` itself.
    """
    override = os.environ.get("PAPERMODE_FORMS")
    if override:
        return Path(override)
    shipped = resources.files("papermode") / "forms"
    if shipped.is_dir():
        return Path(str(shipped))
    # A source checkout run without installing (PYTHONPATH=.): the folder beside the package.
    return Path(__file__).resolve().parents[2] / "forms"


def load_templates(forms_dir: Path | None = None) -> TemplateSet:
    """Load and validate every template and translation; raise TemplateError listing all."""
    root = Path(forms_dir) if forms_dir is not None else default_forms_dir()
    problems: list[str] = []
    if not root.is_dir():
        raise TemplateError([f"{root}: the forms folder does not exist (set $PAPERMODE_FORMS)"])
    translations = {lang: _load_i18n(root, lang, problems) for lang in LANGUAGES}
    templates: dict[str, Template] = {}
    for path in sorted(root.glob("*.toml")):
        template = _load_template(path, problems)
        if template is None:
            continue
        if template.form in templates:
            other = templates[template.form].source
            problems.append(f"{path.name}: form: {template.form!r} is also defined in {other}")
            continue
        templates[template.form] = template
    for form in FORMS:
        if form not in templates:
            problems.append(f"{root.name}/: no template for form {form!r} (add {form}.toml)")
    _check_translations(translations, templates, problems)
    if problems:
        raise TemplateError(problems)
    return TemplateSet(templates=templates, translations=translations, source=str(root))


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        problems.append(f"{path.name}: not valid TOML: {error}")
    except OSError as error:
        problems.append(f"{path.name}: cannot be read: {error.strerror}")
    return None


def _flatten(table: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in table.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = value


def _load_i18n(root: Path, lang: str, problems: list[str]) -> dict[str, str]:
    path = root / "i18n" / f"{lang}.toml"
    if not path.is_file():
        problems.append(f"i18n/{lang}.toml: missing (every label needs {lang} text)")
        return {}
    data = _read_toml(path, problems)
    flat: dict[str, Any] = {}
    _flatten(data or {}, "", flat)
    table: dict[str, str] = {}
    for key, value in flat.items():
        if isinstance(value, str) and value.strip():
            table[key] = value
        else:
            problems.append(f"i18n/{lang}.toml: {key}: must be a non-empty string")
    return table


def _load_template(path: Path, problems: list[str]) -> Template | None:
    data = _read_toml(path, problems)
    if data is None:
        return None
    where = path.name
    before = len(problems)
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"{where}: {key}: unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    name = _string(data, "name", where, problems)
    version = _string(data, "version", where, problems)
    title = _string(data, "title", where, problems)
    form = _string(data, "form", where, problems)
    if form and form not in FORMS:
        problems.append(f"{where}: form: {form!r} is not one of {', '.join(FORMS)}")
        form = ""
    print_when = data.get("print", "always")
    if print_when not in _PRINT_WHEN:
        problems.append(f"{where}: print: must be one of {', '.join(_PRINT_WHEN)}")
    geometry = _geometry(data.get("geometry"), form, where, problems)
    _check_room(geometry, form, where, problems)
    lists = {key: _options(data.get(key), key, where, problems) for key in _LISTS.get(form, ())}
    vitals = _vitals(data.get("vitals"), where, problems) if form == "vitals" else ()
    if len(problems) > before:
        return None
    return Template(
        name=name,
        version=version,
        form=form,
        title=title,
        source=where,
        geometry=geometry,
        print_when=str(print_when),
        units=lists.get("units", ()),
        routes=lists.get("routes", ()),
        frequencies=lists.get("frequencies", ()),
        vitals=vitals,
    )


def _string(data: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {key}: required, a non-empty string")
        return ""
    return value


def _geometry(raw: Any, form: str, where: str, problems: list[str]) -> dict[str, float]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: geometry: required table of sizes in mm")
        return {}
    wanted = GEOMETRY.get(form, {})
    geometry: dict[str, float] = {}
    for key in sorted(set(raw) - set(wanted)):
        if form:
            problems.append(f"{where}: geometry.{key}: unknown key for form {form!r}")
    for key, minimum in wanted.items():
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}: geometry.{key}: required number (at least {minimum:g})")
        elif value < minimum:
            problems.append(f"{where}: geometry.{key}: must be at least {minimum:g} (got {value})")
        elif value > MAXIMUM[key]:
            problems.append(
                f"{where}: geometry.{key}: must be at most {MAXIMUM[key]:g} (got {value})"
            )
        else:
            geometry[key] = float(value)
    return geometry


def _check_room(geometry: Mapping[str, float], form: str, where: str, problems: list[str]) -> None:
    """Sizes that are each valid but do not fit together (a MAR dose cell's boxes)."""
    if form not in GEOMETRY or len(geometry) < len(GEOMETRY[form]):
        return
    if form in _ROOM_MM:
        _check_width(geometry, form, where, problems)
    if form != "mar":
        return
    boxes = max(3 * geometry["tick_size"] + 2 * geometry["gap"], 4 * geometry["cell_w"])
    if geometry["dose_w"] < boxes + MIN_GAP_MM:
        problems.append(
            f"{where}: geometry.dose_w: must be at least {boxes + MIN_GAP_MM:g} to hold the "
            f"boxes with {MIN_GAP_MM:g} mm between cells (got {geometry['dose_w']:g})"
        )


def _check_width(geometry: Mapping[str, float], form: str, where: str, problems: list[str]) -> None:
    if form == "prn":
        key = "sign_w"
        cells = 4 + geometry["dose_cells"]
        width = cells * geometry["cell_w"] + 2 * geometry["gap"] + geometry["sign_w"]
    else:
        key = "temp_cells"
        width = geometry["temp_cells"] * geometry["cell_w"]
        if geometry["cell_h"] > 9.0:
            problems.append(f"{where}: geometry.cell_h: at most 9 mm fit in the banner")
    if width > _ROOM_MM[form]:
        problems.append(
            f"{where}: geometry.{key}: the boxes of one entry are {width:g} mm wide; "
            f"at most {_ROOM_MM[form]:g} mm fit"
        )


def _options(raw: Any, key: str, where: str, problems: list[str]) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: {key}: required, a non-empty list of answer values")
        return ()
    options: list[Option] = []
    for index, value in enumerate(raw):
        if not isinstance(value, str) or not _VALUE_RE.match(value):
            problems.append(f"{where}: {key}[{index}]: {value!r} must be letters, digits or _")
        elif any(option.value == value for option in options):
            problems.append(f"{where}: {key}[{index}]: {value!r} is listed twice")
        else:
            options.append(Option(value=value, label=f"{key}.{value}"))
    return tuple(options)


def _vitals(raw: Any, where: str, problems: list[str]) -> tuple[Vital, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: vitals: required, a list of [[vitals]] tables")
        return ()
    vitals: list[Vital] = []
    for index, item in enumerate(raw):
        key = f"vitals[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: {key}: must be a table")
            continue
        before = len(problems)
        name = _string(item, "name", f"{where}: {key}", problems)
        code = _string(item, "code", f"{where}: {key}", problems)
        if name and not _VALUE_RE.match(name):
            problems.append(f"{where}: {key}.name: {name!r} must be letters, digits or _")
        if any(vital.name == name for vital in vitals):
            problems.append(f"{where}: {key}.name: {name!r} is listed twice")
        row_kind = item.get("kind", "digits")
        if row_kind not in ("digits", "choice", "ink"):
            problems.append(f"{where}: {key}.kind: must be digits, choice or ink")
        elif row_kind == "digits":
            vital = _digits_vital(item, name, code, f"{where}: {key}", problems)
        else:
            vital = _other_vital(item, row_kind, name, code, f"{where}: {key}", problems)
        if len(problems) == before:
            vitals.append(vital)
    return tuple(vitals)


def _digits_vital(
    item: Mapping[str, Any], name: str, code: str, where: str, problems: list[str]
) -> Vital:
    cells, decimals = item.get("cells"), item.get("decimals", 0)
    if not isinstance(cells, int) or isinstance(cells, bool) or not 1 <= cells <= 6:
        problems.append(f"{where}.cells: required whole number 1 to 6")
    elif not isinstance(decimals, int) or not 0 <= decimals < cells:
        problems.append(f"{where}.decimals: whole number from 0 to cells - 1")
    whole = cells if isinstance(cells, int) else 0
    return Vital(name, code, f"vitals.{name}", whole, decimals if isinstance(decimals, int) else 0)


def _other_vital(
    item: Mapping[str, Any], row_kind: str, name: str, code: str, where: str, problems: list[str]
) -> Vital:
    """A tick-box row (`kind = "choice"`, `choices = [...]`) or a write-in row (`"ink"`)."""
    choices = item.get("choices", [])
    if row_kind == "choice":
        valid = (
            isinstance(choices, list)
            and choices
            and all(isinstance(c, str) and _VALUE_RE.match(c) for c in choices)
        )
        if not valid or len(set(choices)) != len(choices):
            problems.append(f"{where}.choices: a list of distinct values (letters, digits, _)")
            choices = []
    elif choices:
        problems.append(f'{where}.choices: only for kind = "choice"')
    return Vital(name, code, f"vitals.{name}", 0, 0, tuple(choices), row_kind == "ink")


def _keys_needed(templates: Mapping[str, Template]) -> dict[str, str]:
    """Every i18n key the pages can print, mapped to the file that needs it."""
    needed = {key: "layout" for key in COMMON_KEYS}
    for form, keys in FORM_KEYS.items():
        source = templates[form].source if form in templates else f"{form}.toml"
        needed.update({key: source for key in keys})
    for template in templates.values():
        needed[template.title] = f"{template.source}: title"
        for option in (*template.units, *template.routes, *template.frequencies):
            needed[option.label] = template.source
        for vital in template.vitals:
            needed[vital.label] = template.source
            for choice in vital.choices:
                needed[vital.choice_label(choice)] = template.source
    return needed


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return {"<malformed>"}


def _check_translations(
    translations: Mapping[str, Mapping[str, str]],
    templates: Mapping[str, Template],
    problems: list[str],
) -> None:
    needed = _keys_needed(templates)
    english = translations.get("en", {})
    for lang, table in translations.items():
        if not table:
            continue
        for key, source in sorted(needed.items()):
            if key not in table:
                problems.append(f"i18n/{lang}.toml: {key}: missing (needed by {source})")
        for key, text in sorted(table.items()):
            if "<malformed>" in _placeholders(text):
                problems.append(f"i18n/{lang}.toml: {key}: malformed {{placeholder}}")
            elif key in english and _placeholders(text) != _placeholders(english[key]):
                problems.append(
                    f"i18n/{lang}.toml: {key}: placeholders {sorted(_placeholders(text))} "
                    f"differ from en {sorted(_placeholders(english[key]))}"
                )
            elif key not in needed:
                problems.append(f"i18n/{lang}.toml: {key}: not used by any form (typo?)")
        _check_answer_keys(lang, table, templates, problems)


def _check_answer_keys(
    lang: str, table: Mapping[str, str], templates: Mapping[str, Template], problems: list[str]
) -> None:
    """A tick group's answers sit two to a row on the vitals chart, told apart by the key
    beside each tick (`answer_key`): one letter, a different one for each answer."""
    for template in templates.values():
        for vital in (v for v in template.vitals if len(v.choices) > 1):
            seen: dict[str, str] = {}
            for choice in vital.choices:
                key = vital.choice_label(choice)
                if key not in table:
                    continue  # reported as missing
                letter = answer_key(table[key])
                if len(letter) != 1 or not letter.isalpha():
                    problems.append(
                        f"i18n/{lang}.toml: {key}: must start with its one-letter key and a "
                        f'space (as "A alert"), got {table[key]!r}'
                    )
                elif letter in seen:
                    problems.append(
                        f"i18n/{lang}.toml: {key}: key {letter!r} is already "
                        f"{vital.choice_label(seen[letter])}'s: each answer needs its own letter"
                    )
                else:
                    seen[letter] = choice
