"""Spatial look-ups in the database: the nearest units come from an indexed box (never a table scan), only the
rows shown are loaded, and the answer equals a brute-force reference on a random catalog (SQLite and
PostgreSQL)."""
from __future__ import annotations

import math
import random

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from catalog import db, radii
from catalog import settings as settings_mod
from catalog.geometry import bbox, haversine_km
from catalog.models import Institution
from geo import resolve as geo_resolve
from geo import teryt

TYPES = ("cis", "kis", "wtz", "dps", "ops", "pup", "pcpr")
WARSZAWA = (52.23, 21.01)


def _random_catalog(seed: int = 5, n: int = 700) -> list[Institution]:
    """A dense city (half of them within ~10 km of Warszawa's centre), the rest over Poland; some closed,
    some without a point, and pairs at exactly the same point (ties are broken by id)."""
    rng = random.Random(seed)
    gminy = [g for g in teryt.gminy() if g.lat is not None]
    out = []
    for i in range(n):
        if i % 2:
            lat, lon = WARSZAWA[0] + rng.uniform(-0.09, 0.09), WARSZAWA[1] + rng.uniform(-0.15, 0.15)
            g = teryt.gmina("146501")
        else:
            g = rng.choice(gminy)
            lat, lon = g.lat + rng.uniform(-0.05, 0.05), g.lon + rng.uniform(-0.05, 0.05)
        located = rng.random() > 0.05
        out.append(Institution(
            name=f"Jednostka {i}", type=rng.choice(TYPES), status="closed" if rng.random() < 0.1 else "active",
            gmina_id6=g.id6, powiat_teryt=g.powiat_code, woj_teryt=g.woj_code,
            lat=round(lat, 5) if located else None, lon=round(lon, 5) if located else None))
        if i % 50 == 0 and located:     # a twin at the same point
            out.append(Institution(name=f"Bliźniak {i}", type=out[-1].type, gmina_id6=g.id6, lat=out[-1].lat,
                                   lon=out[-1].lon, powiat_teryt=g.powiat_code, woj_teryt=g.woj_code))
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def spatial(request, data_dir):
    """A migrated catalog (SQLite, then PostgreSQL) holding the random catalog; yields a session."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_url")
    settings = settings_mod.load()
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        session.add_all(_random_catalog())
    engine = db.get_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def _reference(session: Session, lat: float, lon: float, types: tuple[str, ...], limit: int):
    """catalog.radii's policy spelled out over every row: all active located units of the types within
    each radius in turn, until one holds `limit` of them; nearest first, ties by id."""
    everything = [(r.id, r.lat, r.lon) for r in session.exec(select(Institution)).all()
                  if r.type in types and r.status != "closed" and r.lat is not None and r.lon is not None]
    found: list[tuple[float, int]] = []
    for radius in radii.WIDENING_RADII_KM:
        found = sorted((d, i) for i, la, lo in everything
                       if (d := haversine_km(lat, lon, la, lo)) <= (radius if radius is not None else 1e9))
        if len(found) >= limit:
            break
    return [(i, round(d, 9)) for d, i in found[:limit]]


def _points(k: int = 25) -> list[tuple[float, float]]:
    rng = random.Random(9)
    gminy = [g for g in teryt.gminy() if g.lat is not None]
    city = [(WARSZAWA[0] + rng.uniform(-0.05, 0.05), WARSZAWA[1] + rng.uniform(-0.08, 0.08)) for _ in range(k)]
    return city + [(g.lat, g.lon) for g in rng.sample(gminy, k)] + [(54.8, 18.4), (49.1, 22.6)]


def test_nearby_equals_brute_force(spatial):
    for n, (lat, lon) in enumerate(_points()):
        types = (("cis",), ("cis", "kis", "wtz"), TYPES)[n % 3]
        limit = (1, 6, 10, 40)[n % 4]
        got = [(u.institution.id, round(u.distance_km, 9))
               for u in geo_resolve.nearby_units(spatial, lat, lon, types, limit)]
        assert got == _reference(spatial, lat, lon, types, limit), (lat, lon, types, limit)


def test_nearby_follows_a_bounded_policy(spatial, monkeypatch):
    """A policy that ends at 30 km gives fewer than asked far from the city, and nothing beyond 30 km."""
    monkeypatch.setattr(radii, "WIDENING_RADII_KM", (3.0, 30.0))
    for lat, lon in _points(8):
        got = [(u.institution.id, round(u.distance_km, 9))
               for u in geo_resolve.nearby_units(spatial, lat, lon, ("cis", "kis"), 25)]
        assert got == _reference(spatial, lat, lon, ("cis", "kis"), 25)
        assert all(d <= 30.0 for _i, d in got)


def test_nearby_loads_only_the_rows_shown(spatial):
    loaded: list[int] = []

    def on_load(target, _context):
        loaded.append(target.id)

    event.listen(Institution, "load", on_load)
    try:
        spatial.expunge_all()
        found = geo_resolve.nearby_units(spatial, *WARSZAWA, TYPES, 6)
    finally:
        event.remove(Institution, "load", on_load)
    assert len(found) == 6
    assert sorted(loaded) == sorted(u.institution.id for u in found)


def _plans(session: Session, run) -> list[str]:
    """EXPLAIN QUERY PLAN (SQLite) of every statement `run` sends."""
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    for statement, parameters in statements:
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        plans.append(" | ".join(str(r[-1]) for r in rows))
    return plans


def _sqlite_only(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")


def test_nearby_box_is_read_from_the_spatial_index(spatial):
    _sqlite_only(spatial)
    stmt = geo_resolve.nearby_candidates_statement(*WARSZAWA, 5.0, geo_resolve.NEARBY_TYPES)
    compiled = stmt.compile(spatial.get_bind(), compile_kwargs={"literal_binds": True})
    plan = " | ".join(str(r[-1]) for r in spatial.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "COVERING INDEX ix_institution_type_point" in plan and "lat>" in plan, plan
    plans = _plans(spatial, lambda: geo_resolve.nearby_units(spatial, *WARSZAWA, geo_resolve.NEARBY_TYPES, 10))
    assert plans and all("SCAN" not in p for p in plans), plans
    assert any("ix_institution_type_point" in p for p in plans), plans


def test_competent_units_never_scan_the_table(spatial):
    _sqlite_only(spatial)
    for id6, lat, lon in (("146501", *WARSZAWA), ("200214", 53.0141, 23.3383), ("126101", 50.06, 19.94)):
        g = teryt.gmina(id6)
        place = geo_resolve.Place(g.name, lat, lon, "gmina", g.id6, g.powiat_code, g.woj_code)
        plans = _plans(spatial, lambda place=place: geo_resolve.competent_units(spatial, place))
        assert plans and all("SCAN" not in p for p in plans), plans
    assert any("ix_institution_gmina_type" in p for p in plans), plans


def _destination(lat: float, lon: float, km: float, bearing_deg: float) -> tuple[float, float]:
    from catalog.geometry import EARTH_RADIUS_KM
    p1, l1, d, t = math.radians(lat), math.radians(lon), km / EARTH_RADIUS_KM, math.radians(bearing_deg)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(t))
    l2 = l1 + math.atan2(math.sin(t) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


@pytest.mark.parametrize("lat", [49.0, 52.23, 54.8, 70.0])
@pytest.mark.parametrize("km", [0.5, 2.0, 30.0, 250.0, 1000.0])
def test_the_box_holds_the_whole_circle(lat, km):
    """Every point on the circle (as haversine_km measures it) lies in catalog.geometry.bbox: the box is the
    SQL and index prefilter of every nearby query, a point outside it is never found."""
    min_lat, max_lat, min_lon, max_lon = bbox(lat, 19.0, km)
    for bearing in range(0, 360, 3):
        p_lat, p_lon = _destination(lat, 19.0, km * 0.999999, bearing)
        assert haversine_km(lat, 19.0, p_lat, p_lon) <= km
        assert min_lat <= p_lat <= max_lat and min_lon <= p_lon <= max_lon, (bearing, p_lat, p_lon)
