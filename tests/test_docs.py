"""The docs stay true: the CLI reference matches --help, and every command is documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "tools/cli_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_in_step_with_help() -> None:
    tool = _tool()
    assert (ROOT / "docs/cli.md").read_text(encoding="utf-8") == tool.render(), (
        "docs/cli.md is stale: run .venv/bin/python tools/cli_reference.py"
    )


def test_every_design_command_that_exists_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    for name in re.findall(r"^## papermode (\w+)$", reference, flags=re.M):
        assert f"papermode {name}" in readme or f"`{name}`" in readme, name


def test_doc_links_point_at_files_that_exist() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
