"""Measure how the tick-box reader tells a correction (a box filled in) from a tick.

Renders a real page of 5 mm tick boxes (the reader's 8 px/mm), draws marks with the
synthetic pen (`papermode.demo.synth.pen`) and prints the confusion of what was drawn
against what `papermode.reading.marks.read_checkbox` reads:

- fill: the box scribbled over completely (the convention nurses are told to use);
- partial50 .. partial90: a scribble over only that share of the box's height;
- cross_over_tick: a tick, then a cross over it;
- line_through: a tick, then one line through the box;
- tick: a plain tick (the baseline).

    python tools/measure_corrections.py [--boxes 200] [--photo]

`--photo` reads the marks through a phone photo (perspective, light, blur, JPEG) instead of
the flat page. Figures are in docs/reading.md.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from papermode.core.model import PAPER_SIZES_MM, Box, Field, PageLayout
from papermode.core.pageid import new_page_id
from papermode.demo.synth import pen as pens
from papermode.demo.synth.degrade import phone_photo
from papermode.demo.synth.render import render_pdf_page
from papermode.printing.pdf import render_pdf
from papermode.reading import locate, marks

PPM = 8.0
SURE = 0.9  # the tick-box threshold (settings `reading.checkbox`)
STYLES = (
    "fill",
    "partial50",
    "partial70",
    "partial90",
    "cross_over_tick",
    "line_through",
    "tick",
)


def grid_layout(boxes: int = 60) -> PageLayout:
    """A page of `boxes` 5 mm tick boxes, 6 per row, 28 mm apart."""
    fields = tuple(
        Field(
            f"cb-{n}",
            "checkbox",
            Box(30.0 + (n % 6) * 28.0, 40.0 + (n // 6) * 18.0, 5.0, 5.0),
            group=f"g{n}",
            value="given",
        )
        for n in range(boxes)
    )
    return PageLayout(
        new_page_id("corrections"), "test", "1", "a4", PAPER_SIZES_MM["a4"], "snap",
        None, None, None, 1, 1, fields,
    )  # fmt: skip


def render_blank(layout: PageLayout, px_per_mm: float) -> np.ndarray:
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "page.pdf"
        render_pdf([layout], pdf)
        return render_pdf_page(pdf, 1, px_per_mm)


def draw(page: np.ndarray, box: Box, style: str, ppm: float, rng: np.random.Generator) -> None:
    """Draw one mark of `style` (see STYLES) into `box` of the RGB page, in place."""
    pen = pens.random_pen(rng)
    if pen.name == "pencil":
        pen = pens.PENS["ballpoint_blue"]
    if style == "fill":
        pens.draw_scribble(page, box, pen, ppm, rng)
    elif style.startswith("partial"):
        share = int(style.removeprefix("partial")) / 100.0
        part = Box(box.x, box.y, box.w, box.h * share)
        pens.draw_scribble(page, part, pen, ppm, rng)
    elif style == "cross_over_tick":
        pens.draw_tick(page, box, pen, ppm, rng, style="check")
        pens.draw_tick(page, box, pen, ppm, rng, style="cross")
    elif style == "line_through":
        pens.draw_tick(page, box, pen, ppm, rng, style="check")
        y = box.y + box.h * rng.uniform(0.35, 0.65)
        line = np.array([[box.x - 1.5, y + 0.4], [box.x + box.w + 1.5, y - 0.4]])
        pens.draw_stroke(page, np.linspace(line[0], line[1], 12), pen, ppm, rng)
    elif style == "tick":
        pens.draw_tick(page, box, pen, ppm, rng, style="check")
    else:
        raise ValueError(style)


def measure(boxes: int, photo: bool, seed: int = 7) -> dict[str, Counter[str]]:
    """Per drawn style, how many boxes read as empty / ticked / filled."""
    rng = np.random.default_rng(seed)
    layout = grid_layout()
    page_ppm = 10.0 if photo else PPM
    blank = render_blank(layout, page_ppm)
    confusion: dict[str, Counter[str]] = {style: Counter() for style in STYLES}
    for style in STYLES:
        done = 0
        while done < boxes:
            page = np.ascontiguousarray(blank.copy())
            for f in layout.fields:
                draw(page, f.box, style, page_ppm, rng)
            gray = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
            if photo:
                gray = _through_photo(page, rng)
            for f in layout.fields[: boxes - done]:
                mark = marks.read_checkbox(gray, f.box, PPM)
                sure = mark.confidence >= SURE
                confusion[style][mark.state if sure else f"{mark.state}?"] += 1
            done += min(len(layout.fields), boxes - done)
    return confusion


def _through_photo(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    image, _ = phone_photo(page, rng, px_per_mm=10.0)
    found = locate.locate_page(image, PAPER_SIZES_MM["a4"])
    if found is None or found.homography is None:
        raise SystemExit("the photo could not be located; try another --seed")
    return locate.rectify(image, found, px_per_mm=PPM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boxes", type=int, default=200)
    parser.add_argument("--photo", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    confusion = measure(args.boxes, args.photo, args.seed)
    states = ("empty", "ticked", "filled")
    columns = [*states, *(f"{state}?" for state in states)]
    print("read as (state? = under the 0.9 threshold: review)")
    print(f"{'drawn':<16}" + "".join(f"{name:>9}" for name in columns))
    for style, counts in confusion.items():
        print(f"{style:<16}" + "".join(f"{counts[name]:>9}" for name in columns))


if __name__ == "__main__":
    main()
