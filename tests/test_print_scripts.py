"""Every character printed exists in a font, or the census is refused naming the record.

A Japanese name prints in the CJK fallback (checked in the PDF's own text layer and its
embedded fonts); an Arabic or Hebrew name, which reportlab would print unjoined and
reversed, and a character no font has are refused with the patient or order id and the
code points, never the text itself."""

from __future__ import annotations

import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from test_census_fidelity import dosage, encounter, med, patient  # noqa: E402
from test_prepare_fidelity import write_bundle  # noqa: E402

from papermode.cli.main import main  # noqa: E402
from papermode.printing.glyphs import FALLBACK_FILES, font_runs, unprintable  # noqa: E402
from papermode.printing.layout.kit import text_width  # noqa: E402
from papermode.printing.pdf import fonts  # noqa: E402

# No skip when the fallback is missing: `make install` installs fonts-droid-fallback, and a
# machine without it must fail here rather than print CJK names as empty boxes unnoticed.
assert FALLBACK_FILES[0].name == "DroidSansFallbackFull.ttf"


def _prepare(tmp_path: Path, *resources: dict) -> tuple[int, str]:
    census = write_bundle(tmp_path / "census.json", *resources)
    result = CliRunner().invoke(
        main,
        ["prepare", str(census), "--out", str(tmp_path / "out"),
         "--store", str(tmp_path / "p.db"), "--start", "2026-11-28T08:00"],
    )  # fmt: skip
    return result.exit_code, result.output


def test_a_japanese_name_and_drug_print_in_the_cjk_fallback(tmp_path: Path) -> None:
    person = patient(name=[{"family": "山田", "given": ["太郎"]}])
    order = med("m1", dosage(), medicationCodeableConcept={"text": "ロキソニン 60 mg"})
    code, output = _prepare(tmp_path, person, encounter(), order)
    assert code == 0, output
    pdf_path = next((tmp_path / "out" / "patients").glob("*.pdf"))
    document = pdfium.PdfDocument(pdf_path)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "山田" in text and "ロキソニン" in text  # drawn as text, not as empty boxes
    assert b"DroidSansFallback" in pdf_path.read_bytes()  # the fallback face is embedded


@pytest.mark.parametrize(
    ("family", "points"),
    [("أحمد", "U+0623"), ("כהן", "U+05DB"), ("Dupont\U0001d11e", "U+1D11E")],
)
def test_text_the_forms_cannot_print_faithfully_is_refused_by_id(
    tmp_path: Path, family: str, points: str
) -> None:
    person = patient("p7", name=[{"family": family, "given": ["Anne"]}])
    code, output = _prepare(tmp_path, person, encounter("p7"), med("m1", dosage(), pid="p7"))
    assert code == 3, output
    assert "patient p7: characters the forms cannot print faithfully" in output
    assert points in output and family not in output  # code points, never the name
    assert not (tmp_path / "out").exists()  # nothing printed


def test_a_drug_name_with_a_character_no_font_has_names_the_order(tmp_path: Path) -> None:
    order = med("m-odd", dosage(), medicationCodeableConcept={"text": "Metoprolol \U0001d11e"})
    code, output = _prepare(tmp_path, patient(), encounter(), order)
    assert code == 3 and "order m-odd:" in output and "U+1D11E" in output


def test_runs_and_widths_of_mixed_text() -> None:
    primary = fonts()["sans"]
    runs = font_runs("DUPONT 山田", primary)
    assert [text for _, text in runs] == ["DUPONT ", "山田"]
    assert unprintable("Hélène Łukasz Nguyễn e\u0301cole", primary) == ""  # NFC composes
    assert unprintable("नमस्ते", primary)  # needs shaping: refused
    assert text_width("山田太郎", 10) > 1.0 * 4 * 10 * 25.4 / 72  # a full em each, not 0.6
