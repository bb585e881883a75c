"""Page layouts -> PDF. The only module that imports reportlab.

Everything is placed in millimetres from the page's top-left corner, exactly as the layout
and `pageframe` say, so the reader finds each box where the manifest puts it. Output is
deterministic (reportlab's `invariant` mode): the same layouts give the same bytes.

Fonts: DejaVu Sans and DejaVu Sans Mono (regular and bold) from
/usr/share/fonts/truetype/dejavu/ when present, else reportlab's bundled Bitstream Vera
(which has no monospace face: mono text then falls back to Vera). Both cover Latin
Extended (Hélène, Ødegaard, Łukasz, Zoë) and are embedded as subsets. Characters they
lack (Chinese, Japanese, Korean) are drawn in the fallback font of `papermode.printing.glyphs`;
text no font can print faithfully is refused before printing (`printing.printable`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import reportlab
from reportlab import rl_config
from reportlab.graphics.barcode import qrencoder
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from papermode.core.labels import label_size_pt
from papermode.core.model import Box, Field, Line, PageLayout, Shade, Text
from papermode.core.pageframe import (
    MARKER_IDS,
    MARKER_QUIET_MM,
    Frame,
    frame_for,
)
from papermode.core.private import private_file
from papermode.printing.glyphs import font_runs

# Plain Flate-compressed streams: ASCII85 on top only grows the file and costs a third of
# the rendering time. This module is the only reportlab user, so the global is ours to set.
rl_config.useA85 = 0

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
FIELD_LINE_MM = 0.25  # thin borders: visible to the nurse, outside what the reader measures
# Field borders, comb dividers, the printed decimal point and box labels: a dark grey that
# survives a 1-bit scan and a photocopy at the usual thresholds (128-160 of 255) at 200 and
# 300 dpi, yet stays lighter than any pen, so the reader still tells them apart in a grey
# photo. The former drop-out salmon (grey level ~166) vanished at every usual threshold
# (tools/measure_bilevel.py --borders; docs/templates.md "Colours").
BORDER_GREY = 0.35
# A band that must stand out (high alert, do not give) is framed, never filled: text on a
# grey fill dithers into noise in a 1-bit scan and a photocopy.
BAND_FRAME_MM = 0.6
QR_QUIET_MODULES = 4  # the QR standard's quiet zone, kept inside `frame.qr_box`

_FONT_FILES = {
    # role: (DejaVu file, Vera fallback file)
    "sans": ("DejaVuSans.ttf", "Vera.ttf"),
    "sans-bold": ("DejaVuSans-Bold.ttf", "VeraBd.ttf"),
    "mono": ("DejaVuSansMono.ttf", "Vera.ttf"),
    "mono-bold": ("DejaVuSansMono-Bold.ttf", "VeraBd.ttf"),
}


@functools.cache
def fonts() -> dict[str, str]:
    """Register the TTF fonts once per process; map role (sans, mono-bold...) to font name."""
    bundled = Path(reportlab.__file__).parent / "fonts"
    names: dict[str, str] = {}
    for role, (dejavu, vera) in _FONT_FILES.items():
        path = DEJAVU_DIR / dejavu
        if not path.is_file():
            path = bundled / vera
        name = f"papermode-{path.stem}"
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))
        names[role] = name
    return names


def font_family() -> str:
    """Which font family the PDFs use on this machine ("DejaVu" or "Vera")."""
    return "DejaVu" if "DejaVu" in fonts()["sans"] else "Vera"


def _font(bold: bool, mono: bool) -> str:
    role = ("mono" if mono else "sans") + ("-bold" if bold else "")
    return fonts()[role]


@functools.cache
def marker_bits(marker_id: int) -> tuple[tuple[bool, ...], ...]:
    """The ArUco 4x4_50 marker as a 6x6 matrix (black border included); True is black."""
    import cv2

    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, 6)
    return tuple(tuple(bool(value < 128) for value in row) for row in image)


@functools.cache
def qr_modules(text: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of `text` (error correction Q, or M when Q cannot hold it); True is dark.

    zxing-cpp encodes in C++ (fast); reportlab's pure-Python encoder is the fallback.
    """
    for level in ("Q", "M"):
        try:
            return _zxing_modules(text, level)
        except Exception:  # an older zxing-cpp without create_barcode, or the text is too long
            continue
    try:
        code = _qr_code(text, qrencoder.QRErrorCorrectLevel.Q)
    except Exception:  # reportlab raises a bare Exception when the data does not fit
        code = _qr_code(text, qrencoder.QRErrorCorrectLevel.M)
    count = code.getModuleCount()
    return tuple(tuple(bool(code.isDark(r, c)) for c in range(count)) for r in range(count))


def _zxing_modules(text: str, level: str) -> tuple[tuple[bool, ...], ...]:
    import numpy as np
    import zxingcpp

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
    image = np.asarray(code.to_image(scale=1, add_quiet_zones=False))
    return tuple(tuple(bool(value < 128) for value in row) for row in image)


