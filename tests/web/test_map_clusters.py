"""The directory map's data endpoint (/mapa/dane.json, webapp/map_clusters.py) and its base document:
clusters sum to the query's total, filters/text/bbox are respected (index and SQL fallback, SQLite and
PostgreSQL), street zoom gives pins with names as plain JSON text, garbage viewports are 400 JSON, the
answer has an ETag and gzip, and the map page and frame do not grow with the catalog."""
from __future__ import annotations

import gzip
import json
import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from catalog import db
from catalog.models import Institution
from webapp import map_clusters, maps

POLAND = {"bbox": "14.0,49.0,24.2,55.0", "zoom": "6"}
MAP_DATA = re.compile(r'<script[^>]*\bid="map-data"[^>]*>(.*?)</script>', re.DOTALL)


def view(client, args: dict, **extra):
    response = client.get("/mapa/dane.json", query_string={**POLAND, **args, **extra})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _drawn(answer: dict) -> int:
    return sum(c["count"] for c in answer["clusters"]) + len(answer["markers"])


def all_markers(client, args: dict, bbox: str = POLAND["bbox"], zoom: int = 6) -> list[list]:
    """Every pin of a query, reached as a user would: zooming into each cluster until it splits."""
    answer = view(client, args, bbox=bbox, zoom=str(zoom))
    rows = list(answer["markers"])
    for cluster in answer["clusters"]:
        assert zoom < map_clusters.STREET_ZOOM
        s, w, n, e = cluster["bounds"]
        pad = 1e-4
        rows += all_markers(client, args, f"{w - pad},{s - pad},{e + pad},{n + pad}",
                            min(zoom + 3, map_clusters.STREET_ZOOM))
    return rows


def map_ids(client, args: dict) -> set[int]:
    rows = all_markers(client, args)
    ids = [int(r[4]) for r in rows]
    assert len(ids) == len(set(ids))      # no institution drawn twice across tiles
    return set(ids)


def test_clusters_sum_to_the_total_of_the_query(client, ids):
    answer = view(client, {})
    assert answer["total"] == 8 == answer["in_view"] == _drawn(answer)
    assert answer["clusters"], answer      # at country zoom the Białystok area is one cluster
    assert all(c["count"] >= 2 for c in answer["clusters"])
    assert map_ids(client, {}) == set(ids.values())


@pytest.mark.parametrize(("args", "keys"), [
    ({"typ": "cis"}, {"cis"}),
    ({"powiat": "2061"}, {"pup", "owes"}),
    ({"q": "Choroszczy"}, {"cis", "wtz"}),
    ({"q": "gops zabludow"}, {"ops"}),
    ({"q": "pomocy", "powiat": "2002"}, {"ops", "pcpr"}),
    ({"woj": "12"}, {"krakow"}),
])
def test_filters_and_text_are_those_of_the_list(client, ids, args, keys):
    answer = view(client, args)
    assert answer["total"] == len(keys) == _drawn(answer)
    assert map_ids(client, args) == {ids[k] for k in keys}


def test_without_an_index_the_sql_fallback_answers_text(app_without_index, ids):
    client = app_without_index.test_client()
    assert map_ids(client, {"q": "Choroszczy"}) == {ids["cis"], ids["wtz"]}
    assert "trybie awaryjnym" in view(client, {"q": "Choroszczy"})["note"]
    assert map_ids(client, {"typ": "ops"}) == {ids["ops"], ids["krakow"]}


def test_the_bbox_is_respected(client, ids):
    krakow = view(client, {}, bbox="19.5,49.8,20.5,50.3", zoom="9")
    assert [r[4] for r in krakow["markers"]] == [ids["krakow"]] and not krakow["clusters"]
    assert krakow["total"] == 8 and krakow["in_view"] == 1     # total: the whole query, in_view: this box
    empty = view(client, {}, bbox="14.5,53.5,15.5,54.0", zoom="9")
    assert empty["clusters"] == [] and empty["markers"] == [] and empty["in_view"] == 0
    w, s, e, n = empty["bbox"]
    assert w <= 14.5 and s <= 53.5 and e >= 15.5 and n >= 54.0    # snapped outwards to whole tiles


