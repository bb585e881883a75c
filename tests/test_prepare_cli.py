"""`papermode prepare` and `papermode layout`: files written, store, messages, exit codes."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from papermode.cli.main import main
from papermode.core.model import Patient, PrintedPage, Snapshot
from papermode.printing import prepare as prepare_module
from papermode.printing.prepare import plan_pdfs, prepare_forms, slug
from papermode.store.database import open_store


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def two_patient_snapshot() -> Snapshot:
    patients = (
        Patient("pat-1", "MRN00417", "Dupont", "Hélène", ward="4 West", bed="12"),
        Patient("pat-2", "MRN00999", "Ødegaard", "Zoë", ward="4 West", room="301", bed="B"),
    )
    return Snapshot("snap-1", datetime(2026, 11, 28, 11, 47), "census.json", patients, ())


# ---------------------------------------------------------------------- planning files


def test_plan_puts_ward_pages_in_order_and_copies_each_patient(make_handmade_page) -> None:
    first = [make_handmade_page(seed="a", page_number=n) for n in (1, 2)]
    second = make_handmade_page(seed="b", mrn="MRN00999", page_number=1, page_count=1)
    second = type(second)(**{**second.__dict__, "patient_id": "pat-2"})
    blank = make_handmade_page(seed="blank", mrn="", page_count=1)
    blank = type(blank)(**{**blank.__dict__, "patient_id": None, "mrn": None})
    printed, plans = plan_pdfs(two_patient_snapshot(), {"4 West": [*first, second, blank]})
    assert [plan.name for plan in plans] == [
        "ward-4-west.pdf",
        "patients/4-west-12-pat-1.pdf",
        "patients/4-west-301-b-pat-2.pdf",
    ]
    assert [len(plan.pages) for plan in plans] == [4, 2, 1]
    assert [(p.pdf, p.pdf_page, p.also_in) for p in printed] == [
        ("ward-4-west.pdf", 1, (("patients/4-west-12-pat-1.pdf", 1),)),
        ("ward-4-west.pdf", 2, (("patients/4-west-12-pat-1.pdf", 2),)),
        ("ward-4-west.pdf", 3, (("patients/4-west-301-b-pat-2.pdf", 1),)),
        ("ward-4-west.pdf", 4, ()),  # a blank pack page has no patient PDF
    ]
    names = " ".join(plan.name for plan in plans).lower()
    for private in ("mrn0", "dupont", "odegaard", "helene", "zoe"):
        assert private not in names


def test_slug_keeps_file_names_plain() -> None:
    assert slug("Cardiologie Süd / 3ème") == "cardiologie-sud-3eme"
    assert slug("../../etc") == "etc"
    assert slug("Łódź") == "odz"
    assert slug("***") == "x"


# ---------------------------------------------------------------------- layout command


@pytest.fixture
def stored(tmp_path: Path, make_handmade_page) -> tuple[Path, list[PrintedPage]]:
    pages = [make_handmade_page(page_number=n) for n in (1, 2)]
    printed = [
        PrintedPage(page, "ward-4-west.pdf", n, (("patients/4-west-12-pat-1.pdf", n),))
        for n, page in enumerate(pages, start=1)
    ]
    store_path = tmp_path / "papermode.db"
    with open_store(store_path) as store:
        store.register_pages(printed)
    return store_path, printed


def test_layout_json_lists_manifest_entries(stored) -> None:
    from papermode.printing.manifest import page_entry

    store_path, printed = stored
    result = run("layout", "--store", str(store_path), "--json")
    assert result.exit_code == 0
    entries = json.loads(result.output)
    assert sorted(e["page_id"] for e in entries) == sorted(p.layout.page_id for p in printed)
    by_id = {e["page_id"]: e for e in entries}
    for page in printed:
        assert by_id[page.layout.page_id] == page_entry(page)


def test_layout_page_shows_one_page_with_its_fields(stored) -> None:
    store_path, printed = stored
    page_id = printed[1].layout.page_id
    # Typed in lower case without dashes: normalised like the page id printed on paper.
    result = run("layout", "--store", str(store_path), "--page", page_id.lower().replace("-", ""))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "PAGE ID       TEMPLATE  WARD    MRN       PAGE  PDF"
    assert lines[1] == f"{page_id}  mar v1    4 West  MRN00417  2/2   ward-4-west.pdf p2"
    assert any(
        line.split()[:2] == ["o1-1400-time", "digits"]
        and "cells=4" in line
        and "scheduled=2026-11-28T14:00" in line
        for line in lines
    )
    assert len(lines) == 2 + len(printed[1].layout.fields)


def test_layout_patient_selects_by_mrn(stored) -> None:
    store_path, printed = stored
    result = run("layout", "--store", str(store_path), "--patient", "MRN00417", "--json")
    assert result.exit_code == 0
    assert len(json.loads(result.output)) == 2
    result = run("layout", "--store", str(store_path), "--patient", "MRN55555")
    assert result.exit_code == 8
    assert "MRN55555" not in result.output  # never echo patient identifiers
    assert "no printed page in this store belongs to the MRN given" in result.output


def test_layout_unknown_page_id_is_a_clear_error(stored) -> None:
    from papermode.core.pageid import new_page_id

    store_path, _ = stored
    unknown = new_page_id("never printed")
    result = run("layout", "--store", str(store_path), "--page", unknown)
    assert result.exit_code == 8
    assert result.output.startswith(f"Error: page {unknown} is not known to this store")


def test_layout_malformed_page_id(stored) -> None:
    store_path, _ = stored
    result = run("layout", "--store", str(store_path), "--page", "K3QX-9M2A-7D")
    assert result.exit_code == 8
    assert "fails its check value" in result.output


def test_layout_without_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = run("layout", "--store", str(missing))
    assert result.exit_code == 5
    assert result.output == (
        f"Error: there is no store at {missing}: give the store `prepare` wrote with --store, "
        "or set $PAPERMODE_STORE.\n"
    )
    assert not missing.exists()


# ---------------------------------------------------------------------- prepare, end to end

START = "2026-11-28T12:00"


def sample_csv() -> Path:
    from papermode.census.snapshot import sample_csv_path

    return sample_csv_path()


def prepare(tmp: Path, census: Path, *extra: str, out: str = "forms", store: str = "pm.db"):
    return run(
        "prepare", str(census), "--out", str(tmp / out), "--store", str(tmp / store),
        "--start", START, *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[Path, dict]:
    """One prepare of the sample ward (A4, English), with its --json summary."""
    tmp = tmp_path_factory.mktemp("prepare")
    result = prepare(tmp, sample_csv(), "--json")
    assert result.exit_code == 0, result.output
    return tmp, json.loads(result.output)


def test_prepare_json_summary_shape(sample_run) -> None:
    tmp, summary = sample_run
    assert sorted(summary) == sorted(
        [
            "out_dir", "store", "snapshot_id", "period_start", "period_end", "pages",
            "patients", "blank_pages", "ward_pdfs", "patient_pdfs", "manifest", "warnings",
            "left_out", "seconds",
        ]
    )  # fmt: skip
    assert summary["left_out"] == []  # the CSV sample has no order out of scope
    assert summary["out_dir"] == str((tmp / "forms").absolute())
    assert (summary["period_start"], summary["period_end"]) == (START, "2026-11-29T12:00")
    assert summary["patients"] == 12
    assert [w["pdf"] for w in summary["ward_pdfs"]] == [
        "ward-chirurgie-2a.pdf",
        "ward-medecine-interne-3b.pdf",
    ]
    assert sum(w["pages"] for w in summary["ward_pdfs"]) == summary["pages"]
    assert len(summary["patient_pdfs"]) == 12
    assert all(p.startswith("patients/") for p in summary["patient_pdfs"])
    assert summary["manifest"] == "manifest.json"
    assert any("allergy information not recorded" in w for w in summary["warnings"])
    assert any("no body weight recorded" in w for w in summary["warnings"])


def test_prepare_writes_pdfs_that_match_the_manifest(sample_run) -> None:
    from papermode.printing.manifest import read_manifest

    tmp, summary = sample_run
    out = tmp / "forms"
    printed = read_manifest(out / "manifest.json")
    assert len(printed) == summary["pages"]
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted(
        ["manifest.json", *(w["pdf"] for w in summary["ward_pdfs"]), *summary["patient_pdfs"]]
    )
    for ward_pdf in summary["ward_pdfs"]:
        document = pdfium.PdfDocument(str(out / ward_pdf["pdf"]))
        assert len(document) == ward_pdf["pages"]
        document.close()
    # Every patient page is also in its patient's PDF, at the page the manifest says.
    by_copy = {p.also_in[0]: p for p in printed if p.also_in}
    assert {pdf for pdf, _ in by_copy} == set(summary["patient_pdfs"])
    assert all(p.layout.patient_id for p in by_copy.values())
    assert all(not p.also_in for p in printed if p.layout.patient_id is None)
    # No names or MRNs in file names.
    mrns = {p.layout.mrn for p in printed if p.layout.mrn}
    for name in summary["patient_pdfs"]:
        assert not any(mrn in name for mrn in mrns)
        assert "lambert" not in name and "dubois" not in name


def test_prepared_pages_are_machine_readable(sample_run) -> None:
    """Rasterise one page of every template (and its patient copy): QR, markers, boxes."""
    from test_pdf import check_page_raster, rasterise

    from papermode.printing.manifest import read_manifest

    tmp, _ = sample_run
    out = tmp / "forms"
    printed = read_manifest(out / "manifest.json")
    first_of_template = {}
    for page in printed:
        first_of_template.setdefault((page.layout.template, page.layout.patient_id is None), page)
    for page in first_of_template.values():
        image = rasterise_page(out / page.pdf, page.pdf_page)
        check_page_raster(image, page.layout)
        if page.also_in:
            copy_pdf, copy_page = page.also_in[0]
            check_page_raster(rasterise_page(out / copy_pdf, copy_page), page.layout)
    assert {t for t, _ in first_of_template} >= {"mar", "prn", "vitals", "new_orders", "notes"}
    assert rasterise  # the helper module is the PDF test's own


def rasterise_page(path: Path, number: int, dpi: int = 200) -> np.ndarray:
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[number - 1]
        return np.asarray(page.render(scale=dpi / 72).to_pil().convert("RGB"))
    finally:
        document.close()


def test_prepared_text_names_doses_and_footer(sample_run) -> None:
    from test_pdf import pdf_text

    tmp, summary = sample_run
    text = pdf_text(tmp / "forms" / "ward-medecine-interne-3b.pdf")
    assert "LAMBERT, Hélène" in text and "DUBOIS, François" in text
    assert "Paracétamol 1 g comprimé" in text
    assert "page 1 of 5" in text or "page 1 of 4" in text
    assert "orders as of" in text
    assert "14:00" in text


def test_prepare_registers_snapshot_and_pages_in_the_store(sample_run) -> None:
    from papermode.printing.manifest import read_manifest

    tmp, summary = sample_run
    printed = read_manifest(tmp / "forms" / "manifest.json")
    with open_store(tmp / "pm.db") as store:
        stored = {p.layout.page_id: p for p in store.printed_pages()}
        for page in printed:
            assert stored[page.layout.page_id].layout.fields == page.layout.fields
            assert stored[page.layout.page_id].also_in == page.also_in
    result = run("layout", "--store", str(tmp / "pm.db"), "--json")
    assert sorted(e["page_id"] for e in json.loads(result.output)) == sorted(stored)


@pytest.mark.parametrize(
    ("paper", "lang", "page_words", "as_of"),
    [
        ("letter", "fr", "page 1 sur", "prescriptions au"),
        ("a4", "nl", "pagina 1 van", "voorschriften per"),
    ],
)  # fmt: skip
def test_prepare_letter_and_other_languages(
    tmp_path: Path, paper: str, lang: str, page_words: str, as_of: str
) -> None:
    from test_pdf import check_page_raster, pdf_text

    from papermode.printing.manifest import read_manifest

    result = prepare(tmp_path, sample_csv(), "--paper", paper, "--lang", lang)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Wrote ")
    printed = read_manifest(tmp_path / "forms" / "manifest.json")
    expected_size = {"a4": [210.0, 297.0], "letter": [215.9, 279.4]}[paper]
    assert all(list(p.layout.size_mm) == expected_size for p in printed)
    assert all(p.layout.lang == lang and p.layout.paper == paper for p in printed)
    mar = next(p for p in printed if p.layout.template == "mar" and p.layout.patient_id)
    check_page_raster(rasterise_page(tmp_path / "forms" / mar.pdf, mar.pdf_page), mar.layout)
    text = pdf_text(tmp_path / "forms" / mar.pdf)
    assert page_words in text and as_of in text


def test_prepare_plain_output(tmp_path: Path) -> None:
    result = prepare(tmp_path, sample_csv())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Wrote ") and lines[0].endswith(f"into {tmp_path / 'forms'}:")
    assert lines[1].startswith("  ward-chirurgie-2a.pdf: ")
    assert "  patients/: 12 patient PDF(s)" in lines
    assert "  manifest.json" in lines
    assert any(line.startswith("Warning: ") and "no body weight" in line for line in lines)


def test_prepare_again_replaces_the_folder_and_keeps_old_pages(tmp_path: Path) -> None:
    import shutil

    assert prepare(tmp_path, sample_csv()).exit_code == 0
    first = json.loads((tmp_path / "forms" / "manifest.json").read_text(encoding="utf-8"))
    changed = tmp_path / "census"
    shutil.copytree(sample_csv(), changed)
    orders = changed / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8").replace("Dr C. Martin", "Dr D. Martin"))
    assert prepare(tmp_path, changed).exit_code == 0
    second = json.loads((tmp_path / "forms" / "manifest.json").read_text(encoding="utf-8"))
    assert first["snapshot"]["snapshot_id"] != second["snapshot"]["snapshot_id"]
    # no leftover printout folder; the audit chain's head is anchored beside the store
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "census",
        "forms",
        "pm.db",
        "pm.db.audit-head",
    ]
    with open_store(tmp_path / "pm.db") as store:
        for entry in first["pages"] + second["pages"]:
            assert store.page_layout(entry["page_id"]).page_id == entry["page_id"]


def test_prepare_refuses_an_output_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "thesis.docx").write_text("precious")
    result = prepare(tmp_path, sample_csv())
    assert result.exit_code == 2
    assert "holds other files (thesis.docx)" in result.output
    assert (tmp_path / "forms" / "thesis.docx").read_text() == "precious"
    assert not (tmp_path / "pm.db").exists()


def edit_csv(folder: Path, name: str, row: int, **values: str) -> None:
    import csv

    path = folder / name
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    rows[row].update(values)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


BROKEN = {
    "missing MRN": (
        "patients.csv", 0, {"mrn": ""},
        "patients.csv row 2: no MRN; every patient needs the hospital's record number",
    ),
    "order with no patient": (
        "orders.csv", 0, {"patient_id": "p-999"},
        "orders.csv row 2: order ord-1001 refers to patient p-999, who is not in patients.csv",
    ),
    "unknown timing": (
        "orders.csv", 0, {"frequency": "whenever"},
        "orders.csv row 2: the timing 'whenever' is not known;",
    ),
    "dose with no unit": (
        "orders.csv", 0, {"unit": ""},
        "orders.csv row 2: the dose 1 has no unit; add the unit (mg, g, mL, units...)",
    ),
    "duplicate MRNs": (
        "patients.csv", 1, {"mrn": "30018842"},
        "patients.csv row 3: same MRN as patients.csv row 2; each patient needs their own MRN",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_census_exits_3_and_writes_nothing(tmp_path: Path, case: str) -> None:
    import shutil

    name, row, values, problem = BROKEN[case]
    census = tmp_path / "census"
    shutil.copytree(sample_csv(), census)
    edit_csv(census, name, row, **values)
    result = prepare(tmp_path, census)
    assert result.exit_code == 3
    lines = result.output.splitlines()
    assert lines[0] == "Error: census: 1 problem in the census; no forms were printed."
    assert lines[1].startswith(f"  - {problem}")
    assert lines[-1] == "Fix the export (or ask IT to re-export it) and run prepare again."
    assert "30018842" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["census"]


def test_missing_census_file(tmp_path: Path) -> None:
    result = prepare(tmp_path, tmp_path / "nowhere.json")
    assert result.exit_code == 3
    assert "nowhere.json does not exist" in result.output
    assert list(tmp_path.iterdir()) == []


def test_bad_start_and_hours_are_usage_errors(tmp_path: Path) -> None:
    result = run("prepare", str(sample_csv()), "--out", str(tmp_path / "f"), "--start", "noon")
    assert result.exit_code == 2
    assert "'noon' is not an ISO date and time (like 2026-11-28T14:00)." in result.output
    result = prepare(tmp_path, sample_csv(), "--hours", "0")
    assert result.exit_code == 2
    assert "Error: --hours must be at least 1, not 0." in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_the_previous_forms_untouched(
    tmp_path: Path, monkeypatch
) -> None:
    assert prepare(tmp_path, sample_csv()).exit_code == 0
    before = {
        p.relative_to(tmp_path).as_posix(): p.read_bytes()
        for p in (tmp_path / "forms").rglob("*")
        if p.is_file()
    }
    with open_store(tmp_path / "pm.db") as store:
        pages_before = len(store.printed_pages())

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prepare_module, "copy_pages", disk_full)
    with pytest.raises(OSError):
        prepare_forms(
            sample_csv(), tmp_path / "forms", tmp_path / "pm.db",
            start=datetime(2026, 11, 29, 12, 0), hours=12, lang="fr", paper="letter",
            settings_path=None,
        )  # fmt: skip
    after = {
        p.relative_to(tmp_path).as_posix(): p.read_bytes()
        for p in (tmp_path / "forms").rglob("*")
        if p.is_file()
    }
    assert after == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no staging folder, no half-written output
    with open_store(tmp_path / "pm.db") as store:
        assert len(store.printed_pages()) == pages_before


_FILE_ID = re.compile(rb"/ID\[<[0-9A-F]+><[0-9A-F]+>\]|/CreationDate\(D:[0-9+']+\)")


def _pdfs(folder: Path) -> dict[str, bytes]:
    """Every PDF under `folder`, without the random /ID and the creation time pdfium gives
    the patient copies."""
    pdfs = sorted(folder.rglob("*.pdf"))
    return {p.relative_to(folder).as_posix(): _FILE_ID.sub(b"", p.read_bytes()) for p in pdfs}


def test_wards_drawn_in_worker_processes_give_the_same_pdfs(tmp_path: Path, monkeypatch) -> None:
    options = {
        "start": datetime(2026, 11, 29, 12, 0), "hours": 24, "lang": "en", "paper": "a4",
        "settings_path": None,
    }  # fmt: skip
    prepare_forms(sample_csv(), tmp_path / "one", tmp_path / "one.db", **options)
    monkeypatch.setattr(prepare_module, "_PARALLEL_FROM_PAGES", 0)  # the sample is small
    calls: list[int] = []
    prepare_forms(
        sample_csv(), tmp_path / "two", tmp_path / "two.db", progress=lambda d, t: calls.append(d),
        **options,
    )  # fmt: skip
    one, two = _pdfs(tmp_path / "one"), _pdfs(tmp_path / "two")
    assert len(one) == 14 and one == two  # 2 ward PDFs and 12 patient copies, byte for byte
    assert calls[-1] == sum(len(pdfium.PdfDocument(tmp_path / "two" / n)) for n in two
                            if not n.startswith("patients/"))  # fmt: skip


def test_a_worker_that_fails_leaves_the_previous_forms_and_store_untouched(
    tmp_path: Path, monkeypatch
) -> None:
    assert prepare(tmp_path, sample_csv()).exit_code == 0
    before = _pdfs(tmp_path / "forms")
    with open_store(tmp_path / "pm.db") as store:
        pages_before = len(store.printed_pages())

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prepare_module, "_PARALLEL_FROM_PAGES", 0)
    monkeypatch.setattr(prepare_module, "copy_pages", disk_full)  # inherited by the workers
    with pytest.raises(OSError):
        prepare_forms(
            sample_csv(), tmp_path / "forms", tmp_path / "pm.db",
            start=datetime(2026, 11, 29, 12, 0), hours=12, lang="fr", paper="letter",
            settings_path=None,
        )  # fmt: skip
    assert _pdfs(tmp_path / "forms") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with open_store(tmp_path / "pm.db") as store:
        assert len(store.printed_pages()) == pages_before  # nothing registered


def test_a_store_inside_the_output_folder_is_refused(tmp_path: Path) -> None:
    result = prepare(tmp_path, sample_csv(), store="forms/pm.db")
    assert result.exit_code == 2
    assert "is inside the output folder" in result.output
    assert list(tmp_path.iterdir()) == []


def test_prepare_from_the_fhir_bundle(tmp_path: Path) -> None:
    from test_pdf import pdf_text

    from papermode.census.snapshot import sample_census_path

    result = prepare(tmp_path, sample_census_path(), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["patients"] == 12 and summary["pages"] > 24
    assert summary["left_out"] == [
        {"resource": "MedicationRequest/ord-0999", "kind": "order",
         "reason": "status is stopped, not active"}
    ]  # fmt: skip
    assert (
        "MedicationRequest/ord-0999: left out (status is stopped, not active)"
        in (summary["warnings"])
    )
    text = pdf_text(tmp_path / "forms" / "ward-chirurgie-2a.pdf")
    assert "NGUYỄN, Thị Lan" in text  # Vietnamese diacritics survive into the PDF text
