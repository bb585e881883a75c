"""Handwritten digits in comb boxes, with a calibrated confidence.

Tesseract reads handwriting poorly, so papermode has its own small classifier: a CNN trained
by `tools/train_digits.py` on real MNIST handwritten digits, stored as numpy weights in
`data/digits_model.npz` and run here with plain numpy (no deep-learning framework at run
time). Class 10 means "not one digit": a scribble, a digit crossed out, two glyphs on top of
each other. Probabilities are temperature-scaled on held-out data, so a confidence of 0.99
means about one error in a hundred; `DEFAULT_THRESHOLDS` were chosen from the curves that
`bench/digits_bench.py` prints. Below its threshold a value goes to a person.

Public: `read_digits`, `read_digit_fields`, `decide`, `DigitsReading`, `CellReading`,
`DEFAULT_THRESHOLDS`, `field_type`, `load_model`.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from papermode.core.errors import ExitCode, PapermodeError
from papermode.core.flags import Flag, Threshold
from papermode.core.model import Field, ReadingStatus
from papermode.reading.combs import MIN_INK_MM2, CellInk, field_cells

logger = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "digits_model.npz"
NOT_A_DIGIT = 10
ABOVE_MM2 = 0.3  # more ink than this just above a cell: something was written outside it
# Per field type: the calibrated field confidence at or above which a value is accepted
# without a person. Chosen on the CALIBRATION half of the held-out digits only
# (`python tools/calibrate_digits.py`, docs/digits.md): the lowest threshold with at most
# 0.5 % wrong among auto-accepted fields in every condition (clean, degraded, left-aligned,
# faint pens), seeds 3 and 5 pooled, and one step above it for times (their pooled 0.7
# left faint-pen times at exactly 0.5 % wrong, seed 5 alone 1 %). Doses keep 0.8: every
# calibration dose equals its order's, so a misread dose is always caught there and a
# lower threshold is not measured.
# Identifiers ("number") have no plausibility check: stricter.
DEFAULT_THRESHOLDS: dict[str, float] = {
    Threshold.TIME: 0.8,
    Threshold.VITAL: 0.9,
    Threshold.DOSE: 0.8,
    Threshold.NUMBER: 0.9,
}
# Flags that always send a value to review, whatever its confidence. `faint`, `ink_outside`
# and `left_aligned` block too: on calibration (2026-12-03, seeds 3 and 5), 1 of 254 faint
# fields that would be accepted was wrong with the model of 8,500 digits (2 of 191 with
# the one before): too few to bound the error under 0.5 %; so were left-aligned doses
# and `ink_outside` (docs/digits.md).
BLOCKING_FLAGS = frozenset(
    {
        Flag.CROSSED_OUT,
        Flag.GAP,
        Flag.INCOMPLETE,
        Flag.UNREADABLE,
        Flag.IMPLAUSIBLE,
        Flag.OUTSIDE_IMAGE,
        Flag.FAINT,
        Flag.INK_OUTSIDE,
        Flag.LEFT_ALIGNED,
    }
)


class DigitsModelError(PapermodeError):
    """The digit classifier's weights are missing or damaged."""

    exit_code = ExitCode.DIGITS_MODEL


@dataclass(frozen=True)
class CellReading:
    """One comb cell: its digit (None when empty or unreadable) and how sure we are."""

    digit: int | None
    confidence: float
    empty: bool
    flags: tuple[str, ...] = ()

    @property
    def char(self) -> str:
        if self.empty:
            return " "
        return "?" if self.digit is None else str(self.digit)


@dataclass(frozen=True)
class DigitsReading:
    """A whole digits field. `text` is the cells as written ("0815", "72", "7?"), blanks at
    either end dropped; `value` is the canonical value ("0815", "72", "37.2") or None when
    it cannot be stated (empty, unreadable, gap); `confidence` is calibrated 0..1."""

    field_id: str
    text: str
    value: str | None
    cells: tuple[CellReading, ...]
    confidence: float
    flags: tuple[str, ...] = ()

    @property
    def number(self) -> float | None:
        return None if self.value is None else float(self.value)

    @property
    def empty(self) -> bool:
        return bool(self.cells) and all(cell.empty for cell in self.cells)


