"""The local review app: one item at a time, the crop large, the page in context, by keyboard.

Server-rendered Jinja2 pages on Starlette, no external assets (works offline). Each
request opens the store afresh, so the app sees what `ingest` adds without a restart, and
two browsers work in parallel: an item shown to one session is claimed and not shown to
the other, and a decision is checked again inside its write transaction.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from papermode.core.errors import PapermodeError, ReviewError
from papermode.review.context import context_capture, page_in_context, straightened_page
from papermode.review.decisions import DecisionKind, shows_first_value
from papermode.review.files import attributable
from papermode.review.items import QueueItem
from papermode.review.queue import LEVELS, build_queue, find_item, ward_progress
from papermode.review.records import claim, claimed_by_others, ensure_schema, recent_decisions
from papermode.review.service import compare_crop_of, crop_of, crop_sha256, decide
from papermode.store.database import Store, open_existing_store
from papermode.web.security import (
    Guard,
    Session,
    Sessions,
    SessionStore,
    csrf_ok,
    restrict_to_owner,
)
from papermode.web.sessions import StoredSessions

PACKAGE = resources.files("papermode.web")
ACTIONS: dict[str, DecisionKind] = {
    "confirm": "confirm",
    "correct": "correct",
    "unreadable": "unreadable",
    "not_on_page": "not_on_page",
}
GROUP_VALUES = frozenset({None, "", "empty"})
PAGE_CACHE = 8  # straightened pages kept (about 1 MB each)


class ReviewApp:
    """The app for one store; `asgi` is what uvicorn (or a test client) serves."""

    def __init__(
        self,
        store_path: Path,
        *,
        order: Sequence[str] = LEVELS,
        allowed_hosts: tuple[str, ...] = (),
        token: str | None = None,
        keep_sessions: bool = True,
    ) -> None:
        self.store_path = store_path
        restrict_to_owner(store_path)
        self.order = tuple(order)
        self.token = token or secrets.token_urlsafe(24)
        self.sessions: SessionStore = StoredSessions(store_path) if keep_sessions else Sessions()
        self.templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
        self._pages: OrderedDict[str, np.ndarray] = OrderedDict()  # straightened, by capture
        routes = [
            Route("/", self.home),
            Route("/reviewer", self.set_reviewer, methods=["POST"]),
            Route("/next", self.next_item),
            Route("/item/{item_id:path}", self.show_item),
            Route("/decide", self.decide, methods=["POST"]),
            Route("/undo", self.undo, methods=["POST"]),
            Route("/group", self.group, methods=["POST"]),
            Route("/skip", self.skip, methods=["POST"]),
            Route("/progress", self.progress),
            Route("/crop/{item_id:path}", self.crop),
            Route("/compare/{item_id:path}", self.compare_crop),
            Route("/context/{item_id:path}", self.context),
            Mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static"),
        ]
        guard = Middleware(
            Guard, token=self.token, sessions=self.sessions, allowed_hosts=allowed_hosts
        )
        self.asgi = Starlette(
            routes=routes,
            middleware=[guard],
            exception_handlers={_Refused: self._refused, 404: self._not_found},
        )

    def start_url(self, host: str, port: int) -> str:
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/?token={self.token}"

    # ------------------------------------------------------------------ pages

    async def home(self, request: Request) -> Response:
        session = _session(request)
        if not session.reviewer:
            return self._page(request, "name.html", {})
        return RedirectResponse("/next", status_code=303)

    async def set_reviewer(self, request: Request) -> Response:
        form = await self._form(request)
        name = str(form.get("reviewer") or "").strip()
        if not name:
            return self._page(request, "name.html", {"error": "Type your name."}, 400)
        session = _session(request)
        session.reviewer = name[:60]
        await run_in_threadpool(self.sessions.save, session)
        return RedirectResponse("/next", status_code=303)

    async def next_item(self, request: Request) -> Response:
        session = _session(request)
        if not session.reviewer:
            return RedirectResponse("/", status_code=303)
        item_id = await run_in_threadpool(self._pick, session)
        if item_id is None:
            progress = await run_in_threadpool(self._progress)
            return self._page(request, "done.html", {"progress": progress})
        return RedirectResponse(f"/item/{item_id}", status_code=303)

    async def show_item(self, request: Request) -> Response:
        session = _session(request)
        if not session.reviewer:
            return RedirectResponse("/", status_code=303)
        edit = request.query_params.get("edit")
        error = request.query_params.get("error")
        values = await run_in_threadpool(
            self._item_page, session, request.path_params["item_id"], edit, error
        )
        return self._page(request, "item.html", values, 409 if error else 200)

    async def progress(self, request: Request) -> Response:
        progress = await run_in_threadpool(self._progress)
        return self._page(request, "done.html", {"progress": progress, "only_progress": True})

    # ------------------------------------------------------------------ changes

    async def decide(self, request: Request) -> Response:
        session, form = _session(request), await self._form(request)
        item_id = str(form.get("item_id") or "")
        action = str(form.get("action") or "")
        kind = ACTIONS.get(action)
        edit = str(form.get("edit_of") or "")
        try:
            if kind is None or not session.reviewer:
                raise ReviewError("choose confirm, a value, unreadable or not on this page.")
            await run_in_threadpool(
                self._decide,
                item_id,
                kind,
                session.reviewer,
                str(form.get("value") or "") if kind == "correct" else None,
                int(edit) if edit.isdigit() else None,
                str(form.get("crop") or "") or None,
            )
        except PapermodeError as problem:
            return self._item_again(request, session, item_id, edit, problem)
        return RedirectResponse("/next", status_code=303)

    async def undo(self, request: Request) -> Response:
        session, form = _session(request), await self._form(request)
        decision = str(form.get("decision_id") or "")
        item_id = str(form.get("item_id") or "")
        try:
            if not decision.isdigit() or not session.reviewer:
                raise ReviewError("choose one of your last decisions to undo.")
            await run_in_threadpool(
                self._decide, item_id, "withdraw", session.reviewer, None, int(decision), None
            )
        except PapermodeError as problem:
            return self._item_again(request, session, item_id, "", problem)
        return RedirectResponse(f"/item/{item_id}", status_code=303)

    async def group(self, request: Request) -> Response:
        session, form = _session(request), await self._form(request)
        item_ids = [str(v) for v in form.getlist("item_id")]
        crops = [str(v) for v in form.getlist("crop")]
        try:
            if not session.reviewer or len(item_ids) != len(crops) or not item_ids:
                raise ReviewError("nothing to confirm in this group.")
            await run_in_threadpool(self._confirm_group, item_ids, crops, session.reviewer)
        except PapermodeError as problem:
            return self._item_again(request, session, item_ids[0] if item_ids else "", "", problem)
        return RedirectResponse("/next", status_code=303)

    async def skip(self, request: Request) -> Response:
        session, form = _session(request), await self._form(request)
        session.skipped.add(str(form.get("item_id") or ""))
        return RedirectResponse("/next", status_code=303)

    # ------------------------------------------------------------------ images

    async def crop(self, request: Request) -> Response:
        crop = await run_in_threadpool(self._crop, request.path_params["item_id"])
        if crop is None:
            return Response(status_code=404)
        return Response(crop, media_type="image/png")

    async def compare_crop(self, request: Request) -> Response:
        crop = await run_in_threadpool(self._compare_crop, request.path_params["item_id"])
        if crop is None:
            return Response(status_code=404)
        return Response(crop, media_type="image/png")

    async def context(self, request: Request) -> Response:
        picture = await run_in_threadpool(self._context_jpeg, request.path_params["item_id"])
        if picture is None:
            return Response(status_code=404)
        return Response(picture, media_type="image/jpeg")

    # ------------------------------------------------------------------ store work

    def _store(self) -> Store:
        store = open_existing_store(self.store_path)
        ensure_schema(store.db)
        return store

    def _pick(self, session: Session) -> str | None:
        with self._store() as store:
            busy = claimed_by_others(store.db, session.session_id)
            for item in build_queue(store, order=self.order):
                if _offered_to(item, session, busy) and claim(
                    store.db,
                    item.item_id,
                    session=session.session_id,
                    reviewer=session.reviewer or "",
                ):
                    return item.item_id
        return None

    def _item_page(
        self, session: Session, item_id: str, edit: str | None, error: str | None
    ) -> dict[str, Any]:
        with self._store() as store:
            item = find_item(store, item_id)
            claim(store.db, item_id, session=session.session_id, reviewer=session.reviewer or "")
            queue = build_queue(store, order=self.order, include_decided=True)
            recent = recent_decisions(store.db, session.reviewer or "")
            sha = crop_sha256(store, item)
            compare_taken = _taken_at(store, item.compare_capture)
            group = [
                (member, crop_sha256(store, member) or "")
                for member in (_group(item, queue, session) if edit is None else [])
            ]
        state = item.state
        edit_of = int(edit) if edit and edit.isdigit() else None
        show_value = state is None or shows_first_value(item.facts, state) or edit_of is not None
        return {
            "item": item,
            "entry": item.as_json(hide_first_value=not show_value),
            "show_value": show_value,
            "state": state,
            "crop_sha": sha or "",
            "edit_of": edit_of,
            "group": group if len(group) > 1 else [],
            "recent": recent,
            "compare_taken": compare_taken,
            "attributable": attributable(item),
            "progress": ward_progress(queue),
            "open_count": sum(
                1 for i in queue if i.needed != "none" and i.kind != "unphotographed"
            ),
            "error": error,
        }

    def _decide(
        self,
        item_id: str,
        kind: DecisionKind,
        reviewer: str,
        value: str | None,
        edit_of: int | None,
        seen_crop: str | None,
    ) -> None:
        with self._store() as store:
            decide(
                store,
                item_id,
                kind=kind,
                reviewer=reviewer,
                value=value,
                edit_of=edit_of,
                seen_crop=seen_crop,
            )

    def _confirm_group(self, item_ids: list[str], crops: list[str], reviewer: str) -> None:
        with self._store() as store, store.transaction():
            for item_id, seen in zip(item_ids, crops, strict=True):
                item = find_item(store, item_id)
                if item.two_person or item.value not in GROUP_VALUES:
                    raise ReviewError(f"item {item_id} must be reviewed on its own.")
                decide(store, item_id, kind="confirm", reviewer=reviewer, seen_crop=seen or None)

    def _progress(self) -> dict[str, dict[str, int]]:
        with self._store() as store:
            return ward_progress(build_queue(store, order=self.order, include_decided=True))

    def _crop(self, item_id: str) -> bytes | None:
        with self._store() as store:
            return crop_of(store, find_item(store, item_id))

    def _compare_crop(self, item_id: str) -> bytes | None:
        with self._store() as store:
            return compare_crop_of(store, find_item(store, item_id))

    def _context_jpeg(self, item_id: str) -> bytes | None:
        with self._store() as store:
            item = find_item(store, item_id)
            capture_id = context_capture(store, item)
            if capture_id is None:
                return None
            page = self._pages.pop(capture_id, None)
            if page is None:
                page = straightened_page(store, capture_id)
            self._pages[capture_id] = page  # the newest last; a page's items come together
            while len(self._pages) > PAGE_CACHE:
                self._pages.popitem(last=False)
            return page_in_context(store, item, capture_id, page)

    # ------------------------------------------------------------------ plumbing

    async def _form(self, request: Request) -> FormData:
        form = await request.form()
        if not csrf_ok(_session(request), form.get("csrf")):
            raise _Refused()
        return form

    def _item_again(
        self, request: Request, session: Session, item_id: str, edit: str, problem: Exception
    ) -> Response:
        """The item again with what went wrong (the message names ids, never a patient)."""
        message = problem.message if isinstance(problem, PapermodeError) else str(problem)
        advice = problem.advice if isinstance(problem, PapermodeError) else None
        text = f"{message} {advice or ''}".strip()
        try:
            values = self._item_page(session, item_id, edit or None, text)
        except PapermodeError:
            progress = self._progress()
            return self._page(request, "done.html", {"progress": progress, "error": text}, 409)
        return self._page(request, "item.html", values, 409)

    def _page(
        self, request: Request, name: str, values: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        session = _session(request)
        context = {"session": session, "csrf": session.csrf, **values}
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    async def _refused(self, request: Request, error: Exception) -> Response:
        return HTMLResponse(
            "Refused: this form is out of date (its security token is missing or wrong). "
            "Go back, reload the page and try again.",
            status_code=403,
        )

    async def _not_found(self, request: Request, error: Exception) -> Response:
        return HTMLResponse("Not found: go back to the review queue.", status_code=404)


class _Refused(Exception):
    """A POST without the session's CSRF token."""


