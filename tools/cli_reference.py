"""Write docs/cli.md from the commands' own --help, so the reference never drifts.

    .venv/bin/python tools/cli_reference.py          # rewrite docs/cli.md
    .venv/bin/python tools/cli_reference.py --check  # exit 1 when docs/cli.md is stale

tests/test_docs.py runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from papermode.cli.main import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

HEADER = """# Command-line reference

Generated from `papermode COMMAND --help` by `tools/cli_reference.py`; a test keeps it in
step with the code. Every command takes `--help`. The store is `--store PATH` (default
`./papermode.db`, or `$PAPERMODE_STORE`). Exit codes: 0 success, 1 a check or a step
failed, 2 usage error, 3 census problem, 4 template problem, 5 store problem (none at the
path given, or it cannot be opened), 6 input file problem, 7 files to retake, quarantined
or skipped (`ingest`, after reading the others), 8 page id problem, 9 installation
problem, 10 OCR failure, 11 digit model missing or damaged, 12 invalid settings, 20-23
review decision refused (20 not as asked, 21 unknown item, 22 already decided,
23 two-person rule), 30 restored record unreadable, 31 export cannot be written, 32 audit
chain broken, 40 evidence missing or damaged (`verify`), 41 store file damaged (`verify`),
42 backup not sound (`verify --backup`), 45 merge refused (the other store unreadable or
damaged), 46 merge refused (another print run), 47 merge refused (two stores with one
station id), 70 internal error (a bug: run again with `PAPERMODE_DEBUG=1` and report it),
130 interrupted (Ctrl-C).
Global options: `--verbose` logs every decision to standard error, `--log-file PATH` keeps
the log in a file (see [operations.md](operations.md#logs-for-it)).
See [errors.md](errors.md) for every message and what to do about it.
"""


def render() -> str:
    """The whole reference as markdown."""
    runner = CliRunner()
    parts = [HEADER]
    context = click.Context(main)
    names = sorted(main.list_commands(context))
    parts.append("## papermode\n\n```\n" + _help(runner, []) + "```\n")
    for name in names:
        parts.append(f"## papermode {name}\n\n```\n" + _help(runner, [name]) + "```\n")
    return "\n".join(parts)


def _help(runner: CliRunner, args: list[str]) -> str:
    result = runner.invoke(main, [*args, "--help"], prog_name="papermode", terminal_width=100)
    return result.output


def run(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is out of date: run .venv/bin/python tools/cli_reference.py")
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
