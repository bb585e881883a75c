"""What the clerk gives `ingest`: files, folders walked recursively, zip archives opened.

Nothing is followed or opened that could leak or hang: a link is followed only to a
regular file inside the folder given (never `/etc/shadow`, a device or a pipe); hidden
files and folders (`DCIM/.thumbnails/`) are skipped; a file over the size limit is refused
before a byte of it is copied. Every path left out is reported (`Skipped`), never dropped
without a word.

A zip archive is read member by member (one member in memory at a time), each member is
an input of its own with the member's time stamp; nested archives are opened to a small
depth; a member that is damaged, too large or a decompression bomb is reported as a
`Refused` member while the others are read.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from papermode.core.errors import InputFileError
from papermode.reading.imaging import MAX_FILE_BYTES

MAX_ZIP_MEMBERS = 1000
MAX_ZIP_MEMBER_BYTES = MAX_FILE_BYTES
# All members of one archive together, decompressed: a week of photos fits, a bomb does not.
MAX_ZIP_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
# Photos and scans barely compress; a member that shrank more than this is a bomb.
MAX_ZIP_RATIO = 200
MAX_ZIP_DEPTH = 3
_ZIP_ADVICE = "Unpack it and ingest the photos themselves."


@dataclass(frozen=True)
class InputFile:
    """One file to ingest: a path on disk, or a member of a zip archive (bytes)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    mtime: float | None = None
    depth: int = 0  # how many archives this file sits inside

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        with open(self.path, "rb") as handle:  # never more than the limit, even if it grew
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InputFileError(_too_large(self.name, len(data)), advice=_TOO_LARGE_ADVICE)
        return data


@dataclass(frozen=True)
class Skipped:
    """A path given (or found in a folder) that is not ingested, and why. Nothing is kept."""

    name: str
    reason: str


@dataclass(frozen=True)
class Refused:
    """A member of an archive that cannot be read; the archive itself is kept as evidence."""

    name: str
    reason: str


_TOO_LARGE_ADVICE = "Split the scan into smaller files, or scan at 300 dpi in grayscale."


def _too_large(name: str, size: int) -> str:
    return (
        f"{name} is too large ({size / 1e6:.0f} MB; papermode reads files up to "
        f"{MAX_FILE_BYTES / 1e6:.0f} MB); it was not copied"
    )


# ---------------------------------------------------------------------- files and folders


def expand_inputs(
    paths: Iterable[Path], on_skip: Callable[[Skipped], None] | None = None
) -> Iterator[InputFile]:
    """Files given, files under folders (recursively, sorted), never hidden files.

    A path that does not exist raises InputFileError before anything is read; every other
    path left out is told to `on_skip`.
    """
    tell = on_skip or (lambda skipped: None)
    given = [Path(p) for p in paths]
    for path in given:
        if not path.exists() and not path.is_symlink():
            raise InputFileError(
                f"{path} does not exist.", advice="Check the file or folder name and try again."
            )
    for path in given:
        if path.is_dir():
            yield from _walk(path, tell)
        else:
            item = _regular_file(path, path.resolve().parent, tell, given=True)
            if item is not None:
                yield item


def _walk(root: Path, tell: Callable[[Skipped], None]) -> Iterator[InputFile]:
    inside = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in sorted(d for d in dirs if d.startswith(".")):
            tell(Skipped(str(here / name), "a hidden folder; nothing in it is read"))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(dirs):
            if (here / name).is_symlink():
                tell(Skipped(str(here / name), "a link to a folder; links are not followed"))
        for name in sorted(files):
            if name.startswith("."):
                tell(Skipped(str(here / name), "a hidden file"))
                continue
            item = _regular_file(here / name, inside, tell, given=False)
            if item is not None:
                yield item


