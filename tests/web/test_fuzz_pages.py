"""Garbage in, never a crash: hypothesis throws unicode, emoji, control characters, very long strings,
query-operator soup and broken percent-encoding at the HTML pages' query parameters, and at the two
functions behind them (index.api.search, geo.resolve.resolve). A 4xx or a 200 page (with a Polish
message) is fine; a 500 or an exception is a bug.

The pages run over a catalog with a built search index and, in one test, without one (the plain catalog
fallback), since a fresh install serves the site before the first reindex."""
from __future__ import annotations

import dataclasses
import math
import urllib.parse

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from catalog import db
from catalog.models import Institution
from geo import resolve as geo_resolve
from index import api as index_api

FUZZ = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
FEW = settings(FUZZ, max_examples=12)

OPERATORS = ["AND", "OR", "NOT", "*", "?", "~", "~2", '"', "(", ")", "[", "]", "{", "}", ":", "^", "^3", "+",
             "-", "\\", "/", "%", "_", "'", ";", "--", "DROP TABLE institution;", "' OR 1=1 --", "<script>",
             "&amp;", "${x}", "{{ 7*7 }}", "name:", "type:cis", "*:*", "..", "../../etc/passwd", "\x00",
             "\u202e", "\ufeff", "\ud7ff", "🙂", "👩‍👩‍👧", "Łódź", "żółć", "1e999", "nan", "-inf", "٢٠٠٢",
             "０１", "0001-01-01", "9999-12-31", "2026-02-30", "15-950", "53.13,23.16", "99.9,999.9",
             # real words, so that some soups match institutions and reach ranking, facets and rendering
             "Ośrodek", "pomocy", "osrodek", "Białystok", "Białymstoku", "Zabłudów", "CIS", "urząd pracy",
             "centrum", "Choroszcz", "powiatowe"]

garbage_text = st.one_of(
    st.text(max_size=60),                                                         # any unicode, controls too
    st.lists(st.sampled_from(OPERATORS), max_size=12).map(" ".join),              # operator soup
    st.lists(st.sampled_from(OPERATORS), max_size=12).map("".join),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=8), st.integers(50, 800)),  # very long
    st.from_regex(r"[0-9]{1,8}", fullmatch=True),
    st.sampled_from(["", " ", "\t\n", "0", "-1", "1" * 400, "9" * 30]),
)
# Raw, possibly invalid, percent-encoded bytes: what a broken client or a scanner sends.
raw_bytes = st.binary(max_size=40).map(urllib.parse.quote_from_bytes)


def _query(params: dict[str, str]) -> str:
    return urllib.parse.urlencode(params, doseq=True)


def _assert_fine(response, path: str) -> None:
    assert response.status_code < 500, f"{path} -> {response.status_code}"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    if response.status_code == 200 and response.mimetype == "text/html":
        assert '<html lang="pl">' in body or "leaflet" in body.lower(), path


@pytest.fixture
def indexed(ids, settings) -> None:
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)


def _fuzz_home(client, q: str, gdzie: str, extra: dict) -> None:
    path = f"/?{_query({'q': q, 'gdzie': gdzie, **extra})}"
    _assert_fine(client.get(path), path)


home_extra = st.fixed_dictionaries({}, optional={
    "potrzeba": garbage_text, "lat": garbage_text, "lon": garbage_text,
})


@FUZZ
@given(q=garbage_text, gdzie=garbage_text, extra=home_extra)
def test_home_survives_garbage(client, indexed, q, gdzie, extra):
    _fuzz_home(client, q, gdzie, extra)


@FEW
@given(q=garbage_text, gdzie=garbage_text, extra=home_extra)
def test_home_survives_garbage_without_index(client, q, gdzie, extra):
    _fuzz_home(client, q, gdzie, extra)


list_params = st.fixed_dictionaries({}, optional={
    name: garbage_text for name in ("q", "woj", "powiat", "gmina", "typ", "strona", "status", "potrzeba")
})


@FUZZ
@given(params=list_params)
def test_list_survives_garbage(client, indexed, params):
    path = f"/instytucje?{_query(params)}"
    response = client.get(path)
    _assert_fine(response, path)
    assert response.status_code == 200     # bad filters are ignored, never refused


@FEW
@given(params=list_params)
def test_list_survives_garbage_without_index(client, params):
    path = f"/instytucje?{_query(params)}"
    _assert_fine(client.get(path), path)


@FUZZ
@given(code=st.one_of(st.sampled_from(["2002", "2061", "0000", "9999"]), st.text(min_size=4, max_size=4)),
       since=garbage_text)
def test_powiat_page_survives_garbage(client, code, since):
    quoted = urllib.parse.quote(code, safe="")
    for path in (f"/powiat/{quoted}?{_query({'od': since})}", f"/powiat/{quoted}.csv?{_query({'od': since})}"):
        _assert_fine(client.get(path), path)


@FEW
@given(params=st.fixed_dictionaries({}, optional={
    name: garbage_text for name in ("q", "woj", "powiat", "gmina", "typ", "status", "grupa", "kartogram")
}))
def test_map_pages_survive_garbage(client, params):
    for path in (f"/mapa?{_query(params)}", f"/mapa/ramka?{_query(params)}"):
        _assert_fine(client.get(path), path)


@FUZZ
@given(raw=raw_bytes, name=st.sampled_from(["q", "gdzie", "woj", "powiat", "typ", "strona", "od", "lat"]))
def test_broken_percent_encoding_is_harmless(client, indexed, raw, name):
    for path in (f"/?{name}={raw}", f"/instytucje?{name}={raw}", f"/powiat/2002?{name}={raw}",
                 f"/mapa?{name}={raw}", f"/api/institutions?{name}={raw}"):
        _assert_fine(client.get(path), path)


