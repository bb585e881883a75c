"""Is the ink in two crops of one write-in box the same handwriting, on the same paper?

Two photos of one sheet show the same strokes (shifted a little by the rectification);
two photocopies of a blank pack filled for two patients show different names and birth
dates. Pure numpy / OpenCV on the crops the reader stores with every reading.
"""

from __future__ import annotations

import cv2
import numpy as np

# Pen ink: darker than the paper around it by this much (0-255), after a wide median blur
# removes uneven light. The box border (light dropout colour) and the grey printed label
# stay below it; blue and black pens are 150-200 darker, a pencil ~110.
INK_CONTRAST = 100
# The stored crop has a 2 mm margin around the box (`reading.fields.CROP_MARGIN_MM`, at
# 8 px/mm): the border and what lies outside it are the same print on every copy.
TRIM_PX = 20
SHIFT_PX = 8  # crops of one box may be this far apart (1 mm at 8 px/mm)
TOLERANCE_PX = 2  # a stroke counts as the same stroke within 0.25 mm
MIN_INK_PX = 150  # less ink than this says nothing about who wrote it
# The share of each crop's ink lying on the other's strokes. One sheet photographed twice:
# 0.95 and more (papermode's synthetic corpus, tests/test_copies.py); two people's names
# in one box rarely reach 0.5. Below this, the two crops are two sheets of paper.
SAME_HANDWRITING = 0.7


def ink_mask(png: bytes | None) -> np.ndarray | None:
    """The ink of a stored field crop (PNG) as a 0/1 mask, or None without enough ink."""
    if not png:
        return None
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or min(image.shape) < 8:
        return None
    size = min(31, (min(image.shape) // 2) * 2 - 1)
    paper = cv2.medianBlur(image, size)
    mask = ((paper.astype(np.int16) - image.astype(np.int16)) > INK_CONTRAST).astype(np.uint8)
    if min(mask.shape) > 3 * TRIM_PX:
        mask = mask[TRIM_PX:-TRIM_PX, TRIM_PX:-TRIM_PX]
    return mask if int(mask.sum()) >= MIN_INK_PX else None


def ink_agreement(one: np.ndarray, other: np.ndarray) -> float:
    """The smaller share of either mask's ink near the other's, at the best small shift."""
    height, width = min(one.shape[0], other.shape[0]), min(one.shape[1], other.shape[1])
    a, b = one[:height, :width], other[:height, :width]
    kernel = np.ones((2 * TOLERANCE_PX + 1, 2 * TOLERANCE_PX + 1), np.uint8)
    near_a = cv2.dilate(a, kernel)
    best = 0.0
    for dy in range(-SHIFT_PX, SHIFT_PX + 1, 2):
        for dx in range(-SHIFT_PX, SHIFT_PX + 1, 2):
            shifted = np.roll(b, (dy, dx), axis=(0, 1))
            ink_a, ink_b = int(a.sum()), int(shifted.sum())
            if not ink_a or not ink_b:
                continue
            near_b = cv2.dilate(shifted, kernel)
            score = min(int((a & near_b).sum()) / ink_a, int((shifted & near_a).sum()) / ink_b)
            best = max(best, score)
    return best


def same_handwriting(one: np.ndarray, other: np.ndarray) -> bool:
    return ink_agreement(one, other) >= SAME_HANDWRITING
