"""Form templates: the repo's templates load; broken ones report every problem at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from papermode.core.errors import TemplateError
from papermode.printing.templates import FORMS, LANGUAGES, default_forms_dir, load_templates

REPO_FORMS = Path(__file__).resolve().parent.parent / "forms"


@pytest.fixture
def forms_copy(tmp_path: Path) -> Path:
    target = tmp_path / "forms"
    shutil.copytree(REPO_FORMS, target)
    return target


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(forms_dir: Path) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        load_templates(forms_dir)
    return caught.value.problems


def test_repo_templates_load_with_every_form_and_language() -> None:
    templates = load_templates()
    assert set(templates.templates) == set(FORMS)
    assert set(templates.translations) == set(LANGUAGES)
    keys = {lang: set(table) for lang, table in templates.translations.items()}
    assert keys["en"] == keys["fr"] == keys["nl"]
    for template in templates.templates.values():
        assert template.version and template.name
    new_orders = templates.for_form("new_orders")
    assert [o.value for o in new_orders.units] == ["mg", "g", "mcg", "mL", "units", "mmol"]
    assert "PRN" in [o.value for o in new_orders.frequencies]
    vitals = {v.name: v for v in templates.for_form("vitals").vitals}
    assert vitals["temp"].decimals == 1 and vitals["temp"].code == "8310-5"
    assert vitals["rr"].cells == 2


def test_labels_differ_by_language() -> None:
    templates = load_templates()
    titles = {lang: templates.text(lang, "mar.title") for lang in LANGUAGES}
    assert len(set(titles.values())) == 3
    assert templates.text("fr", "footer.page", i=2, n=5) == "page 2 sur 5"
    assert templates.text("nl", "footer.page", i=2, n=5) == "pagina 2 van 5"


def test_unknown_language_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="'de'"):
        load_templates().text("de", "mar.title")


def test_every_problem_is_reported_at_once_with_file_and_key(forms_copy: Path) -> None:
    _replace(forms_copy / "mar.toml", "tick_size = 5.0", "tick_size = 4.0")
    _replace(forms_copy / "mar.toml", 'version = "2026.1"', 'version = ""\ncolour = "red"')
    _replace(forms_copy / "vitals.toml", "cells = 2", 'cells = "two"')
    _replace(forms_copy / "new_orders.toml", '"mmol"]', '"mmol", "mg"]')
    (forms_copy / "notes.toml").write_text("name = [unclosed\n", encoding="utf-8")
    _replace(forms_copy / "i18n" / "fr.toml", 'high_alert = "HAUT RISQUE"\n', "")
    _replace(forms_copy / "i18n" / "nl.toml", 'page = "pagina {i} van {n}"', 'page = "pagina {i}"')
    problems = _problems(forms_copy)
    text = "\n".join(problems)
    expected = [
        "mar.toml: geometry.tick_size: must be at least 5",
        "mar.toml: version: required",
        "mar.toml: colour: unknown key",
        "vitals.toml: vitals[0].cells",  # rr, the first row of the NEWS2 order
        "new_orders.toml: units[6]: 'mg' is listed twice",
        "notes.toml: not valid TOML",
        "i18n/fr.toml: mar.high_alert: missing",
        "i18n/nl.toml: footer.page: placeholders",
    ]
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not reported in:\n{text}"


def test_missing_template_and_language_files_are_reported(forms_copy: Path) -> None:
    (forms_copy / "prn.toml").unlink()
    (forms_copy / "i18n" / "nl.toml").unlink()
    text = "\n".join(_problems(forms_copy))
    assert "no template for form 'prn'" in text
    assert "i18n/nl.toml: missing" in text


def test_missing_label_for_a_template_option_is_an_error(forms_copy: Path) -> None:
    _replace(forms_copy / "new_orders.toml", '"PR"]', '"PR", "NG"]')
    problems = _problems(forms_copy)
    for lang in LANGUAGES:
        assert any(p.startswith(f"i18n/{lang}.toml: routes.NG: missing") for p in problems)


def test_unused_translation_key_is_flagged_as_a_typo(forms_copy: Path) -> None:
    _replace(forms_copy / "i18n" / "en.toml", "[mar]\n", '[mar]\ntitel = "typo"\n')
    assert any("i18n/en.toml: mar.titel: not used" in p for p in _problems(forms_copy))


def test_dose_cell_too_narrow_for_its_boxes(forms_copy: Path) -> None:
    _replace(forms_copy / "mar.toml", "dose_w = 23.0", "dose_w = 21.0")
    assert any("mar.toml: geometry.dose_w: must be at least 22" in p for p in _problems(forms_copy))


def test_forms_dir_override_from_environment(
    forms_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _replace(forms_copy / "mar.toml", 'version = "2026.1"', 'version = "9.9-test"')
    monkeypatch.setenv("PAPERMODE_FORMS", str(forms_copy))
    assert default_forms_dir() == forms_copy
    assert load_templates().for_form("mar").version == "9.9-test"


def test_missing_forms_folder(tmp_path: Path) -> None:
    assert "does not exist" in "\n".join(_problems(tmp_path / "nowhere"))


def test_error_message_lists_problems_for_the_user(forms_copy: Path) -> None:
    _replace(forms_copy / "prn.toml", "entries = 6", "entries = 0")
    with pytest.raises(TemplateError) as caught:
        load_templates(forms_copy)
    message = str(caught.value)
    assert "prn.toml: geometry.entries" in message
    assert "Correct the template files" in message
    assert caught.value.exit_code == 4
