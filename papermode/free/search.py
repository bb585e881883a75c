"""Store and search the text captured from free photos (and later from forms): SQLite FTS5.

Tables (created idempotently by `ensure_schema`):
- `free_photos`: one row per capture of a screen or note: text, preparation, patient link
  and its evidence, the comparison with the snapshot;
- `free_medication_candidates`: medication lines read, status "review" — never orders;
- `text_index` + `text_index_fts`: every searchable text, accent-insensitive
  (`unicode61 remove_diacritics 2`), with the drug names the lexicon recognised in `terms`
  so a search for "amoxicilline" also finds an OCR slip like "amoxicilIine".
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from papermode.core.errors import StoreError, UsageError
from papermode.core.flags import ReadingStatus
from papermode.free.medlines import Difference, MedicationCandidate, default_lexicon, summarise
from papermode.free.patientlink import PatientLink
from papermode.free.photo import FreeText
from papermode.store.transactions import transaction

TOKENIZE = "unicode61 remove_diacritics 2"
# Created together in one transaction, FTS triggers included.
SEARCH_TABLES = frozenset(
    {"free_photos", "free_medication_candidates", "text_index", "text_index_fts"}
)


@dataclass(frozen=True)
class SearchHit:
    """One text that matches a search, with where it came from."""

    source: str  # "free" (screen/note photo) or "form"
    capture_id: str
    kind: str  # "screen", "note", or the form field's role
    patient_id: str | None
    mrn: str | None
    captured_at: datetime | None
    file_sha256: str
    file_name: str
    page_index: int
    snippet: str  # the match between [ and ]
    rank: float  # bm25: lower is better


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the free-text tables and the FTS5 index if they are missing (idempotent), all
    in one transaction (or inside the caller's). When they exist, only reads: a search
    never waits for an ingest that is writing."""
    if set(db.table_names()) >= SEARCH_TABLES:
        return
    with transaction(db):
        _create_tables(db)


def _create_tables(db: sqlite_utils.Database) -> None:
    db.table("free_photos").create(
        {
            "capture_id": str, "file_sha256": str, "file_name": str, "page_index": int,
            "captured_at": str, "kind": str, "text": str, "mean_confidence": float,
            "preparation": str, "patient_id": str, "mrn": str, "link_evidence": str,
            "link_confidence": float, "comparison": str, "differences": str,
        },
        pk="capture_id",
        if_not_exists=True,
    )  # fmt: skip
    db.table("free_medication_candidates").create(
        {
            "candidate_id": str, "capture_id": str, "line_number": int, "line_text": str,
            "span": str, "drug": str, "drug_text": str, "dose_value": float, "dose_unit": str,
            "route": str, "frequency": str, "as_needed": int, "times": str, "boxes": str,
            "confidence": float, "status": str,
        },
        pk="candidate_id",
        if_not_exists=True,
    )  # fmt: skip
    db.table("text_index").create(
        {
            "doc_id": str, "source": str, "capture_id": str, "kind": str, "patient_id": str,
            "mrn": str, "captured_at": str, "file_sha256": str, "file_name": str,
            "page_index": int, "text": str, "terms": str,
        },
        pk="doc_id",
        if_not_exists=True,
    )  # fmt: skip
    if db.table("text_index").detect_fts() is None:
        db.table("text_index").enable_fts(
            ["text", "terms"], create_triggers=True, tokenize=TOKENIZE
        )


def record_free_text(
    db: sqlite_utils.Database,
    *,
    capture_id: str,
    file_sha256: str,
    file_name: str,
    page_index: int,
    captured_at: datetime,
    kind: str,
    free_text: FreeText,
    link: PatientLink,
    candidates: Sequence[MedicationCandidate],
    differences: Sequence[Difference],
    mrn: str | None = None,
) -> None:
    """Store one free photo's text, link, candidates and differences; searchable at once.

    Idempotent per `capture_id`: recording the same capture again replaces its rows.
    `mrn` defaults to the linked patient's MRN in the store's `patients` table, if any.
    """
    ensure_schema(db)
    mrn = mrn or _mrn_of(db, link.patient_id)
    row = {
        "capture_id": capture_id, "file_sha256": file_sha256, "file_name": file_name,
        "page_index": page_index, "captured_at": captured_at.isoformat(), "kind": kind,
        "text": free_text.text, "mean_confidence": free_text.mean_confidence,
        "preparation": json.dumps(list(free_text.preparation)), "patient_id": link.patient_id,
        "mrn": mrn, "link_evidence": json.dumps(list(link.evidence)),
        "link_confidence": link.confidence, "comparison": summarise(differences),
        "differences": json.dumps([asdict(d) for d in differences], ensure_ascii=False),
        "to_original": json.dumps(list(free_text.to_original)),
    }  # fmt: skip
    terms = drug_terms(candidates)
    document = _document(row, source="free", doc_id=f"free:{capture_id}", terms=terms)
    try:
        with transaction(db):
            # alter: stores made before `to_original` (the crop of a proposed order) gain it
            db.table("free_photos").upsert(row, pk="capture_id", alter=True)
            db.table("free_medication_candidates").delete_where("capture_id = ?", [capture_id])
            db.table("free_medication_candidates").insert_all(
                _candidate_row(capture_id, n, c) for n, c in enumerate(candidates)
            )
            db.table("text_index").upsert(document, pk="doc_id")
    except sqlite3.Error as error:
        raise StoreError(f"Could not save the text of capture {capture_id}: {error}") from error


