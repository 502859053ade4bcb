"""Benchmark catalog.matching.find_match: N institutions in a fresh SQLite catalog, then 200 lookups
(half of them spelling variants of existing units, half new units) timed one by one.

    .venv/bin/python bench/matching.py --n 2000

Prints latency median / p95, lookups per second, hit rate and peak memory; the last line is JSON."""
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
from catalog.matching import POSTCODES_FILE, find_match
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="institutions in the catalog")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        with Session(get_engine(url)) as session:
            t0 = time.perf_counter()
            existing = build(session, args.n, rng)
            build_s = time.perf_counter() - t0
            find_match(session, SourceItem("warm-up", "0", {"name": "x", "type": "cis", "postal_code": "00-001"}))
            latencies, hits, correct, false_merges = [], 0, 0, 0
            for q in range(args.queries):
                base = rng.choice(existing)
                if q % 2 == 0:   # a spelling variant of an existing unit, in the same place
                    name = variant(base.name, rng)
                    fields = {"name": name, "type": base.type, "postal_code": base.postal_code,
                              "locality": base.locality}
                else:
                    fields = {"name": f"Klub {rng.choice(WORDS)} nowy {q}", "type": base.type,
                              "postal_code": base.postal_code, "locality": base.locality}
                t = time.perf_counter()
                match = find_match(session, SourceItem("cis-kis-bench", str(q), fields))
                latencies.append((time.perf_counter() - t) * 1000)
                hits += match is not None
                correct += q % 2 == 0 and match is not None and match.institution_id == base.id
                false_merges += q % 2 == 1 and match is not None
    latencies.sort()
    figures = {
        "institutions": args.n,
        "queries": args.queries,
        "build_s": round(build_s, 2),
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "lookups_per_s": round(len(latencies) / (sum(latencies) / 1000), 1),
        "hit_rate": round(hits / args.queries, 3),
        "variants_matched": round(correct / (args.queries // 2 or 1), 3),
        "false_merges": false_merges,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    for key, value in figures.items():
        print(f"{key:>14}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
