"""Real-browser tests: Debian's Chromium (via Playwright) drives the app served on loopback.

The resident-facing tests and the axe checks run in every interface language (/, /uk/, /en/): the labels
they look for are the Polish msgids read through the same compiled catalogs the site uses.
Screenshots (360 px and 1366 px) and the printed powiat sheet are saved under test-artifacts/."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from babel.support import Translations

from catalog import db
from catalog.settings import REPO_ROOT, load
from index import api as index_api
from tests.browser import CHROMIUM, CHROMIUM_ARGS, error_checked_page, require_chromium, served, tile_server

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "SHOTS", "sync_api"]   # other browser test modules import these

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"

require_chromium()
sync_api = pytest.importorskip("playwright.sync_api")

TRANSLATIONS = REPO_ROOT / "webapp" / "translations"
# (URL prefix, locale) of every interface language.
LANGUAGES = [("", "pl"), ("/uk", "uk"), ("/en", "en")]
LANGUAGE_IDS = [locale for _prefix, locale in LANGUAGES]


def t(locale: str, msgid: str, **values) -> str:
    """A UI text as the page in `locale` shows it (the compiled catalog; Polish is the msgid)."""
    text = msgid if locale == "pl" else Translations.load(str(TRANSLATIONS), [locale]).gettext(msgid)
    return text % values if values else text


@pytest.fixture(params=LANGUAGES, ids=LANGUAGE_IDS)
def language(request):
    prefix, locale = request.param
    return {"prefix": prefix, "locale": locale, "t": lambda msgid, **values: t(locale, msgid, **values)}


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
    with error_checked_page(browser) as pg:
        yield pg


def _shot(pg, name: str, language: dict | None = None) -> None:
    if language and language["locale"] != "pl":
        name = f"{name}-{language['locale']}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1366):
        pg.set_viewport_size({"width": width, "height": 800})
        pg.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    pg.set_viewport_size({"width": 1366, "height": 900})


def test_search_result_detail(live, page, language):
    _ = language["t"]
    page.goto(live["url"] + language["prefix"] + "/")
    page.get_by_label(_("Czego szukasz?")).fill("ośrodek pomocy")
    page.get_by_label(_("Gdzie?")).fill("Zabłudów")
    page.get_by_role("button", name=_("Szukaj"), exact=True).click()
    page.wait_for_url(f"**{language['prefix']}/?q=*")
    assert page.locator("h1").inner_text() == _("Wyniki wyszukiwania")
    _shot(page, "results", language)
    page.get_by_role("link", name="Gminny Ośrodek Pomocy Społecznej w Zabłudowie").first.click()
    assert page.locator("h1").inner_text() == "Gminny Ośrodek Pomocy Społecznej w Zabłudowie"
    assert page.url.startswith(live["url"] + language["prefix"] + "/instytucja/")   # still in the language
    assert page.locator("html").get_attribute("lang") == language["locale"]
    assert page.locator('a[href="tel:+48857188100"]').first.is_visible()
    _shot(page, "detail", language)


def test_home_screens_and_keyboard_skip_link(live, page, language):
    page.goto(live["url"] + language["prefix"] + "/")
    _shot(page, "home", language)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == language["t"]("Przejdź do treści")
    assert page.locator(".skip-link").is_visible()          # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "tresc"
    # The geolocation button is a progressive enhancement: shown only with JavaScript.
    assert page.locator("#geo-button").is_visible()


def test_list_filters_work_without_javascript(live, browser, language):
    _ = language["t"]
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(live["url"] + language["prefix"] + "/instytucje")
    assert not pg.locator("#geo-button").count()
    pg.get_by_label(_("Województwo")).select_option("20")
    pg.get_by_role("button", name=_("Pokaż"), exact=True).click()
    pg.get_by_label(_("Powiat"), exact=True).select_option("2002")
    pg.get_by_label(_("Rodzaj")).select_option("cis")
    pg.get_by_role("button", name=_("Pokaż"), exact=True).click()
    assert "powiat=2002" in pg.url and pg.url.startswith(live["url"] + language["prefix"] + "/instytucje")
    assert pg.locator(".card-title").all_inner_texts() == ["Centrum Integracji Społecznej w Choroszczy"]
    _shot(pg, "list", language)
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


def test_report_form_submit(live, page, language):
    _ = language["t"]
    page.goto(f"{live['url']}{language['prefix']}/instytucja/{live['ids']['wtz']}")
    message = f"Warsztat przeniósł się pod inny adres w tym roku ({language['locale']})."
    page.get_by_label(_("Co jest nie tak?")).fill(message)
    page.get_by_role("button", name=_("Wyślij zgłoszenie")).click()
    assert page.locator("h1").inner_text() == _("Dziękujemy za zgłoszenie")
    assert page.url.startswith(live["url"] + language["prefix"] + "/instytucja/")
    from sqlmodel import select

    from catalog.models import ErrorReport

    with db.session_scope(live["settings"].database_url) as s:
        reports = s.exec(select(ErrorReport).where(ErrorReport.institution_id == live["ids"]["wtz"])).all()
    assert message in [r.message for r in reports]


def _axe(pg) -> list[dict]:
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", ["/", "/?q=pomoc&gdzie=Choroszcz", "/instytucje?woj=20", "/instytucja/{ops}",
                                  "/instytucja/{kis}", "/powiat/2002", "/zrodla", "/mapa"])
def test_axe_no_serious_violations(live, browser, path, language):
    # axe is injected as an inline script, which our CSP forbids: bypass CSP in this context only.
    context = browser.new_context(bypass_csp=True)
    pg = context.new_page()
    pg.goto(live["url"] + language["prefix"] + path.format(**live["ids"]))
    assert pg.locator("html").get_attribute("lang") == language["locale"]
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



def test_language_switch_keeps_the_page(live, page):
    """The header's switch leads to the same page (and query) in the other language, keyboard-reachable."""
    page.goto(f"{live['url']}/instytucje?woj=20&typ=cis")
    switch = page.get_by_role("navigation", name="Język strony")
    switch.get_by_role("link", name="Українська").click()
    assert page.url == f"{live['url']}/uk/instytucje?woj=20&typ=cis"
    assert page.locator("html").get_attribute("lang") == "uk"
    assert page.locator(".card-title").all_inner_texts() == ["Centrum Integracji Społecznej w Choroszczy"]
    links = page.get_by_role("navigation", name=t("uk", "Język strony")).get_by_role("link")
    assert [(a.get_attribute("lang"), a.get_attribute("hreflang")) for a in links.all()] == [
        ("pl", "pl"), ("uk", "uk"), ("en", "en")]
    alternates = page.locator('link[rel="alternate"]').evaluate_all(
        "links => links.map(l => [l.hreflang, l.href])")
    assert alternates == [["pl", f"{live['url']}/instytucje?woj=20&typ=cis"],
                          ["uk", f"{live['url']}/uk/instytucje?woj=20&typ=cis"],
                          ["en", f"{live['url']}/en/instytucje?woj=20&typ=cis"],
                          ["x-default", f"{live['url']}/instytucje?woj=20&typ=cis"]]
    page.get_by_role("link", name="English").click()
    assert page.url == f"{live['url']}/en/instytucje?woj=20&typ=cis"
    assert page.get_by_role("link", name="Search", exact=True).is_visible()


def test_cyrillic_renders_with_local_fonts(live, page):
    """Ukrainian text is drawn with real glyphs from a font on the machine (no web fonts are loaded):
    the letters differ from the "missing glyph" box that an unassigned code point gets."""
    fonts: list[str] = []
    page.on("request", lambda r: fonts.append(r.url) if r.resource_type == "font" else None)
    page.goto(f"{live['url']}/uk/")
    heading_font = page.locator("h1").evaluate("e => getComputedStyle(e).fontFamily")
    pixels = page.evaluate("""font => {
        const draw = text => {
            const c = document.createElement('canvas'); c.width = 120; c.height = 40;
            const x = c.getContext('2d'); x.font = '28px ' + font; x.fillText(text, 4, 30);
            return Array.from(x.getImageData(0, 0, 120, 40).data).join(',');
        };
        return {zhe: draw('Ж'), yi: draw('ї'), tofu: draw('\\u0378'), blank: draw(' ')};
    }""", heading_font)
    assert pixels["zhe"] != pixels["blank"] and pixels["yi"] != pixels["blank"]
    assert pixels["zhe"] != pixels["tofu"] and pixels["yi"] != pixels["tofu"]
    assert fonts == []
    _shot(page, "home-cyrillic")