@FUZZ
@given(inst_id=st.one_of(st.integers(min_value=0, max_value=2**70), st.sampled_from([2**63 - 1, 2**63])))
def test_institution_ids_out_of_range_are_not_found(client, inst_id):
    for path in (f"/instytucja/{inst_id}", f"/instytucja/{inst_id}/mapa",
                 f"/instytucja/{inst_id}/zglos/dziekujemy", f"/api/institutions/{inst_id}"):
        response = client.get(path)
        _assert_fine(response, path)


# --- PostgreSQL refuses what SQLite shrugs off (a NUL in a text parameter) ----------------------------

@pytest.fixture
def pg_client(postgres_url):
    db.upgrade(postgres_url)
    with db.session_scope(postgres_url) as session:
        session.add_all([
            Institution(name="Centrum Integracji Społecznej w Choroszczy", type="cis", locality="Choroszcz",
                        woj_teryt="20", powiat_teryt="2002", gmina_id6="200201", lat=53.144, lon=22.987,
                        target_groups=["bezdomni"]),
            Institution(name="Powiatowy Urząd Pracy w Białymstoku", type="pup", locality="Białystok",
                        woj_teryt="20", powiat_teryt="2061", gmina_id6="206101", lat=53.121, lon=23.109),
        ])
    from webapp import create_app

    return create_app({"TESTING": True}).test_client()   # no index built: lists come from SQL


@pytest.mark.postgres
@FEW
@given(q=garbage_text | st.sampled_from(["a\x00b", "\x00", "\\", "%_%", "ośrodek\x00"]), gdzie=garbage_text)
def test_pages_and_api_survive_garbage_on_postgresql(pg_client, q, gdzie):
    query = _query({"q": q})
    for path in (f"/?{_query({'q': q, 'gdzie': gdzie})}", f"/instytucje?{query}", f"/mapa/ramka?{query}",
                 f"/api/institutions?{query}", f"/api/resolve?{_query({'q': gdzie or 'x'})}",
                 f"/api/map.geojson?{query}", f"/api/export.csv?{_query({'target_group': q})}"):
        _assert_fine(pg_client.get(path), path)


# --- the functions behind the pages -----------------------------------------------------------------

any_float = st.floats(allow_nan=True, allow_infinity=True)
polish_point = st.tuples(st.floats(49.0, 54.9), st.floats(14.1, 24.1))
text_fields = {
    "text": garbage_text,
    "types": st.lists(st.sampled_from(["cis", "ops", "pup", "kis"]) | garbage_text, max_size=3).map(tuple),
    "target_groups": st.lists(garbage_text, max_size=2).map(tuple),
    "woj": st.none() | st.sampled_from(["20", "12"]) | garbage_text,
    "powiat": st.none() | st.sampled_from(["2002", "2061"]) | garbage_text,
    "gmina": st.none() | garbage_text,
    "status": st.none() | st.sampled_from(["active", "closed"]) | garbage_text,
}
# Half the queries are sane but for their text, so that garbage reaches ranking, facets and distances too.
sane_numbers = st.builds(
    index_api.SearchQuery, text=garbage_text, types=st.lists(st.sampled_from(["cis", "ops", "pup"])).map(tuple),
    woj=st.none() | st.just("20"), near=st.none() | polish_point, radius_km=st.none() | st.floats(0.5, 1000),
    sort=st.sampled_from(["relevance", "distance"]), page=st.integers(1, 3), per_page=st.integers(1, 100),
).map(lambda q: q if q.near is not None else dataclasses.replace(q, sort="relevance", radius_km=None))
wild_numbers = st.builds(
    index_api.SearchQuery, **text_fields, near=st.none() | st.tuples(any_float, any_float),
    radius_km=st.none() | any_float, sort=garbage_text, page=st.integers(-5, 10**12),
    per_page=st.integers(-5, 10**4),
)
search_queries = sane_numbers | wild_numbers


@pytest.fixture(params=sorted(index_api.BACKENDS))
def backend_settings(request, ids, settings):
    chosen = dataclasses.replace(settings, search_backend=request.param)
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(chosen, session)
    return chosen


@settings(FUZZ, max_examples=60)
@given(query=search_queries)
def test_search_answers_or_refuses_clearly(backend_settings, query):
    try:
        result = index_api.search(backend_settings, query)
    except index_api.QueryError as exc:
        assert str(exc).strip(), "a refusal must say why"
        event("refused")
        return
    event("answered with hits" if result.hits else "answered, no hits")
    assert result.total >= len(result.hits)
    assert all(h.distance_km is None or math.isfinite(h.distance_km) for h in result.hits)


@FUZZ
@given(text=st.none() | garbage_text, point=st.none() | st.tuples(any_float, any_float))
def test_resolve_answers_or_says_unknown(settings, ids, text, point):
    with db.session_scope(settings.database_url) as session:
        resolution = geo_resolve.resolve(session, settings, text=text, point=point)
        if resolution is not None:
            assert math.isfinite(resolution.place.lat) and math.isfinite(resolution.place.lon)
            resolution.to_dict()      # what the API serialises must serialise


def test_unknown_place_gets_a_polish_message_not_an_error(client):
    response = client.get("/", query_string={"gdzie": "🙂\x00🙂 ((AND))"})
    assert response.status_code == 200
    assert "Nie znaleźliśmy miejsca" in response.get_data(as_text=True)
