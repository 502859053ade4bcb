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


# -- the cache in batches -----------------------------------------------------------------------------

def _addresses(n: int) -> list[str]:
    """n distinct addresses: most found (a postal code point), every fifth unknown (a cached miss)."""
    return [f"Xqzzyvw {i}" if i % 5 == 4 else f"ul. Polna {i}, 16-060 Zabłudów" for i in range(n)]


@pytest.fixture
def cache_statements(session):
    """SELECTs and INSERTs on the cache table, counted as the driver receives them (executemany = one)."""
    from sqlalchemy import event

    counts = {"select": 0, "insert": 0}

    def count(conn, cursor, statement, parameters, context, executemany):
        if "geocodecache" in statement.lower():
            kind = statement.lstrip().split(None, 1)[0].lower()
            if kind in counts:
                counts[kind] += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    yield counts
    event.remove(engine, "before_cursor_execute", count)


def test_a_run_reads_and_writes_the_cache_once_per_batch(geo_settings, session, cache_statements):
    addresses = _addresses(25)
    cold = Geocoder(geo_settings, session, batch=10)
    results = cold.geocode_many(addresses)
    cold.flush()
    assert cache_statements["select"] <= 3           # ceil(25 / 10)
    assert cache_statements["insert"] <= 3
    assert sum(r is not None for r in results) == 20
    assert session.exec(select(GeocodeCache)).all().__len__() == 25    # misses are cached too
    # Same answers as the chain without a cache, and a fresh run reads them in batches, computing nothing.
    assert results == [Geocoder(geo_settings).geocode(a) for a in addresses]
    cache_statements.update(select=0, insert=0)
    warm = Geocoder(geo_settings, session, batch=10)
    assert warm.geocode_many(addresses) == results
    assert cache_statements == {"select": 3, "insert": 0}
    assert warm.stats["offline"] == 0 and warm.stats["cache_hits"] == 25
    # The run's dict: asking again costs no statement at all.
    assert warm.geocode_many(addresses) == results and cache_statements["select"] == 3


def test_one_by_one_lookups_never_flush_the_previous_answer(geo_settings, session, cache_statements):
    geo = Geocoder(geo_settings, session, batch=10)
    for address in _addresses(25):
        geo.geocode(address)
    assert cache_statements["insert"] == 2            # two full batches; five answers still buffered
    session.commit()                                  # the caller's commit writes the buffer too
    assert cache_statements["insert"] == 3
    assert len(session.exec(select(GeocodeCache)).all()) == 25


def test_written_batches_survive_a_rolled_back_caller(geo_settings, session):
    """Each batch is its own committed transaction: a failed stage keeps the cache it paid for."""
    geo = Geocoder(geo_settings, session, batch=10)
    geo.geocode_many(_addresses(25))
    session.rollback()
    assert len(session.exec(select(GeocodeCache)).all()) == 20


def test_a_killed_run_loses_at_most_the_last_batch(geo_settings, session):
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, signal
        from sqlmodel import Session
        from catalog import settings as settings_mod
        from catalog.db import get_engine
        from geo.geocoder import Geocoder
        settings = settings_mod.load()
        with Session(get_engine(settings.database_url)) as session:
            geo = Geocoder(settings, session, batch=10)
            for address in {_addresses(25)!r}:
                geo.geocode(address)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    assert len(session.exec(select(GeocodeCache)).all()) == 20
    from sqlalchemy import text
    assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_cache_writes_inside_a_writing_sqlite_transaction_do_not_wait(geo_settings, session):
    """The caller already holds SQLite's write lock: the batch joins its transaction instead of waiting."""
    from catalog.models import Institution

    session.add(Institution(name="OPS w Zabłudowie", type="ops"))
    session.flush()
    geo = Geocoder(geo_settings, session, batch=2)
    geo.geocode_many(_addresses(3))
    session.commit()
    assert len(session.exec(select(GeocodeCache)).all()) == 3


def test_enrich_commits_the_cache_before_the_stage_writes(geo_settings, session, add, cache_statements):
    from geo.enrich import enrich

    for i in range(12):
        add(f"Klub Integracji Społecznej {i}", "kis", address_raw=f"ul. Szkolna {i}, 16-060 Zabłudów")
    stats = enrich(session, geo_settings)
    assert stats.geocoded == 12
    assert cache_statements == {"select": 1, "insert": 1}    # one batch read, one batch written
    session.rollback()                     # the stage fails before its commit
    assert len(session.exec(select(GeocodeCache)).all()) == 12
    cache_statements.update(select=0, insert=0)
    again = enrich(session, geo_settings, force=True)       # a re-run answers from one batch read
    assert again.geocoded == 12 and cache_statements == {"select": 1, "insert": 0}


@pytest.mark.postgres
def test_the_cache_in_batches_on_postgresql(postgres_url):
    """Same answers on PostgreSQL: batches written on their own connection while the caller's transaction
    holds uncommitted writes (no wait, no deadlock), read back with one SELECT per batch."""
    from sqlmodel import Session as SqlSession

    from catalog.db import get_engine, upgrade
    from catalog.models import Institution

    upgrade(postgres_url)
    settings = settings_mod.load()
    addresses = _addresses(25)
    expected = [Geocoder(settings).geocode(a) for a in addresses]
    with SqlSession(get_engine(postgres_url)) as session:
        session.add(Institution(name="OPS w Zabłudowie", type="ops"))
        session.flush()                                   # the caller holds a write transaction
        cold = Geocoder(settings, session, batch=10)
        assert cold.geocode_many(addresses) == expected
        session.rollback()                                # the caller fails: the written batches stay
        assert len(session.exec(select(GeocodeCache)).all()) == 20
        cold.flush()
        warm = Geocoder(settings, session, batch=10)
        assert warm.geocode_many(addresses) == expected
        assert warm.stats["cache_reads"] == 3 and warm.stats["offline"] == 0
        assert any(r is not None and r.label for r in expected)   # labels come back through the JSON column
    get_engine(postgres_url).dispose()
