"""The review tables in the store: decisions (append-only events) and claims.

`review_decisions` is append-only: triggers refuse any UPDATE or DELETE, so a decision can
only be replaced by a later one (see `papermode.review.decisions`). `review_claims` lets
two reviewers on two browsers of one laptop work through the same queue without being
shown the same item: a claim expires after a few minutes.

The tables are created here, idempotently, when a review command first opens a store
(not by the store's migrations, so review can change them without touching the others).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import sqlite_utils

from papermode.review.decisions import Decision, NewDecision
from papermode.store.merge_stores import decision_keys
from papermode.store.rows import now_text

CLAIM_SECONDS = 300.0
_APPEND_ONLY = tuple(
    f"CREATE TRIGGER IF NOT EXISTS review_decisions_no_{action.lower()} BEFORE {action} "
    "ON review_decisions BEGIN SELECT RAISE(ABORT, 'review decisions are append-only'); END"
    for action in ("UPDATE", "DELETE")
)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the review tables, indexes and append-only triggers if they are missing."""
    db.table("review_decisions").create(
        {
            "decision_id": int, "item_id": str, "page_id": str, "field_id": str, "kind": str,
            "value": str, "reviewer": str, "first_reviewer": str, "stage": int,
            "seen_value": str, "withdraws": int, "crop_sha256": str, "decided_at": str,
        },
        pk="decision_id",
        if_not_exists=True,
    )  # fmt: skip
    db.execute("CREATE INDEX IF NOT EXISTS review_decisions_item ON review_decisions (item_id)")
    for trigger in _APPEND_ONLY:
        db.execute(trigger)
    db.table("review_claims").create(
        {"item_id": str, "session": str, "reviewer": str, "claimed_at": float},
        pk="item_id",
        if_not_exists=True,
    )


def append_decision(
    db: sqlite_utils.Database,
    decision: NewDecision,
    *,
    page_id: str | None,
    field_id: str | None,
    crop_sha256: str | None,
    first_reviewer: str | None,
) -> Decision:
    """Append one decision (inside the caller's transaction); returns it with its id."""
    row = {
        "item_id": decision.item_id,
        "page_id": page_id,
        "field_id": field_id,
        "kind": decision.kind,
        "value": decision.value,
        "reviewer": decision.reviewer,
        "first_reviewer": first_reviewer,
        "stage": decision.stage,
        "seen_value": decision.seen_value,
        "withdraws": decision.withdraws,
        "crop_sha256": crop_sha256,
        "decided_at": now_text(),
    }
    table = db.table("review_decisions")
    table.insert(row)
    return _decision({**row, "decision_id": table.last_pk})


def load_decisions(
    db: sqlite_utils.Database, item_ids: Iterable[str] | None = None
) -> dict[str, list[Decision]]:
    """Every decision by item, oldest first (all items, or only `item_ids`)."""
    by_item: dict[str, list[Decision]] = {}
    wanted = None if item_ids is None else set(item_ids)
    origins = decision_keys(db)  # decisions merged from other laptops keep their station's
    for row in db.query("SELECT * FROM review_decisions ORDER BY decision_id"):
        if wanted is None or row["item_id"] in wanted:
            origin = origins.get(int(row["decision_id"]))
            by_item.setdefault(row["item_id"], []).append(replace(_decision(row), origin=origin))
    return by_item


def recent_decisions(db: sqlite_utils.Database, reviewer: str, limit: int = 10) -> list[Decision]:
    """A reviewer's latest decisions, newest first (withdrawals included)."""
    return [
        _decision(row)
        for row in db.query(
            "SELECT * FROM review_decisions WHERE reviewer = ? ORDER BY decision_id DESC LIMIT ?",
            [reviewer, limit],
        )
    ]


def claim(
    db: sqlite_utils.Database,
    item_id: str,
    *,
    session: str,
    reviewer: str,
    now: float | None = None,
) -> bool:
    """Claim an item for one session; False when another live session holds it."""
    moment = time.time() if now is None else now
    row = db.execute(
        "SELECT session, claimed_at FROM review_claims WHERE item_id = ?", [item_id]
    ).fetchone()
    if row and row[0] != session and moment - row[1] < CLAIM_SECONDS:
        return False
    db.table("review_claims").upsert(
        {"item_id": item_id, "session": session, "reviewer": reviewer, "claimed_at": moment},
        pk="item_id",
    )
    return True


def claimed_by_others(
    db: sqlite_utils.Database, session: str, now: float | None = None
) -> set[str]:
    """Items other live sessions are looking at."""
    moment = time.time() if now is None else now
    return {
        row[0]
        for row in db.execute(
            "SELECT item_id FROM review_claims WHERE session != ? AND claimed_at > ?",
            [session, moment - CLAIM_SECONDS],
        ).fetchall()
    }


def release_claims(db: sqlite_utils.Database, session: str) -> None:
    db.execute("DELETE FROM review_claims WHERE session = ?", [session])


def release_item(db: sqlite_utils.Database, item_id: str) -> None:
    """A decided item is free again: the next reviewer (a second one) may be shown it."""
    db.execute("DELETE FROM review_claims WHERE item_id = ?", [item_id])


def _decision(row: dict[str, Any]) -> Decision:
    return Decision(
        decision_id=int(row["decision_id"]),
        item_id=row["item_id"],
        kind=row["kind"],
        value=row["value"],
        reviewer=row["reviewer"],
        stage=int(row["stage"]),
        seen_value=row["seen_value"],
        withdraws=row["withdraws"],
        decided_at=row["decided_at"] or "",
        crop_sha256=row["crop_sha256"],
    )
