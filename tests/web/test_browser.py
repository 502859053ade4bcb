"""Real-browser tests: Debian's Chromium (via Playwright) drives the app served on loopback.

Screenshots (360 px and 1366 px) and the printed powiat sheet are saved under test-artifacts/."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from catalog import db
from catalog.settings import REPO_ROOT, load
from index import api as index_api
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served, tile_server

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "SHOTS", "sync_api"]   # other browser test modules import these

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"

require_chromium()
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def tiles():
    with tile_server() as url:
        yield url


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiles):
    """The site under waitress on a free loopback port, over a filled SQLite catalog with a built index."""
    from tests.web.conftest import fill
    from webapp import create_app

    data_dir = tmp_path_factory.mktemp("live")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSPARCIE_DATA_DIR", str(data_dir))
        mp.setenv("TILE_URL", tiles)
        for name in ("DATABASE_URL", "INDEX_DIR", "SECRET_KEY"):
            mp.delenv(name, raising=False)
        settings = load()
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        ids = fill(session)
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    with served(create_app({"SETTINGS": settings})) as url:
        yield {"url": url, "ids": ids, "settings": settings}


@pytest.fixture
def page(browser):
    """A page that records console errors and uncaught exceptions; the test fails if any occurred."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="pl-PL")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console: {m.text} at {m.location.get('url')}")
          if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.errors = errors
    yield pg
    context.close()
    assert errors == [], errors


def _shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1366):
        pg.set_viewport_size({"width": width, "height": 800})
        pg.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    pg.set_viewport_size({"width": 1366, "height": 900})


def test_search_result_detail(live, page):
    page.goto(live["url"] + "/")
    page.get_by_label("Czego szukasz?").fill("ośrodek pomocy")
    page.get_by_label("Gdzie?").fill("Zabłudów")
    page.get_by_role("button", name="Szukaj").click()
    page.wait_for_url("**/?q=*")
    assert page.locator("h1").inner_text() == "Wyniki wyszukiwania"
    _shot(page, "results")
    page.get_by_role("link", name="Gminny Ośrodek Pomocy Społecznej w Zabłudowie").first.click()
    assert page.locator("h1").inner_text() == "Gminny Ośrodek Pomocy Społecznej w Zabłudowie"
    assert page.locator('a[href="tel:+48857188100"]').first.is_visible()
    _shot(page, "detail")


def test_home_screens_and_keyboard_skip_link(live, page):
    page.goto(live["url"] + "/")
    _shot(page, "home")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Przejdź do treści"
    assert page.locator(".skip-link").is_visible()          # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "tresc"
    # The geolocation button is a progressive enhancement: shown only with JavaScript.
    assert page.locator("#geo-button").is_visible()


def test_list_filters_work_without_javascript(live, browser):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(live["url"] + "/instytucje")
    assert not pg.locator("#geo-button").count()
    pg.get_by_label("Województwo").select_option("20")
    pg.get_by_role("button", name="Pokaż").click()
    pg.get_by_label("Powiat", exact=True).select_option("2002")
    pg.get_by_label("Rodzaj").select_option("cis")
    pg.get_by_role("button", name="Pokaż").click()
    assert "powiat=2002" in pg.url
    assert pg.locator(".card-title").all_inner_texts() == ["Centrum Integracji Społecznej w Choroszczy"]
    _shot(pg, "list")
    context.close()


def _wait_until(pg, condition, explain=lambda: None, attempts: int = 100) -> None:
    for _ in range(attempts):
        if condition():
            return
        pg.wait_for_timeout(100)
    assert condition(), explain()


def _represented(icons) -> int:
    """Institutions in cluster bubbles (the number printed on each); single pins are SVG circles."""
    total = 0
    for text in icons.all_inner_texts():
        total += int(text) if text.strip().isdigit() else 1
    return total


