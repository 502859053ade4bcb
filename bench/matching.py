"""Benchmark catalog.matching: N institutions in a fresh SQLite catalog, then 500 lookups (half of them
spelling variants of existing units, half new units) timed one by one, as catalog.merge runs them: one
Matcher per run (its blocking keys read once, `build_matcher_s`), then Matcher.find per new record.

    .venv/bin/python bench/matching.py --n 2000 10000

One catalog size per --n value (default 2000 and 10000). Prints latency median / p95, lookups per second
(look-ups alone, and with the run's Matcher build spread over them), candidates per look-up, hit rate and
peak memory; the last line is JSON (a list of the figures when several sizes are given)."""
from __future__ import annotations

import argparse
import csv
import gzip
import io
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
from catalog.matching import POSTCODES_FILE, Matcher, _Side
from catalog.models import Institution, SourceRecord
from catalog.records import SourceItem
from catalog.types import TYPES as _TYPES
from catalog.types import InstitutionType

TYPES = ("ops", "cis", "kis", "pcpr", "wtz")
TYPE_INFO = {code: _TYPES[InstitutionType(code)] for code in TYPES}
WORDS = ("Nadzieja", "Szansa", "Przystań", "Krok", "Most", "Razem", "Start", "Horyzont", "Promyk", "Ostoja")


def postcodes(limit: int) -> list[tuple[str, str, float, float]]:
    with gzip.open(POSTCODES_FILE, "rb") as fh:
        rows = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))
    rows = [r for r in rows if r["lat"]][:: max(1, len(rows) // limit)]
    return [(r["kod_pocztowy"], r["miejscowosc"], float(r["lat"]), float(r["lon"])) for r in rows[:limit]]


def build(session: Session, n: int, rng: random.Random) -> list[Institution]:
    places = postcodes(max(n // 3, 10))
    out = []
    for i in range(n):
        code, town, lat, lon = rng.choice(places)
        kind = rng.choice(TYPES)
        inst = Institution(name=f"{TYPE_INFO[kind].label} „{rng.choice(WORDS)} {i}” w {town}", type=kind,
                           postal_code=code, locality=town, lat=lat + rng.uniform(-0.01, 0.01),
                           lon=lon + rng.uniform(-0.01, 0.01))
        session.add(inst)
        out.append(inst)
    session.flush()
    session.add_all(SourceRecord(source="rjps", source_key=str(i.id), institution_id=i.id) for i in out)
    session.commit()
    return out


def variant(name: str, rng: random.Random) -> str:
    """Another source's spelling: abbreviation, straight or no quotes, no 'w <town>', upper case."""
    for info in TYPE_INFO.values():
        if name.startswith(info.label) and info.abbreviations:
            name = name.replace(info.label, rng.choice([info.abbreviations[0], info.label.lower()]))
    name = name.replace("„", rng.choice(['"', ""])).replace("”", rng.choice(['"', ""]))
    if rng.random() < 0.5:
        name = name.split(" w ")[0]
    return name.upper() if rng.random() < 0.3 else name


def run(n: int, queries: int) -> dict:
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        with Session(get_engine(url)) as session:
            t0 = time.perf_counter()
            existing = build(session, n, rng)
            build_s = time.perf_counter() - t0
            # warm-up, as the old bench did: postcode points (loaded once per process), rapidfuzz
            Matcher(session).find(SourceItem("warm-up", "0", {"name": "x", "type": "cis", "postal_code": "00-001"}))
            t0 = time.perf_counter()
            matcher = Matcher(session)
            matcher_s = time.perf_counter() - t0
            latencies, hits, correct, false_merges, compared = [], 0, 0, 0, []
            for q in range(queries):
                base = rng.choice(existing)
                if q % 2 == 0:   # a spelling variant of an existing unit, in the same place
                    name = variant(base.name, rng)
                    fields = {"name": name, "type": base.type, "postal_code": base.postal_code,
                              "locality": base.locality}
                else:
                    fields = {"name": f"Klub {rng.choice(WORDS)} nowy {q}", "type": base.type,
                              "postal_code": base.postal_code, "locality": base.locality}
                item = SourceItem("cis-kis-bench", str(q), fields)
                t = time.perf_counter()
                match = matcher.find(item)
                latencies.append((time.perf_counter() - t) * 1000)
                side = _Side.of_item(item)
                compared.append(len(matcher.candidates(item, side, {side.type})))
                hits += match is not None
                correct += q % 2 == 0 and match is not None and match.institution_id == base.id
                false_merges += q % 2 == 1 and match is not None
        get_engine(url).dispose()
    total_s = sum(latencies) / 1000
    latencies.sort()
    return {
        "institutions": n,
        "queries": queries,
        "build_s": round(build_s, 2),
        "build_matcher_s": round(matcher_s, 3),
        "median_ms": round(statistics.median(latencies), 3),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
        "lookups_per_s": round(len(latencies) / total_s, 1),
        "lookups_per_s_with_build": round(len(latencies) / (total_s + matcher_s), 1),
        "candidates_median": statistics.median(compared),
        "candidates_max": max(compared),
        "hit_rate": round(hits / queries, 3),
        "variants_matched": round(correct / (queries // 2 or 1), 3),
        "false_merges": false_merges,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 10000], help="institutions in the catalog")
    parser.add_argument("--queries", type=int, default=500, help="look-ups per catalog size (one run)")
    args = parser.parse_args()
    results = []
    for n in args.n:
        figures = run(n, args.queries)
        for key, value in figures.items():
            print(f"{key:>24}: {value}")
        print()
        results.append(figures)
    print(json.dumps(results[0] if len(results) == 1 else results))


if __name__ == "__main__":
    main()
