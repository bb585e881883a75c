"""A seeded fuzz campaign against `ingest`: no bad input may abort a run, print a
traceback, hang, or lose its original.

    .venv/bin/python bench/fuzz.py --count 10000 --seed 1 --batch 500

Inputs, derived from small valid seeds (JPEG, PNG, a 3-page TIFF, a 2-page PDF, a printed
page photographed, a zip of photos): truncations, byte flips, wrong extensions, zero-byte
files, decompression bombs (huge PNG/TIFF headers, zip bombs, lying zip headers), damaged
PDFs and multi-frame TIFFs, zips (path traversal, nesting, corrupt deflate, encrypted,
hidden members), links (outside the folder, dangling, to /dev/zero), FIFOs, hidden folders,
and pages whose QR code is forged (random text, or another valid page id).

Each batch is one `ingest` run in a child process with a time limit. A run is *aborted*
when it raises or its process dies; a *traceback* is any "Traceback" on its stderr; a
*hang* is a run over the time limit; a *lost original* is a file given whose outcome is
neither skipped nor a duplicate yet whose bytes are not in the evidence folder.
`tests/test_fuzz.py` runs a few hundred of the same inputs in `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from papermode.core.model import PAPER_SIZES_MM, PageLayout  # noqa: E402
from papermode.core.pageframe import frame_for  # noqa: E402
from papermode.core.pageid import new_page_id, qr_text  # noqa: E402
from papermode.printing.pdf import qr_modules, render_pdf  # noqa: E402

PX_PER_MM = 6.0


# ---------------------------------------------------------------------- seeds


def _jpeg(pixels: np.ndarray, quality: int = 80) -> bytes:
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


def _page_layout(seed: str) -> PageLayout:
    size = PAPER_SIZES_MM["a4"]
    return PageLayout(
        page_id=new_page_id(f"fuzz-{seed}"),
        template="test",
        template_version="1",
        paper="a4",
        size_mm=size,
        snapshot_id="fuzz",
        patient_id="p1",
        mrn="00000000",
        ward="W",
        page_number=1,
        page_count=1,
        fields=(),
    )


def _rendered_page(folder: Path) -> np.ndarray:
    import pypdfium2

    layout = _page_layout("page")
    pdf = folder / "page.pdf"
    render_pdf([layout], pdf)
    document = pypdfium2.PdfDocument(str(pdf))
    pixels = np.array(document[0].render(scale=PX_PER_MM * 25.4 / 72).to_numpy()[:, :, :3])
    document.close()
    return np.ascontiguousarray(pixels)


def _forged_qr(page: np.ndarray, text: str) -> np.ndarray:
    """`page` with its QR code replaced by one holding `text`."""
    forged = page.copy()
    box = frame_for(PAPER_SIZES_MM["a4"]).qr_box
    modules = np.array(qr_modules(text), dtype=bool)
    side = int(min(box.w, box.h) * PX_PER_MM)
    quiet = 4
    grid = np.pad(modules, quiet, constant_values=False)
    cell = max(1, side // grid.shape[0])
    image = np.where(np.kron(grid, np.ones((cell, cell), bool)), 0, 255).astype(np.uint8)
    x, y = int(box.x * PX_PER_MM), int(box.y * PX_PER_MM)
    h, w = image.shape
    forged[y : y + h, x : x + w] = image[:, :, None]
    return forged


@dataclass
class Seeds:
    files: dict[str, bytes]
    page: np.ndarray


def make_seeds(folder: Path) -> Seeds:
    """Small valid files of every kind papermode reads."""
    # A small clean photo of a note: Tesseract reads it in a blink (a noisy one takes it
    # tens of seconds, which would measure Tesseract rather than ingest).
    photo = np.full((180, 240, 3), 235, np.uint8)
    cv2.putText(photo, "Paracetamol", (10, 90), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    frames = [Image.fromarray(np.full((200, 150), v, np.uint8)) for v in (20, 128, 240)]
    tiff, pdf, png = io.BytesIO(), io.BytesIO(), io.BytesIO()
    frames[0].save(tiff, format="TIFF", save_all=True, append_images=frames[1:])
    frames[0].save(pdf, format="PDF", save_all=True, append_images=frames[1:2], resolution=50)
    Image.fromarray(photo).save(png, format="PNG")
    page = _rendered_page(folder)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("DCIM/IMG_1.jpg", _jpeg(photo))
        bundle.writestr("DCIM/IMG_2.png", png.getvalue())
    files = {
        "photo.jpg": _jpeg(photo),
        "scan.png": png.getvalue(),
        "scan.tif": tiff.getvalue(),
        "scan.pdf": pdf.getvalue(),
        "page.jpg": _jpeg(page, 70),
        "phone.zip": archive.getvalue(),
    }
    return Seeds(files, page)


# ---------------------------------------------------------------------- mutations

Maker = Callable[[random.Random, Seeds, Path, str], None]


def _seed_bytes(rng: random.Random, seeds: Seeds) -> tuple[str, bytes]:
    # The printed page is mutated rarely: a damaged page photo is OCRed whole, seconds each.
    names = sorted(seeds.files)
    name = rng.choice([n for n in names if n != "page.jpg"] * 20 + ["page.jpg"])
    return name, seeds.files[name]


def truncated(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    name, data = _seed_bytes(rng, seeds)
    cut = rng.randrange(0, max(1, len(data)))
    (folder / f"{stem}-{name}").write_bytes(data[:cut])


def flipped(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    name, data = _seed_bytes(rng, seeds)
    mutable = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        position = rng.randrange(len(mutable))
        mutable[position] = rng.randrange(256)
    (folder / f"{stem}-{name}").write_bytes(bytes(mutable))


def wrong_extension(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    _, data = _seed_bytes(rng, seeds)
    extension = rng.choice([".jpg", ".pdf", ".zip", ".heic", ".txt", ".tif", ""])
    (folder / f"{stem}-wrong{extension}").write_bytes(data)


def zero_byte(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    (folder / f"{stem}-empty{rng.choice(['.jpg', '.zip', '.pdf'])}").write_bytes(b"")


def random_bytes(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    magic = rng.choice(
        [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"%PDF-1.4", b"PK\x03\x04"]
    )
    body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000)))
    (folder / f"{stem}-noise.jpg").write_bytes(magic + body)


def pixel_bomb(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    """A PNG or TIFF whose header claims a gigantic image."""
    width, height = rng.choice([(60000, 60000), (200000, 10), (1, 2**31 - 1), (0, 0)])
    if rng.random() < 0.5:
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        ihdr = b"IHDR" + header
        chunk = struct.pack(">I", len(header)) + ihdr + struct.pack(">I", zlib.crc32(ihdr))
        idat = zlib.compress(b"\x00" * 100_000)
        body = struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", 0)
        (folder / f"{stem}-bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk + body)
    else:
        entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1)]
        ifd = struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            ifd += struct.pack("<HHII", tag, kind, count, value)
        (folder / f"{stem}-bomb.tif").write_bytes(
            b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0" * 8
        )


def _zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as bundle:
        for name, data in members:
            bundle.writestr(name, data)
    return buffer.getvalue()


def evil_zip(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    _, data = _seed_bytes(rng, seeds)
    kind = rng.choice(["traversal", "bomb", "nested", "corrupt", "lying", "hidden", "many"])
    if kind == "traversal":
        archive = _zip_bytes([("../../../../etc/cron.d/evil.jpg", data), ("/abs/x.jpg", data)])
    elif kind == "bomb":
        archive = _zip_bytes([("bomb.tif", b"\x00" * rng.choice([5, 30]) * 1_000_000)])
    elif kind == "nested":
        archive = _zip_bytes([("inner.jpg", data)])
        for level in range(rng.randint(1, 9)):
            archive = _zip_bytes([(f"level{level}.zip", archive)])
    elif kind == "corrupt":
        mutable = bytearray(_zip_bytes([("a.jpg", data), ("b.jpg", data[::-1])]))
        start = 40 + rng.randrange(max(1, len(mutable) // 2))
        mutable[start : start + 16] = bytes(rng.randrange(256) for _ in range(16))
        archive = bytes(mutable)
    elif kind == "lying":
        mutable = bytearray(_zip_bytes([("small.jpg", data)]))
        central = mutable.rindex(b"PK\x01\x02")
        mutable[central + 24 : central + 28] = (rng.randrange(1, 50)).to_bytes(4, "little")
        archive = bytes(mutable)
    elif kind == "hidden":
        archive = _zip_bytes([("__MACOSX/._a.jpg", data), (".hidden/b.jpg", data), ("c.jpg", data)])
    else:
        archive = _zip_bytes([(f"{n}.txt", b"x") for n in range(rng.randint(50, 1200))])
    (folder / f"{stem}-{kind}.zip").write_bytes(archive)


def special_path(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    kind = rng.choice(["outside", "dangling", "device", "fifo", "hidden", "dirlink"])
    if kind == "outside":
        (folder / f"{stem}-shadow.jpg").symlink_to("/etc/passwd")
    elif kind == "dangling":
        (folder / f"{stem}-gone.jpg").symlink_to(folder / f"{stem}-nothing-here")
    elif kind == "device":
        (folder / f"{stem}-zero.jpg").symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(folder / f"{stem}-pipe.jpg")
    elif kind == "hidden":
        hidden = folder / f".{stem}-thumbnails"
        hidden.mkdir()
        (hidden / "t.jpg").write_bytes(seeds.files["photo.jpg"])
    else:
        (folder / f"{stem}-root").symlink_to("/", target_is_directory=True)


def forged_qr(rng: random.Random, seeds: Seeds, folder: Path, stem: str) -> None:
    text = rng.choice(
        [
            qr_text(new_page_id(f"forged-{rng.random()}")),
            "PM1:" + "".join(rng.choice("ABCDEFGHJKMNPQRSTVWXYZ0123456789") for _ in range(10)),
            "https://example.invalid/?mrn=123",
            "x" * rng.randint(1, 200),
        ]
    )
    page = _forged_qr(seeds.page, text)
    (folder / f"{stem}-forged.jpg").write_bytes(_jpeg(page, rng.choice([50, 80, 95])))


MAKERS: list[tuple[Maker, int]] = [
    (truncated, 22),
    (flipped, 22),
    (wrong_extension, 8),
    (zero_byte, 3),
    (random_bytes, 8),
    (pixel_bomb, 6),
    (evil_zip, 16),
    (special_path, 8),
    (forged_qr, 2),
]


def make_inputs(seed: int, count: int, folder: Path, seeds: Seeds) -> list[str]:
    """`count` fuzzed inputs in `folder`, the same for the same seed; returns their kinds."""
    rng = random.Random(seed)
    makers = [maker for maker, weight in MAKERS for _ in range(weight)]
    kinds = []
    for number in range(count):
        maker = rng.choice(makers)
        maker(rng, seeds, folder, f"{seed}-{number:05d}")
        kinds.append(maker.__name__)
    return kinds


# ---------------------------------------------------------------------- checks


@dataclass
class Report:
    inputs: int = 0
    runs: int = 0
    aborted: int = 0
    tracebacks: int = 0
    hangs: int = 0
    lost: list[str] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def ok(self) -> bool:
        return not (self.aborted or self.tracebacks or self.hangs or self.lost or self.unaccounted)

    def as_json(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "runs": self.runs,
            "aborted": self.aborted,
            "tracebacks": self.tracebacks,
            "hangs": self.hangs,
            "lost_originals": self.lost[:20],
            "unaccounted": self.unaccounted[:20],
            "statuses": dict(sorted(self.statuses.items())),
        }


_RUN = """
import json, sys
from pathlib import Path
from papermode.ingest.pipeline import ingest_paths
from papermode.store.database import open_store
with open_store(sys.argv[2]) as store:
    summary = ingest_paths([Path(sys.argv[1])], store, workers=int(sys.argv[3]))
