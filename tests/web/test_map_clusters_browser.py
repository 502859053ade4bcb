"""The directory map in real Chromium: the frame draws the server's clusters as focusable count badges,
clicking (or Enter on) a cluster zooms in until pins appear, popups are text, and nothing is requested
from another host."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.web.test_browser import live, tiles  # noqa: F401 - the live site and its stand-in tile server

pytestmark = pytest.mark.browser

STATE = "document.documentElement.getAttribute('data-map-state')"
DRAWS = "Number(document.documentElement.getAttribute('data-map-draws') || 0)"
ZOOM = "window[document.querySelector('.folium-map').id].getZoom()"

POPUPS = """() => {
  const map = window[document.querySelector('.folium-map').id];
  const out = [];
  const seen = new Set();
  const visit = layer => {
    if (seen.has(layer)) { return; }
    seen.add(layer);
    if (layer.getLayers) { layer.getLayers().forEach(visit); return; }
    if (!layer.getPopup || !layer.getPopup()) { return; }
    layer.openPopup();
    const content = layer.getPopup().getElement().querySelector('.leaflet-popup-content');
    out.push({text: content.textContent, tags: [...content.querySelectorAll('*')].map(e => e.tagName.toLowerCase()),
              hrefs: [...content.querySelectorAll('[href]')].map(e => e.getAttribute('href'))});
    layer.closePopup();
  };
  map.eachLayer(visit);
  return out;
}"""


def _act_and_redraw(page, action) -> None:
    """Do `action` (a click, a key), then wait for the map to zoom in and draw the new view."""
    zoom, draws = page.evaluate(f"() => [{ZOOM}, {DRAWS}]")
    action()
    page.wait_for_function(f"() => {DRAWS} > {draws} && {STATE} === 'drawn' && {ZOOM} > {zoom}",
                           timeout=15000, polling=100)


# The answer covers whole tiles around the view: some badges may lie just outside it.
IN_VIEW = """() => [...document.querySelectorAll('.mapa-cluster')].filter(e => {
  const r = e.getBoundingClientRect();
  return r.right > 0 && r.bottom > 0 && r.left < window.innerWidth && r.top < window.innerHeight;
}).length"""


def _click_a_cluster_in_view(page) -> None:
    page.evaluate("""() => [...document.querySelectorAll('.mapa-cluster')].find(e => {
      const r = e.getBoundingClientRect();
      return r.right > 0 && r.bottom > 0 && r.left < window.innerWidth && r.top < window.innerHeight;
    }).click()""")


def _pins(page) -> int:
    return int(page.locator("html").get_attribute("data-markers") or 0)


def test_clusters_zoom_in_to_text_pins(live, browser):  # noqa: F811 - the imported fixture
    context = browser.new_context(viewport={"width": 800, "height": 600}, locale="pl-PL")
    hosts: set[str] = set()
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or ""))
        # The frame opened alone asks for /favicon.ico (the site serves /static/favicon.svg): not ours.
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live["url"] + "/mapa/ramka")
        page.wait_for_function(f"() => {STATE} === 'drawn'", timeout=15000, polling=100)
        badges = page.locator(".mapa-cluster")
        counts = [int(t) for t in badges.all_inner_texts()]
        assert counts and sum(counts) + _pins(page) == 8, (counts, _pins(page))
        first = badges.first
        assert first.get_attribute("role") == "button" and first.get_attribute("tabindex") == "0"
        assert f"Liczba instytucji w tym miejscu: {counts[0]}" in first.get_attribute("aria-label")
        status = page.locator(".mapa-status [role=status]").inner_text()
        assert "Instytucje widoczne na mapie: 8 (wszystkich pasujących: 8)" in status
        # Enter on a focused cluster zooms in, as a click does.
        first.focus()
        _act_and_redraw(page, lambda: page.keyboard.press("Enter"))
        for _ in range(10):                       # click into clusters until only pins are in view
            if not page.evaluate(IN_VIEW):
                break
            _act_and_redraw(page, lambda: _click_a_cluster_in_view(page))
        assert page.evaluate(IN_VIEW) == 0 and _pins(page) >= 1
        popups = page.evaluate(POPUPS)
        assert len(popups) == _pins(page)
        for popup in popups:
            assert set(popup["tags"]) <= {"div", "a", "br", "em", "strong"}, popup
            assert all(h.startswith("/instytucja/") and h.split("/")[-1].isdigit() for h in popup["hrefs"])
        # The list link of the area keeps to the site and to what is in view.
        href = page.locator(".mapa-status a").get_attribute("href")
        assert href.startswith("/instytucje?") and "near=" in href and "radius_km=" in href
    finally:
        context.close()
    assert errors == []
    assert hosts <= {"127.0.0.1"}, hosts


def test_filters_fit_the_map_and_hostile_names_stay_text(live, browser, xss_name):  # noqa: F811
    context = browser.new_context(viewport={"width": 800, "height": 600}, locale="pl-PL")
    try:
        page = context.new_page()
        page.goto(live["url"] + "/mapa/ramka?typ=kis")      # one KIS: fitted to it, at street zoom
        page.wait_for_function(f"() => {STATE} === 'drawn' && {ZOOM} >= 14", timeout=15000, polling=100)
        assert _pins(page) == 1 and page.locator(".mapa-cluster").count() == 0
        popups = page.evaluate(POPUPS)
        assert [p["text"].startswith(xss_name) for p in popups] == [True], popups
        assert page.evaluate("document.querySelectorAll('script:not([src]):not([type])').length") >= 1
        assert page.evaluate("typeof window.alerted") == "undefined"
    finally:
        context.close()
