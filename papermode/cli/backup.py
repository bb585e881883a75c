"""`papermode backup` and `papermode verify` (click commands, registered on the main group by
`papermode.cli.main`): options in, one library call, the report out; a store or a backup
that is not sound becomes its error and exit code (40-42, or 32 for the audit chain)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from papermode.cli.options import existing_store_option, reports_errors, store_option
from papermode.core.errors import (
    AuditChainError,
    BackupDamagedError,
    EvidenceError,
    ExitCode,
    StoreDamagedError,
)
from papermode.store.backup import backup_store
from papermode.store.backup_check import BackupCheck, verify_backup
from papermode.store.database import open_existing_store
from papermode.store.verify import StoreCheck, verdict, verify_store

_RESTORE = "docs/operations.md#backups"


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@existing_store_option
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@reports_errors
def backup_command(dest: Path, store_path: Path, as_json: bool) -> None:
    """Copy the store, its evidence and its audit head into a new folder, while in use.

    DEST must be new, an empty folder, or an earlier papermode backup (replaced whole). The
    copy is consistent while ingest or serve go on writing; everything is written into a
    hidden folder beside DEST and renamed at the end, so an interrupted backup never looks
    complete. Check it with `papermode verify --backup DEST`.
    """
    with open_existing_store(store_path) as store:
        result = backup_store(store, dest)
    head = result.head.text if result.head else None
    if as_json:
        summary = {
            "dest": str(result.dest),
            "files": result.files,
            "evidence_files": result.evidence_files,
            "bytes": result.size,
            "audit_head": head,
            "manifest_sha256": result.manifest_sha256,
            "audited": result.audited,
        }
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"backup written to {result.dest}: {result.files} files "
        f"({result.evidence_files} evidence) and manifest.json, {result.size} bytes; "
        f"audit head {head}"
    )
    if not result.audited:
        click.echo(
            "not recorded in the audit chain: the store is read-only, busy or cannot be "
            "written (the backup itself is complete)"
        )
    click.echo(f"check it with: papermode verify --backup {result.dest}")


@click.command("verify")
@store_option
@click.option(
    "--backup",
    "backup_dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Check this backup folder (written by `papermode backup`) instead of the store.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@reports_errors
def verify_command(store_path: Path, backup_dest: Path | None, as_json: bool) -> None:
    """Check the store: SQLite integrity, every evidence file, the audit chain.

    Each evidence file against its SHA-256, each row that needs evidence against its file
    (evidence files no row refers to are listed); the audit chain against its anchored
    head, as `audit verify` does. Exit 0 when sound; 40 evidence missing or damaged, 41
    SQLite file damaged, 32 audit chain broken; with --backup, 42 when the backup is not
    sound.
    """
    if backup_dest is not None:
        backup = verify_backup(backup_dest)
        _say(_backup_json(backup) if as_json else None, _backup_lines(backup))
        if not backup.sound:
            raise BackupDamagedError(
                f"the backup {backup_dest} is not sound: do not restore from it.",
                advice="Use another backup, and take a new one now: papermode backup DEST "
                f"({_RESTORE}).",
            )
        return
    with open_existing_store(store_path) as store:
        check = verify_store(store)
    _say(_check_json(check) if as_json else None, _store_lines(check))
    _refuse_unsound(check)


def _say(as_json: dict[str, Any] | None, lines: list[str]) -> None:
    if as_json is not None:
        click.echo(json.dumps(as_json, indent=2))
    else:
        click.echo("\n".join(lines))


def _store_lines(check: StoreCheck) -> list[str]:
    evidence = check.evidence
    lines = [
        "SQLite integrity check: "
        + ("ok" if not check.integrity else "FAILED: " + "; ".join(check.integrity[:5])),
        f"evidence: {evidence.checked} files checked ({evidence.derived} straightened page "
        f"images), {len(evidence.faults)} missing or damaged, "
        f"{len(evidence.unreferenced)} kept without a row",
    ]
    lines += [f"  {problem.describe()}" for problem in evidence.problems]
    chain = check.chain
    if chain.intact:
        anchored = f", anchored head {chain.anchored.text} found" if chain.anchored else ""
        lines.append(f"audit chain intact: {chain.entries} entries{anchored}")
    else:
        lines.append("audit chain NOT intact:")
        lines += [f"  - {problem}" for problem in chain.problems]
    return lines


def _refuse_unsound(check: StoreCheck) -> None:
    """The gravest fault found, as its error and exit code (`verdict`); nothing when sound."""
    code = verdict(check)
    if code == ExitCode.STORE_DAMAGED:
        raise StoreDamagedError(
            "the store's SQLite file is damaged (integrity check failed).",
            advice=f"Stop using it: keep it aside and restore the last backup ({_RESTORE}).",
        )
    if code == ExitCode.AUDIT_CHAIN:
        raise AuditChainError(
            "the audit chain is not intact.",
            advice="Keep this store aside as evidence; restore the last backup and tell IT.",
        )
    if code == ExitCode.EVIDENCE:
        count = len(check.evidence.faults)
        raise EvidenceError(
            f"{count} evidence file(s) missing or damaged (listed above).",
            advice="Re-ingest each original named: papermode ingest PATH restores it; "
            f"otherwise restore from a backup ({_RESTORE}).",
        )


def _check_json(check: StoreCheck) -> dict[str, Any]:
    return {
        "sound": check.sound,
        "exit_code": int(verdict(check)),
        "integrity": list(check.integrity),
        "evidence": {
            "checked": check.evidence.checked,
            "derived": check.evidence.derived,
            "problems": [
                {
                    "state": p.state.value,
                    "path": p.path,
                    "sha256": p.sha256,
                    "name": p.name,
                    "pages": list(p.pages),
                    "captures": p.captures,
                }
                for p in check.evidence.problems
            ],
        },
        "audit": {
            "entries": check.chain.entries,
            "head": check.chain.head.text if check.chain.head else None,
            "anchored": check.chain.anchored.text if check.chain.anchored else None,
            "problems": list(check.chain.problems),
        },
    }


def _backup_lines(backup: BackupCheck) -> list[str]:
    lines = [f"backup {backup.dest}: {backup.files} files in the manifest"]
    lines += [f"  - {problem}" for problem in backup.problems]
    if backup.store is not None:
        lines += _store_lines(backup.store)
    lines.append("backup sound" if backup.sound else "backup NOT sound")
    return lines


def _backup_json(backup: BackupCheck) -> dict[str, Any]:
    return {
        "dest": str(backup.dest),
        "sound": backup.sound,
        "files": backup.files,
        "problems": list(backup.problems),
        "store": _check_json(backup.store) if backup.store is not None else None,
    }


COMMANDS = (backup_command, verify_command)
