"""The layout manifest: `manifest.json` beside the PDFs `prepare` wrote (see docs/manifest.md).

It says, for every printed page, where it is (PDF file and page), who it belongs to, and
where every field box sits in millimetres from the page's top-left corner. The synthetic
photo generator, the tests and IT read it back; `page_entry` is also what
`papermode layout --json` prints for pages already in a store.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from papermode.core.errors import InputFileError, PageIdError, StoreError
from papermode.core.model import Box, Field, PageLayout, PrintedPage
from papermode.core.pageid import normalise
from papermode.store.database import open_store

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"


class ManifestError(InputFileError):
    """A manifest.json cannot be read back (missing, damaged, or from a newer papermode)."""


@dataclass(frozen=True)
class SnapshotInfo:
    """The manifest's `snapshot` section: which census the pages were printed from."""

    snapshot_id: str
    taken_at: datetime
    source: str
    period_start: datetime
    period_end: datetime


def iso_minutes(value: datetime | None) -> str | None:
    """ISO local time to the minute ("2026-11-28T14:00"); seconds only when there are some."""
    if value is None:
        return None
    if value.second == 0 and value.microsecond == 0:
        return value.isoformat(timespec="minutes")
    return value.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def field_entry(item: Field) -> dict[str, Any]:
    """One field as the manifest writes it; every key present, null where not applicable."""
    is_digits = item.kind == "digits"
    return {
        "field_id": item.field_id,
        "kind": item.kind,
        # Full float precision (shortest exact repr) so reading the manifest back is exact.
        "box_mm": [item.box.x, item.box.y, item.box.w, item.box.h],
        "cells": item.cells if is_digits or item.cells else None,
        "decimals": item.decimals if is_digits or item.decimals else None,
        "order_id": item.order_id,
        "scheduled": iso_minutes(item.scheduled),
        "role": item.role,
        "code": item.code,
        "group": item.group,
        "value": item.value,
        "label": item.label or None,
    }


def page_entry(printed: PrintedPage) -> dict[str, Any]:
    """One printed page as the manifest (and `papermode layout --json`) shows it."""
    return {
        **page_entry_head(printed),
        "fields": [field_entry(item) for item in printed.layout.fields],
    }


def page_entry_head(printed: PrintedPage) -> dict[str, Any]:
    """A page's manifest entry without its fields (they come last)."""
    layout = printed.layout
    return {
        "page_id": layout.page_id,
        "qr": layout.qr_text,
        "pdf": printed.pdf,
        "pdf_page": printed.pdf_page,
        "also_in": [{"pdf": pdf, "pdf_page": page} for pdf, page in printed.also_in],
        "template": layout.template,
        "template_version": layout.template_version,
        "patient_id": layout.patient_id,
        "mrn": layout.mrn,
        "ward": layout.ward,
        "page_number": layout.page_number,
        "page_count": layout.page_count,
        "size_mm": [layout.size_mm[0], layout.size_mm[1]],
    }


# Field entries as JSON text by object identity: the banner and the signature legend are
# the same Field objects on many pages (each entry keeps its field alive: no id reuse).
_FIELD_JSON: dict[int, tuple[Field, str]] = {}


def _field_json(item: Field) -> str:
    known = _FIELD_JSON.get(id(item))
    if known is not None and known[0] is item:
        return known[1]
    text = json.dumps(field_entry(item), ensure_ascii=False)
    if len(_FIELD_JSON) >= 200_000:
        _FIELD_JSON.clear()
    _FIELD_JSON[id(item)] = (item, text)
    return text


def page_json(printed: PrintedPage) -> str:
    """`json.dumps(page_entry(printed))`, its fields' text shared between pages."""
    entry = page_entry_head(printed)
    fields = ", ".join(_field_json(item) for item in printed.layout.fields)
    return json.dumps(entry, ensure_ascii=False)[:-1] + ', "fields": [' + fields + "]}"


def manifest_document(
    printed_pages: Sequence[PrintedPage],
    snapshot: SnapshotInfo,
    *,
    paper: str,
    lang: str,
    generated_at: datetime,
) -> dict[str, Any]:
    """The whole manifest as a JSON-ready dict."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "snapshot": {
            "snapshot_id": snapshot.snapshot_id,
            "taken_at": snapshot.taken_at.isoformat(),
            "source": snapshot.source,
            "period_start": iso_minutes(snapshot.period_start),
            "period_end": iso_minutes(snapshot.period_end),
        },
        "paper": paper,
        "lang": lang,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "pages": [page_entry(printed) for printed in printed_pages],
    }


def write_manifest(
    path: Path,
    printed_pages: Sequence[PrintedPage],
    snapshot: SnapshotInfo,
    *,
    paper: str,
    lang: str,
    generated_at: datetime,
) -> Path:
    """Write the manifest atomically (temp file in the same folder, then rename)."""
    document = manifest_document((), snapshot, paper=paper, lang=lang, generated_at=generated_at)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(_dumps(document, [page_json(printed) for printed in printed_pages]))
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _dumps(document: dict[str, Any], pages: Sequence[str]) -> str:
    """JSON with one page per line: readable with `grep`, and fast (json's C encoder only
    runs without `indent`; a 5,000-page manifest takes seconds with it)."""
    head = {key: value for key, value in document.items() if key != "pages"}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "pages": [']
    lines.append(",\n".join(pages))
    lines.append("]}\n")
    return "\n".join(lines)


# ---------------------------------------------------------------------- reading back


def read_manifest(path: Path) -> list[PrintedPage]:
    """The printed pages a manifest describes, fields exactly as laid out (no drawings)."""
    document = load_manifest_document(path)
    try:
        snapshot = document["snapshot"]
        common = {
            "snapshot_id": snapshot["snapshot_id"],
            "period_start": _parse_time(snapshot["period_start"]),
            "period_end": _parse_time(snapshot["period_end"]),
            "paper": document["paper"],
            "lang": document["lang"],
        }
        return [_printed_from_entry(entry, common) for entry in document["pages"]]
    except (KeyError, TypeError, ValueError) as error:
        raise ManifestError(
            f"{path}: the manifest is damaged ({type(error).__name__}: {error}).",
            advice="Use the manifest.json written by `papermode prepare` with these PDFs.",
        ) from error


def load_manifest_document(path: Path) -> dict[str, Any]:
    """The manifest as a dict, checked for its version; ManifestError if unreadable."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(
            f"cannot read the manifest {path}: {error}.",
            advice="Point at the manifest.json that `papermode prepare` wrote beside the PDFs.",
        ) from error
    version = document.get("manifest_version") if isinstance(document, dict) else None
    if version != MANIFEST_VERSION:
        raise ManifestError(
            f"{path}: manifest_version {version!r} is not supported (expected 1).",
            advice="Read it with the papermode version that wrote it.",
        )
    return document


