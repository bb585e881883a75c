"""Verify the audit chain against a head anchored outside the store.

`Store.audit` appends entries that each hash the one before. That alone cannot see the
last entries deleted, nor a chain rewritten from scratch with fresh hashes. So the chain's
head (sequence number and hash) is anchored outside the store: printed in every export and
report, and kept in a small head file next to the store (copy it next to the backups).
`verify_chain` checks every link, then that the anchored head is still in the chain at its
place: an edited, deleted, reordered or truncated chain is detected.

The head file is kept current on every append (`keep_head`, called by `Store.audit`
once the entry is committed: ingest, review decisions, reconcile, export), so deleting the
last entries is seen whatever command ran last. It only ever moves forward along the
chain: when the anchored entry is no longer in the chain (truncated or rewritten), the
file is left as it is, as the evidence `audit verify` reports.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from papermode.core.errors import AuditChainError
from papermode.store.rows import now_text

if TYPE_CHECKING:  # the store calls keep_head; this module only reads it
    from papermode.store.database import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainHead:
    """The newest entry of the chain: its sequence number and hash."""

    seq: int
    hash: str

    @property
    def text(self) -> str:
        """How the head is printed in exports and reports."""
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found; `problems` is empty when the chain is intact."""

    entries: int
    head: ChainHead | None
    anchored: ChainHead | None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        return not self.problems


def head_path(store: Store) -> Path:
    """The head file next to the store: `papermode.db.audit-head`."""
    return store.path.with_name(store.path.name + ".audit-head")


def chain_head(store: Store) -> ChainHead | None:
    row = store.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return ChainHead(int(row[0]), str(row[1])) if row else None


def anchor_head(store: Store, path: Path | None = None) -> ChainHead | None:
    """Write the chain's current head to `path` (atomically, owner-only); without `path`,
    move the head file next to the store forward (`keep_head`)."""
    if path is None:
        return keep_head(store)
    head = chain_head(store)
    if head is not None:
        write_head(path, head)
    return head


def keep_head(store: Store) -> ChainHead | None:
    """Move the head file next to the store to the chain's head, forward only.

    Refuses (and logs) when the entry the file anchors is no longer in the chain: a
    truncated or rewritten chain must not be anchored afresh. Returns the head kept.
    """
    head = chain_head(store)
    path = head_path(store)
    if head is None or store.readonly:
        return None
    if path.exists():
        try:
            anchored = read_head(path)
        except AuditChainError:
            logger.warning("audit head file unreadable: left as it is for audit verify")
            return None
        if anchored.seq >= head.seq or _hash_at(store, anchored.seq) != anchored.hash:
            if anchored != head:
                logger.warning("audit head %s not in the chain: file left as it is", anchored.seq)
            return anchored
    write_head(path, head)
    return head


def write_head(path: Path, head: ChainHead) -> None:
    """The head file, written atomically and owner-only."""
    temporary = path.with_name(path.name + ".part")
    text = json.dumps({"seq": head.seq, "hash": head.hash, "anchored_at": now_text()})
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.chmod(0o600)
    temporary.replace(path)


def _hash_at(store: Store, seq: int) -> str | None:
    row = store.db.execute("SELECT hash FROM audit WHERE seq = ?", [seq]).fetchone()
    return str(row[0]) if row else None


def read_head(path: Path) -> ChainHead:
    """The head kept in a head file; AuditChainError when it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ChainHead(int(data["seq"]), str(data["hash"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AuditChainError(
            f"the audit head file {path.name} cannot be read ({type(error).__name__}).",
            advice="Use the head printed on the last export or report (--head SEQ:HASH), "
            "or the head file kept with the backups.",
        ) from error


def parse_head(text: str) -> ChainHead:
    """ "SEQ:HASH" as printed in exports -> ChainHead."""
    seq, _, digest = text.strip().partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise AuditChainError(
            f"{text!r} is not an audit head.",
            advice="Copy the head as printed in an export's first lines: SEQ:HASH.",
        )
    return ChainHead(int(seq), digest)


def entry_hash(prev_hash: str, row: dict[str, object]) -> str:
    parts = [prev_hash, row["at"], row["actor"], row["action"], row["subject"], row["detail"]]
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def verify_chain(store: Store, anchored: ChainHead | None = None) -> ChainReport:
    """Check every link of the chain, then that `anchored` is still in it at its place."""
    problems: list[str] = []
    prev_hash, previous_seq, count = "", 0, 0
    hashes: dict[int, str] = {}
    for row in store.db.query("SELECT * FROM audit ORDER BY seq"):
        count += 1
        seq = int(row["seq"])
        if row["prev_hash"] != prev_hash:
            problems.append(f"entry {seq}: does not follow entry {previous_seq} (deleted or moved)")
        if row["hash"] != entry_hash(row["prev_hash"] or "", row):
            problems.append(f"entry {seq}: its content was changed after it was written")
        hashes[seq] = row["hash"]
        prev_hash, previous_seq = row["hash"], seq
    head = ChainHead(previous_seq, prev_hash) if count else None
    if anchored is not None:
        problems += _against_anchor(hashes, head, anchored)
    return ChainReport(count, head, anchored, tuple(problems))


def _against_anchor(
    hashes: dict[int, str], head: ChainHead | None, anchored: ChainHead
) -> list[str]:
    if head is None or head.seq < anchored.seq:
        last = head.seq if head else 0
        return [
            f"the chain ends at entry {last}, before the anchored head {anchored.seq}: truncated"
        ]
    if hashes.get(anchored.seq) != anchored.hash:
        return [f"entry {anchored.seq} is not the anchored one: the chain was rewritten"]
    return []
