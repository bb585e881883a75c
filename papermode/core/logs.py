"""Logging for IT: why a page was sent back, why a value went to a person.

The library logs its decisions with the standard `logging` module under the `papermode`
logger (each module uses `logging.getLogger(__name__)`), naming page ids, field ids, file
names and thresholds only: never a patient's name, MRN or birth date. Only the CLI calls
`start_logging`; a program using papermode as a library configures logging its own way.

- standard error: warnings and worse; DEBUG and up with `verbose`;
- a log file (`--log-file PATH`): INFO and up (DEBUG with `verbose`), with time, level and
  logger name, appended, created owner-only (0600) because it names pages and files.

Worker processes started by `fork` inherit these handlers; the file is opened for appending,
so their lines land whole in the same file.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path

from papermode.core.errors import UsageError

ROOT_LOGGER = "papermode"
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"

_installed: list[logging.Handler] = []


class OwnerOnlyFileHandler(logging.FileHandler):
    """A FileHandler whose file is created 0600 (whatever the umask) and appended to."""

    def _open(self) -> io.TextIOWrapper:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(descriptor, "a", encoding=self.encoding or "utf-8")


def start_logging(*, verbose: bool = False, log_file: Path | None = None) -> None:
    """Send papermode's log to standard error and, when given, to `log_file`.

    Calling it again replaces what an earlier call installed (tests run many commands in
    one process). Raises UsageError when the log file cannot be opened.
    """
    stop_logging()
    logger = logging.getLogger(ROOT_LOGGER)
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    to_stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
    handlers: list[logging.Handler] = [to_stderr]
    if log_file is not None:
        try:
            to_file = OwnerOnlyFileHandler(log_file, encoding="utf-8")
        except OSError as error:
            raise UsageError(
                f"cannot write the log file {log_file}: {error.strerror or error}.",
                advice="Give --log-file a path in a folder this user can write to.",
            ) from error
        to_file.setLevel(logging.DEBUG if verbose else logging.INFO)
        to_file.setFormatter(logging.Formatter(FILE_FORMAT))
        handlers.append(to_file)
    for handler in handlers:
        logger.addHandler(handler)
    _installed.extend(handlers)
    logger.setLevel(min(handler.level for handler in handlers))


def stop_logging() -> None:
    """Remove and close what `start_logging` installed; the log file is complete on disk."""
    logger = logging.getLogger(ROOT_LOGGER)
    while _installed:
        handler = _installed.pop()
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.NOTSET)
