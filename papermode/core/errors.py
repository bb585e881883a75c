"""One exception hierarchy. Each class carries an exit code and advice for the user.

The library raises these; only `papermode.cli.main` turns them into messages and exit codes.
Messages never contain patient data (names, MRNs, birth dates): they name files, rows,
resource ids and page ids instead.
"""

from __future__ import annotations


class PapermodeError(Exception):
    """Base class: `str(error)` is a complete message that says what to do next."""

    exit_code = 1

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

    exit_code = 2


class CensusError(PapermodeError):
    """The census export cannot be turned into forms; `problems` lists every problem found."""

    exit_code = 3

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


class TemplateError(PapermodeError):
    """A form template in forms/ is invalid; `problems` lists every problem with file and key."""

    exit_code = 4

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the form templates:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines), advice="Correct the template files and run again.")


class StoreError(PapermodeError):
    """The store cannot be opened, read or written."""

    exit_code = 5


class InputFileError(PapermodeError):
    """An input file cannot be read (unknown format, damaged, too large). It is quarantined."""

    exit_code = 6


class RetakeError(PapermodeError):
    """A photo cannot be read reliably; the clerk must take it again. The original is kept."""

    exit_code = 7


class PageIdError(PapermodeError):
    """A page id is malformed, fails its check value, or is unknown to this store."""

    exit_code = 8


class InstallationError(PapermodeError):
    """Something papermode needs is missing from this machine (Tesseract, a language, OpenCV)."""

    exit_code = 9


class ReviewError(PapermodeError):
    """A review decision cannot be recorded as asked (see the subclasses)."""

    exit_code = 20


class UnknownItemError(ReviewError):
    """The review item id names nothing in this store's queue."""

    exit_code = 21


class AlreadyDecidedError(ReviewError):
    """The item was decided already (by this reviewer, or by someone else just now)."""

    exit_code = 22


class ReviewerError(ReviewError):
    """The two-person rule: this reviewer may not make this decision (same person twice)."""

    exit_code = 23