@dataclass(frozen=True)
class DigitNet:
    """One CNN's weights (numpy, torch layout: `conv1_w` ... `fc2_b`)."""

    weights: dict[str, np.ndarray]

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Raw class scores for N x 28 x 28 images (ink bright, 0..1)."""
        x: np.ndarray = images.reshape(-1, 28, 28, 1).astype(np.float32)
        for name in ("conv1", "conv2", "conv3"):
            x = _max_pool(
                np.maximum(_conv3x3(x, self.weights[f"{name}_w"], self.weights[f"{name}_b"]), 0.0)
            )
        x = x.transpose(0, 3, 1, 2).reshape(x.shape[0], -1)  # torch flattens channels first
        x = np.maximum(x @ self.weights["fc1_w"].T + self.weights["fc1_b"], 0.0)
        return x @ self.weights["fc2_w"].T + self.weights["fc2_b"]


@dataclass(frozen=True)
class DigitModel:
    """The classifier: one CNN or an ensemble of several trained alike from different seeds
    (their temperature-scaled probabilities averaged: a deep ensemble, Lakshminarayanan et
    al. 2017, which reads a little better and knows better when it does not know), and the
    calibration temperature."""

    nets: tuple[DigitNet, ...]
    temperature: float
    info: dict[str, object]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (N x 11): the mean over the networks."""
        if len(images) == 0:
            return np.zeros((0, NOT_A_DIGIT + 1), np.float32)
        return np.mean([_softmax(net.logits(images) / self.temperature) for net in self.nets], 0)


def _softmax(scaled: np.ndarray) -> np.ndarray:
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return result


