"""FTS5 storage and search of captured text: accents, OCR slips, bad query syntax, CLI."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from papermode.cli.main import main
from papermode.core.errors import StoreError, UsageError
from papermode.free import search as search_module
from papermode.free.medlines import compare_with_snapshot, extract_medication_lines
from papermode.free.patientlink import PatientLink
from papermode.free.photo import FreeText
from papermode.free.search import ensure_schema, index_form_text, record_free_text, search
from papermode.store.transactions import transaction

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _free_text(text: str) -> FreeText:
    return FreeText(
        text, (), (), 0.9, "note", ("normalise background (shadow)",), (10, 10), IDENTITY
    )


def _record(db: sqlite_utils.Database, capture_id: str, text: str, link: PatientLink) -> None:
    candidates = extract_medication_lines(text.splitlines())
    record_free_text(
        db,
        capture_id=capture_id,
        file_sha256="ab" * 32,
        file_name=f"{capture_id}.jpg",
        page_index=0,
        captured_at=datetime(2026, 11, 28, 9, 30),
        kind="note",
        free_text=_free_text(text),
        link=link,
        candidates=candidates,
        differences=compare_with_snapshot(candidates, []),
        mrn="1234567" if link.patient_id else None,
    )


@pytest.fixture()
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = sqlite_utils.Database(tmp_path / "store.db")
    _record(
        database,
        "c1",
        "DUPONT Hélène IPP 1234567\namoxicilIine 1 g IV 3x/j",
        PatientLink("p1", ("mrn: exact match (labelled)",), 0.95),
    )
    _record(database, "c2", "Note: paracétamol 1 g si besoin", PatientLink(None, (), 0.0))
    return database


def test_accent_insensitive_search(db: sqlite_utils.Database) -> None:
    for query in ("Hélène", "helene", "HELENE"):
        [hit] = search(db, query)
        assert hit.capture_id == "c1" and hit.mrn == "1234567"
        assert "[Hélène]" in hit.snippet
    assert [h.capture_id for h in search(db, "paracetamol")] == ["c2"]


def test_ocr_slip_found_by_the_drug_name(db: sqlite_utils.Database) -> None:
    # The text says "amoxicilIine"; the recognised drug's spellings are indexed too.
    assert [h.capture_id for h in search(db, "amoxicilline")] == ["c1"]
    assert [h.capture_id for h in search(db, "amoxicillin")] == ["c1"]


def test_hit_says_where_the_text_came_from(db: sqlite_utils.Database) -> None:
    [hit] = search(db, "paracetamol")
    assert hit.patient_id is None and hit.mrn is None
    assert hit.file_name == "c2.jpg" and hit.page_index == 0
    assert hit.captured_at == datetime(2026, 11, 28, 9, 30)


@pytest.mark.parametrize("query", ['"amox', "dup-ont", "AND OR", "NEAR(", "a:b", "ab*", "{x}"])
def test_bad_query_syntax_is_harmless(db: sqlite_utils.Database, query: str) -> None:
    assert isinstance(search(db, query), list)


def test_query_without_words_is_a_clear_error(db: sqlite_utils.Database) -> None:
    with pytest.raises(UsageError, match="no words"):
        search(db, '"*" -')


def test_recording_is_idempotent(db: sqlite_utils.Database) -> None:
    _record(
        db, "c1", "DUPONT Hélène IPP 1234567\namoxicilIine 1 g IV 3x/j", PatientLink(None, (), 0)
    )
    ensure_schema(db)
    assert db["free_photos"].count == 2
    assert db["text_index"].count == 2
    assert db["free_medication_candidates"].count == 2
    assert len(search(db, "amoxicilline")) == 1
    row = db["free_medication_candidates"].get("c1:0")
    assert row["status"] == "review" and row["drug"] == "amoxicillin"


def test_form_text_is_searchable(db: sqlite_utils.Database) -> None:
    index_form_text(
        db, capture_id="f1", field_id="note-1", text="Patiente nauséeuse, ondansétron donné",
        file_sha256="cd" * 32, file_name="mar.jpg", page_index=2,
        captured_at=datetime(2026, 11, 28, 10, 0), patient_id="p1", mrn="1234567",
    )  # fmt: skip
    [hit] = search(db, "ondansetron")
    assert hit.source == "form" and hit.page_index == 2 and hit.mrn == "1234567"


def test_cli_search(db: sqlite_utils.Database, tmp_path: Path) -> None:
    store = str(tmp_path / "store.db")
    result = CliRunner().invoke(main, ["search", "helene", "--store", store])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2026-11-28 09:30  MRN 1234567  c1.jpg (page 1, note)")
    result = CliRunner().invoke(main, ["search", "paracetamol", "--store", store, "--json"])
    assert json.loads(result.output)[0]["file_name"] == "c2.jpg"
    result = CliRunner().invoke(main, ["search", "zzz", "--store", store])
    assert result.output == "No text matches this search.\n"


def test_cli_errors(tmp_path: Path, db: sqlite_utils.Database) -> None:
    result = CliRunner().invoke(main, ["search", "x", "--store", str(tmp_path / "none.db")])
    assert result.exit_code == 5 and "there is no store at" in result.output
    result = CliRunner().invoke(main, ["search", "*", "--store", str(tmp_path / "store.db")])
    assert result.exit_code == 2 and "no words" in result.output


def test_a_text_that_fails_to_save_leaves_nothing_inside_the_ingest_transaction(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_row(*args: object) -> dict[str, object]:
        raise sqlite3.OperationalError("disk I/O error")

    # Ingest stores a whole file in one transaction; one photo whose text fails half-way
    # (its row written, its medication lines not) must leave no half-saved photo behind.
    with transaction(db):
        db["files"].insert({"sha256": "f1"})
        monkeypatch.setattr(search_module, "_candidate_row", broken_row)
        with pytest.raises(StoreError):
            _record(db, "c3", "amoxicilline 1 g IV 3x/j", PatientLink(None, (), 0.0))
        monkeypatch.undo()
        _record(db, "c4", "paracétamol 500 mg", PatientLink(None, (), 0.0))
    photos = {row["capture_id"] for row in db.query("SELECT capture_id FROM free_photos")}
    assert photos == {"c1", "c2", "c4"} and db["files"].count == 1
    assert [h.capture_id for h in search(db, "paracetamol 500")] == ["c4"]


def test_the_search_tables_are_created_all_or_nothing(tmp_path: Path) -> None:
    database = sqlite_utils.Database(tmp_path / "store.db")
    with pytest.raises(RuntimeError), transaction(database):
        ensure_schema(database)
        raise RuntimeError("power cut")
    assert database.table_names() == []
    ensure_schema(database)
    assert {"free_photos", "text_index", "text_index_fts"} <= set(database.table_names())


def test_a_search_while_an_ingest_writes_does_not_wait(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    writer = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # an ingest holding the write lock
    try:
        assert [h.capture_id for h in search(db, "paracetamol")] == ["c2"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
