import json

import pytest
from sqlmodel import select
from werkzeug import Response

from catalog import settings as settings_mod
from catalog.models import GeocodeCache
from geo.geocoder import Geocoder

NOMINATIM_HIT = [{
    "place_id": 1, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.", "osm_type": "node", "osm_id": 2,
    "lat": "50.0471", "lon": "19.9482", "class": "place", "type": "house", "addresstype": "place",
    "name": "", "display_name": "14, Józefińska, Podgórze, Kraków, 30-529, Polska",
    "address": {"house_number": "14", "road": "Józefińska", "city": "Kraków", "postcode": "30-529",
                "country": "Polska", "country_code": "pl"},
    "boundingbox": ["50.0470", "50.0472", "19.9481", "19.9483"],
}]


def test_offline_chain_precision_and_layer(geo_settings, session):
    geo = Geocoder(geo_settings, session)
    postcode = geo.geocode("16-060 Zabłudów")
    assert (postcode.precision, postcode.geocoder, postcode.gmina_id6) == ("postcode", "offline:postcode", "200214")
    locality = geo.geocode("Bytoń 72")
    assert (locality.precision, locality.gmina_id6) == ("locality", "041102")
    assert locality.geocoder in ("offline:prng", "offline:geonames")
    gmina = geo.geocode("gm. Bratian")            # a gmina name that is no place name
    assert (gmina.precision, gmina.geocoder, gmina.gmina_id6) == ("gmina", "offline:gmina", "281205")
    # A village known only as a post town (ODbL layer); Szczawa is a gmina created after the boundaries.
    village = geo.geocode("Szczawa")
    assert (village.precision, village.geocoder, village.gmina_id6) == ("locality", "offline:postcode", "120713")
    assert geo.geocode("Xqzzyvw 12") is None
    assert geo.geocode("") is None


def test_results_and_misses_are_cached_in_the_database(geo_settings, session):
    Geocoder(geo_settings, session).geocode("16-060 Zabłudów")
    Geocoder(geo_settings, session).geocode("Xqzzyvw 12")
    session.commit()
    rows = {r.query: r for r in session.exec(select(GeocodeCache)).all()}
    assert len(rows) == 2
    assert [r.found for r in sorted(rows.values(), key=lambda r: r.found)] == [False, True]
    # A fresh geocoder answers from the cache, not from the gazetteer: change the cached row and see it.
    row = next(r for r in rows.values() if r.found)
    row.lat = 1.0
    session.commit()
    again = Geocoder(geo_settings, session)
    assert again.geocode("16-060 ZABLUDOW").lat == 1.0
    assert again.stats["cache_hits"] == 1 and again.stats["offline"] == 0


@pytest.fixture
def nominatim_settings(geo_settings, httpserver, monkeypatch):
    monkeypatch.setenv("GEOCODER", "nominatim")
    monkeypatch.setenv("NOMINATIM_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("NOMINATIM_RATE_LIMIT", "0")
    monkeypatch.setenv("WSPARCIE_USER_AGENT", "MapaWsparcia-test/1.0 (tests)")
    return settings_mod.load()


def test_nominatim_asked_once_then_cached(nominatim_settings, session, httpserver):
    httpserver.expect_request("/search").respond_with_json(NOMINATIM_HIT)
    first = Geocoder(nominatim_settings, session).geocode("Kraków, ul. Józefińska 14")
    assert (first.precision, first.geocoder, first.gmina_id6) == ("address", "nominatim", "126101")
    assert (first.lat, first.lon) == (50.0471, 19.9482)
    session.commit()
    second = Geocoder(nominatim_settings, session).geocode("Kraków, ul. Józefińska 14")
    assert second == first
    assert len(httpserver.log) == 1
    request = httpserver.log[0][0]
    assert request.args["format"] == "json" and request.args["countrycodes"] == "pl"
    assert request.args["street"] == "14 Józefińska" and request.args["city"] == "Kraków"
    assert request.headers["User-Agent"] == "MapaWsparcia-test/1.0 (tests)"


def test_nominatim_not_found_is_cached_and_offline_kept(nominatim_settings, session, httpserver):
    httpserver.expect_request("/search").respond_with_json([])
    result = Geocoder(nominatim_settings, session).geocode("ul. Nieznana 1, 16-060 Zabłudów")
    assert (result.precision, result.geocoder) == ("postcode", "offline:postcode")
    Geocoder(nominatim_settings, session).geocode("ul. Nieznana 1, 16-060 Zabłudów")
    assert len(httpserver.log) == 1
    cached = session.exec(select(GeocodeCache).where(GeocodeCache.geocoder == "nominatim")).one()
    assert cached.found is False


def test_nominatim_failure_falls_back_and_is_not_cached(nominatim_settings, session, httpserver):
    httpserver.expect_request("/search").respond_with_response(Response("boom", status=500))
    result = Geocoder(nominatim_settings, session).geocode("ul. Rynek 8, 16-060 Zabłudów")
    assert (result.precision, result.gmina_id6) == ("postcode", "200214")
    assert session.exec(select(GeocodeCache).where(GeocodeCache.geocoder == "nominatim")).all() == []
    httpserver.clear_all_handlers()
    httpserver.expect_request("/search").respond_with_data(json.dumps(NOMINATIM_HIT), content_type="application/json")
    # The next run asks again because the failure was not remembered as "not found".
    retried = Geocoder(nominatim_settings, session).geocode("ul. Rynek 8, 16-060 Zabłudów")
    assert retried.geocoder == "nominatim"


def test_offline_setting_never_calls_nominatim(geo_settings, session, httpserver):
    geo = Geocoder(geo_settings, session)
    assert geo.geocode("Kraków, ul. Józefińska 14").geocoder.startswith("offline")
    assert len(httpserver.log) == 0


def test_public_nominatim_is_never_asked_faster_than_once_a_second(geo_settings, monkeypatch):
    from geo.nominatim import NominatimClient

    monkeypatch.setenv("NOMINATIM_RATE_LIMIT", "0")
    public = NominatimClient(settings_mod.load())            # default URL: the public server
    assert public._limited.min_delay_seconds == 1.0
    monkeypatch.setenv("NOMINATIM_URL", "http://127.0.0.1:9")
    assert NominatimClient(settings_mod.load())._limited.min_delay_seconds == 0.0
