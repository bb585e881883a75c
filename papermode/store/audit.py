"""Verify the audit chain against a head anchored outside the store.

`Store.audit` appends entries that each hash the one before. That alone cannot see the
last entries deleted, nor a chain rewritten from scratch with fresh hashes. So the chain's
head (sequence number and hash) is anchored outside the store: printed in every export and
report, and kept in a small head file next to the store (copy it next to the backups).
`verify_chain` checks every link, then that the anchored head is still in the chain at its
place: an edited, deleted, reordered or truncated chain is detected.

Entries appended after the head was anchored cannot be told from a truncation of those
same entries; anchor again (`anchor_head`) at every export, reconcile and backup.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from papermode.core.errors import AuditChainError
from papermode.store.database import Store
from papermode.store.rows import now_text


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
    """Write the chain's current head to the head file (atomically, owner-only)."""
    head = chain_head(store)
    if head is None:
        return None
    target = path or head_path(store)
    temporary = target.with_name(target.name + ".part")
    text = json.dumps({"seq": head.seq, "hash": head.hash, "anchored_at": now_text()})
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(target)
    return head


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