def _printed_from_entry(entry: dict[str, Any], common: dict[str, Any]) -> PrintedPage:
    width, height = entry["size_mm"]
    layout = PageLayout(
        page_id=entry["page_id"],
        template=entry["template"],
        template_version=entry["template_version"],
        size_mm=(float(width), float(height)),
        patient_id=entry["patient_id"],
        mrn=entry["mrn"],
        ward=entry["ward"],
        page_number=int(entry["page_number"]),
        page_count=int(entry["page_count"]),
        fields=tuple(field_from_entry(item) for item in entry["fields"]),
        **common,
    )
    also_in = tuple((item["pdf"], int(item["pdf_page"])) for item in entry["also_in"])
    return PrintedPage(
        layout=layout, pdf=entry["pdf"], pdf_page=int(entry["pdf_page"]), also_in=also_in
    )


def field_from_entry(entry: dict[str, Any]) -> Field:
    """A manifest field back into a `Field` (the inverse of `field_entry`)."""
    x, y, w, h = (float(value) for value in entry["box_mm"])
    return Field(
        field_id=entry["field_id"],
        kind=entry["kind"],
        box=Box(x, y, w, h),
        role=entry["role"],
        cells=int(entry["cells"] or 0),
        decimals=int(entry["decimals"] or 0),
        order_id=entry["order_id"],
        scheduled=_parse_time(entry["scheduled"]),
        code=entry["code"],
        group=entry["group"],
        value=entry["value"],
        label=entry["label"] or "",
    )


# ---------------------------------------------------------------------- from a store


def stored_page_entries(
    store_path: Path, *, page_id: str | None = None, mrn: str | None = None
) -> list[dict[str, Any]]:
    """Manifest entries of pages already printed into the store at `store_path`.

    Raises StoreError when there is no store there, PageIdError when the page id is
    malformed or unknown, or when no page belongs to the MRN given (never echoed back).
    """
    if not Path(store_path).exists():
        raise StoreError(
            f"there is no store at {store_path}.",
            advice="Run `papermode prepare` first, or point --store at the right file.",
        )
    wanted = normalise(page_id) if page_id else None
    with open_store(store_path) as store:
        printed = store.printed_pages(page_id=wanted, mrn=mrn.strip() if mrn else None)
    if wanted and not printed:
        raise PageIdError(
            f"page {wanted} is not known to this store ({Path(store_path).name}).",
            advice="Check the id printed under the QR code, or use the store it was printed from.",
        )
    if mrn and not printed:
        raise PageIdError(
            "no printed page in this store belongs to the MRN given.",
            advice="Check the MRN on the patient banner, or use the store it was printed from.",
        )
    return [page_entry(item) for item in printed]


def layout_table(entries: Sequence[dict[str, Any]], *, with_fields: bool) -> list[str]:
    """Readable lines for `papermode layout`: one per page, then its fields if asked."""
    if not entries:
        return ["No printed pages in this store yet: run `papermode prepare`."]
    header = ("PAGE ID", "TEMPLATE", "WARD", "MRN", "PAGE", "PDF")
    rows = [
        (
            entry["page_id"],
            f"{entry['template']} v{entry['template_version']}",
            str(entry["ward"] or "-"),
            str(entry["mrn"] or "-"),
            f"{entry['page_number']}/{entry['page_count']}",
            f"{entry['pdf']} p{entry['pdf_page']}",
        )
        for entry in entries
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join([*(c.ljust(w) for c, w in zip(cells, widths, strict=False)), cells[-1]])

    lines = [line(header)]
    for entry, row in zip(entries, rows, strict=True):
        lines.append(line(row))
        if with_fields:
            lines += [f"    {_field_line(item)}" for item in entry["fields"]]
    if not with_fields:
        lines.append(f"{len(entries)} page(s); use --page ID to see a page's fields.")
    return lines


def _field_line(entry: dict[str, Any]) -> str:
    box = " ".join(f"{value:g}" for value in entry["box_mm"])
    extra = [
        f"{key}={entry[key]}"
        for key in ("role", "cells", "decimals", "order_id", "scheduled", "code", "group", "value")
        if entry[key] not in (None, 0)
    ]
    return f"{entry['field_id']:<28} {entry['kind']:<9} [{box}] {' '.join(extra)}".rstrip()
