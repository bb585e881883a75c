"""The `papermode` group: lazy commands, the one error-to-exit-code mapping, the store refusal,
and the logging options."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from papermode.cli import capture, system
from papermode.cli.main import COMMANDS, main
from papermode.core.doctor import Check
from papermode.core.errors import ExitCode, PageIdError, StoreError
from papermode.core.settings import SettingsError
from papermode.reading.digits import DigitsModelError
from papermode.store.database import open_store


def no_store(path: Path) -> str:
    return (
        f"Error: there is no store at {path}: give the store `prepare` wrote with --store, "
        "or set $PAPERMODE_STORE.\n"
    )


@pytest.fixture()
def empty_store(tmp_path: Path) -> Path:
    """A store that exists (as `prepare` would leave it, without pages)."""
    path = tmp_path / "papermode.db"
    with open_store(path):
        pass
    return path


def _loaded_modules(*args: str) -> set[str]:
    """Run `papermode ARGS` in a fresh interpreter; the top-level modules it imported."""
    script = (
        "import sys\n"
        "from papermode.cli.main import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


# ---------------------------------------------------------------------- lazy commands


def test_help_imports_no_opencv_and_no_reportlab() -> None:
    modules = _loaded_modules("--help")
    assert "click" in modules
    assert not {"cv2", "reportlab", "numpy", "papermode.cli.capture"} & modules


def test_ingest_imports_no_reportlab(empty_store: Path, tmp_path: Path) -> None:
    modules = _loaded_modules("ingest", str(tmp_path / "nope.jpg"), "--store", str(empty_store))
    assert "papermode.cli.capture" in modules and "cv2" in modules  # it did load ingest
    assert "reportlab" not in modules and "papermode.printing.pdf" not in modules


def test_every_command_loads_and_its_summary_is_its_docstring() -> None:
    context = click.Context(main)
    for name, entry in COMMANDS.items():
        command = main.get_command(context, name)
        assert isinstance(command, click.Command) and command.name == name
        assert command.help is not None
        assert entry.summary == command.help.split("\n\n")[0].strip(), name
    assert main.get_command(context, "nonsense") is None


def test_group_help_lists_commands_as_click_would() -> None:
    context = click.Context(main, info_name="papermode")
    real = click.Group(
        "papermode", commands={n: main.get_command(context, n) for n in main.list_commands(context)}
    )
    for width in (60, 100):
        ours, theirs = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
        main.format_commands(context, ours)
        real.format_commands(context, theirs)
        assert ours.getvalue() == theirs.getvalue()
        assert "readings" in ours.getvalue()


# ---------------------------------------------------------------------- missing store


@pytest.mark.parametrize(
    "args",
    [["ingest", "IMG_0001.jpg"], ["readings"], ["search", "amoxicilline"], ["layout"]],
    ids=["ingest", "readings", "search", "layout"],
)
def test_commands_that_read_a_store_refuse_a_missing_one(args: list[str], tmp_path: Path) -> None:
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(b"\xff\xd8\xff not really a photo")
    missing = tmp_path / "typo.db"
    args = [str(photo) if a == "IMG_0001.jpg" else a for a in args]
    result = CliRunner().invoke(main, [*args, "--store", str(missing)])
    assert result.exit_code == ExitCode.STORE == 5
    assert result.output == no_store(missing)
    assert not missing.exists()
    assert not Path(f"{missing}.evidence").exists()


def test_missing_store_from_the_environment_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "elsewhere.db"
    monkeypatch.setenv("PAPERMODE_STORE", str(missing))
    result = CliRunner().invoke(main, ["readings"])
    assert (result.exit_code, result.output) == (5, no_store(missing))


def test_prepare_still_creates_the_store(tmp_path: Path) -> None:
    from papermode.census.snapshot import sample_census_path

    store = tmp_path / "new.db"
    result = CliRunner().invoke(
        main,
        ["prepare", str(sample_census_path()), "--out", str(tmp_path / "f"), "--store", str(store)],
    )
    assert result.exit_code == 0, result.output
    assert store.exists()


# ---------------------------------------------------------------------- exit codes


def test_ingest_exits_7_when_a_file_is_quarantined(empty_store: Path, tmp_path: Path) -> None:
    text = tmp_path / "list.jpg"
    text.write_text("not a photo")
    result = CliRunner().invoke(main, ["ingest", str(text), "--store", str(empty_store)])
    assert result.exit_code == ExitCode.RETAKE_OR_QUARANTINE == 7
    assert result.output.startswith(f"QUARANTINED: {text}: list.jpg is not an image")
    assert "1 quarantined" in result.output.splitlines()[-1]
    json_result = CliRunner().invoke(
        main, ["ingest", str(text), "--store", str(empty_store), "--json"]
    )
    assert json_result.exit_code == 7
    assert json.loads(json_result.stdout)["counts"]["quarantined"] == 1


def test_ingest_of_nothing_to_redo_exits_0(empty_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    result = CliRunner().invoke(main, ["ingest", str(folder), "--store", str(empty_store)])
    assert result.exit_code == 0, result.output


def test_invalid_settings_have_their_own_code(empty_store: Path, tmp_path: Path) -> None:
    settings = tmp_path / "hospital.toml"
    settings.write_text("[reading]\ncheckbox = 1.4\n")
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    result = CliRunner().invoke(
        main, ["ingest", str(photo), "--store", str(empty_store), "--settings", str(settings)]
    )
    assert result.exit_code == ExitCode.SETTINGS == 12
    assert "reading.checkbox: 1.4 must lie between 0 and 1" in result.output
    assert ExitCode.SETTINGS != ExitCode.USAGE


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StoreError("the store is locked."), 5),
        (PageIdError("page K3QX-9M2A-7C is not known to this store."), 8),
        (DigitsModelError("the handwritten-digit model digits_model.npz cannot be loaded"), 11),
        (SettingsError("hospital.toml", ["reading.x: unknown"]), 12),
    ],
)
def test_each_error_becomes_its_message_and_code(
    error: Exception, code: int, empty_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(capture, "readings_report", fail)
    result = CliRunner().invoke(main, ["readings", "--store", str(empty_store)])
    assert result.exit_code == code
    assert result.output == f"Error: {error}\n"


def test_a_bug_is_exit_70_without_a_traceback_or_its_message(
    empty_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_args: object, **_kwargs: object) -> None:
        raise KeyError("DUPONT Hélène 30023114")

    monkeypatch.delenv("PAPERMODE_DEBUG", raising=False)
    monkeypatch.setattr(capture, "readings_report", bug)
    log = tmp_path / "papermode.log"
    result = CliRunner().invoke(
        main, ["--log-file", str(log), "readings", "--store", str(empty_store)]
    )
    assert result.exit_code == ExitCode.INTERNAL == 70
    assert result.output.startswith("Internal error (KeyError): papermode hit a bug.")
    assert "Traceback" not in result.output and "DUPONT" not in result.output
    text = log.read_text(encoding="utf-8")
    assert "internal error in readings: KeyError at test_cli.py:" in text
    assert "DUPONT" not in text and "30023114" not in text


def test_ctrl_c_is_exit_130(empty_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(capture, "readings_report", interrupted)
    result = CliRunner().invoke(main, ["readings", "--store", str(empty_store)])
    assert result.exit_code == ExitCode.INTERRUPTED == 130
    assert "Interrupted. Files already stored are kept" in result.output


def test_doctor_exits_1_when_a_check_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        system, "run_checks", lambda _store: [Check("tesseract", False, "not found", "apt-get")]
    )
    result = CliRunner().invoke(main, ["doctor", "--store", str(tmp_path / "p.db")])
    assert result.exit_code == ExitCode.FAILED == 1
    assert result.output == "[FAIL] tesseract: not found\n       fix: apt-get\n"


def test_usage_errors_stay_2() -> None:
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == ExitCode.USAGE == 2


# ---------------------------------------------------------------------- logging options


def test_log_file_is_owner_only_and_names_time_level_and_logger(
    empty_store: Path, tmp_path: Path
) -> None:
    log = tmp_path / "logs" / "papermode.log"
    log.parent.mkdir()
    previous = os.umask(0)  # the most permissive umask must not widen the log
    try:
        text = tmp_path / "list.jpg"
        text.write_text("not a photo")
        result = CliRunner().invoke(
            main, ["--log-file", str(log), "ingest", str(text), "--store", str(empty_store)]
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 7, result.output
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    lines = log.read_text(encoding="utf-8").splitlines()
    quarantine = next(line for line in lines if "quarantined" in line)
    # 2026-12-02 04:50:48,123 INFO papermode.ingest.pipeline [pid] list.jpg quarantined: ...
    date, time, level, name = quarantine.split()[:4]
    assert len(date) == 10 and time.count(":") == 2
    assert (level, name) == ("INFO", "papermode.ingest.pipeline")
    assert "DEBUG" not in {line.split()[2] for line in lines}  # INFO and up without --verbose


def test_verbose_logs_debug_to_stderr_and_nothing_by_default(
    empty_store: Path, tmp_path: Path
) -> None:
    text = tmp_path / "list.jpg"
    text.write_text("not a photo")
    quiet = CliRunner().invoke(main, ["ingest", str(text), "--store", str(empty_store)])
    assert "papermode.ingest" not in quiet.stderr
    loud = CliRunner().invoke(
        main, ["--verbose", "ingest", str(text), "--store", str(empty_store), "--json"]
    )
    assert f"INFO papermode.ingest.pipeline: {text} quarantined: page None" in loud.stderr
    assert "DEBUG papermode.ingest.workers: reading" in loud.stderr
    assert json.loads(loud.stdout)["counts"]["quarantined"] == 1  # stdout stays pure JSON


def test_a_log_file_that_cannot_be_written_is_a_usage_error(
    empty_store: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "--log-file",
            str(tmp_path / "no" / "such" / "x.log"),
            "readings",
            "--store",
            str(empty_store),
        ],
    )
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot write the log file {tmp_path / 'no'}")
