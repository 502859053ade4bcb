"""Search benchmark: build time, index size, query latency (plain, inflected, fuzzy, prefix, filtered,
distance) and the time to update 100 changed institutions, per backend.

    .venv/bin/python bench/search.py --n 10000 [--backend whoosh|tantivy] [--queries 300]

N realistic institutions are generated from the TERYT reference and the GeoNames places (real place
names, Polish inflection via morfeusz2, synthetic operators; no phones or e-mails) into a temporary
SQLite catalog. The last line of output is one JSON object with every figure."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, update

from catalog import db
from catalog import settings as settings_mod
from catalog.models import Institution
from catalog.settings import REFERENCE_DATA_DIR
from geo import teryt
from index import api, store
from index.analysis import _morfeusz

OPS_KIND = {"1": "Miejski", "2": "Gminny", "3": "Miejsko-Gminny"}
OTHER_TYPES = [  # (type, share, name pattern)
    ("cis", 2, "Centrum Integracji Społecznej {of} w {loc}"),
    ("kis", 2, "Klub Integracji Społecznej w {loc}"),
    ("wtz", 6, "Warsztat Terapii Zajęciowej {of} w {loc}"),
    ("zaz", 1, "Zakład Aktywności Zawodowej w {loc}"),
    ("dps", 6, "Dom Pomocy Społecznej w {loc}"),
    ("sds", 6, "Środowiskowy Dom Samopomocy w {loc}"),
    ("oik", 2, "Ośrodek Interwencji Kryzysowej w {loc}"),
    ("spoldzielnia-socjalna", 12, "Spółdzielnia Socjalna {brand}"),
    ("ps", 6, "Przedsiębiorstwo Społeczne {brand}"),
    ("other", 57, "{org} {brand} w {loc}"),
]
OF = ["", "przy Stowarzyszeniu Nadzieja", "Caritas", "przy Fundacji Razem", "Stowarzyszenia Pomocy Dzieciom"]
BRANDS = ["Razem", "Nadzieja", "Promyk", "Pod Dębem", "Zielony Ogród", "Tęcza", "Przystań", "Szansa", "Krok",
          "Horyzont", "Dobry Start", "Wspólna Sprawa", "Most", "Kuźnia", "Pasieka", "Słoneczko", "Arka"]
ORGS = ["Fundacja", "Stowarzyszenie", "Stowarzyszenie na Rzecz Osób Niepełnosprawnych", "Fundacja Pomocy Rodzinie",
        "Bank Żywności", "Klub Seniora", "Stowarzyszenie Rodzin Zastępczych"]
GROUPS = ["osoby bezrobotne", "osoby z niepełnosprawnością", "seniorzy", "rodziny", "osoby bezdomne",
          "osoby w kryzysie", "młodzież", "osoby uzależnione"]
TAGS = ["zasiłki", "praca socjalna", "szkolenia", "terapia zajęciowa", "doradztwo", "schronienie",
        "opieka wytchnieniowa", "poradnictwo prawne", "reintegracja zawodowa", "wsparcie psychologiczne"]


def places() -> list[dict]:
    import csv

    with (REFERENCE_DATA_DIR / "gazetteer" / "geonames_miejscowosci_500plus.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["gmina_teryt_pip"]]
    return [{"name": r["nazwa"], "lat": float(r["lat"]), "lon": float(r["lon"]),
             "gmina": r["gmina_teryt_pip"][:6]} for r in rows]


_LOC: dict[str, str] = {}


def locative(name: str) -> str:
    """'Zabłudów' -> 'Zabłudowie' (each word of a multi-word name), via morfeusz2 generation."""
    if name not in _LOC:
        out = []
        for word in name.split():
            generated = _safe_generate(word)
            forms = [f for f, _l, tag, *_ in generated if ":sg:" in tag and "loc" in tag.split(":")[2]]
            forms = forms or [f for f, _l, tag, *_ in generated if "loc" in tag]
            out.append(forms[0] if forms else word)
        _LOC[name] = " ".join(out)
    return _LOC[name]


def _safe_generate(word: str) -> list:
    try:
        return _morfeusz().generate(word)
    except RuntimeError:
        return []


def generate(n: int, rng: random.Random) -> list[dict]:
    rows: list[dict] = []
    for g in teryt.gminy():
        if len(rows) >= n:
            break
        rows.append(_row(f"{OPS_KIND.get(g.kind_code, 'Gminny')} Ośrodek Pomocy Społecznej w {locative(g.name)}",
                         "ops", g.id6, g.name, g.lat, g.lon, rng))
    for p in teryt.powiaty():
        seat = teryt.gminy(p.code)[0]
        for kind, typ in (("Powiatowy Urząd Pracy", "pup"), ("Powiatowe Centrum Pomocy Rodzinie", "pcpr")):
            if len(rows) < n:
                rows.append(_row(f"{kind} w {locative(seat.name)}", typ, seat.id6, seat.name, seat.lat, seat.lon, rng))
    pool, weights = [t for t in OTHER_TYPES], [t[1] for t in OTHER_TYPES]
    all_places = places()
    while len(rows) < n:
        typ, _share, pattern = rng.choices(pool, weights)[0]
        place = rng.choice(all_places)
        name = pattern.format(of=rng.choice(OF), loc=locative(place["name"]), brand=rng.choice(BRANDS),
                              org=rng.choice(ORGS))
        rows.append(_row(" ".join(name.split()), typ, place["gmina"], place["name"], place["lat"], place["lon"], rng))
    return rows


def _row(name, typ, gmina_id6, locality, lat, lon, rng) -> dict:
    g = teryt.gmina(gmina_id6)
    return {
        "name": name, "type": typ, "locality": locality, "gmina_id6": g.id6 if g else None,
        "powiat_teryt": g.powiat_code if g else None, "woj_teryt": g.woj_code if g else None,
        "postal_code": f"{rng.randint(0, 99):02d}-{rng.randint(0, 999):03d}",
        "street": f"ul. {rng.choice(['Rynek', 'Kościuszki', 'Mickiewicza', 'Długa', 'Szkolna', 'Polna'])}",
        "building": str(rng.randint(1, 120)),
        "lat": (lat or 52.0) + rng.uniform(-0.02, 0.02), "lon": (lon or 19.0) + rng.uniform(-0.02, 0.02),
        "geo_precision": "locality", "status": rng.choices(["active", "expired", "possibly-closed"], [95, 3, 2])[0],
        "target_groups": rng.sample(GROUPS, 2), "service_tags": rng.sample(TAGS, 3),
        "phones": [], "service_area": [], "partners": [], "notes": "Dane syntetyczne (benchmark).",
    }


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1:] if rng.random() < 0.5 else word[:i] + word[i + 1] + word[i] + word[i + 2:]


def queries(rows: list[dict], count: int, rng: random.Random) -> list[tuple[str, api.SearchQuery]]:
    out = []
    kinds = ["plain", "inflected", "fuzzy", "prefix", "filtered", "distance", "near-relevance"]
    for i in range(count):
        row = rng.choice(rows)
        loc = row["locality"]
        kind = kinds[i % len(kinds)]
        if kind == "plain":
            q = api.SearchQuery(text=f"{rng.choice(['mops', 'gops', 'pup', 'wtz', 'cis', 'ośrodek pomocy'])} {loc} ")
        elif kind == "inflected":
            q = api.SearchQuery(text=f"urząd pracy w {locative(loc)} ")
        elif kind == "fuzzy":
            q = api.SearchQuery(text=f"{typo(loc.split()[0], rng)} ")
        elif kind == "prefix":
            q = api.SearchQuery(text=f"warsztat terapii {loc[:4]}")
        elif kind == "filtered":
            q = api.SearchQuery(text="pomoc", types=("ops", "pcpr"), powiat=row["powiat_teryt"])
        elif kind == "distance":
            q = api.SearchQuery(text=rng.choice(["", "dom pomocy", "warsztat"]), near=(row["lat"], row["lon"]),
                                radius_km=30, sort="distance")
        else:
            q = api.SearchQuery(text="ośrodek pomocy społecznej", near=(row["lat"], row["lon"]))
        out.append((kind, q))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_backend(settings, backend: str, qs, changed_ids: list[int]) -> dict:
    settings = dataclasses.replace(settings, search_backend=backend)
    started = time.perf_counter()
    with db.session_scope(settings.database_url) as session:
        api.rebuild(settings, session)
    build_s = time.perf_counter() - started
    size = dir_size(store.current_generation(settings.index_dir, backend))
    started = time.perf_counter()
    api.search(settings, api.SearchQuery(text="mops"))
    first_ms = (time.perf_counter() - started) * 1000
    for _kind, q in qs[:20]:                   # warm-up: caches and OS pages, as in a running web process
        api.search(settings, q)
    times: dict[str, list[float]] = {}
    for kind, q in qs:
        started = time.perf_counter()
        api.search(settings, q)
        times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    with db.session_scope(settings.database_url) as session:
        started = time.perf_counter()
        api.update(settings, session, changed_ids)
        update_s = time.perf_counter() - started
    all_ms = [t for ts in times.values() for t in ts]
    result = {
        "build_s": round(build_s, 2), "index_mb": round(size / 1e6, 1), "first_query_ms": round(first_ms, 1),
        "p50_ms": round(statistics.median(all_ms), 2), "p95_ms": round(pct(all_ms, 95), 2),
        "max_ms": round(max(all_ms), 2), "qps": round(len(all_ms) / (sum(all_ms) / 1000), 1),
        "update_100_s": round(update_s, 3),
        "by_kind_p95_ms": {k: round(pct(v, 95), 2) for k, v in sorted(times.items())},
    }
    print(f"[{backend}] build {result['build_s']} s, size {result['index_mb']} MB, first query "
          f"{result['first_query_ms']} ms, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
          f"{result['qps']} q/s, update 100 in {result['update_100_s']} s")
    print(f"[{backend}] p95 by kind: {result['by_kind_p95_ms']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--backend", choices=sorted(api.BACKENDS), action="append")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        os.environ["WSPARCIE_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("INDEX_DIR", None)
        settings = settings_mod.load()
        db.upgrade(settings.database_url)
        started = time.perf_counter()
        rows = generate(args.n, rng)
        with db.session_scope(settings.database_url) as session:
            for start in range(0, len(rows), 5000):
                session.execute(insert(Institution), rows[start:start + 5000])
        print(f"generated {len(rows)} institutions in {time.perf_counter() - started:.1f} s")
        changed = rng.sample(range(1, len(rows) + 1), min(100, len(rows)))
        with db.session_scope(settings.database_url) as session:
            for inst_id in changed:
                session.execute(update(Institution).where(Institution.id == inst_id)
                                .values(name=f"Fundacja Zmieniona {inst_id}"))
        qs = queries(rows, args.queries, rng)
        results = {b: bench_backend(settings, b, qs, changed) for b in (args.backend or ["tantivy", "whoosh"])}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    print(json.dumps({"n": args.n, "queries": len(qs), "peak_rss_mb": round(peak_mb), "backends": results}))


if __name__ == "__main__":
    main()
