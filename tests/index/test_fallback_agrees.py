"""The SQL fallback (index/fallback.py) answers a SearchQuery like the index does, on both backends.

Same catalog, same query, both paths: filters (type, woj, powiat, gmina, status, target group, free
places, near + radius) give the same ids, in the same order where the order is defined (by name without
text and point, nearest first with sort=distance); an institution's exact name finds the same ones."""
from __future__ import annotations

from dataclasses import replace

import pytest

from catalog import db
from catalog.models import Institution
from index import fallback
from index.api import SearchQuery, locate, rebuild, search

from .conftest import BACKENDS, make_settings, relevance_lib

BIALYSTOK = (53.1325, 23.1688)
KRAKOW = (50.0614, 19.9366)


def _prepare(session) -> dict[str, int]:
    """The judged test catalog plus what it lacks: place counts, an unlocated row, a name that
    sorts differently folded than lower-cased ("Środowiskowy…" among the S, not after Z)."""
    ids = relevance_lib.load_catalog(session)
    for key, free in (("dps-krakow", 3), ("dps-zabludow", 0), ("sds-radziejow", 1), ("wtz-lodz", 0)):
        inst = session.get(Institution, ids[key])
        inst.places_total, inst.places_free = 20, free
    unlocated = session.get(Institution, ids["kis-zabludow"])
    unlocated.lat = unlocated.lon = None
    session.commit()
    return ids


@pytest.fixture(scope="module", params=BACKENDS)
def both(request, tmp_path_factory):
    """(settings, key -> id) of a catalog and an index built from it."""
    with pytest.MonkeyPatch.context() as mp:
        settings = make_settings(mp, tmp_path_factory.mktemp(f"agree-{request.param}"), request.param)
        db.upgrade(settings.database_url)
        with db.session_scope(settings.database_url) as session:
            ids = _prepare(session)
            rebuild(settings, session)
        yield settings, ids


FILTERS = [
    SearchQuery(),
    SearchQuery(types=("ops",)),
    SearchQuery(types=("cis", "kis")),
    SearchQuery(woj="20"),
    SearchQuery(powiat="2002"),
    SearchQuery(powiat="1261"),
    SearchQuery(gmina="2002142"),
    SearchQuery(gmina="200214"),
    SearchQuery(status="expired"),
    SearchQuery(status="possibly-closed"),
    SearchQuery(target_groups=("seniorzy",)),
    SearchQuery(target_groups=("osoby zagrożone wykluczeniem",)),
    SearchQuery(target_groups=("rodziny zastępcze", "osoby bezdomne")),
    SearchQuery(free_places=True),
    SearchQuery(free_places=True, types=("dps",)),
    SearchQuery(types=("ops",), woj="12", status="active"),
    SearchQuery(near=BIALYSTOK, radius_km=30.0),
    SearchQuery(near=BIALYSTOK, radius_km=30.0, sort="distance"),
    SearchQuery(near=KRAKOW, radius_km=80.0, sort="distance", types=("ops", "pup")),
    SearchQuery(near=KRAKOW, sort="distance"),
    SearchQuery(near=KRAKOW, radius_km=20.0, free_places=True),
]


def _ids(result) -> list[int]:
    return [hit.id for hit in result.hits]


def _both(settings, query: SearchQuery):
    query = replace(query, per_page=100)
    with db.session_scope(settings.database_url) as session:
        return search(settings, query), fallback.search(session, query)


@pytest.mark.parametrize("query", FILTERS, ids=repr)
def test_filters_give_the_same_ids_in_the_same_order(both, query):
    settings, _ids_by_key = both
    indexed, sql = _both(settings, query)
    assert indexed.total == sql.total
    assert _ids(sql) == _ids(indexed)
    if query.near and query.sort == "distance":
        assert [h.distance_km for h in sql.hits] == pytest.approx([h.distance_km for h in indexed.hits])


def test_the_filter_set_is_not_trivial(both):
    """Every filter query finds something and not everything, so agreement says something."""
    settings, _ids_by_key = both
    everything = _both(settings, SearchQuery())[0].total
    for query in FILTERS[1:]:
        assert 0 < _both(settings, query)[0].total < everything, query


def test_facets_agree_on_type(both):
    settings, _ids_by_key = both
    for query in (SearchQuery(), SearchQuery(woj="20"), SearchQuery(free_places=True)):
        indexed, sql = _both(settings, query)
        assert sql.facets["type"] == indexed.facets["type"]


@pytest.mark.parametrize("query", [*FILTERS, SearchQuery(text="Klub Integracji Społecznej w Zabłudowie")],
                         ids=repr)
def test_the_map_locates_the_same_points(both, query):
    """index.api.locate and fallback.locate (the map's markers) keep the same located institutions."""
    settings, _ids_by_key = both
    with db.session_scope(settings.database_url) as session:
        sql = fallback.locate(session, query, cap=1000)
    indexed = locate(settings, query, cap=1000)
    assert indexed.total == sql.total
    assert sorted(p.id for p in indexed.points) == [p.id for p in sql.points]


@pytest.mark.parametrize("key", ["mops-zabludow", "sds-suprasl", "owes-podlaski", "mops-lodz",
                                 "ss-tarnow", "ps-nowy-sacz", "oik-tarnow"])
def test_an_exact_name_finds_the_same_institutions(both, key):
    settings, ids = both
    with db.session_scope(settings.database_url) as session:
        name = session.get(Institution, ids[key]).name
    indexed, sql = _both(settings, SearchQuery(text=name))
    assert ids[key] in _ids(sql)
    assert set(_ids(sql)) == set(_ids(indexed))


def test_a_lower_case_unaccented_name_is_found_by_both(both):
    """The fallback folds case and diacritics like the index (SQLite's lower() knows only ASCII)."""
    settings, ids = both
    indexed, sql = _both(settings, SearchQuery(text="srodowiskowy dom samopomocy w supraslu"))
    assert ids["sds-suprasl"] in _ids(sql)
    assert ids["sds-suprasl"] in _ids(indexed)
