"""Owner-only files and folders, whatever the umask: everything papermode writes holds
patient data (printed forms, photos, exports), so nobody but its owner may read it.

`Path.mkdir(parents=True, mode=...)` applies the mode to the last folder only and the umask
to the others; these helpers give every folder they create 0700 and every file 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parent, each 0700; folders that exist are left alone."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made by another process meanwhile: not ours to change
            continue
        os.chmod(folder, DIR_MODE)  # the umask may have removed bits; never added any
    return path


def private_file(path: Path) -> Path:
    """Make `path` an owner-only file before a library (reportlab, OpenCV) writes into it.

    Such libraries open with "wb", which keeps the mode of a file that exists: creating it
    0600 first means its content is never readable by others, not even for a moment.
    """
    path = Path(path)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path
