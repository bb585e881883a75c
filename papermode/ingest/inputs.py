"""What the clerk gives `ingest`: files, folders walked recursively, zip archives opened.

Hidden files are skipped; a zip archive is guarded against zip bombs (too many members,
a member too large) before anything is unpacked.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from papermode.core.errors import InputFileError

MAX_ZIP_MEMBERS = 2000
MAX_ZIP_MEMBER_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class InputFile:
    """One file to ingest: a path on disk, or a member of a zip archive (bytes)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    mtime: float | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


def expand_inputs(paths: Iterable[Path]) -> Iterator[InputFile]:
    """Files given, files under folders (recursively, sorted), never hidden files."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(p.startswith(".") for p in child.parts[-1:]):
                    yield InputFile(str(child), path=child, mtime=child.stat().st_mtime)
        elif path.is_file():
            yield InputFile(str(path), path=path, mtime=path.stat().st_mtime)
        else:
            raise InputFileError(
                f"{path} does not exist.", advice="Check the file or folder name and try again."
            )


def zip_members(name: str, data: bytes) -> list[InputFile]:
    """The files inside a zip archive, guarded against zip bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [
            i
            for i in archive.infolist()
            if not i.is_dir()
            and not i.filename.startswith("__MACOSX/")
            and not Path(i.filename).name.startswith(".")
        ]
        if len(infos) > MAX_ZIP_MEMBERS or any(i.file_size > MAX_ZIP_MEMBER_BYTES for i in infos):
            raise InputFileError(
                f"{name} holds too many or too large files to be a set of page photos.",
                advice="Unpack it and ingest the photos themselves.",
            )
        return [InputFile(f"{name}/{i.filename}", data=archive.read(i)) for i in infos]
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as error:
        raise InputFileError(
            f"{name} is a damaged zip archive ({error}).",
            advice="Copy the archive again from the phone or scanner, or add the photos "
            "themselves.",
        ) from error
