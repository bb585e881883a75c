"""What keeps the review app to the person who started it.

- a random token, printed in the start-up URL, is required on every request (as
  datasette's `--root`): the first visit trades it for an HttpOnly, SameSite=Strict cookie
  and is redirected to the same address without it, so it stays out of the history;
- the Host header must be the address the app listens on (a DNS-rebinding web page
  cannot reach 127.0.0.1 through another name);
- every change (POST) carries the session's CSRF token, and a cross-site Origin is refused;
- every response carries a Content-Security-Policy without inline script, no referrer,
  no framing, no caching.

Refusals say what to do and never echo the request (no patient data in error pages).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp

log = logging.getLogger(__name__)
TOKEN_COOKIE = "papermode_token"
SESSION_COOKIE = "papermode_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
FAILED = (
    "Something went wrong in the review app; nothing was recorded for this action. Reload "
    "the page; if it happens again, tell IT (the terminal says which kind of error)."
)
REFUSED = (
    "This review app only answers the browser that opened the address printed by "
    "`papermode serve` (it holds a secret token). Open that address again."
)


@dataclass
class Session:
    """One browser's review session: who reviews, its CSRF token, what it skipped."""

    session_id: str
    csrf: str
    reviewer: str | None = None
    skipped: set[str] = field(default_factory=set)


class SessionStore(Protocol):
    """Where sessions live: in memory (`Sessions`) or in the store (`web.sessions`)."""

    def get(self, session_id: str | None) -> Session | None: ...

    def new(self) -> Session: ...

    def save(self, session: Session) -> None: ...


class Sessions:
    """Sessions in memory only (a restart asks the reviewer's name again)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}

    def get(self, session_id: str | None) -> Session | None:
        return self._by_id.get(session_id or "")

    def new(self) -> Session:
        session = Session(secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        self._by_id[session.session_id] = session
        return session

    def save(self, session: Session) -> None:
        self._by_id[session.session_id] = session


class Guard(BaseHTTPMiddleware):
    """Token, Host, Origin and session checks before any page; security headers after."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        sessions: SessionStore,
        allowed_hosts: tuple[str, ...],
    ) -> None:
        super().__init__(app)
        self.token = token
        self.sessions = sessions
        self.allowed_hosts = allowed_hosts

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            response = await self._checked(request, call_next)
        except Exception as error:  # never the exception's text: it could hold a value
            log.error("review app: %s on %s", type(error).__name__, request.url.path)
            response = PlainTextResponse(FAILED, 500)
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response

    async def _checked(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        host = request.headers.get("host", "")
        if self.allowed_hosts and host not in self.allowed_hosts:
            return PlainTextResponse("Unknown host: open the address papermode printed.", 400)
        offered = request.query_params.get("token")
        if offered is not None and secrets.compare_digest(offered, self.token):
            response: Response = RedirectResponse(request.url.path, status_code=303)
            response.set_cookie(
                TOKEN_COOKIE, self.token, httponly=True, samesite="strict", path="/"
            )
            return response
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        token_ok = secrets.compare_digest(request.cookies.get(TOKEN_COOKIE, ""), self.token)
        # A live session (issued to a browser that showed the token, before a restart of
        # the app) stands for the token; anything else must show the current token.
        if not token_ok and session is None:
            return PlainTextResponse(REFUSED, 403)
        if request.method != "GET" and not _same_origin(request, host):
            return PlainTextResponse("Refused: this change came from another web page.", 403)
        fresh = session is None
        if session is None:
            session = self.sessions.new()
        request.state.session = session
        response = await call_next(request)
        if fresh:
            response.set_cookie(
                SESSION_COOKIE, session.session_id, httponly=True, samesite="strict", path="/"
            )
        if not token_ok:
            response.set_cookie(
                TOKEN_COOKIE, self.token, httponly=True, samesite="strict", path="/"
            )
        return response


def restrict_to_owner(store_path: Path) -> None:
    """The store, its journal files and the evidence folders: readable by their owner only.

    The store creates its file owner-only, but folders made by earlier versions, a copy or
    a restore may be open to other users of the laptop: close them before serving.
    """
    evidence = store_path.with_name(store_path.name + ".evidence")
    for suffix in ("", "-wal", "-shm"):
        path = store_path.with_name(store_path.name + suffix)
        if path.exists():
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    if evidence.is_dir():
        os.chmod(evidence, stat.S_IRWXU)
        for folder in evidence.iterdir():
            if folder.is_dir():
                os.chmod(folder, stat.S_IRWXU)


def _same_origin(request: Request, host: str) -> bool:
    # With `Referrer-Policy: no-referrer` the browser sends `Origin: null` for its own
    # forms: the CSRF token and SameSite=Strict cookies guard those; a named other site
    # is refused outright.
    origin = request.headers.get("origin")
    return origin in (None, "null", f"http://{host}", f"https://{host}")


def csrf_ok(session: Session, offered: object) -> bool:
    return isinstance(offered, str) and secrets.compare_digest(offered, session.csrf)