def _qr_code(text: str, level: int) -> qrencoder.QRCode:
    code = qrencoder.QRCode(None, level)
    code.addData(text)
    code.make()
    return code


class _PageCanvas:
    """A reportlab canvas addressed in mm from the top-left corner of the current page."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.height_mm = 0.0
        self.markers_drawn: set[int] = set()

    def start(self, size_mm: tuple[float, float]) -> None:
        self.height_mm = size_mm[1]
        self.canvas.setPageSize((size_mm[0] * mm, size_mm[1] * mm))

    def y(self, top_mm: float) -> float:
        return (self.height_mm - top_mm) * mm

    def rect(self, box: Box, *, stroke: bool, fill: bool) -> None:
        self.canvas.rect(
            box.x * mm,
            self.y(box.y + box.h),
            box.w * mm,
            box.h * mm,
            stroke=int(stroke),
            fill=int(fill),
        )

    def text(self, item: Text) -> None:
        if not item.text or item.size <= 0:
            return  # nothing to print; reportlab refuses a zero font size
        runs = font_runs(item.text, _font(item.bold, item.mono))
        x, y = item.x * mm, self.y(item.y)
        if len(runs) == 1:
            self.canvas.setFont(runs[0][0], item.size)
            if item.align == "centre":
                self.canvas.drawCentredString(x, y, runs[0][1])
            elif item.align == "right":
                self.canvas.drawRightString(x, y, runs[0][1])
            else:
                self.canvas.drawString(x, y, runs[0][1])
            return
        # Several fonts (a CJK name): draw run by run from the start the alignment gives.
        widths = [pdfmetrics.stringWidth(text, font, item.size) for font, text in runs]
        shift = {"centre": sum(widths) / 2, "right": sum(widths)}.get(item.align, 0.0)
        x -= shift
        for (font, text), width in zip(runs, widths, strict=True):
            self.canvas.setFont(font, item.size)
            self.canvas.drawString(x, y, text)
            x += width


def render_pdf(pages: Sequence[PageLayout], path: Path) -> None:
    """Write `pages` as one PDF at `path`, each page at its layout's `size_mm`."""
    if not pages:
        raise ValueError("render_pdf needs at least one page")
    private_file(path)  # forms carry patient names: owner-only whatever the umask
    # The initial font would otherwise be Helvetica: unembedded and without Ł.
    canvas = Canvas(str(path), invariant=1, pageCompression=1, initialFontName=fonts()["sans"])
    canvas.setTitle("papermode downtime forms")
    canvas.setCreator("papermode")
    page_canvas = _PageCanvas(canvas)
    for layout in pages:
        page_canvas.start(layout.size_mm)
        _draw_page(page_canvas, layout)
        canvas.showPage()
    canvas.save()


def _draw_page(page: _PageCanvas, layout: PageLayout) -> None:
    """Everything on one page: the layout's drawings and fields, then the frame on top."""
    for drawing in layout.drawings:
        _draw_drawing(page, drawing)
    _draw_fields(page, layout.fields)
    frame = frame_for(layout.size_mm)
    _draw_markers(page, frame)
    _draw_qr(page, frame.qr_box, layout.qr_text)
    _draw_page_id(page, frame.page_id_text_box, layout.page_id)


def _draw_drawing(page: _PageCanvas, drawing: Text | Line | Shade) -> None:
    canvas = page.canvas
    if isinstance(drawing, Text):
        canvas.setFillGray(0)
        page.text(drawing)
    elif isinstance(drawing, Line):
        canvas.setStrokeGray(drawing.grey)
        canvas.setLineWidth(drawing.width * mm)
        canvas.line(drawing.x1 * mm, page.y(drawing.y1), drawing.x2 * mm, page.y(drawing.y2))
    else:
        canvas.setFillGray(drawing.grey)
        canvas.setStrokeGray(0)
        canvas.setLineWidth(BAND_FRAME_MM * mm)
        page.rect(drawing.box, stroke=drawing.outline, fill=drawing.grey < 1.0)


def _draw_fields(page: _PageCanvas, fields: Sequence[Field]) -> None:
    """All field borders as one path (far fewer PDF operators), then dots and labels."""
    canvas = page.canvas
    canvas.setStrokeGray(BORDER_GREY)
    canvas.setFillGray(BORDER_GREY)
    canvas.setLineWidth(FIELD_LINE_MM * mm)
    path = canvas.beginPath()
    dots = canvas.beginPath()
    for item in fields:
        box = item.box
        path.rect(box.x * mm, page.y(box.y + box.h), box.w * mm, box.h * mm)
        if item.kind == "digits" and item.cells > 1:
            _add_comb(page, path, dots, item)
    canvas.drawPath(path, stroke=1, fill=0)
    canvas.drawPath(dots, stroke=0, fill=1)
    for item in fields:
        if item.kind in ("text", "signature") and item.label:
            _draw_label(page, item)


