"""`papermode demo` end to end on a few photos: forms, store, overlay picture, one-page summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from papermode.cli.main import main
from papermode.demo import story as demo


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--photos", "6", "--seed", "3"])
    return out, result


def test_demo_prints_the_figures_and_what_it_produced(demo_run: tuple[Path, Result]) -> None:
    out, result = demo_run
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    forms = [line for line in lines if line.startswith("forms: ")]
    assert len(forms) == 2 and all(line.endswith(" pages)") for line in forms)
    assert f"store: {out / 'papermode.db'}" in lines
    assert f"summary: {out / 'summary.pdf'}" in lines
    assert any(line.startswith(f"overlay: {out / 'overlay-'}") for line in lines)
    assert any("tick boxes right" in line for line in lines)
    assert any("page images read" in line for line in lines)


def test_demo_writes_forms_store_and_captures(demo_run: tuple[Path, Result]) -> None:
    out, _ = demo_run
    ward_pdfs = sorted((out / "forms").glob("ward-*.pdf"))
    assert len(ward_pdfs) == 2
    assert len(pypdfium2.PdfDocument(ward_pdfs[0])) > 10
    assert (out / "papermode.db").stat().st_size > 0
    captures = {p.name for p in (out / "captures").iterdir()}
    assert "screen-photo.jpg" in captures and "note-photo.jpg" in captures
    assert len([n for n in captures if n.startswith(("capture-", "scan-"))]) == 6


def test_overlay_is_a_real_picture_with_coloured_boxes(demo_run: tuple[Path, Result]) -> None:
    out, _ = demo_run
    (overlay,) = out.glob("overlay-*.png")
    pixels = np.asarray(Image.open(overlay).convert("RGB")).astype(int)
    assert pixels.shape[0] > 1000 and pixels.shape[1] > 800
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    greenish = (green > red + 60) & (green > blue + 40)
    orange = (red > 200) & (green > 100) & (green < 180) & (blue < 60)
    assert greenish.sum() > 500  # accepted boxes outlined in green
    assert orange.sum() > 50  # at least the legend's "for review" swatch


def test_summary_is_one_page_with_the_figures(demo_run: tuple[Path, Result]) -> None:
    out, result = demo_run
    pdf = pypdfium2.PdfDocument(out / "summary.pdf")
    assert len(pdf) == 1
    text = pdf[0].get_textpage().get_text_range()
    assert "papermode demo" in text
    assert "Field readings by status" in text and "Field readings by ward" in text
    read_line = next(line for line in result.output.splitlines() if "page images read" in line)
    read_count = read_line.split()[-1]
    assert "page images read" in text and read_count in text
    assert "tick boxes right" in text


def test_demo_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--photos", "1"])
    assert result.exit_code == 2
    assert "holds other files" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_a_missing_piece_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(demo.PIECES, "papermode.reconcile_not_there", "reconciling")
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "d"), "--photos", "1"])
    assert result.exit_code == 1
    assert "The demo cannot run: reconciling (papermode.reconcile_not_there)" in result.output
    assert "Traceback" not in result.output


def test_a_failing_stage_is_named_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_out: Path, _store: Path) -> None:
        raise RuntimeError("renderer exploded")

    monkeypatch.delenv("PAPERMODE_DEBUG", raising=False)
    monkeypatch.setattr(demo, "prepare_step", broken)
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "d"), "--photos", "1"])
    assert result.exit_code == 1
    assert (
        "The demo stopped at 'Printing the sample ward's forms': "
        "RuntimeError: renderer exploded." in result.output
    )
    assert "Traceback" not in result.output


def test_demo_json_is_only_json(tmp_path: Path) -> None:
    import json

    result = CliRunner().invoke(
        main, ["demo", "--out", str(tmp_path / "d"), "--photos", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert f"store: {tmp_path / 'd' / 'papermode.db'}" in document["produced"]
    assert document["figures"]["files"] == 3  # one capture, a screen photo, a paper note
    assert set(document["figures"]["captures_by_outcome"]) >= {"read", "retake", "free"}
