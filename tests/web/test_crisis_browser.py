"""Crisis help first, in real Chromium: the helplines stand before the first result, the quick exit leaves for
a neutral site without a history entry (and works without JavaScript, and with Esc), nothing is requested from
another host while the page loads; axe finds no serious violation; the box fits a 360 px screen.
Also the grouped ambiguity list and a zero-result page, at 360 px and without JavaScript."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from catalog import db
from catalog.settings import load
from index import api as index_api
from tests.browser import error_checked_page, require_chromium, served

pytestmark = pytest.mark.browser

require_chromium()
pytest.importorskip("playwright.sync_api")

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
CRISIS = ["/?q=" + quote("mąż mnie bije"), "/?q=" + quote("myśli samobójcze"), "/?q=" + quote("przemoc Kraków"),
          "/?potrzeba=przemoc", "/instytucje?q=" + quote("przemoc Kraków"), "/instytucje?potrzeba=przemoc"]
NEUTRAL_TITLE = "Pogoda na dziś"


class _Neutral(BaseHTTPRequestHandler):
    """Stands in for the neutral site the quick exit goes to (tests stay offline)."""

    def do_GET(self) -> None:
        body = f"<!doctype html><title>{NEUTRAL_TITLE}</title><p>Słonecznie.</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@contextmanager
def neutral_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Neutral)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:   # "localhost", not 127.0.0.1: another host than the site's, as the real target is
        yield f"http://localhost:{server.server_address[1]}/pogoda"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests.web.conftest import fill
    from webapp import create_app

    data_dir = tmp_path_factory.mktemp("crisis-live")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSPARCIE_DATA_DIR", str(data_dir))
        mp.setenv("WSPARCIE_OFFLINE", "1")
        for name in ("DATABASE_URL", "INDEX_DIR", "SECRET_KEY", "TILE_URL"):
            mp.delenv(name, raising=False)
        settings = load()
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        ids = fill(session)
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    with neutral_site() as exit_url, served(create_app({"SETTINGS": settings, "QUICK_EXIT_URL": exit_url})) as url:
        yield {"url": url, "ids": ids, "exit": exit_url}


@pytest.fixture
def page(browser):
    """A page that records console errors and uncaught exceptions; the test fails if any occurred."""
    with error_checked_page(browser) as pg:
        yield pg


def _before(pg, first: str, second: str) -> bool:
    return pg.evaluate("([a, b]) => !!(document.querySelector(a).compareDocumentPosition("
                       "document.querySelector(b)) & Node.DOCUMENT_POSITION_FOLLOWING)", [first, second])


@pytest.mark.parametrize("path", [*CRISIS, "/uk/?q=" + quote("домашнє насильство"),
                                  "/en/instytucje?q=" + quote("suicidal thoughts")])
def test_helplines_before_the_first_result_and_no_other_host(live, page, path):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(live["url"] + path, wait_until="networkidle")
    box = page.locator(".helplines")
    assert box.is_visible()
    numbers = box.locator(".helpline-number").all_inner_texts()
    assert numbers == ["112", "116 123", "800 70 2222", "800 120 002", "116 111"]
    hrefs = box.locator("a.helpline-call").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["tel:112", "tel:116123", "tel:800702222", "tel:800120002", "tel:116111"]
    if page.locator(".card").count():
        assert _before(page, ".helplines", ".card")
    assert _before(page, ".helplines", "form")          # before the search form too: the first thing said
    assert page.locator("#quick-exit").is_visible()
    others = [u for u in requests if not u.startswith(live["url"])]
    assert requests and others == [], others            # the exit target is never loaded in advance


@pytest.mark.parametrize("path", ["/?q=" + quote("zasiłek"), "/instytucje?q=" + quote("zasiłek")])
def test_no_helplines_for_an_everyday_need(live, page, path):
    page.goto(live["url"] + path)
    assert page.locator("h1").count() == 1
    assert page.locator(".helplines").count() == 0 and page.locator("#quick-exit").count() == 0


def test_quick_exit_replaces_the_page_without_a_history_entry(live, page):
    page.goto(live["url"] + "/")
    page.goto(live["url"] + CRISIS[0])
    before = page.evaluate("history.length")
    page.get_by_role("link", name="Szybkie wyjście").click()
    page.wait_for_url(live["exit"])
    assert page.title() == NEUTRAL_TITLE
    assert page.evaluate("history.length") == before      # replaced, not added
    page.go_back()
    page.wait_for_url(live["url"] + "/")                  # back skips the crisis page
    assert page.locator(".helplines").count() == 0


def test_quick_exit_with_the_escape_key(live, page):
    page.goto(live["url"] + "/")
    page.goto(live["url"] + CRISIS[1])
    before = page.evaluate("history.length")
    page.locator("h1").click()
    page.keyboard.press("Escape")
    page.wait_for_url(live["exit"])
    assert page.evaluate("history.length") == before


def test_escape_while_typing_does_not_leave(live, page):
    page.goto(live["url"] + CRISIS[0])
    page.get_by_label("Czego szukasz?").focus()
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url.startswith(live["url"])


def test_quick_exit_is_a_plain_link_without_javascript(live, browser):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(live["url"] + CRISIS[2])
    link = pg.get_by_role("link", name="Szybkie wyjście")
    assert link.get_attribute("href") == live["exit"]
    assert "noreferrer" in link.get_attribute("rel")
    link.click()
    pg.wait_for_url(live["exit"])
    assert pg.title() == NEUTRAL_TITLE
    context.close()


def test_crisis_box_at_360px_focus_visible_and_quick_exit_first(live, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.goto(live["url"] + CRISIS[0])
    assert pg.evaluate("document.documentElement.scrollWidth") <= 360          # no sideways scrolling
    exit_box = pg.locator("#quick-exit").bounding_box()
    assert exit_box["y"] + exit_box["height"] <= 740 and exit_box["height"] >= 44 and exit_box["width"] >= 44
    for call in pg.locator("a.helpline-call").all():
        box = call.bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    pg.mouse.wheel(0, 1500)                       # still reachable after scrolling down (sticky)
    pg.wait_for_timeout(200)
    exit_box = pg.locator("#quick-exit").bounding_box()
    assert 0 <= exit_box["y"] <= 740
    # keyboard: after the skip link and the header, the quick exit comes before the helplines
    order = []
    for _ in range(12):
        pg.keyboard.press("Tab")
        order.append(pg.evaluate("document.activeElement.id || document.activeElement.className"))
        if order[-1] == "quick-exit":
            break
    assert order[-1] == "quick-exit", order
    outline = pg.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    context.close()


def _axe(pg) -> list[dict]:
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", [CRISIS[0], CRISIS[4], "/uk/?q=" + quote("домашнє насильство"), "/?q=" + quote("wózeczek"), "/?q=" + quote("wózeczek") + "&gdzie=" + quote("Zabłudów"),
                                  "/?gdzie=" + quote("Nowa Wieś"), "/instytucje?q=" + quote("wózeczek")])
@pytest.mark.parametrize("width", [360, 1366])
def test_axe_on_crisis_zero_and_choice_pages(live, browser, path, width):
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    pg = context.new_page()
    pg.goto(live["url"] + path)
    bad = _axe(pg)
    context.close()
    assert bad == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad],
                                 ensure_ascii=False)


def test_grouped_choices_open_and_choose_without_javascript(live, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    pg = context.new_page()
    pg.goto(live["url"] + "/?gdzie=" + quote("Nowa Wieś"))
    assert pg.get_by_role("heading", name="Którą miejscowość masz na myśli?").is_visible()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 360
    group = pg.locator("details.choice-group", has_text="woj. małopolskie")
    link = group.get_by_role("link", name="Nowa Wieś, gmina Kęty")
    assert not link.is_visible()                    # closed until asked for: the list stays short
    group.locator("summary").click()
    link.click()
    assert pg.get_by_role("heading", name="Urzędy i ośrodki właściwe dla: Nowa Wieś").is_visible()
    pg.goto(live["url"] + "/?gdzie=" + quote("Nowa Wieś"))
    pg.get_by_label("Zawęź wybór").fill("Nowa Wieś, powiat oświęcimski")
    pg.get_by_role("button", name="Zawęź").click()
    assert pg.get_by_role("heading", name="Urzędy i ośrodki właściwe dla: Nowa Wieś").is_visible()
    context.close()


def test_zero_results_page_asks_for_the_place_and_follows_a_suggestion(live, page):
    page.goto(live["url"] + "/?q=" + quote("wózeczek"))
    assert page.get_by_role("heading", name="Nie znaleźliśmy instytucji dla „wózeczek”").is_visible()
    page.get_by_label("Gdzie mieszkasz?").fill("Zabłudów")
    page.get_by_role("button", name="Pokaż urzędy").click()
    assert page.get_by_role("heading", name="Urzędy i ośrodki właściwe dla: Zabłudów").is_visible()
    assert page.get_by_role("link", name="Gminny Ośrodek Pomocy Społecznej w Zabłudowie").first.is_visible()
    page.get_by_role("link", name="wózek", exact=True).click()
    assert "q=w%C3%B3zek" in page.url
