"""One exit-code table: the ExitCode enum, every error class, docs/errors.md, docs/cli.md."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import papermode
from papermode.core.errors import ExitCode, PapermodeError

ROOT = Path(__file__).resolve().parents[1]
ERRORS_DOC = ROOT / "docs" / "errors.md"


def documented_table() -> dict[int, tuple[str, set[str]]]:
    """docs/errors.md's exit-code table: code -> (name, classes in 'raised as')."""
    text = ERRORS_DOC.read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows: dict[int, tuple[str, set[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].isdigit():
            continue
        code, name, _meaning, raised_as, _advice = cells
        assert int(code) not in rows, f"code {code} documented twice"
        classes = set(re.findall(r"`(\w+Error)`", raised_as))
        rows[int(code)] = (name.strip("`"), classes)
    return rows


def error_classes() -> list[type[PapermodeError]]:
    """Every PapermodeError subclass defined anywhere in the package."""
    for module in pkgutil.walk_packages(papermode.__path__, "papermode."):
        importlib.import_module(module.name)
    found: list[type[PapermodeError]] = []
    todo: list[type[PapermodeError]] = [PapermodeError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.startswith("papermode.")]


def test_documented_table_equals_the_enum() -> None:
    table = documented_table()
    assert {code: name for code, (name, _) in table.items()} == {
        member.value: member.name for member in ExitCode
    }


def test_no_code_has_two_names() -> None:
    # An IntEnum member with the value of another is an alias: two meanings, one code.
    assert len(ExitCode.__members__) == len(list(ExitCode))


def test_the_codes_the_cli_knows_without_an_error_class() -> None:
    assert (ExitCode.OK, ExitCode.USAGE, ExitCode.INTERNAL, ExitCode.INTERRUPTED) == (
        0,
        2,
        70,
        130,
    )
    assert ExitCode.DIGITS_MODEL != ExitCode.PAGE_ID


def test_every_error_class_has_a_code_of_its_own_documented() -> None:
    table = documented_table()
    by_code: dict[int, list[type[PapermodeError]]] = {}
    for cls in error_classes():
        code = cls.exit_code
        assert isinstance(code, ExitCode), f"{cls.__name__}.exit_code must be an ExitCode member"
        assert code in table, f"{cls.__name__}: code {code} is not in docs/errors.md"
        assert cls.__name__ in table[code][1], (
            f"docs/errors.md: the row of code {int(code)} must name {cls.__name__}"
        )
        by_code.setdefault(code, []).append(cls)
    for code, classes in by_code.items():
        # Classes share a code only as one meaning narrowed: all descend from one of them.
        roots = [root for root in classes if all(issubclass(cls, root) for cls in classes)]
        assert roots, f"code {int(code)} has unrelated meanings: {[c.__name__ for c in classes]}"


def test_every_documented_class_exists() -> None:
    names = {cls.__name__ for cls in error_classes()}
    for code, (_name, classes) in documented_table().items():
        assert classes <= names, f"code {code} names a class that does not exist"


def test_no_dead_error_classes() -> None:
    """Every error class without subclasses is raised somewhere (RetakeError never was)."""
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "papermode").rglob("*.py")
    )
    for cls in error_classes():
        if cls.__subclasses__():
            continue
        assert re.search(rf"raise {cls.__name__}\(", source), f"{cls.__name__} is never raised"


def test_retake_error_is_gone() -> None:
    from papermode.core import errors

    assert not hasattr(errors, "RetakeError")


@pytest.mark.parametrize("doc", ["cli.md"])
def test_cli_reference_lists_every_code(doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    sentence = text.split("Exit codes:", 1)[1].split("Global options", 1)[0]
    assert {int(n) for n in re.findall(r"(?<![\w-])(\d+) ", sentence)} == {
        member.value for member in ExitCode
    }
