"""`papermode export`: reconcile the store, write one export, append it to the audit chain
and anchor the chain's head (printed in the export's first lines)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from papermode.core.errors import ExportError
from papermode.core.settings import Settings
from papermode.export.fhir import build_bundle
from papermode.export.report_pdf import write_report
from papermode.export.worklist_csv import worklist_items, write_worklist
from papermode.export.writing import write_atomic
from papermode.reconcile.inputs import Decision
from papermode.reconcile.service import reconcile_store
from papermode.store.audit import anchor_head, chain_head
from papermode.store.database import Store

ExportFormat = Literal["fhir", "csv", "pdf"]
FORMATS: tuple[ExportFormat, ...] = ("fhir", "csv", "pdf")


@dataclass(frozen=True)
class ExportResult:
    """What one export wrote."""

    path: Path
    format: ExportFormat
    items: int  # items in the export (resources' subjects, worklist rows, report rows)
    pending: int  # items left out because they are still in review
    chain_head: str
    sha256: str


def export_store(
    store: Store,
    settings: Settings,
    *,
    fmt: ExportFormat,
    out: Path,
    ward: str | None = None,
    mrn: str | None = None,
    restored: Path | None = None,
    with_images: bool = False,
    decisions: Mapping[tuple[str, str], Decision] | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the export of the store (or of one ward or patient) to `out`."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}.", advice="Use fhir, csv or pdf.")
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder.", advice="Give the path of a file to write.")
    exported_at = now or datetime.now()
    result, source = reconcile_store(
        store, settings, ward=ward, mrn=mrn, restored=restored, decisions=decisions
    )
    head = chain_head(store)
    head_text = head.text if head else "empty"
    if fmt == "fhir":
        images = _evidence_reader(store) if with_images else None
        bundle = build_bundle(
            result, source, exported_at=exported_at, chain_head=head_text, images=images
        )
        data = (json.dumps(bundle, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        count = len(result.exportable())
    elif fmt == "csv":
        data = write_worklist(
            result, source, settings, exported_at=exported_at, chain_head=head_text
        )
        count = len(worklist_items(result))
    else:
        data = write_report(
            result, source, exported_at=exported_at, chain_head=head_text, crops=_crops(store)
        )
        count = len(result.items)
    write_atomic(out, data)
    digest = hashlib.sha256(data).hexdigest()
    detail = {"format": fmt, "items": count, "file": out.name, "sha256": digest}
    detail |= {"ward": ward or "", "patient": "one" if mrn else "all"}
    with store.transaction():
        store.audit("export", fmt, detail)
    anchor_head(store)
    return ExportResult(out, fmt, count, len(result.pending()), head_text, digest)


def _evidence_reader(store: Store) -> Callable[[str], bytes | None]:
    def read(sha: str) -> bytes | None:
        row = store.db.execute("SELECT evidence FROM files WHERE sha256 = ?", [sha]).fetchone()
        if row is None or not row[0]:
            return None
        path = Path(row[0])
        path = path if path.is_absolute() else store.evidence_dir / path
        return path.read_bytes() if path.exists() else None

    return read


def _crops(store: Store) -> Callable[[str, str], bytes | None]:
    def crop(page_id: str, field_id: str) -> bytes | None:
        row = store.db.execute(
            "SELECT crop FROM page_state WHERE page_id = ? AND field_id = ?", [page_id, field_id]
        ).fetchone()
        return bytes(row[0]) if row and row[0] else None

    return crop
