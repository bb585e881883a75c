"""The review app's sessions, kept in the store: a restart of `papermode serve` keeps every
reviewer's session (and name) valid until it expires.

A session id is a random secret given to one browser as an HttpOnly, SameSite=Strict
cookie, only after that browser showed the start-up token; it is as strong as the token.
The store keeps its SHA-256 only (a copy of the store does not hand out live sessions),
with the reviewer's name, the CSRF token and when it expires (`SESSION_HOURS` after it was
made: a shift). Expired sessions are refused and deleted.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path

from papermode.store.database import Store, open_existing_store
from papermode.web.security import Session

SESSION_HOURS = 12.0
TABLE = "review_sessions"


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def ensure_table(store: Store) -> None:
    store.db.table(TABLE).create(
        {"id_sha256": str, "csrf": str, "reviewer": str, "expires_at": float},
        pk="id_sha256",
        if_not_exists=True,
    )


class StoredSessions:
    """`papermode.web.security.Sessions`, in the store (same interface: get, new, save)."""

    def __init__(self, store_path: Path, *, hours: float = SESSION_HOURS) -> None:
        self.store_path = store_path
        self.seconds = hours * 3600.0
        self._live: dict[str, Session] = {}

    def get(self, session_id: str | None, now: float | None = None) -> Session | None:
        if not session_id:
            return None
        moment = time.time() if now is None else now
        with open_existing_store(self.store_path) as store, store.transaction() as db:
            ensure_table(store)
            db.execute(f"DELETE FROM {TABLE} WHERE expires_at <= ?", [moment])
            row = db.execute(
                f"SELECT csrf, reviewer FROM {TABLE} WHERE id_sha256 = ?", [_digest(session_id)]
            ).fetchone()
        if row is None:
            self._live.pop(session_id, None)
            return None
        session = self._live.get(session_id) or Session(session_id, row[0])
        session.reviewer = row[1]
        self._live[session_id] = session
        return session

    def new(self, now: float | None = None) -> Session:
        session = Session(secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        moment = time.time() if now is None else now
        with open_existing_store(self.store_path) as store, store.transaction() as db:
            ensure_table(store)
            db.table(TABLE).insert(
                {
                    "id_sha256": _digest(session.session_id),
                    "csrf": session.csrf,
                    "reviewer": None,
                    "expires_at": moment + self.seconds,
                }
            )
        self._live[session.session_id] = session
        return session

    def save(self, session: Session) -> None:
        """Keep the reviewer's name given in this session."""
        with open_existing_store(self.store_path) as store, store.transaction() as db:
            ensure_table(store)
            db.execute(
                f"UPDATE {TABLE} SET reviewer = ? WHERE id_sha256 = ?",
                [session.reviewer, _digest(session.session_id)],
            )
