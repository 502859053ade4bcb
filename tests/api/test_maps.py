"""folium map documents: data outside any template, local assets, per-type colours, precision look,
choropleths. The directory map's base document carries no institution (its clusters and pins come from
/mapa/dane.json: tests/web/test_map_clusters.py); the small map embeds its one pin."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from catalog.types import TYPES, InstitutionType
from webapp import assets, maps

XSS = "<script>alert(1)</script>"


def _point(i: int, name: str, type_: str = "cis", precision: str | None = "address", **extra) -> SimpleNamespace:
    fields = {"lat": 52.0 + i / 100, "lon": 21.0 + i / 100, "locality": "Warszawa", "powiat_teryt": "1465", **extra}
    return SimpleNamespace(id=i, name=name, type=type_, geo_precision=precision, **fields)


def _data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.DOTALL)
    assert match, "marker data not found"
    return json.loads(match.group(1))


def _marker_data(html: str) -> list[list]:
    return _data(html)["markers"]


def test_names_travel_as_inert_json_data(catalog):
    html = maps.small_map_html(_point(1, XSS), settings=catalog.settings)
    assert XSS not in html and "</script><" not in html.split('id="map-data">', 1)[1].split("</script>")[0]
    assert _marker_data(html)[0][5] == XSS                  # the browser puts it in a text node
    rows, _present = maps.marker_rows([_point(2, 'Klub "A" & B\u2028')])
    assert rows[0][5] == 'Klub "A" & B\u2028'
    block = assets.data_block("map-data", {"markers": rows})
    assert "\u2028" not in block and "\\u2028" in block
    assert '\\u003cscript\\u003e' in html
    assert html.rstrip().endswith('<script src="/static/js/map-markers.js"></script>\n</html>')


def test_the_directory_map_embeds_no_institution(catalog):
    html = maps.full_map_html(settings=catalog.settings, clusters={"url": "/mapa/dane.json"})
    data = _data(html)
    assert data["markers"] == [] and data["clusters"] == {"url": "/mapa/dane.json"}
    assert html.rstrip().endswith('<script src="/static/js/map-markers.js"></script>\n'
                                  '<script src="/static/js/map-clusters.js"></script>\n</html>')


@pytest.mark.parametrize("name", ["{{7*7}}", "{%raw%}", "{% for x in range(3) %}x{% endfor %}",
                                  "{{ cycler.__init__.__globals__.os.popen('id').read() }}", "${7*7}"])
def test_template_syntax_is_never_evaluated(catalog, name):
    name = f"QX{name}QX"
    small = maps.small_map_html(_point(1, name), settings=catalog.settings)
    assert _marker_data(small)[0][5] == name
    assert "QX49QX" not in small and "QXxxxQX" not in small   # nothing computed or looped
    assert f"<title>Mapa: {name}</title>" in small


def test_rows_carry_type_colour_index_and_precision_flag(catalog):
    rows, present = maps.marker_rows([_point(1, "A", "ops", "source"), _point(2, "B", "kis", "locality"),
                                      _point(3, "C", "wtz", None), _point(4, "D", "zaz", lat=None)])
    assert len(rows) == 3                                   # the point-less one is skipped
    assert [r[3] for r in rows] == [0, 1, 1]                # exact, locality, unknown -> approximate
    order = [t.value for t in TYPES]
    assert rows[0][2] == order.index("ops") and present == ["ops", "kis", "wtz"]
    html = maps.full_map_html(types_present=present, settings=catalog.settings)
    assert TYPES[InstitutionType.OPS].colour in html        # colour table shipped to the script
    assert "położenie przybliżone" in html                  # legend and popup explain the dashed pins
    legend = html[html.index('class="mapa-legend"'):]
    legend = legend[:legend.index("</section>")]
    assert TYPES[InstitutionType.KIS].label in legend and TYPES[InstitutionType.ZAZ].label not in legend


def test_full_map_uses_only_local_assets(catalog):
    html = maps.full_map_html(settings=catalog.settings)
    assert assets.external_assets(html) == []
    assert '<script src="/static/vendor/leaflet/leaflet.js">' in html
    assert '<script src="/static/js/map-clusters.js">' in html
    assert "jquery" not in html                             # no folium popup, so no $() to load
    assert 'lang="pl"' in html
    assert catalog.settings.tile_url in html                # tiles stay remote (images, configurable)


def test_count_choropleth_with_legend_uses_local_d3(catalog):
    spec = {"kind": "count", "label": "CIS w powiecie", "values": {"1465": 3, "2061": 1}}
    html = maps.full_map_html(choropleth=spec, settings=catalog.settings)
    assert "cdnjs.cloudflare.com" not in html
    assert '<script src="/static/vendor/d3/d3.min.js">' in html
    assert assets.external_assets(html) == []
    assert html.count('"teryt": "') >= 380 or html.count('"teryt":"') >= 380


def test_choropleth_from_catalog_counts(catalog):
    from catalog.db import session_scope

    with session_scope(catalog.settings.database_url) as session:
        count = maps.choropleth_spec(session, "cis")
        coverage = maps.choropleth_spec(session, maps.COVERAGE_KEY)
        assert maps.choropleth_spec(session, "nonsense") is None
    assert count["values"] == {"2061": 1}                    # the closed Warsaw CIS is not counted
    assert coverage["kind"] == "coverage"
    assert coverage["values"] == {"2061": 1, "2002": 2, "1261": 2, "1465": 1}   # KIS in 2002 counted without a point too
    html = maps.full_map_html(choropleth=maps.COVERAGE_KEY, settings=catalog.settings)
    assert "powiat bez CIS, KIS, ZAZ i WTZ" in html and "#d7301f" in html


def test_small_map(catalog):
    exact = maps.small_map_html(_point(1, XSS, precision="address"), settings=catalog.settings)
    assert XSS not in exact and "<title>Mapa: &lt;script&gt;alert(1)&lt;/script&gt;</title>" in exact
    assert assets.external_assets(exact) == []
    approx = maps.small_map_html(_point(2, "B", precision="gmina"), settings=catalog.settings)
    # The uncertainty circle (drawn by map-markers.js) only when approximate.
    assert _data(approx)["uncertainty_m"] == 8000 and _data(exact)["uncertainty_m"] is None
    assert _data(exact)["cluster"] is None and _data(exact)["link"] is False
    assert maps.small_map_html(_point(3, "C", lat=None), settings=catalog.settings) == ""


def test_external_asset_detection_catches_cdn_links():
    html = '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/x.css">'
    assert len(assets.external_assets(html)) == 2
    assert assets.external_assets('<script src="/static/x.js"></script>') == []