def _add_comb(page: _PageCanvas, path: Any, dots: Any, item: Field) -> None:
    """Cell dividers, the printed decimal point, and the colon of a 4-cell time field.

    The dots are small squares centred on a divider: cheaper than circles, printed in the
    border grey (the reader blanks them out like the lines).
    """
    box, cells = item.box, item.cells
    top, bottom = page.y(box.y), page.y(box.y + box.h)
    for index in range(1, cells):
        x = (box.x + index * box.w / cells) * mm
        path.moveTo(x, top)
        path.lineTo(x, bottom)
    half = min(0.45, box.w / cells / 8)
    centres: list[tuple[float, float]] = []
    if 0 < item.decimals < cells:
        centres.append((box.x + (cells - item.decimals) * box.w / cells, box.y + box.h - half))
    if item.role == "time" and cells == 4:
        centres += [(box.x + box.w / 2, box.y + box.h * k / 3) for k in (1, 2)]
    for x, y in centres:
        dots.rect((x - half) * mm, page.y(y + half), 2 * half * mm, 2 * half * mm)


def _draw_label(page: _PageCanvas, item: Field) -> None:
    size = label_size_pt(item.box.h)  # small print that leaves room to write (core/labels.py)
    page.canvas.setFont(_font(False, False), size)
    page.canvas.drawString((item.box.x + 0.6) * mm, page.y(item.box.y + 0.6) - size, item.label)


def _draw_markers(page: _PageCanvas, frame: Frame) -> None:
    for corner, marker_id in MARKER_IDS.items():
        box = frame.marker_box(corner)
        page.canvas.setFillGray(1)
        page.rect(box.inset(-MARKER_QUIET_MM), stroke=False, fill=True)
        _draw_marker(page, box, marker_id)


def _draw_marker(page: _PageCanvas, box: Box, marker_id: int) -> None:
    """Draw the marker from a form XObject made once per PDF (a big speed-up for 1000s)."""
    canvas = page.canvas
    name = f"aruco{marker_id}"
    if marker_id not in page.markers_drawn:
        canvas.beginForm(name)
        canvas.setFillGray(0)
        _draw_matrix(canvas, marker_bits(marker_id), 0.0, 0.0, box.w * mm)
        canvas.endForm()
        page.markers_drawn.add(marker_id)
    canvas.saveState()
    canvas.translate(box.x * mm, page.y(box.y + box.h))
    canvas.doForm(name)
    canvas.restoreState()


def _draw_matrix(
    canvas: Canvas, bits: tuple[tuple[bool, ...], ...], left: float, bottom: float, size: float
) -> None:
    """Dark modules as rectangles, one per horizontal run (row 0 on top), in points."""
    module = size / len(bits)
    path = canvas.beginPath()
    for row_index, row in enumerate(bits):
        y = bottom + size - (row_index + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            path.rect(left + start * module, y, (column - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)


def _draw_qr(page: _PageCanvas, box: Box, text: str) -> None:
    modules = qr_modules(text)
    count = len(modules) + 2 * QR_QUIET_MODULES
    module_mm = min(box.w, box.h) / count
    page.canvas.setFillGray(1)
    page.rect(box, stroke=False, fill=True)
    page.canvas.setFillGray(0)
    inner = module_mm * len(modules)
    left = box.x + (box.w - inner) / 2
    top = box.y + (box.h - inner) / 2
    _draw_matrix(page.canvas, modules, left * mm, page.y(top + inner), inner * mm)


def _draw_page_id(page: _PageCanvas, box: Box, page_id: str) -> None:
    """The page id in bold monospace, as large as its box allows (OCR fallback for the QR)."""
    font = _font(True, True)
    width_at_1pt = pdfmetrics.stringWidth(page_id, font, 1.0)
    cap_height = 0.73  # DejaVu/Vera capitals, as a fraction of the font size
    size = min(box.w * mm / width_at_1pt, box.h * mm * 0.95 / cap_height)
    page.canvas.setFillGray(0)
    page.canvas.setFont(font, size)
    baseline = box.y + (box.h + cap_height * size / mm) / 2
    page.canvas.drawCentredString((box.x + box.w / 2) * mm, page.y(baseline), page_id)


def copy_pages(source: Path, page_numbers: Sequence[int], path: Path) -> None:
    """Write pages `page_numbers` (1-based) of the PDF `source` as a new PDF at `path`.

    How patient PDFs are made from their ward PDF: the very same pages, byte for byte in
    content, at a tiny fraction of the cost of drawing them again.
    """
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    try:
        copy = pdfium.PdfDocument.new()
        try:
            copy.import_pages(document, [number - 1 for number in page_numbers])
            private_file(path)
            copy.save(str(path))
        finally:
            copy.close()
    finally:
        document.close()
