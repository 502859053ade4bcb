"""Spatial benchmark: "nearby" and "competent" units at N institutions, half of them in Warszawa.

Cities are dense: a Warsaw page behaves like a national catalog long before the catalog is that big, so
half the synthetic institutions stand in Warszawa (spread over the city) and the rest near the interior
points of random gminy. Measured, each at Warsaw points and at points elsewhere:

- `nearby`: geo.resolve.nearby_units (the resolve page's nearest CIS/KIS/ZAZ/WTZ/PS, 10 of them);
- `competent`: geo.resolve.competent_units (OPS of the gmina, PCPR, PUP and OWES of the powiat);
- `detail_nearby`: the institution page's "nearby" list (webapp.views_public._nearby: the search index,
  near + 30 km + sort by distance, 7 hits) and the rows it loads.

    .venv/bin/python bench/spatial.py --n 20000 [--database-url postgresql+psycopg://...]

Prints median and p95 per case, the query plan of the nearby query (SQLite), peak RSS, and ends with
one line holding a JSON object of the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from catalog import db
from catalog.models import Institution
from catalog.settings import load
from catalog.types import TYPES, InstitutionType
from geo import resolve as geo_resolve
from geo import teryt
from index import api as index_api

TYPE_WEIGHTS = {"ops": 30, "pcpr": 4, "pup": 4, "cis": 3, "kis": 3, "zaz": 2, "wtz": 8, "owes": 1, "ps": 5,
                "spoldzielnia-socjalna": 10, "dps": 10, "sds": 8, "oik": 3, "other": 9}
COMPETENT_TYPES = ("ops", "pcpr", "pup", "owes")
DENSE_TYPES = tuple(code for code in TYPE_WEIGHTS if code not in COMPETENT_TYPES)
WARSZAWA = "146501"
WARSZAWA_OFFICES = 24     # the first ones keep their drawn type
# Warszawa's extent, roughly: the city is ~30 km across.
WAW_LAT, WAW_LON, WAW_DLAT, WAW_DLON = 52.23, 21.01, 0.12, 0.2


def synthetic(n: int, seed: int = 7) -> list[Institution]:
    rng = random.Random(seed)
    gminy = [g for g in teryt.gminy() if g.lat is not None]
    waw = teryt.gmina(WARSZAWA)
    codes, weights = list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values())
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        in_waw = i % 2 == 0
        g = waw if in_waw else rng.choice(gminy)
        code = rng.choices(codes, weights)[0]
        # Warszawa is dense in services, not in offices: one OPS per district, one PCPR, one PUP.
        if in_waw and code in COMPETENT_TYPES:
            code = rng.choice(DENSE_TYPES) if i >= 2 * WARSZAWA_OFFICES else code
        if in_waw:
            lat, lon = WAW_LAT + rng.uniform(-WAW_DLAT, WAW_DLAT), WAW_LON + rng.uniform(-WAW_DLON, WAW_DLON)
        else:
            lat, lon = g.lat + rng.uniform(-0.03, 0.03), g.lon + rng.uniform(-0.03, 0.03)
        area = [g.powiat_code] if code in ("pup", "owes") and rng.random() < 0.5 else []
        out.append(Institution(
            name=f"{TYPES[InstitutionType(code)].label} w {g.name} nr {i}", type=code,
            gmina_id6=g.id6, powiat_teryt=g.powiat_code, woj_teryt=g.woj_code, locality=g.name,
            street=f"ul. {rng.choice(['Rynek', 'Kościuszki', 'Mickiewicza', 'Polna', 'Szkolna'])}",
            building=str(rng.randint(1, 120)), postal_code=f"{rng.randint(0, 99):02d}-{rng.randint(0, 999):03d}",
            lat=round(lat, 6), lon=round(lon, 6), geo_precision="address", geo_source="bench",
            status="closed" if rng.random() < 0.03 else "active", service_area=area,
            phones=[{"raw": "85 123 45 67", "e164": "+48851234567"}], notes="x" * rng.randint(0, 400),
            updated_at=now,
        ))
    return out


def figures_of(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def timed(fn, args_list: list[tuple]) -> tuple[list[float], list]:
    samples, results = [], []
    for args in args_list:
        started = time.perf_counter()
        results.append(fn(*args))
        samples.append(time.perf_counter() - started)
    return samples, results


def points(rng: random.Random, k: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    gminy = [g for g in teryt.gminy() if g.lat is not None]
    waw = [(WAW_LAT + rng.uniform(-WAW_DLAT, WAW_DLAT) / 2, WAW_LON + rng.uniform(-WAW_DLON, WAW_DLON) / 2)
           for _ in range(k)]
    other = [(g.lat, g.lon) for g in rng.sample(gminy, k)]
    return waw, other


def place_of(id6: str, lat: float, lon: float) -> geo_resolve.Place:
    g = teryt.gmina(id6)
    assert g is not None
    return geo_resolve.Place(g.name, lat, lon, "gmina", g.id6, g.powiat_code, g.woj_code)


def query_plan(session) -> list[str]:
    """EXPLAIN QUERY PLAN of the nearby query on SQLite (empty elsewhere)."""
    if session.get_bind().dialect.name != "sqlite":
        return []
    statement = getattr(geo_resolve, "nearby_candidates_statement", None)
    if statement is None:       # code from before the spatial index
        return []
    stmt = statement(52.23, 21.01, 5.0, geo_resolve.NEARBY_TYPES)
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return [str(r[-1]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="synthetic institutions (default 5000)")
    parser.add_argument("--queries", type=int, default=30, help="queries per case and area (default 30)")
    parser.add_argument("--database-url", help="catalog database (default: a fresh SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-spatial-") as tmp:
        os.environ["WSPARCIE_DATA_DIR"] = tmp
        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
        settings = load()
        db.upgrade(settings.database_url)
        started = time.perf_counter()
        with db.session_scope(settings.database_url) as session:
            session.add_all(synthetic(args.n))
        insert_s = time.perf_counter() - started
        with db.session_scope(settings.database_url) as session:
            index_api.rebuild(settings, session)
        print(f"{args.n} institutions ({args.n // 2} in Warszawa) on {settings.database_url.split(':')[0]}: "
              f"inserted in {insert_s:.1f} s")

        from webapp import create_app, views_public

        rng = random.Random(11)
        waw, other = points(rng, args.queries)
        out: dict = {"n": args.n, "queries": args.queries, "database": settings.database_url.split(":")[0]}
        with db.session_scope(settings.database_url) as session:
            plan = query_plan(session)
            for line in plan:
                print(f"  plan: {line}")
            for area, pts in (("warszawa", waw), ("elsewhere", other)):
                # Warm once (the gazetteers load lazily), then measure.
                geo_resolve.nearby_units(session, *pts[0], geo_resolve.NEARBY_TYPES, 10)
                samples, _ = timed(lambda la, lo: geo_resolve.nearby_units(
                    session, la, lo, geo_resolve.NEARBY_TYPES, 10), pts)
                out[f"nearby_{area}"] = figures_of(samples)
                id6s = [WARSZAWA] * len(pts) if area == "warszawa" else [
                    g.id6 for g in rng.sample([g for g in teryt.gminy() if g.lat is not None], len(pts))]
                places = [(place_of(id6, la, lo),) for id6, (la, lo) in zip(id6s, pts, strict=True)]
                samples, found = timed(lambda p: geo_resolve.competent_units(session, p), places)
                out[f"competent_{area}"] = figures_of(samples)
                out[f"competent_{area}"]["max_units"] = max(len(f) for f in found)
                session.expunge_all()

        app = create_app({"TESTING": True})
        with app.test_request_context("/"):
            with db.session_scope(settings.database_url) as session:
                insts = {area: [session.get(Institution, i) for i in ids] for area, ids in (
                    ("warszawa", list(range(1, 2 * args.queries + 1, 2))),
                    ("elsewhere", list(range(2, 2 * args.queries + 2, 2))))}
                for rows in insts.values():
                    for inst in rows:
                        session.expunge(inst)
            for area, rows in insts.items():
                views_public._nearby(rows[0])
                samples, found = timed(views_public._nearby, [(inst,) for inst in rows])
                out[f"detail_nearby_{area}"] = figures_of(samples)
            client = app.test_client()
            for area, rows in insts.items():
                client.get(f"/instytucja/{rows[0].id}")
                samples, _ = timed(lambda i: client.get(f"/instytucja/{i}").close(), [(r.id,) for r in rows])
                out[f"detail_page_{area}"] = figures_of(samples)
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        db.get_engine(settings.database_url).dispose()

    for key, value in out.items():
        if isinstance(value, dict):
            print(f"{key:28s} p50 {value['p50_ms']:8.2f} ms   p95 {value['p95_ms']:8.2f} ms"
                  + (f"   (up to {value['max_units']} units)" if "max_units" in value else ""))
    print(f"peak RSS {out['peak_rss_mb']} MB")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