def _regular_file(
    path: Path, inside: Path, tell: Callable[[Skipped], None], *, given: bool
) -> InputFile | None:
    """The file at `path` when it is safe to read; else None, and `tell` says why."""
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.exists():
            tell(Skipped(str(path), "a link to a file that does not exist"))
            return None
        if not given and not target.is_relative_to(inside):
            tell(Skipped(str(path), "a link to a file outside the folder given; not followed"))
            return None
    try:
        info = path.stat()
    except OSError as error:
        tell(Skipped(str(path), f"cannot be opened ({error.strerror or error})"))
        return None
    if not stat.S_ISREG(info.st_mode):
        tell(Skipped(str(path), "not a regular file (a device, a pipe or a socket)"))
        return None
    if info.st_size > MAX_FILE_BYTES:
        tell(Skipped(str(path), f"{_too_large(path.name, info.st_size)}. {_TOO_LARGE_ADVICE}"))
        return None
    return InputFile(str(path), path=path, mtime=info.st_mtime)


# ---------------------------------------------------------------------- zip archives


def zip_members(
    name: str, data: bytes, *, mtime: float | None = None, depth: int = 0
) -> Iterator[InputFile | Refused | Skipped]:
    """The files inside a zip archive, one at a time, guarded against zip bombs.

    Raises InputFileError at once when the archive as a whole cannot be read (not a zip,
    its directory damaged, too many members); a bad member is yielded as `Refused`.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except Exception as error:  # zipfile raises many kinds on a damaged directory
        raise _damaged(name, error) from error
    if len(infos) > MAX_ZIP_MEMBERS:
        archive.close()
        raise InputFileError(
            f"{name} holds {len(infos)} files; papermode opens archives of at most "
            f"{MAX_ZIP_MEMBERS} page photos.",
            advice=_ZIP_ADVICE,
        )
    return _members(archive, infos, name, mtime, depth)


def _members(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    name: str,
    mtime: float | None,
    depth: int,
) -> Iterator[InputFile | Refused | Skipped]:
    budget = MAX_ZIP_TOTAL_BYTES
    with archive:
        for info in infos:
            member = f"{name}/{info.filename}"
            if _hidden_member(info.filename):
                yield Skipped(member, "a hidden file or folder in the archive")
                continue
            problem = _member_problem(info, budget)
            if problem:
                yield Refused(member, f"{member} {problem}")
                continue
            try:
                content = _read_member(archive, info, member)
            except InputFileError as error:
                yield Refused(member, error.message)
                continue
            except Exception as error:  # zlib.error, CRC, EOF, encrypted, unsupported method
                yield Refused(member, f"{member} is damaged in the archive ({_why(error)})")
                continue
            budget -= len(content)
            yield InputFile(member, data=content, mtime=_member_time(info, mtime), depth=depth + 1)


def _member_problem(info: zipfile.ZipInfo, budget: int) -> str | None:
    if info.flag_bits & 0x1:
        return "is encrypted; papermode cannot read it"
    if info.file_size > MAX_ZIP_MEMBER_BYTES or info.file_size > budget:
        return (
            f"is too large ({info.file_size / 1e6:.0f} MB unpacked) to be a page photo; "
            "it was not unpacked"
        )
    if info.file_size > 1_000_000 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        return "unpacks to far more than it holds (a zip bomb); it was not unpacked"
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: str) -> bytes:
    """The member's bytes, never more than its declared size or the limit (a lying header)."""
    limit = min(info.file_size, MAX_ZIP_MEMBER_BYTES)
    with archive.open(info) as handle:
        content = handle.read(limit + 1)
    if len(content) > limit:
        raise InputFileError(
            f"{member} unpacks to more than its header says (a zip bomb); it was not unpacked",
            advice=_ZIP_ADVICE,
        )
    return content


def _hidden_member(filename: str) -> bool:
    parts = [part for part in filename.replace("\\", "/").split("/") if part]
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _member_time(info: zipfile.ZipInfo, fallback: float | None) -> float | None:
    """When the member was written (the phone's time), else the archive's own time."""
    try:
        written = datetime(*info.date_time)
    except (TypeError, ValueError):
        return fallback
    if written.year <= 1980:  # the zip format's "no date"
        return fallback
    return written.timestamp()


def _why(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[:120]


def _damaged(name: str, error: BaseException) -> InputFileError:
    return InputFileError(
        f"{name} is a damaged zip archive ({_why(error)}).",
        advice="Copy the archive again from the phone or scanner, or add the photos themselves.",
    )
