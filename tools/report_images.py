"""Render the pictures of docs/report.md: page 1 of the hospital PDF and page 1 of one
ward's PDF of `papermode report`, made on the demo's synthetic store (fictional patients),
as small PNGs in docs/images/report-*.png.

    .venv/bin/python tools/report_images.py            # runs the demo into a temp folder
    .venv/bin/python tools/report_images.py --store demo-output/papermode.db --date 2026-12-02
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pypdfium2 as pdfium

from papermode.cli.main import main as papermode

DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
WIDTH_PX = 760  # small enough for a docs page, large enough to read the figures


def render_first_page(pdf: Path, png: Path, width_px: int = WIDTH_PX) -> None:
    """Page 1 of `pdf` as a PNG `width_px` wide."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        page = document[0]
        scale = width_px / page.get_width()
        page.render(scale=scale).to_pil().convert("RGB").save(png, optimize=True)
    finally:
        document.close()


def _papermode(*args: str) -> None:
    papermode.main(list(args), standalone_mode=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a store (default: a fresh demo's)")
    parser.add_argument("--date", help="the report's day, YYYY-MM-DD (default: today)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-images-") as folder:
        store = args.store
        if store is None:
            _papermode("demo", "--out", f"{folder}/demo", "--photos", "12")
            store = Path(folder) / "demo" / "papermode.db"
        day = ["--date", args.date] if args.date else []
        _papermode("report", "--store", str(store), "--out", f"{folder}/report", *day)
        written = next((Path(folder) / "report").glob("report-*"))
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        render_first_page(written / "hospital.pdf", DOCS_IMAGES / "report-hospital.png")
        ward = sorted(written.glob("ward-*.pdf"))[0]
        render_first_page(ward, DOCS_IMAGES / "report-ward.png")
        print(f"wrote report-hospital.png and report-ward.png ({ward.name}) in {DOCS_IMAGES}")


if __name__ == "__main__":
    main()
