"""Which characters the forms can print, and in which font: a fallback chain, and the text
that must be refused rather than printed as empty boxes or in the wrong order.

The chain: DejaVu Sans (Latin, Greek, Cyrillic; `papermode.printing.pdf`), then Droid Sans
Fallback (Debian `fonts-droid-fallback`: Chinese, Japanese, Korean). Not Noto CJK, though the
field trusts it: Debian's Noto CJK files have PostScript (CFF) outlines and reportlab embeds
TrueType outlines only; Droid Sans Fallback is TrueType, Apache-2.0, the CJK face Android
shipped. The fallback is registered only when a text needs it (it costs a third of a second).

Refused (the census names the patient or order id, `printing.printable`):

- a character no font of the chain has (it would print as an empty box: a name or a drug
  a nurse cannot read);
- right-to-left letters (Arabic, Hebrew) and the marks of scripts that need shaping
  (Devanagari, Thai, ...): reportlab draws neither ordering nor joining, so "Ahmad" in
  Arabic letters would print unjoined and reversed — a wrong name, worse than a refusal.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FALLBACK_FILES = (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),)
_RTL = frozenset({"R", "AL", "AN"})


def printable_form(text: str) -> str:
    """The text as it is printed: NFC, so "é" written as e + accent is one character."""
    return unicodedata.normalize("NFC", text)


@functools.cache
def _covered(font_name: str) -> frozenset[int]:
    face = pdfmetrics.getFont(font_name).face
    return frozenset(face.charToGlyph)


@functools.cache
def fallback_fonts() -> tuple[str, ...]:
    """Register the fallback faces that are installed; their reportlab names, in order."""
    names = []
    for path in FALLBACK_FILES:
        if path.is_file():
            name = f"papermode-{path.stem}"
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(path)))
            names.append(name)
    return tuple(names)


def has_glyph(font_name: str, char: str) -> bool:
    return ord(char) in _covered(font_name) or char in " \t"


@functools.lru_cache(maxsize=16384)  # labels and headings repeat on every page
def font_runs(text: str, primary: str) -> tuple[tuple[str, str], ...]:
    """(font, text) runs drawing `text`: the primary font wherever it has the glyph."""
    text = printable_form(text)
    covered = _covered(primary)
    if text.isascii() or all(ord(char) in covered or char in " \t" for char in text):
        return ((primary, text),)
    runs: list[tuple[str, str]] = []
    for char in text:
        font = primary
        if not has_glyph(primary, char):
            font = next((f for f in fallback_fonts() if has_glyph(f, char)), primary)
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return tuple(runs)


def unprintable(text: str, primary: str) -> str:
    """The characters of `text` the forms cannot print faithfully ("" when all can)."""
    bad = []
    for char in printable_form(text):
        if char.isspace() or (has_glyph(primary, char) and not _needs_shaping(char)):
            continue
        if _needs_shaping(char) or not any(has_glyph(f, char) for f in fallback_fonts()):
            bad.append(char)
    return "".join(dict.fromkeys(bad))


def _needs_shaping(char: str) -> bool:
    return unicodedata.bidirectional(char) in _RTL or unicodedata.category(char) in ("Mn", "Mc")
