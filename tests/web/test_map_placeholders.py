"""A demo placeholder (Institution.is_demo) is never "your office": /api/resolve labels it as missing
data, and the full map frame draws it as a hollow grey ring with "brak danych — rekord demonstracyjny",
never like an office's pin, with a legend entry saying so (the map's data answers, the frame's legend,
and real Chromium)."""
from __future__ import annotations

import json
import re

import pytest

from geo.resolve import PLACEHOLDER_LABELS
from tests.web.test_map_clusters import all_markers
from tests.web.test_placeholders import add_placeholders
from tests.web.test_placeholders_browser import live  # noqa: F401 - the module's live server fixture
from webapp import maps

MAP_DATA = re.compile(r'<script[^>]*\bid="map-data"[^>]*>(.*?)</script>', re.DOTALL)
FILTERS = {"typ": "ops", "powiat": "2002"}    # Zabłudów's real GOPS and Choroszcz's placeholder
FRAME = "/mapa/ramka?typ=ops&powiat=2002"


@pytest.fixture
def placeholders(settings, ids) -> dict[str, int]:
    return add_placeholders(settings)


def _competent(client, place: str) -> list[dict]:
    response = client.get("/api/resolve", query_string={"q": place})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["competent"]


def test_resolve_never_calls_a_placeholder_the_office_of_your_gmina(client, placeholders):
    units = _competent(client, "Choroszcz")
    demo = [u for u in units if u["institution"]["id"] == placeholders["ops"]]
    assert demo and demo[0]["institution"]["is_demo"] is True
    assert demo[0]["role_label"] == PLACEHOLDER_LABELS["ops"]
    assert "brak danych" in demo[0]["role_label"].lower()
    assert not any("Twojej" in u["role_label"] for u in units if u["institution"]["is_demo"])


def test_a_real_office_keeps_its_label(client, ids, placeholders):
    units = _competent(client, "Zabłudów")
    real = [u for u in units if u["institution"]["id"] == ids["ops"]]
    assert real and real[0]["role_label"] == "Ośrodek pomocy społecznej w Twojej gminie"


def _map_data(html: str) -> dict:
    return json.loads(MAP_DATA.search(html).group(1))


def test_the_frame_marks_placeholders_apart(client, ids, placeholders):
    html = client.get(FRAME).get_data(as_text=True)
    data = _map_data(html)
    kinds = {row[4]: row[3] for row in all_markers(client, FILTERS)}
    assert kinds[placeholders["ops"]] == maps.PLACEHOLDER
    assert kinds[ids["ops"]] != maps.PLACEHOLDER
    assert data["placeholder_label"] == "brak danych — rekord demonstracyjny"
    legend = html[html.index('class="mapa-legend"'):]
    assert "brak danych — rekord demonstracyjny" in legend[:legend.index("</section>")]


def test_the_legend_mentions_placeholders_only_when_there_are_some(client, ids):
    html = client.get(FRAME).get_data(as_text=True)
    assert all(row[3] != maps.PLACEHOLDER for row in all_markers(client, FILTERS))
    legend = html[html.index('class="mapa-legend"'):]
    assert "rekord demonstracyjny" not in legend[:legend.index("</section>")]


# --- real Chromium ------------------------------------------------------------------------------------

# Every pin the map drew (map-clusters.js's layer), its popup opened.
PINS = """() => {
  const map = window[document.querySelector('.folium-map').id];
  const pins = [];
  const visit = layer => {
    if (layer.getLayers) { layer.getLayers().forEach(visit); return; }
    if (!layer.getPopup || !layer.getPopup()) { return; }
    layer.openPopup();
    const popup = layer.getPopup().getElement().querySelector('.leaflet-popup-content');
    const o = layer.options;
    pins.push({text: popup ? popup.textContent : '', color: o.color, fillOpacity: o.fillOpacity});
    layer.closePopup();
  };
  map.eachLayer(visit);
  return pins;
}"""


@pytest.mark.browser
def test_chromium_draws_a_placeholder_hollow_and_grey(live, browser):  # noqa: F811 - the imported fixture
    context = browser.new_context(locale="pl-PL")
    try:
        page = context.new_page()
        page.set_default_timeout(30000)
        page.goto(live["url"] + FRAME)
        page.locator("html[data-map-state='drawn'][data-markers='2']").wait_for(state="attached", timeout=15000)
        pins = page.evaluate(PINS)
        legend = page.locator(".mapa-legend").inner_text()
    finally:
        context.close()
    placeholder = [p for p in pins if "rekord demonstracyjny" in p["text"]]
    offices = [p for p in pins if "Zabłudowie" in p["text"]]
    assert placeholder and offices, pins
    assert placeholder[0]["color"] == "#777777" and placeholder[0]["fillOpacity"] == 0
    assert offices[0]["fillOpacity"] == 1 and offices[0]["color"] != "#777777"
    assert "brak danych — rekord demonstracyjny" in legend