def _taken_at(store: Store, capture_id: str | None) -> str | None:
    """When the compared capture was taken (shown beside its crop)."""
    if not capture_id:
        return None
    row = store.db.execute(
        "SELECT captured_at FROM captures WHERE capture_id = ?", [capture_id]
    ).fetchone()
    return str(row[0]).replace("T", " ")[:16] if row and row[0] else None


def _session(request: Request) -> Session:
    session: Session = request.state.session
    return session


def _offered_to(item: QueueItem, session: Session, busy: set[str]) -> bool:
    """Items this reviewer may decide now, one browser at a time."""
    if item.kind == "unphotographed" or item.item_id in busy or item.item_id in session.skipped:
        return False
    reviewers = item.state.reviewers if item.state else ()
    return session.reviewer not in reviewers


def _group(item: QueueItem, queue: list[QueueItem], session: Session) -> list[QueueItem]:
    """Empty boxes of the same page, safe to confirm together (never two-person items)."""
    if item.kind != "field" or item.two_person or item.value not in GROUP_VALUES:
        return []
    return [
        other
        for other in queue
        if other.page_id == item.page_id
        and other.kind == "field"
        and not other.two_person
        and other.value in GROUP_VALUES
        and other.needed == "first"
        and other.item_id not in session.skipped
    ]