def drug_terms(candidates: Sequence[MedicationCandidate]) -> str:
    """Every spelling the lexicon knows for the drugs recognised (French, English, Dutch)."""
    drugs = {c.drug for c in candidates if c.drug}
    spellings = default_lexicon().spellings
    names = drugs | {spelling for spelling, drug in spellings.items() if drug in drugs}
    return " ".join(sorted(names))


def index_form_text(
    db: sqlite_utils.Database,
    *,
    capture_id: str,
    field_id: str,
    text: str,
    file_sha256: str,
    file_name: str,
    page_index: int,
    captured_at: datetime,
    role: str = "text",
    patient_id: str | None = None,
    mrn: str | None = None,
) -> None:
    """Make text read from a form field (printed or handwritten) searchable; idempotent per
    (capture_id, field_id)."""
    ensure_schema(db)
    row = {
        "capture_id": capture_id, "kind": role, "patient_id": patient_id,
        "mrn": mrn or _mrn_of(db, patient_id), "captured_at": captured_at.isoformat(),
        "file_sha256": file_sha256, "file_name": file_name, "page_index": page_index,
        "text": text,
    }  # fmt: skip
    document = _document(row, source="form", doc_id=f"form:{capture_id}:{field_id}", terms="")
    with transaction(db):
        db.table("text_index").upsert(document, pk="doc_id")


def fts_query(query: str) -> str:
    """A safe FTS5 query from what a user typed: every word must appear (a word typed whole
    matches words starting with it). Quotes, hyphens, operators are treated as plain text."""
    words = re.findall(r"\w+", query)
    if not words:
        raise UsageError(
            "The search has no words to look for.",
            advice='Type one or more words, for example: papermode search "amoxicilline"',
        )
    return " ".join(f'"{word}"*' for word in words)


def search(db: sqlite_utils.Database, query: str, limit: int = 50) -> list[SearchHit]:
    """Texts matching `query` (accent-insensitive; every word must appear), best first."""
    ensure_schema(db)
    sql = """
        SELECT t.*, snippet(text_index_fts, -1, '[', ']', '…', 12) AS snippet,
               bm25(text_index_fts) AS rank
        FROM text_index_fts JOIN text_index t ON t.rowid = text_index_fts.rowid
        WHERE text_index_fts MATCH ? ORDER BY rank LIMIT ?
    """
    try:
        rows = list(db.query(sql, [fts_query(query), int(limit)]))
    except sqlite3.OperationalError as error:
        raise UsageError(
            "The search could not be understood.",
            advice="Search with plain words, without quotes or symbols.",
        ) from error
    return [_hit(row) for row in rows]


def _hit(row: dict[str, Any]) -> SearchHit:
    captured = row.get("captured_at")
    return SearchHit(
        source=row["source"], capture_id=row["capture_id"], kind=row["kind"] or "",
        patient_id=row["patient_id"], mrn=row["mrn"],
        captured_at=datetime.fromisoformat(captured) if captured else None,
        file_sha256=row["file_sha256"] or "", file_name=row["file_name"] or "",
        page_index=int(row["page_index"] or 0), snippet=row["snippet"] or "",
        rank=float(row["rank"]),
    )  # fmt: skip


def _document(row: dict[str, Any], *, source: str, doc_id: str, terms: str) -> dict[str, Any]:
    keys = ("capture_id", "kind", "patient_id", "mrn", "captured_at", "file_sha256")
    document = {key: row[key] for key in keys}
    document.update(
        doc_id=doc_id, source=source, file_name=row["file_name"],
        page_index=row["page_index"], text=row["text"], terms=terms,
    )  # fmt: skip
    return document


def _candidate_row(capture_id: str, number: int, candidate: MedicationCandidate) -> dict[str, Any]:
    row = asdict(candidate)
    row.update(
        candidate_id=f"{capture_id}:{number}", capture_id=capture_id, status=ReadingStatus.REVIEW,
        span=json.dumps(list(candidate.span)), times=json.dumps(list(candidate.times)),
        boxes=json.dumps([list(b) for b in candidate.boxes]), as_needed=int(candidate.as_needed),
    )  # fmt: skip
    return row


def _mrn_of(db: sqlite_utils.Database, patient_id: str | None) -> str | None:
    if patient_id is None or "patients" not in db.table_names():
        return None
    columns = {c.name for c in db.table("patients").columns}
    if not {"patient_id", "mrn"} <= columns:
        return None
    rows = list(db.query("SELECT mrn FROM patients WHERE patient_id = ? LIMIT 1", [patient_id]))
    return rows[0]["mrn"] if rows else None
