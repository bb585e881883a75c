"""Blank pages of a `prepare` output folder, rendered from the real PDFs (pypdfium2)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from papermode.core.errors import InputFileError
from papermode.core.model import PrintedPage
from papermode.printing.manifest import MANIFEST_NAME, read_manifest

POINTS_PER_MM = 72.0 / 25.4


def render_pdf_page(path: Path, page_number: int, px_per_mm: float) -> np.ndarray:
    """Page `page_number` (1-based) of the PDF at `path` as an RGB uint8 array."""
    try:
        document = pdfium.PdfDocument(str(path))
    except (OSError, pdfium.PdfiumError) as error:
        raise InputFileError(
            f"{path.name}: the printed PDF cannot be opened ({error}).",
            advice="Run `papermode prepare` again to rewrite the PDFs and their manifest.",
        ) from error
    try:
        page = document[page_number - 1]
        bitmap = page.render(scale=px_per_mm / POINTS_PER_MM)
        return np.asarray(bitmap.to_pil().convert("RGB"))
    finally:
        document.close()


class PageRenderer:
    """The printed pages of `prepared_dir` and their blank images (a few kept in memory)."""

    def __init__(self, prepared_dir: Path, px_per_mm: float, *, keep: int = 8) -> None:
        self.prepared_dir = prepared_dir
        self.px_per_mm = px_per_mm
        self.pages: list[PrintedPage] = read_manifest(prepared_dir / MANIFEST_NAME)
        if not self.pages:
            raise InputFileError(
                f"{prepared_dir}: the manifest lists no printed pages.",
                advice="Run `papermode prepare` with a census that has patients.",
            )
        self._keep = keep
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def render(self, printed: PrintedPage) -> np.ndarray:
        """The blank page image (RGB, read-only: fill a copy)."""
        page_id = printed.layout.page_id
        if page_id in self._cache:
            self._cache.move_to_end(page_id)
            return self._cache[page_id]
        image = render_pdf_page(self.prepared_dir / printed.pdf, printed.pdf_page, self.px_per_mm)
        image.flags.writeable = False
        self._cache[page_id] = image
        if len(self._cache) > self._keep:
            self._cache.popitem(last=False)
        return image