def test_map_renders_markers_and_choropleth(live, page):
    page.goto(live["url"] + "/mapa?woj=20&kartogram=brak-reintegracji")
    frame = page.frame_locator("iframe.full-map")
    # The map document flags each draw of the server's clusters and pins (map-clusters.js): after fitting
    # to the województwo's matches, all 7 located institutions are drawn, as pins or in count badges.
    frame.locator("html[data-map-state='drawn']").wait_for(state="attached", timeout=15000)
    shown = frame.locator(".mapa-cluster")
    pins = lambda: int(frame.locator("html").get_attribute("data-markers") or 0)
    _wait_until(page, lambda: _represented(shown) + pins() == 7,
                lambda: (shown.all_inner_texts(), pins()))
    # The choropleth layer (drawn on canvas) holds one polygon per powiat.
    map_doc = next(f for f in page.frames if "/mapa/ramka" in f.url)
    polygons = map_doc.evaluate("""() => Object.keys(window)
        .filter(k => k.startsWith('geo_json_') && window[k] && window[k].getLayers)
        .reduce((n, k) => n + window[k].getLayers().length, 0)""")
    assert polygons == 380
    _shot(page, "map")


def test_detail_small_map(live, page):
    page.goto(f"{live['url']}/instytucja/{live['ids']['cis']}")
    frame = page.frame_locator("iframe.small-map")
    frame.locator(".leaflet-container").wait_for(timeout=15000)
    assert "miejscowość (przybliżenie)" in page.locator("#map-heading + *").evaluate(
        "e => e.parentElement.textContent")


def test_powiat_csv_and_print(live, page):
    page.goto(live["url"] + "/powiat/2002")
    _shot(page, "powiat")
    with page.expect_download() as info:
        page.get_by_role("link", name="Pobierz CSV").click()
    download = info.value
    assert download.suggested_filename == "partnerzy-powiat-2002.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert "Centrum Integracji Społecznej w Choroszczy" in {r[1] for r in csv.reader(io.StringIO(text))}
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator("form.inline-form").is_visible()
    assert page.locator("table.partners").first.is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "powiat-2002-a4.pdf"), format="A4", prefer_css_page_size=True)
    assert pdf[:4] == b"%PDF"
    page.screenshot(path=str(SHOTS / "powiat-print.png"), full_page=True)


def test_report_form_submit(live, page):
    page.goto(f"{live['url']}/instytucja/{live['ids']['wtz']}")
    page.get_by_label("Co jest nie tak?").fill("Warsztat przeniósł się pod inny adres w tym roku.")
    page.get_by_role("button", name="Wyślij zgłoszenie").click()
    assert page.locator("h1").inner_text() == "Dziękujemy za zgłoszenie"
    from sqlmodel import select

    from catalog.models import ErrorReport

    with db.session_scope(live["settings"].database_url) as s:
        reports = s.exec(select(ErrorReport).where(ErrorReport.institution_id == live["ids"]["wtz"])).all()
    assert [r.message for r in reports] == ["Warsztat przeniósł się pod inny adres w tym roku."]


def _axe(pg) -> list[dict]:
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", ["/", "/?q=pomoc&gdzie=Choroszcz", "/instytucje?woj=20", "/instytucja/{ops}",
                                  "/instytucja/{kis}", "/powiat/2002", "/zrodla", "/mapa"])
def test_axe_no_serious_violations(live, browser, path):
    # axe is injected as an inline script, which our CSP forbids: bypass CSP in this context only.
    context = browser.new_context(bypass_csp=True)
    pg = context.new_page()
    pg.goto(live["url"] + path.format(**live["ids"]))
    bad = _axe(pg)
    context.close()
    if bad:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "axe-failures.json").write_text(json.dumps(bad, ensure_ascii=False, indent=1))
    assert bad == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]


def test_no_external_requests(live, page):
    """Every script, stylesheet and frame comes from our own server (map tiles are images, not checked)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.resource_type in ("script", "stylesheet", "document")
            else None)
    for path in ("/", "/instytucje", "/mapa?kartogram=cis", f"/instytucja/{live['ids']['ops']}"):
        page.goto(live["url"] + path, wait_until="networkidle")
    assert seen and all(u.startswith(live["url"]) for u in seen), [u for u in seen if not u.startswith(live["url"])]