def test_street_zoom_gives_pins_with_names_as_data(client, ids, xss_name):
    answer = view(client, {}, bbox="23.30,53.00,23.36,53.03", zoom=str(map_clusters.STREET_ZOOM))
    assert answer["clusters"] == []
    by_id = {r[4]: r for r in answer["markers"]}
    assert set(by_id) == {ids["ops"], ids["kis"]}       # 200 m apart: separate pins at street zoom
    assert by_id[ids["kis"]][5] == xss_name              # as text: the browser puts it in a text node
    assert by_id[ids["kis"]][3] == maps.APPROXIMATE_KIND
    below = view(client, {}, bbox="23.30,53.00,23.36,53.03", zoom=str(map_clusters.STREET_ZOOM - 4))
    assert [c["count"] for c in below["clusters"]] == [2] and below["markers"] == []


@pytest.mark.parametrize("query", [
    {"bbox": "x", "zoom": "6"}, {"bbox": "1,2,3", "zoom": "6"}, {"bbox": "nan,49,24,55", "zoom": "6"},
    {"bbox": "24,49,14,55", "zoom": "6"}, {"bbox": "14,49,24,55", "zoom": "20"}, {"bbox": "14,49,24,55", "zoom": "-1"},
    {"bbox": "14,49,24,55", "zoom": "6.5"}, {"bbox": "14,49,24,55"}, {"zoom": "6"},
    {"bbox": "-180,-85,180,85", "zoom": "12"},      # the world at city zoom is no viewport
    {"bbox": "1e999,49,24,55", "zoom": "6"},
])
def test_garbage_viewports_are_a_clear_400(client, query):
    response = client.get("/mapa/dane.json", query_string=query)
    assert response.status_code == 400 and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] in {"invalid_bbox", "invalid_zoom", "bbox_too_large"} and error["message"]


@examples(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bbox=st.one_of(st.text(max_size=40), st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4,
                                                     max_size=4).map(lambda v: ",".join(map(str, v)))),
       zoom=st.one_of(st.text(max_size=4), st.integers(-5, 30).map(str)))
def test_any_viewport_is_an_answer_or_a_400(client, ids, bbox, zoom):
    response = client.get("/mapa/dane.json", query_string={"bbox": bbox, "zoom": zoom})
    assert response.status_code in (200, 400), (bbox, zoom)
    body = response.get_json()
    assert ("error" in body) == (response.status_code == 400)
    if response.status_code == 200:
        assert body["in_view"] <= body["total"] == 8


def test_hostile_filter_values_are_harmless(client, ids):
    answer = view(client, {"typ": "<script>", "powiat": "{{7*7}}", "q": "x\x00y"})
    assert answer["total"] == 0 and answer["clusters"] == [] and answer["markers"] == []


