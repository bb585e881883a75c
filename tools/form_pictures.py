"""Pictures of printed forms for the docs: one patient's MAR, PRN and vitals page as PNGs.

    .venv/bin/python tools/form_pictures.py FORMS_DIR --patient p-101 --prefix after \
        [--dpi 60] [--threshold 160] [--out docs/images]

FORMS_DIR is a folder `papermode prepare` wrote (its manifest.json says which PDF page is
which). Writes OUT/<prefix>-mar.png, -prn.png, -vitals.png at `--dpi`, and with
`--threshold T` also each page as a 1-bit scan would keep it (rendered at 200 dpi, thresholded
at T, then shrunk to `--dpi`). The sample census is synthetic: no real patient is pictured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

TEMPLATES = ("mar", "prn", "vitals")


def _pages(forms: Path, patient: str) -> dict[str, tuple[str, int]]:
    manifest = json.loads((forms / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, tuple[str, int]] = {}
    for page in manifest["pages"]:
        if page["patient_id"] == patient and page["template"] in TEMPLATES:
            found.setdefault(page["template"], (page["pdf"], page["pdf_page"]))
    return found


def _render(pdf: Path, number: int, dpi: float) -> Image.Image:
    document = pdfium.PdfDocument(str(pdf))
    try:
        image: Image.Image = document[number - 1].render(scale=dpi / 72).to_pil()
        return image.convert("L")
    finally:
        document.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("forms", type=Path)
    parser.add_argument("--patient", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--dpi", type=float, default=60.0)
    parser.add_argument("--threshold", type=int)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    for template, (pdf, number) in sorted(_pages(arguments.forms, arguments.patient).items()):
        picture = _render(arguments.forms / pdf, number, arguments.dpi)
        picture.save(arguments.out / f"{arguments.prefix}-{template}.png", optimize=True)
        if arguments.threshold is not None:
            scan = _render(arguments.forms / pdf, number, 200.0)
            bilevel = scan.point(lambda v: 255 if v > arguments.threshold else 0).convert("1")
            small = bilevel.convert("L").resize(picture.size, Image.Resampling.BOX)
            name = f"{arguments.prefix}-{template}-1bit{arguments.threshold}.png"
            small.save(arguments.out / name, optimize=True)
        print(arguments.out / f"{arguments.prefix}-{template}.png")


if __name__ == "__main__":
    main()