print(json.dumps([[o.file, o.status] for o in summary.outcomes]))
"""


def check_run(folder: Path, store: Path, outcomes: list[tuple[str, str]], report: Report) -> None:
    """Every path given has an outcome; every original read or quarantined is kept."""
    import sqlite3

    report.statuses.update(status for _, status in outcomes)
    named = {name for name, _ in outcomes}
    db = sqlite3.connect(store)
    kept = {row[0]: row[1] for row in db.execute("SELECT sha256, evidence FROM files")}
    db.close()
    evidence = store.with_name(store.name + ".evidence")
    by_file: dict[str, set[str]] = {}
    for name, status in outcomes:
        by_file.setdefault(name, set()).add(status)
    for path in sorted(folder.iterdir()):
        has_outcome = str(path) in named or any(n.startswith(f"{path}/") for n in named)
        if not has_outcome:
            report.unaccounted.append(path.name)
            continue
        statuses = by_file.get(str(path), set())
        if path.is_symlink() or not path.is_file() or statuses & {"skipped", "duplicate"}:
            continue
        if not statuses:
            continue  # an archive: its members carry the outcomes, the archive is evidence
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if sha not in kept or (evidence / kept[sha]).read_bytes() != path.read_bytes():
            report.lost.append(path.name)


def run_batch(folder: Path, store: Path, report: Report, *, workers: int, limit: float) -> None:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    environment.pop("PAPERMODE_DEBUG", None)
    report.runs += 1
    try:
        done = subprocess.run(
            [sys.executable, "-c", _RUN, str(folder), str(store), str(workers)],
            capture_output=True,
            text=True,
            timeout=limit,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        report.hangs += 1
        return
    if "Traceback" in done.stderr:
        report.tracebacks += 1
    if done.returncode != 0:
        report.aborted += 1
        sys.stderr.write(done.stderr[-2000:])
        return
    check_run(folder, store, [tuple(pair) for pair in json.loads(done.stdout)], report)


def campaign(
    seed: int,
    count: int,
    workdir: Path,
    *,
    batch: int = 300,
    workers: int = 2,
    limit: float = 900,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    """Fuzz `count` inputs in batches, each batch one ingest run into a fresh store."""
    report = Report()
    seeds = make_seeds(workdir)
    for start in range(0, count, batch):
        folder = workdir / f"batch-{start:06d}"
        folder.mkdir()
        size = min(batch, count - start)
        make_inputs(seed * 1_000_003 + start, size, folder, seeds)
        report.inputs += size
        run_batch(folder, workdir / f"store-{start:06d}.db", report, workers=workers, limit=limit)
        if progress:
            progress(report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=float, default=1800, help="seconds per batch run")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papermode-fuzz-") as workdir:
        report = campaign(
            arguments.seed,
            arguments.count,
            Path(workdir),
            batch=arguments.batch,
            workers=arguments.workers,
            limit=arguments.limit,
            progress=lambda so_far: print(
                json.dumps(so_far.as_json()), file=sys.stderr, flush=True
            ),
        )
    print(json.dumps(report.as_json(), indent=2))
    sys.exit(0 if report.ok() else 1)


if __name__ == "__main__":
    main()