def _conv3x3(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A 3 x 3 'same' convolution on NHWC input; `weight` is torch's (out, in, 3, 3)."""
    n, h, w, c = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    if c == 1:  # one input channel: nine broadcast multiply-adds beat a 9-column matmul
        out = np.broadcast_to(bias, (n, h, w, weight.shape[0])).copy()
        for i in range(3):
            for j in range(3):
                out += padded[:, i : i + h, j : j + w, :] * weight[:, 0, i, j]
        return out
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    columns = windows.reshape(n * h * w, c * 9)  # order (c, kh, kw), as torch's weight
    kernel = weight.reshape(weight.shape[0], c * 9).T
    return (columns @ kernel + bias).reshape(n, h, w, weight.shape[0])


def _max_pool(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    x = x[:, : h // 2 * 2, : w // 2 * 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


@functools.lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> DigitModel:
    """Load the committed weights; raises DigitsModelError if they are missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {
                key: data[key].astype(np.float32)
                for key in data.files
                if key not in ("temperature", "info")
            }
            temperature = float(data["temperature"])
            info = json.loads(str(data["info"]))
        nets = _nets(arrays)
    except (OSError, KeyError, ValueError) as error:
        raise DigitsModelError(
            f"the handwritten-digit model {path.name} cannot be loaded ({type(error).__name__})",
            advice="Reinstall papermode, or rebuild it with: python tools/train_digits.py",
        ) from error
    return DigitModel(nets, temperature, info)


_LAYERS = ("conv1_w", "conv1_b", "conv2_w", "conv2_b", "conv3_w", "conv3_b", "fc1_w", "fc1_b",
           "fc2_w", "fc2_b")  # fmt: skip


def _nets(arrays: dict[str, np.ndarray]) -> tuple[DigitNet, ...]:
    """The networks of a weights file: `net0_conv1_w` ... for an ensemble, or the unprefixed
    names of a single network (the files written before 2026-12-03)."""
    prefixes = sorted({key.split("_", 1)[0] for key in arrays if key.startswith("net")})
    if not prefixes:
        prefixes = [""]
    nets = []
    for prefix in prefixes:
        start = f"{prefix}_" if prefix else ""
        nets.append(DigitNet({name: arrays[start + name] for name in _LAYERS}))
    return tuple(nets)


def field_type(field: Field) -> str:
    """The threshold family of a digits field: time, vital, dose or number."""
    if field.role in ("time", "vital", "dose"):
        return field.role
    if field.role == "infusion_time":
        return Threshold.TIME
    return Threshold.NUMBER


def read_digits(rectified: np.ndarray, field: Field, px_per_mm: float = 8.0) -> DigitsReading:
    """Read one digits field of a rectified page (grayscale, layout mm at `px_per_mm`)."""
    return read_digit_fields(rectified, [field], px_per_mm)[field.field_id]


def read_digit_fields(
    rectified: np.ndarray, fields: list[Field] | tuple[Field, ...], px_per_mm: float = 8.0
) -> dict[str, DigitsReading]:
    """Read every digits field of a page, classifying all its cells in one batch."""
    model = load_model()
    rectified = as_gray(rectified)
    readable = [f for f in fields if f.kind == "digits" and _on_page(rectified, f, px_per_mm)]
    inks = {f.field_id: field_cells(rectified, f, px_per_mm) for f in readable}
    images = [ink.image for cells in inks.values() for ink in cells if ink.image is not None]
    probabilities = model.probabilities(np.stack(images) if images else np.zeros((0, 28, 28)))
    rows = iter(probabilities)
    readings = {}
    for field in fields:
        if field.kind != "digits":
            continue
        if field.field_id not in inks:  # cut off the image: never "surely empty"
            readings[field.field_id] = DigitsReading(
                field.field_id, "", None, (), 0.0, (Flag.OUTSIDE_IMAGE,)
            )
            continue
        allowed = allowed_digits(field)
        cells = tuple(
            _cell_reading(ink, next(rows) if ink.image is not None else None, allowed.get(k))
            for k, ink in enumerate(inks[field.field_id])
        )
        readings[field.field_id] = assemble(field, cells)
    return readings


def as_gray(image: np.ndarray) -> np.ndarray:
    """A uint8 grayscale view of a page: BGR(A) converted, 0..1 floats scaled to 0..255."""
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code) if image.shape[2] in (3, 4) else image[..., 0]
    if image.dtype != np.uint8:
        scale = 255.0 if image.size and float(np.nanmax(image)) <= 1.0 else 1.0
        image = np.clip(np.nan_to_num(image.astype(np.float32)) * scale, 0, 255).astype(np.uint8)
    return image


def _on_page(rectified: np.ndarray, field: Field, px_per_mm: float) -> bool:
    """The whole comb lies inside the image (and has cells to read)."""
    box = field.box
    height, width = rectified.shape[:2]
    inside = box.x >= 0 and box.y >= 0 and (box.x + box.w) * px_per_mm <= width
    return field.cells > 0 and inside and (box.y + box.h) * px_per_mm <= height


# The digits a cell of a handwritten time can hold, by position: HHMM (hours 00-23, minutes
# 00-59) and an infusion's DDHHMM (day 01-31). Right-aligned as nurses write them.
_HHMM = {0: frozenset({0, 1, 2}), 2: frozenset(range(6))}
_DDHHMM = {0: frozenset({0, 1, 2, 3}), 2: frozenset({0, 1, 2}), 4: frozenset(range(6))}
_HHMM_ROLES = frozenset({"time", "order_time", "effect_time", "obs_time", "write_in_time"})


def allowed_digits(field: Field) -> dict[int, frozenset[int]]:
    """Per cell position, the only digits a valid value can have there (empty: any)."""
    if field.role in _HHMM_ROLES and field.cells == 4:
        return _HHMM
    if field.role == "infusion_time" and field.cells == 6:
        return _DDHHMM
    return {}


def _cell_reading(
    ink: CellInk, probabilities: np.ndarray | None, allowed: frozenset[int] | None = None
) -> CellReading:
    """Turn a cell's ink and class probabilities into a digit, a confidence and flags.

    With `allowed` (the digits a time can hold in this cell), a digit no valid time has
    there carries no weight: the confidence is the reading's share of the possible classes
    (the allowed digits and "not one digit"). A cell whose best reading is not allowed
    keeps it and its plain confidence: the value is then implausible and goes to a person.
    """
    if probabilities is None:
        # the less ink, the surer it is empty: at the ink threshold it is a coin toss
        return CellReading(None, float(1.0 - 0.5 * min(ink.ink_mm2 / MIN_INK_MM2, 1.0)), True)
    flags: list[str] = []
    best_digit = int(np.argmax(probabilities[:NOT_A_DIGIT]))
    confidence = float(probabilities[best_digit])
    if allowed is not None and best_digit in allowed:
        possible = float(probabilities[sorted(allowed)].sum() + probabilities[NOT_A_DIGIT])
        confidence = confidence / max(possible, 1e-9)
    if int(np.argmax(probabilities)) == NOT_A_DIGIT or probabilities[NOT_A_DIGIT] > 0.3:
        flags.append(Flag.CROSSED_OUT)
    elif ink.components >= 2 and ink.width_mm > 1.25 * ink.height_mm:
        flags.append(Flag.CROSSED_OUT)  # two glyphs side by side: a correction beside the old one
    if ink.above_mm2 > ABOVE_MM2 or ink.written_above:
        flags.append(Flag.INK_OUTSIDE)  # often a correction squeezed in above the comb
        confidence *= 0.5
    if ink.darkness < 70:
        flags.append(Flag.FAINT)
    if Flag.CROSSED_OUT in flags:
        return CellReading(None, min(confidence, 0.3), False, tuple(flags))
    return CellReading(best_digit, confidence, False, tuple(flags))


def assemble(field: Field, cells: tuple[CellReading, ...]) -> DigitsReading:
    """Combine cell readings into the field's text, value, confidence and flags."""
    chars = "".join(cell.char for cell in cells)
    text = chars.strip(" ")
    flags = sorted({flag for cell in cells for flag in cell.flags})
    confidence = float(np.prod([cell.confidence for cell in cells])) if cells else 0.0
    if not text:
        return DigitsReading(field.field_id, "", None, cells, confidence, (Flag.EMPTY,))
    value, shape_flags, factor = _value(field, chars)
    flags = sorted(set(flags) | set(shape_flags))
    return DigitsReading(field.field_id, text, value, cells, confidence * factor, tuple(flags))


# Identifiers, a day and time, a date: their leading zeros are part of the value
# (a blank pack's birth date 02041961 is not 2041961).
_KEEPS_ZEROS = frozenset(
    {"temp_number", "infusion_time", "order_date", "order_time", "birth_date", "date",
     "effect_time", "obs_time", "write_in_time"}  # the last three: HHMM written by hand
)  # fmt: skip


def _value(field: Field, chars: str) -> tuple[str | None, list[Flag], float]:
    """The canonical value of cells written as `chars` (" " empty, "?" unreadable)."""
    text = chars.strip(" ")
    if "?" in text:
        return None, [Flag.UNREADABLE], 1.0
    if " " in text:
        return None, [Flag.GAP], 0.5
    integer_cells = len(chars) - field.decimals
    leading = len(chars) - len(chars.lstrip(" "))
    trailing = len(chars) - len(chars.rstrip(" "))
    if field.role == "dose_decimals":
        # The digits after a new order's printed decimal separator: written from the left
        # ("5" is .5); a blank before them is ambiguous (.05 or .5?): a person decides.
        if leading:
            return None, [Flag.GAP], 0.5
        return text, [], 1.0
    if field.decimals and trailing > 0:
        return None, [Flag.INCOMPLETE], 0.5  # the digits after the printed point are missing
    flags, factor = [], 1.0
    if trailing:
        flags.append(Flag.LEFT_ALIGNED)
        factor = 0.9  # written from the left: probably complete, but say so
    digits = text
    if field.role == "time":
        if leading:
            flags.append(Flag.LEADING_BLANK)
            factor *= 0.95
        digits = text.rjust(len(chars), "0")
        return digits, flags, factor
    if field.decimals:
        whole = chars[:integer_cells].strip(" ") or "0"
        return f"{int(whole)}.{chars[integer_cells:]}", flags, factor
    if field.role in _KEEPS_ZEROS or field.field_id.endswith("temp_number"):
        return digits, flags, factor  # an identifier or a day and time keeps its leading zeros
    return str(int(digits)), flags, factor


def decide(
    reading: DigitsReading,
    field: Field,
    *,
    factor: float = 1.0,
    plausible: bool = True,
    thresholds: dict[str, float] | None = None,
) -> tuple[ReadingStatus, float]:
    """Auto-accept or send to review: (status, adjusted confidence).

    `factor` and `plausible` come from `papermode.reading.plausibility.check`; an implausible value,
    a blocking flag or a confidence under the field type's threshold means review.
    """
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    confidence = min(1.0, reading.confidence * factor)
    blocked = bool(BLOCKING_FLAGS.intersection(reading.flags)) or not plausible
    logger.debug(
        "field %s: confidence %.2f, threshold %s (%s)%s",
        field.field_id,
        confidence,
        limits[field_type(field)],
        field_type(field),
        " blocked" if blocked else "",
    )
    if reading.empty and not blocked:
        return (
            ReadingStatus.AUTO if confidence >= limits[field_type(field)] else ReadingStatus.REVIEW
        ), confidence
    if reading.value is None or blocked or confidence < limits[field_type(field)]:
        return ReadingStatus.REVIEW, confidence
    return ReadingStatus.AUTO, confidence
