"""What `ingest` is given: links, hidden folders, devices and pipes, huge files, archives.

Real folders, links, FIFOs and zip files in tmp_path, through `expand_inputs`,
`zip_members` and the whole `ingest_paths` into a real store.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from papermode.ingest import inputs
from papermode.ingest.inputs import InputFile, Refused, Skipped, expand_inputs, zip_members
from papermode.ingest.pipeline import ingest_paths
from papermode.store.database import open_store


def _jpeg(value: int = 250, size: tuple[int, int] = (120, 90)) -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.full((*size, 3), value, np.uint8))
    assert ok
    return encoded.tobytes()


def _expand(*paths: Path) -> tuple[list[str], list[Skipped]]:
    skipped: list[Skipped] = []
    names = [item.name for item in expand_inputs(list(paths), on_skip=skipped.append)]
    return names, skipped


def test_a_link_to_a_file_outside_the_folder_is_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:$6$secret")
    phone = tmp_path / "DCIM"
    phone.mkdir()
    (phone / "IMG_1.jpg").write_bytes(_jpeg())
    (phone / "shadow.jpg").symlink_to(secret)
    (phone / "etc").symlink_to("/etc", target_is_directory=True)
    names, skipped = _expand(phone)
    assert names == [str(phone / "IMG_1.jpg")]
    reasons = {Path(s.name).name: s.reason for s in skipped}
    assert "outside the folder" in reasons["shadow.jpg"]
    assert "links are not followed" in reasons["etc"]


def test_a_link_inside_the_folder_is_read(tmp_path: Path) -> None:
    phone = tmp_path / "DCIM"
    phone.mkdir()
    (phone / "IMG_1.jpg").write_bytes(_jpeg())
    (phone / "latest.jpg").symlink_to(phone / "IMG_1.jpg")
    names, skipped = _expand(phone)
    assert sorted(Path(n).name for n in names) == ["IMG_1.jpg", "latest.jpg"]
    assert skipped == []


def test_dangling_links_pipes_and_devices_are_skipped_with_a_word(tmp_path: Path) -> None:
    phone = tmp_path / "DCIM"
    phone.mkdir()
    (phone / "gone.jpg").symlink_to(tmp_path / "nothing-here.jpg")
    os.mkfifo(phone / "pipe.jpg")
    (phone / "zero.jpg").symlink_to("/dev/zero")
    names, skipped = _expand(phone, Path("/dev/zero"))
    assert names == []
    reasons = {s.name: s.reason for s in skipped}
    assert "does not exist" in reasons[str(phone / "gone.jpg")]
    assert "not a regular file" in reasons[str(phone / "pipe.jpg")]
    # a link to a device inside the folder: outside the folder, never opened
    assert str(phone / "zero.jpg") in reasons
    assert "not a regular file" in reasons["/dev/zero"]


def test_hidden_folders_and_files_are_skipped_and_said(tmp_path: Path) -> None:
    phone = tmp_path / "DCIM"
    (phone / ".thumbnails").mkdir(parents=True)
    (phone / ".thumbnails" / "t1.jpg").write_bytes(_jpeg())
    (phone / ".DS_Store").write_bytes(b"\x00\x01")
    (phone / "IMG_2.jpg").write_bytes(_jpeg())
    names, skipped = _expand(phone)
    assert names == [str(phone / "IMG_2.jpg")]
    assert {Path(s.name).name for s in skipped} == {".thumbnails", ".DS_Store"}


def test_a_file_over_the_limit_is_refused_before_it_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "MAX_FILE_BYTES", 10_000)
    huge = tmp_path / "scan.pdf"
    with open(huge, "wb") as handle:  # sparse: large on paper, nothing on the disk
        handle.truncate(50_000)
    names, skipped = _expand(huge)
    assert names == []
    assert "too large" in skipped[0].reason and "not copied" in skipped[0].reason


def test_a_missing_path_is_an_error_before_anything_is_read(tmp_path: Path) -> None:
    from papermode.core.errors import InputFileError

    with pytest.raises(InputFileError, match="does not exist"):
        list(expand_inputs([tmp_path / "nope"]))


def _zip(members: dict[str, bytes], *, when: tuple[int, ...] = (2026, 11, 28, 9, 41, 0)) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=when)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, data)
    return buffer.getvalue()


def test_zip_members_keep_their_own_time(tmp_path: Path) -> None:
    data = _zip({"DCIM/IMG_1.jpg": _jpeg()})
    (member,) = list(zip_members("shift.zip", data, mtime=0.0))
    assert isinstance(member, InputFile)
    assert datetime.fromtimestamp(member.mtime or 0) == datetime(2026, 11, 28, 9, 41)


def test_a_corrupt_member_is_refused_and_the_others_read() -> None:
    good, bad = _jpeg(200), _jpeg(100, (400, 300))
    data = bytearray(_zip({"a.jpg": good, "b.jpg": bad, "c.jpg": good[:-1] + b"\xd8"}))
    start = data.index(b"b.jpg") + len("b.jpg")  # inside b.jpg's deflate stream
    data[start + 40 : start + 60] = b"\xff" * 20
    entries = list(zip_members("shift.zip", bytes(data)))
    kinds = [(Path(e.name).name, type(e).__name__) for e in entries]
    assert kinds == [("a.jpg", "InputFile"), ("b.jpg", "Refused"), ("c.jpg", "InputFile")]
    refused = entries[1]
    assert isinstance(refused, Refused) and "damaged in the archive" in refused.reason


def test_a_zip_bomb_member_is_not_unpacked() -> None:
    data = _zip({"bomb.tif": b"\x00" * 20_000_000, "ok.jpg": _jpeg()})
    entries = list(zip_members("x.zip", data))
    assert isinstance(entries[0], Refused) and "zip bomb" in entries[0].reason
    assert isinstance(entries[1], InputFile)


def test_a_member_whose_header_lies_about_its_size_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = bytearray(_zip({"small.jpg": b"A" * 5000}))
    # Shrink the declared size in the central directory: the member unpacks to more.
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    entries = list(zip_members("lie.zip", bytes(data)))
    assert isinstance(entries[0], Refused)


def test_too_many_members_refuse_the_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    from papermode.core.errors import InputFileError

    monkeypatch.setattr(inputs, "MAX_ZIP_MEMBERS", 3)
    data = _zip({f"{n}.jpg": _jpeg() for n in range(4)})
    with pytest.raises(InputFileError, match="holds 4 files"):
        zip_members("many.zip", data)


# ---------------------------------------------------------------------- through ingest


def test_ingest_reports_every_skipped_path_and_copies_none(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret")
    phone = tmp_path / "DCIM"
    (phone / ".thumbnails").mkdir(parents=True)
    (phone / "shadow.jpg").symlink_to(secret)
    os.mkfifo(phone / "pipe.jpg")
    (phone / "note.txt").write_text("not a photo")
    with open_store(tmp_path / "papermode.db") as store:
        summary = ingest_paths([phone], store, workers=1)
        kept = [p.read_bytes() for p in store.evidence_dir.rglob("*") if p.is_file()]
    by_name = {Path(o.file).name: o for o in summary.outcomes}
    assert by_name["shadow.jpg"].status == "skipped"
    assert by_name["pipe.jpg"].status == "skipped"
    assert by_name[".thumbnails"].status == "skipped"
    assert by_name["note.txt"].status == "quarantined"
    assert all(b"secret" not in data for data in kept)
    assert summary.exit_code == 7


def test_nested_archives_are_opened_to_a_small_depth_only(tmp_path: Path) -> None:
    data = _zip({"photo.txt": b"deepest"})
    for level in range(6):
        data = _zip({f"level{level}.zip": data})
    archive = tmp_path / "nested.zip"
    archive.write_bytes(data)
    with open_store(tmp_path / "papermode.db") as store:
        summary = ingest_paths([archive], store, workers=1)
        evidence = [p for p in store.evidence_dir.rglob("*") if p.is_file()]
        files = store.db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    (outcome,) = summary.outcomes
    assert outcome.status == "quarantined"
    assert "levels at most" in (outcome.message or "")
    assert len(evidence) <= inputs.MAX_ZIP_DEPTH + 1
    assert files == 1  # the innermost archive read is the quarantined one, kept


def test_a_zip_member_is_ingested_with_its_time_stamp(tmp_path: Path) -> None:
    archive = tmp_path / "shift.zip"
    archive.write_bytes(_zip({"IMG_1.jpg": _jpeg()}, when=(2026, 11, 27, 22, 5, 0)))
    with open_store(tmp_path / "papermode.db") as store:
        ingest_paths([archive], store, workers=1)
        row = store.db.execute("SELECT captured_at FROM captures").fetchone()
    assert row[0] == "2026-11-27T22:05:00"