def test_etag_and_gzip(client, ids):
    url = "/mapa/dane.json?bbox=22.9,53.0,23.4,53.2&zoom=14&grupa="
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip" and first.headers["ETag"] and first.headers["Last-Modified"]
    assert len(json.loads(gzip.decompress(first.data))["markers"]) == 7
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    other = client.get(url + "&typ=cis", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_a_catalog_change_is_seen_at_once(client, settings, ids, reindex):
    before = view(client, {"typ": "cis"})
    with db.session_scope(settings.database_url) as session:
        session.add(Institution(name="Centrum Integracji Społecznej w Supraślu", type="cis", woj_teryt="20",
                                powiat_teryt="2002", lat=53.21, lon=23.34, geo_precision="address"))
    reindex()
    after = view(client, {"typ": "cis"})
    assert (before["total"], after["total"]) == (1, 2)
    assert view(client, {"q": "Supraślu"})["total"] == 1


def test_the_frame_holds_no_institution_and_is_built_once(client, ids, monkeypatch, xss_name):
    builds = []
    real = maps.full_map_html
    monkeypatch.setattr(maps, "full_map_html", lambda **kw: builds.append(kw) or real(**kw))
    pages = [client.get(f"/mapa/ramka{q}").get_data(as_text=True) for q in ("", "?v=1", "?typ=cis", "?q=Klub")]
    assert len(builds) == 1                              # the filters and ?v=1 reuse the one document
    client.get("/mapa/ramka?kartogram=cis")
    assert len(builds) == 2                              # a choropleth is another document
    data = json.loads(MAP_DATA.search(pages[0]).group(1))
    assert data["markers"] == [] and data["clusters"]["url"] == "/mapa/dane.json"
    assert "Choroszczy" not in pages[0] and "Razem" not in pages[0]
    assert '<script src="/static/js/map-clusters.js">' in pages[0].replace(
        re.search(r' nonce="[^"]+"', pages[0]).group(0), "")


def _catalog_of(settings, schema_template, n: int):
    """A catalog of n institutions (three types, spread over Poland) in its own file."""
    import dataclasses
    import shutil

    target = settings.data_dir / f"catalog-{n}.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(schema_template, target)
    own = dataclasses.replace(settings, database_url=f"sqlite:///{target}", index_dir=settings.data_dir / f"index-{n}")
    types = ("ops", "cis", "kis")
    with db.session_scope(own.database_url) as session:
        session.add_all(Institution(name=f"Instytucja {i}", type=types[i % 3], woj_teryt="20", powiat_teryt="2002",
                                    lat=49.2 + (i * 7919 % 5000) / 1000, lon=14.3 + (i * 104729 % 9500) / 1000,
                                    geo_precision="address") for i in range(n))
    return own


def test_page_and_frame_do_not_grow_with_the_catalog(settings, schema_template):
    from webapp import create_app

    sizes = {}
    for n in (50, 2000):
        own = _catalog_of(settings, schema_template, n)
        try:
            client = create_app({"TESTING": True, "SETTINGS": own}).test_client()
            page = client.get("/mapa?woj=20").data
            frame = client.get("/mapa/ramka?woj=20").data
            first = client.get("/mapa/dane.json?bbox=14,49,24.2,55&zoom=6&woj=20")
        finally:
            db.get_engine(own.database_url).dispose()   # engines are cached per URL: close this one's pool
        assert first.get_json()["total"] == n == _drawn(first.get_json())
        sizes[n] = (len(page), len(frame), len(first.data))
    for small, large in zip(sizes[50][:2], sizes[2000][:2], strict=True):
        assert abs(large - small) < 300, sizes
    assert sizes[2000][1] < 20_000
    # The first viewport's answer is bounded by the grid cells in view (at most one cluster or pin each),
    # not by the catalog: a few kB either way.
    assert max(sizes[50][2], sizes[2000][2]) < 12_000, sizes


@pytest.mark.postgres
def test_the_sql_aggregation_on_postgresql(postgres_url):
    from tests.web.conftest import fill
    from webapp import create_app

    db.upgrade(postgres_url)
    with db.session_scope(postgres_url) as session:
        ids = fill(session)
    client = create_app({"TESTING": True}).test_client()   # no index: the text goes to the SQL fallback
    try:
        answer = view(client, {})
        assert answer["total"] == 8 == _drawn(answer)
        assert map_ids(client, {}) == set(ids.values())
        assert map_ids(client, {"typ": "ops"}) == {ids["ops"], ids["krakow"]}
        assert map_ids(client, {"q": "Choroszczy"}) == {ids["cis"], ids["wtz"]}
    finally:
        db.get_engine(postgres_url).dispose()


def test_the_frame_keeps_the_page_language(client, ids):
    for prefix in ("", "/uk", "/en"):
        html = client.get(f"{prefix}/mapa/ramka").get_data(as_text=True)
        config = json.loads(MAP_DATA.search(html).group(1))["clusters"]
        assert config["url"] == f"{prefix}/mapa/dane.json" and config["list_url"] == f"{prefix}/instytucje"
        assert "{n}" in config["labels"]["cluster"] and "{total}" in config["labels"]["status"]
        assert client.get(f"{prefix}/mapa/dane.json", query_string=POLAND).get_json()["total"] == 8
