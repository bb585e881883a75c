"""The review web app in a real browser: Debian's chromium driven by Playwright (no download).

A reviewer keys through a real store (the sample ward's captures, ingested by the real
pipeline), then the store is checked. Also: a request without the token is refused, a POST
without the CSRF token is refused, a second reviewer equal to the first is refused, two
browsers are not shown the same item.

Screenshots are written to tmp_path; set PAPERMODE_SCREENSHOTS=docs/review to refresh the
ones in the docs.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from test_review_queue import built_review_store, copy_store, later_capture

from papermode.review.queue import build_queue
from papermode.state.page_state import update_page_state
from papermode.store.database import open_store
from papermode.web.app import ReviewApp
from papermode.web.sessions import StoredSessions

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (tools/install-system-deps.sh)"
)
playwright_sync = pytest.importorskip("playwright.sync_api")


class Served:
    """A review app served by uvicorn on a free local port, in a thread."""

    def __init__(self, store_path: Path, port: int | None = None) -> None:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart, same port
            probe.bind(("127.0.0.1", port or 0))
            self.port = probe.getsockname()[1]
        hosts = (f"127.0.0.1:{self.port}", f"localhost:{self.port}")
        self.app = ReviewApp(store_path, allowed_hosts=hosts)
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.app.start_url("127.0.0.1", self.port)
        config = uvicorn.Config(
            self.app.asgi, host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the review app did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture()
def store_path(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return copy_store(built_review_store(tmp_path_factory), tmp_path / "store")


@pytest.fixture()
def served(store_path: Path) -> Iterator[Served]:
    served = Served(store_path)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("PAPERMODE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def _start(browser: Any, served: Served, reviewer: str) -> Any:
    """A new browser (its own cookies) that opens the start-up URL and gives a name."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(served.url)
    page.fill("#reviewer-name", reviewer)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return page


def _decisions(store_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store_path) as db:
        return db.execute(
            "SELECT item_id, kind, value, reviewer, stage, withdraws FROM review_decisions "
            "ORDER BY decision_id"
        ).fetchall()


def _current_item(page: Any) -> str:
    return str(page.get_attribute("#decide input[name=item_id]", "value"))


def _key_through(page: Any, count: int) -> list[str]:
    """Decide `count` items by keyboard only: Enter confirms; blind items get the digits."""
    seen = []
    for _ in range(count):
        if page.locator("#item").count() == 0:
            break
        seen.append(_current_item(page))
        if page.locator("#blind").count():
            page.keyboard.type("1")
        elif _later_sheet(page):  # only one sheet can be the printed page's record
            page.keyboard.type("4711")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    return seen


def _later_sheet(page: Any) -> bool:
    """A photocopied page's second (or later) sheet: a separate record."""
    if page.get_attribute("#item", "data-kind") != "sheet":
        return False
    return "sheet 1 of" not in page.text_content("#message")


def _key_through_level(page: Any, level: str, most: int = 200) -> list[str]:
    """Decide, by keyboard, every item of one priority level (bounded)."""
    seen: list[str] = []
    while (
        len(seen) < most
        and page.locator("#item").count()
        and (page.text_content(".level") == level)
    ):
        seen += _key_through(page, 1)
    return seen


# ---------------------------------------------------------------------- the review


