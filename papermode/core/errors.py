"""One exception hierarchy. Each class carries an exit code and advice for the user.

The library raises these; only `papermode.cli.main` turns them into messages and exit codes.
Messages never contain patient data (names, MRNs, birth dates): they name files, rows,
resource ids and page ids instead.

`ExitCode` is the one table of exit codes: every error class names its member, and
docs/errors.md lists the same table (tests/test_errors.py keeps the two equal). A code has
one meaning; a subclass may keep its parent's code only when it narrows the same meaning.
Reserved for errors still to come: 20-29 review, 30-39 reconcile and export, 40-49 store
verify, backup and merge.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a papermode command's exit status means (docs/errors.md has the same table)."""

    OK = 0
    FAILED = 1  # a check or a step failed (doctor, demo); the message says which
    USAGE = 2
    CENSUS = 3
    TEMPLATE = 4
    STORE = 5
    INPUT_FILE = 6
    RETAKE_OR_QUARANTINE = 7  # ingest finished; some files must be retaken or were quarantined
    PAGE_ID = 8
    INSTALLATION = 9
    OCR = 10
    DIGITS_MODEL = 11
    SETTINGS = 12
    REVIEW = 20  # a review decision cannot be recorded as asked
    UNKNOWN_ITEM = 21  # no such review item
    ALREADY_DECIDED = 22  # the review item was decided already
    REVIEWER = 23  # the two-person rule: this reviewer may not decide this
    RESTORED_BUNDLE = 30  # reconcile --restored: not a readable FHIR Bundle
    EXPORT = 31  # an export cannot be written
    AUDIT_CHAIN = 32  # the audit chain was edited or does not match its anchored head
    EVIDENCE = 40  # verify: an evidence file is missing or damaged
    STORE_DAMAGED = 41  # verify: the SQLite file fails its integrity check
    BACKUP_DAMAGED = 42  # verify --backup: the backup is incomplete, damaged or inconsistent
    MERGE = 45  # merge: another station's store cannot be brought in (unreadable, damaged)
    OTHER_PRINT_RUN = 46  # merge: the other store printed the same page id with another layout
    STATION_CLASH = 47  # merge: two stores carry one station id but their audit chains differ
    INTERNAL = 70  # a bug
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells expect


class PapermodeError(Exception):
    """Base class: `str(error)` is a complete message that says what to do next."""

    exit_code: ExitCode | int = ExitCode.FAILED

    def __init__(self, message: str, *, advice: str | None = None) -> None:
        self.message = message
        self.advice = advice
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.advice:
            return f"{self.message}\n{self.advice}"
        return self.message


class UsageError(PapermodeError):
    """The command was called with options that cannot work together."""

    exit_code = ExitCode.USAGE


class CensusError(PapermodeError):
    """The census export cannot be turned into forms; `problems` lists every problem found."""

    exit_code = ExitCode.CENSUS

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{source}: {count} {noun} in the census; no forms were printed."]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__(
            "\n".join(lines),
            advice="Fix the export (or ask IT to re-export it) and run prepare again.",
        )


class NothingConfirmedError(CensusError):
    """`prepare --from-photos`: no patient or order on photos of screens is confirmed yet,
    so there is no census to print (docs/screen-photos.md)."""

    def __init__(self, reasons: list[str]) -> None:
        self.source = "photos of screens"
        self.problems = list(reasons)
        shown = "; ".join(self.problems[:3])
        PapermodeError.__init__(
            self,
            "no patient and no order from photos of screens is confirmed yet"
            + (f" ({shown})" if shown else "")
            + "; no forms were printed.",
            advice="Ingest the photos with `papermode ingest --kind screen`, then have two "
            "reviewers decide their items (`papermode review --list`).",
        )


class TemplateError(PapermodeError):
    """A form template in forms/ is invalid; `problems` lists every problem with file and key."""

    exit_code = ExitCode.TEMPLATE

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the form templates:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines), advice="Correct the template files and run again.")


class StoreError(PapermodeError):
    """The store cannot be opened, read or written."""

    exit_code = ExitCode.STORE


class InputFileError(PapermodeError):
    """An input file cannot be read (unknown format, damaged, too large). It is quarantined."""

    exit_code = ExitCode.INPUT_FILE


class PageIdError(PapermodeError):
    """A page id is malformed, fails its check value, or is unknown to this store."""

    exit_code = ExitCode.PAGE_ID


class InstallationError(PapermodeError):
    """Something papermode needs is missing from this machine (Tesseract, a language, OpenCV)."""

    exit_code = ExitCode.INSTALLATION


class RestoredBundleError(PapermodeError):
    """The restored system's export (`reconcile --restored`) is not a readable FHIR Bundle."""

    exit_code = ExitCode.RESTORED_BUNDLE


class ExportError(PapermodeError):
    """An export cannot be written (the folder, the format, or nothing to export)."""

    exit_code = ExitCode.EXPORT


class AuditChainError(PapermodeError):
    """The audit chain was edited, reordered, truncated, or does not match its anchored head."""

    exit_code = ExitCode.AUDIT_CHAIN


class ReviewError(PapermodeError):
    """A review decision cannot be recorded as asked (see the subclasses)."""

    exit_code = ExitCode.REVIEW


class UnknownItemError(ReviewError):
    """The review item id names nothing in this store's queue."""

    exit_code = ExitCode.UNKNOWN_ITEM


class AlreadyDecidedError(ReviewError):
    """The item was decided already (by this reviewer, or by someone else just now)."""

    exit_code = ExitCode.ALREADY_DECIDED


class ReviewerError(ReviewError):
    """The two-person rule: this reviewer may not make this decision (same person twice)."""

    exit_code = ExitCode.REVIEWER


class EvidenceError(PapermodeError):
    """`verify`: an evidence file is missing or does not match its SHA-256."""

    exit_code = ExitCode.EVIDENCE


class StoreDamagedError(PapermodeError):
    """`verify`: the store's SQLite file fails its integrity check."""

    exit_code = ExitCode.STORE_DAMAGED


class BackupDamagedError(PapermodeError):
    """`verify --backup`: a backup is incomplete, damaged, or does not match its manifest."""

    exit_code = ExitCode.BACKUP_DAMAGED


class MergeError(PapermodeError):
    """Another station's store cannot be merged into this one (`papermode merge`)."""

    exit_code = ExitCode.MERGE


class OtherPrintRunError(MergeError):
    """The other store printed a page id of this store with another layout."""

    exit_code = ExitCode.OTHER_PRINT_RUN


class StationClashError(MergeError):
    """Two stores carry the same station id but their audit chains have parted."""

    exit_code = ExitCode.STATION_CLASH
