"""The reconcile and export commands: exact messages and exit codes for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from papermode.cli.reconcile import export_command, reconcile_command
from papermode.core.errors import ExportError
from papermode.core.settings import load_settings
from papermode.export.run import export_store
from papermode.store.audit import chain_head, head_path
from papermode.store.database import open_store


def empty_store(tmp_path: Path) -> Path:
    path = tmp_path / "papermode.db"
    open_store(path).close()
    return path


def test_no_store_says_where_to_point(tmp_path: Path) -> None:
    result = CliRunner().invoke(reconcile_command, ["--store", str(tmp_path / "none.db")])
    assert result.exit_code == 5
    assert result.output.startswith(f"Error: there is no store at {tmp_path / 'none.db'}.")


def test_an_empty_store_reconciles_to_nothing(tmp_path: Path) -> None:
    store = empty_store(tmp_path)
    result = CliRunner().invoke(reconcile_command, ["--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["items"] == [] and document["pending"] == 0
    plain = CliRunner().invoke(reconcile_command, ["--store", str(store)])
    assert plain.output == "0 items (0 to export, 0 still in review)\n"
    with open_store(store) as opened:
        actions = [row["action"] for row in opened.db.query("SELECT action FROM audit")]
        head = chain_head(opened)
    assert actions == ["reconcile", "reconcile"]  # every run is in the audit chain
    assert head is not None and head_path(opened).read_text().startswith(f'{{"seq": {head.seq}')


def test_a_restored_file_that_is_not_a_bundle(tmp_path: Path) -> None:
    store = empty_store(tmp_path)
    restored = tmp_path / "restored.json"
    restored.write_text('{"resourceType": "Patient"}', encoding="utf-8")
    result = CliRunner().invoke(
        reconcile_command, ["--store", str(store), "--restored", str(restored)]
    )
    assert result.exit_code == 30
    assert "restored.json: not a FHIR Bundle (resourceType is not 'Bundle')." in result.output


def test_export_to_a_folder_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = empty_store(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    result = CliRunner().invoke(
        export_command, ["--store", str(store), "--format", "csv", "--out", str(folder)]
    )
    assert result.exit_code == 2  # click refuses it before anything runs
    assert "is a directory" in result.output
    assert list(folder.iterdir()) == []


def test_the_library_refuses_a_folder_too(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with open_store(empty_store(tmp_path)) as store:
        try:
            export_store(store, load_settings(), fmt="fhir", out=folder)
        except ExportError as error:
            assert error.exit_code == 31
            assert str(error) == f"--out {folder} is a folder.\nGive the path of a file to write."
        else:
            raise AssertionError("a folder was accepted as --out")


def test_export_writes_owner_only_and_says_what_it_holds(tmp_path: Path) -> None:
    store = empty_store(tmp_path)
    out = tmp_path / "worklist.csv"
    result = CliRunner().invoke(
        export_command, ["--store", str(store), "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{out}: 0 items (0 still in review, not exported)")
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_text(encoding="utf-8").startswith("# papermode back-entry worklist, 0 items")
    assert not list(tmp_path.glob(".*.part"))