def test_a_keyboard_review_of_a_ward_lands_in_the_store(
    browser: Any, served: Served, store_path: Path, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(served.url)
    assert "token=" not in page.url  # traded for a cookie, out of the history
    _shot(page, tmp_path, "name")
    page.fill("#reviewer-name", "ana")
    page.keyboard.press("Enter")
    page.wait_for_selector("#item")
    assert page.text_content(".level") == "identity"  # most important first
    _shot(page, tmp_path, "identity")
    identity = _key_through_level(page, "identity")  # the unknown page, a copy's sheets
    first = identity[0]
    assert page.text_content(".level") == "new order"
    _shot(page, tmp_path, "item")
    assert page.locator("#context").evaluate("img => img.naturalWidth") > 0
    assert page.locator("#crop").evaluate("img => img.naturalWidth") > 0
    new_order = _current_item(page)

    decided = [*identity, *_key_through(page, 8)]
    assert decided[0] == first and decided[len(identity)] == new_order
    rows = _decisions(store_path)
    assert [r[0] for r in rows] == decided
    assert {r[3] for r in rows} == {"ana"} and {r[4] for r in rows} == {1}

    # A value typed with digits, then undo of the newest decision with one key.
    item = _current_item(page)
    kind = page.get_attribute("#item", "data-kind")
    with page.expect_navigation():
        page.keyboard.type("0")
        page.keyboard.press("Enter")
    assert _decisions(store_path)[-1][:3] == (
        item,
        "correct",
        {"checkbox": "empty", "signature": "empty"}.get(kind or "", "0"),
    )
    _shot(page, tmp_path, "recent")
    page.keyboard.press("Escape")  # out of the value box (a text box takes letters)
    with page.expect_navigation():
        page.keyboard.press("z")
    last = _decisions(store_path)[-1]
    assert last[1] == "withdraw" and last[5] == len(_decisions(store_path)) - 1
    with open_store(store_path) as store:
        state = {i.item_id: i for i in build_queue(store, include_decided=True)}
    assert state[item].needed == "first"  # undone: open again
    assert state[new_order].needed == "second"  # a new order: two-person rule
    page.goto(served.base + "/progress")
    _shot(page, tmp_path, "progress")
    assert "Chirurgie 2A" in page.text_content("#progress")


def test_the_second_reviewer_keys_blind_and_a_mismatch_goes_to_a_third(
    browser: Any, served: Served, store_path: Path, tmp_path: Path
) -> None:
    ana = _start(browser, served, "ana")
    with open_store(store_path) as store:
        blind = next(i for i in build_queue(store) if i.blind)
    ana.goto(f"{served.base}/item/{blind.item_id}")
    ana.wait_for_selector("#value-read")  # the first reviewer sees the value read
    with ana.expect_navigation():
        ana.keyboard.type("4711")
        ana.keyboard.press("Enter")
    ben = _start(browser, served, "ben")
    ben.goto(f"{served.base}/item/{blind.item_id}")
    assert ben.locator("#blind").count() == 1
    assert ben.locator("#value-read").count() == 0 and ben.locator("#btn-confirm").count() == 0
    assert "4711" not in ben.text_content("#item")
    _shot(ben, tmp_path, "blind")
    with ben.expect_navigation():
        ben.keyboard.type("4712")
        ben.keyboard.press("Enter")
    chloe = _start(browser, served, "chloe")
    chloe.goto(f"{served.base}/item/{blind.item_id}")
    assert "ana: 4711" in chloe.text_content("#disagreement")
    rows = [r for r in _decisions(store_path) if r[0] == blind.item_id]
    assert [(r[2], r[3], r[4]) for r in rows] == [("4711", "ana", 1), ("4712", "ben", 2)]


def test_a_second_reviewer_equal_to_the_first_is_refused(
    browser: Any, served: Served, store_path: Path
) -> None:
    page = _start(browser, served, "ana")
    with open_store(store_path) as store:
        item = next(i.item_id for i in build_queue(store) if i.two_person and not i.blind)
    page.goto(f"{served.base}/item/{item}")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # first review of a two-person item
    assert _decisions(store_path)[-1][:2] == (item, "confirm")
    before = _decisions(store_path)
    page.goto(f"{served.base}/item/{item}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "different from ana" in page.text_content("#error")
    assert _decisions(store_path) == before


def test_two_browsers_are_not_shown_the_same_item(browser: Any, served: Served) -> None:
    ana = _start(browser, served, "ana")
    ben = _start(browser, served, "ben")
    assert _current_item(ana) != _current_item(ben)


# ---------------------------------------------------------------------- security


def test_a_request_without_the_token_is_refused(browser: Any, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    for path in ("/", "/next", "/progress", "/static/app.js"):
        response = page.goto(served.base + path)
        assert response.status == 403, path
        assert "printed by `papermode serve`" in page.text_content("body")
    wrong = page.goto(served.base + "/?token=guess")
    assert wrong.status == 403
    other_host = context.request.get(f"http://localhost:{served.port}/?token={served.app.token}")
    assert other_host.status in (200, 303)  # localhost is the same app
    context.close()


def test_a_post_without_the_csrf_token_is_refused(
    browser: Any, served: Served, store_path: Path
) -> None:
    page = _start(browser, served, "ana")
    item = _current_item(page)
    request = page.context.request
    no_csrf = request.post(
        served.base + "/decide", form={"item_id": item, "action": "confirm"}, max_redirects=0
    )
    assert no_csrf.status == 403
    csrf = page.get_attribute("#decide input[name=csrf]", "value")
    cross_site = request.post(
        served.base + "/decide",
        form={"item_id": item, "action": "confirm", "csrf": csrf},
        headers={"Origin": "http://evil.example"},
        max_redirects=0,
    )
    assert cross_site.status == 403
    assert _decisions(store_path) == []


def test_every_response_carries_the_security_headers(browser: Any, served: Served) -> None:
    page = _start(browser, served, "ana")
    response = page.goto(served.base + "/progress")
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    with open_store(served.app.store_path) as store:
        pages = {row["mrn"] for row in store.db.query("SELECT mrn FROM pages") if row["mrn"]}
    assert not any(mrn in page.url for mrn in pages)


# ---------------------------------------------------------------------- beside ingest


def test_the_app_sees_new_captures_without_a_restart(
    browser: Any, served: Served, store_path: Path
) -> None:
    with open_store(store_path) as store:
        open_before = {i.item_id for i in build_queue(store)}
        page_id, capture_id, empties = _page_with_empty_boxes(store)
    page = _start(browser, served, "ana")
    # While the app runs, ingest reads a later photo of that page: new faint ticks.
    with open_store(store_path) as store:
        later_capture(store, capture_id, page_id, {f: ("ticked", "review") for f in empties})
        new = [i for i in build_queue(store) if i.item_id not in open_before]
    assert {i.field_id for i in new} == set(empties)
    page.goto(f"{served.base}/item/{new[0].item_id}")
    assert page.text_content("#value-read") == "ticked"


def test_empty_boxes_of_one_page_are_confirmed_together(
    browser: Any, served: Served, store_path: Path, tmp_path: Path
) -> None:
    with open_store(store_path) as store:
        open_before = {i.item_id for i in build_queue(store)}
        page_id, _capture_id, empties = _page_with_empty_boxes(store)
        with store.transaction() as db:  # every photo left these empty boxes in doubt
            for field_id in empties:
                db.execute(
                    "UPDATE readings SET status = 'review', confidence = 0.6 "
                    "WHERE page_id = ? AND field_id = ?",
                    [page_id, field_id],
                )
            update_page_state(store, page_id)
        queue = build_queue(store)
    made = [i for i in queue if i.item_id not in open_before]
    assert {i.field_id for i in made} == set(empties)
    assert not any(i.two_person for i in made)
    # The group is every empty box of the page in doubt: the three made here, and any the
    # photos already left in doubt.
    group = [
        i
        for i in queue
        if i.page_id == page_id and i.kind == "field" and not i.two_person
        and i.value in ("empty", "", None) and i.needed == "first"
    ]  # fmt: skip
    page = _start(browser, served, "ana")
    page.goto(f"{served.base}/item/{made[0].item_id}")
    assert page.locator("#group img").count() == len(group) >= 3
    _shot(page, tmp_path, "group")
    with page.expect_navigation():
        page.keyboard.press("g")
    rows = _decisions(store_path)
    assert sorted(r[0] for r in rows) == sorted(i.item_id for i in group)
    assert {(r[1], r[3]) for r in rows} == {("confirm", "ana")}


def _page_with_empty_boxes(store: Any) -> tuple[str, str, list[str]]:
    """A read MAR page of a medicine that is not high-alert, and three of its empty boxes."""
    row = next(
        store.db.query(
            "SELECT s.page_id, json_extract(s.captures, '$[0]') AS capture_id FROM page_state s "
            "JOIN pages p USING (page_id) WHERE p.template = 'mar' GROUP BY s.page_id LIMIT 1"
        )
    )
    empties = [
        r["field_id"]
        for r in store.db.query(
            "SELECT s.field_id FROM page_state s JOIN fields f USING (page_id, field_id) "
            "JOIN pages p USING (page_id) LEFT JOIN orders o ON o.order_id = f.order_id "
            "AND o.snapshot_id = p.snapshot_id WHERE s.page_id = ? AND s.value = 'empty' "
            "AND s.status = 'auto' AND COALESCE(o.high_alert, 0) = 0 ORDER BY f.position LIMIT 3",
            [row["page_id"]],
        )
    ]
    return row["page_id"], row["capture_id"], empties


def test_the_store_and_evidence_are_owner_only_once_served(store_path: Path) -> None:
    evidence = store_path.with_name(store_path.name + ".evidence")
    os.chmod(evidence, 0o755)
    os.chmod(store_path, 0o644)
    ReviewApp(store_path)
    assert evidence.stat().st_mode & 0o077 == 0
    assert store_path.stat().st_mode & 0o077 == 0


def test_a_first_review_goes_to_the_second_reviewer_at_once(browser: Any, served: Served) -> None:
    ana = _start(browser, served, "ana")
    _key_through_level(ana, "identity")
    decided = _key_through(ana, 1)  # the first new-order field
    ben = _start(browser, served, "ben")
    assert _current_item(ben) == decided[0]
    assert "a second, different reviewer" in ben.text_content("#needed")


# ---------------------------------------------------------------------- sheets, photos, pages


def test_a_copied_page_is_one_item_per_sheet_in_the_browser(
    browser: Any, served: Served, store_path: Path, tmp_path: Path
) -> None:
    with open_store(store_path) as store:
        sheets = [i for i in build_queue(store) if i.kind == "sheet"]
    assert len(sheets) == 2, "the corpus holds one page photocopied onto two sheets"
    page = _start(browser, served, "ana")
    page.goto(f"{served.base}/item/{sheets[1].item_id}")
    assert "sheet 2 of 2" in page.text_content("#message")
    assert page.locator("#context").evaluate("img => img.naturalWidth") > 0
    _shot(page, tmp_path, "sheet")
    with page.expect_navigation():
        page.keyboard.type("4711")  # the temporary number written on that sheet
        page.keyboard.press("Enter")
    assert _decisions(store_path)[-1][:4] == (sheets[1].item_id, "correct", "4711", "ana")
    page.goto(f"{served.base}/item/{sheets[0].item_id}")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the first sheet: the printed page's own record
    with open_store(store_path) as store:
        fields = [i for i in build_queue(store) if i.page_id == sheets[0].page_id]
    assert fields and all(i.kind == "field" and "copy_of_page" not in i.flags for i in fields)


def test_the_earlier_photo_of_a_box_is_shown_beside_the_newer_doubtful_one(
    browser: Any, served: Served, store_path: Path, tmp_path: Path
) -> None:
    with open_store(store_path) as store:
        row = next(
            store.db.query(
                "SELECT s.page_id, s.field_id, s.captures FROM page_state s JOIN fields f "
                "USING (page_id, field_id) WHERE s.status = 'auto' AND s.value = 'empty' "
                "AND f.kind = 'checkbox' AND f.role = 'given' LIMIT 1"
            )
        )
        earlier = row["captures"].strip('[]"').split('", "')[-1]
        later_capture(store, earlier, row["page_id"], {row["field_id"]: ("ticked", "review")})
    page = _start(browser, served, "ana")
    page.goto(f"{served.base}/item/{row['page_id']}:{row['field_id']}")
    assert page.locator("#crop").evaluate("img => img.naturalWidth") > 0
    assert page.locator("#compare-crop").evaluate("img => img.naturalWidth") > 0
    assert "the same box in the other photo" in page.text_content("#compare")
    _shot(page, tmp_path, "compare")


def test_an_unidentified_page_is_attributed_by_typing_its_page_id(
    browser: Any, served: Served, store_path: Path
) -> None:
    with open_store(store_path) as store:
        unknown = next(i for i in build_queue(store) if i.kind == "identity" and i.capture_id)
        page_id = store.db.execute("SELECT page_id FROM pages LIMIT 1").fetchone()[0]
    ana = _start(browser, served, "ana")
    ana.goto(f"{served.base}/item/{unknown.item_id}")
    with ana.expect_navigation():
        ana.keyboard.type(page_id.lower())  # letters too: the box takes them
        ana.keyboard.press("Enter")
    assert _decisions(store_path)[-1][:4] == (unknown.item_id, "correct", page_id, "ana")
    ben = _start(browser, served, "ben")
    ben.goto(f"{served.base}/item/{unknown.item_id}")
    assert "a second, different reviewer" in ben.text_content("#needed")
    assert page_id not in ben.text_content("#item")  # keyed blind


def test_a_restart_keeps_the_reviewers_sessions_until_they_expire(
    browser: Any, served: Served, store_path: Path
) -> None:
    ana = _start(browser, served, "ana")
    ana.wait_for_selector("#item")
    served.stop()
    again = Served(store_path, port=served.port)  # a new start-up token
    try:
        assert again.app.token != served.app.token
        ana.goto(f"{again.base}/next")
        ana.wait_for_selector("#item")  # no name asked, no refusal
        with ana.expect_navigation():
            ana.keyboard.press("Enter")
        assert _decisions(store_path)[-1][3] == "ana"
        stranger = browser.new_context().new_page()
        stranger.goto(f"{again.base}/next")
        assert "only answers the browser" in stranger.text_content("body")
    finally:
        again.stop()
    with sqlite3.connect(store_path) as db:
        kept = db.execute("SELECT id_sha256, reviewer FROM review_sessions").fetchall()
    assert ("ana" in {r[1] for r in kept}) and all(len(r[0]) == 64 for r in kept)


def test_an_expired_session_is_refused(store_path: Path) -> None:
    sessions = StoredSessions(store_path, hours=1)
    session = sessions.new(now=1000.0)
    session.reviewer = "ana"
    sessions.save(session)
    fresh = StoredSessions(store_path, hours=1)  # a restarted app
    found = fresh.get(session.session_id, now=1000.0 + 3599)
    assert found is not None and found.reviewer == "ana" and found.csrf == session.csrf
    assert fresh.get(session.session_id, now=1000.0 + 3601) is None
    assert StoredSessions(store_path).get(session.session_id) is None  # deleted
