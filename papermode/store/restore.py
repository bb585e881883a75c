"""Evidence restored by re-ingesting its original: `papermode ingest PATH` on a photo the
store read before writes its evidence file again when it is missing or damaged.

The bytes given are the original only if their SHA-256 is the one recorded; the file is
then written as every evidence file is (`papermode.store.evidence`: whole or not at all),
and the restoration is an entry in the audit chain.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from papermode.store.database import Store
from papermode.store.evidence import file_sha256


def restore_evidence(store: Store, sha: str, data: bytes) -> str | None:
    """Write the evidence of the recorded file `sha` again from `data` when it is missing or
    damaged; returns what it was ("missing", "damaged"), or None when nothing was needed.

    Call inside the transaction that records the duplicate: the audit entry goes with it.
    """
    row = store.db.execute("SELECT evidence FROM files WHERE sha256 = ?", [sha]).fetchone()
    if row is None or not row[0] or hashlib.sha256(data).hexdigest() != sha:
        return None
    path = store.evidence_dir / str(row[0])
    state = _state(path, sha)
    if state is None:
        return None
    store.put_evidence(data, suffix=path.name[len(sha) :])
    store.audit("evidence restored", sha, {"was": state, "evidence": str(row[0])})
    return state


def _state(path: Path, sha: str) -> str | None:
    if not path.is_file():
        return "missing"
    try:
        return None if file_sha256(path) == sha else "damaged"
    except OSError:
        return "damaged"
