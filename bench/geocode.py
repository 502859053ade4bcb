"""Benchmark of the offline geocoder chain: N addresses generated from the reference data (real postal
codes and localities, synthetic streets), geocoded cold (empty cache, answers written to GeocodeCache in a
temporary SQLite file) and again through the cache (a fresh Geocoder reading the database).

    .venv/bin/python bench/geocode.py --n 10000

Passes: the chain alone (no cache), cold one by one (per-address latency; answers buffered, written a batch
at a time), cold in batches (`geocode_many`, as geo.enrich runs), warm in batches (a fresh Geocoder on the
filled table: one SELECT per batch of addresses; the figure `cache_addresses_per_s`), warm one by one
(one SELECT per address), and the run's own dict (same Geocoder again).
Prints addresses/s, p50/p95 per-address latency for each pass, peak memory, then one JSON line.
Also: the every-locality register (geo.localities) load time and RSS growth, and geo.resolve.resolve by
village name alone (--villages random SIMC names, fixed seed; ambiguous names answer with their choices).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from catalog.db import get_engine, upgrade
from catalog.settings import Settings
from geo import gazetteer, localities
from geo.geocoder import Geocoder
from geo.resolve import resolve

STREETS = ("ul. Polna", "ul. Leśna", "ul. Szkolna", "ul. Kościuszki", "al. Jana Pawła II", "pl. Wolności",
           "os. Słoneczne", "Rynek", "ul. 3 Maja", "ul. Kolejowa")


def generate(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    codes = sorted(gazetteer.postcode_points().values(), key=lambda p: p.code)
    places = sorted((p for ps in gazetteer.places_index().values() for p in ps), key=lambda p: p.name)
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 3:   # rural: "Bytoń 72"
            place = rng.choice(places)
            out.append(f"{place.name} {rng.randint(1, 150)}")
            continue
        pc = rng.choice(codes)
        street = rng.choice(STREETS)
        number = f"{rng.randint(1, 120)}{rng.choice(['', '', 'a'])}"
        if kind == 0:
            out.append(f"{street} {number}, {pc.code} {pc.town}")
        elif kind == 1:
            out.append(f"{pc.town}, {street} {number}")
        else:
            out.append(f"{pc.code} {pc.town}")
    return out


def timed_pass(geocoder: Geocoder, addresses: list[str]) -> tuple[float, list[float], int]:
    latencies, found = [], 0
    start = time.perf_counter()
    for address in addresses:
        t0 = time.perf_counter()
        found += geocoder.geocode(address) is not None
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - start, latencies, found


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def village_names(n: int, seed: int = 12) -> list[str]:
    reg = localities.register()
    names = sorted({loc.name for loc in reg.by_simc.values() if not loc.is_part})
    return random.Random(seed).sample(names, min(n, len(names)))


def resolve_pass(session: Session, settings: Settings, names: list[str]) -> tuple[list[float], int]:
    latencies, ambiguous = [], 0
    for name in names:
        t0 = time.perf_counter()
        res = resolve(session, settings, name, nearby_limit=0)
        latencies.append(time.perf_counter() - t0)
        ambiguous += res is not None and res.ambiguous
    return latencies, ambiguous


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--villages", type=int, default=2000)
    args = parser.parse_args()
    rss0, t0 = rss_mb(), time.perf_counter()
    localities.register()
    localities_load_s, localities_rss_mb = time.perf_counter() - t0, rss_mb() - rss0
    t0 = time.perf_counter()
    gazetteer.postcode_points(), gazetteer.postcode_gminy(), gazetteer.places_index(), gazetteer.post_towns_index()
    load_s = time.perf_counter() - t0
    addresses = generate(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        settings = Settings(data_dir=Path(tmp), database_url=url, index_dir=Path(tmp), captures_dir=Path(tmp))
        results = {}
        half = addresses[: len(addresses) // 2]
        with Session(get_engine(url)) as session:
            chain_s, _, _ = timed_pass(Geocoder(settings, None), addresses)
            cold = Geocoder(settings, session)
            cold_s, cold_lat, found = timed_pass(cold, half)   # one by one: half the addresses ...
            t0 = time.perf_counter()
            found += sum(r is not None for r in cold.geocode_many(addresses[len(half):]))   # ... in batches
            cold.flush()
            batch_cold_s = time.perf_counter() - t0
            session.commit()
            warm_runs = []
            for _ in range(3):   # the median of three fresh geocoders (a shared machine is noisy)
                hit_geocoder = Geocoder(settings, session)
                t0 = time.perf_counter()
                warm = hit_geocoder.geocode_many(addresses)
                warm_runs.append(time.perf_counter() - t0)
            hit_s = statistics.median(warm_runs)
            results["cache_hits"] = hit_geocoder.stats["cache_hits"]
            results["cache_selects"] = hit_geocoder.stats["cache_reads"]
            t0 = time.perf_counter()
            hit_geocoder.geocode_many(addresses)
            memory_s = time.perf_counter() - t0
            single_s, hit_lat, _ = timed_pass(Geocoder(settings, session), addresses)
            found_warm = sum(r is not None for r in warm)
            session.rollback()
            names = village_names(args.villages)
            village_lat, ambiguous = resolve_pass(session, settings, names)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.update({
        "n": args.n, "found": found, "gazetteer_load_s": round(load_s, 3),
        "found_warm": found_warm, "chain_addresses_per_s": round(args.n / chain_s, 1),
        "cold_addresses_per_s": round(len(half) / cold_s, 1),
        "cold_p50_ms": round(pct(cold_lat, 50) * 1000, 3), "cold_p95_ms": round(pct(cold_lat, 95) * 1000, 3),
        "cold_batch_addresses_per_s": round((args.n - len(half)) / batch_cold_s, 1),
        "cache_addresses_per_s": round(args.n / hit_s, 1),
        "cache_single_addresses_per_s": round(args.n / single_s, 1),
        "cache_p50_ms": round(pct(hit_lat, 50) * 1000, 3), "cache_p95_ms": round(pct(hit_lat, 95) * 1000, 3),
        "memory_addresses_per_s": round(args.n / memory_s, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "localities_load_s": round(localities_load_s, 3), "localities_rss_mb": round(localities_rss_mb, 1),
        "village_names": len(names), "village_ambiguous": ambiguous,
        "village_resolve_p50_ms": round(pct(village_lat, 50) * 1000, 3),
        "village_resolve_p95_ms": round(pct(village_lat, 95) * 1000, 3),
    })
    print(f"addresses: {args.n} (found {found}), gazetteer load {load_s:.2f} s")
    print(f"chain alone (no cache): {results['chain_addresses_per_s']} addr/s")
    print(f"cold one by one (chain + buffered cache write): {results['cold_addresses_per_s']} addr/s, "
          f"p50 {results['cold_p50_ms']} ms, p95 {results['cold_p95_ms']} ms")
    print(f"cold in batches: {results['cold_batch_addresses_per_s']} addr/s")
    print(f"warm in batches (fresh geocoder, {results['cache_selects']} SELECTs): "
          f"{results['cache_addresses_per_s']} addr/s, hits {results['cache_hits']}, found {found_warm}")
    print(f"warm one by one (a SELECT per address): {results['cache_single_addresses_per_s']} addr/s, "
          f"p50 {results['cache_p50_ms']} ms, p95 {results['cache_p95_ms']} ms")
    print(f"the run's dict (same geocoder again): {results['memory_addresses_per_s']} addr/s")
    print(f"localities register: load {results['localities_load_s']} s, +{results['localities_rss_mb']} MB RSS")
    print(f"resolve by village name ({len(names)} names, {ambiguous} ambiguous): "
          f"p50 {results['village_resolve_p50_ms']} ms, p95 {results['village_resolve_p95_ms']} ms")
    print(f"peak RSS: {results['peak_rss_mb']} MB")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
