"""Build data/gazetteer/miejscowosci.csv.gz: every SIMC locality with its 2026 gmina and a point.

Run by hand from the repository root when the sources change (they are not needed at run time):

    .venv/bin/python data/gazetteer/build_localities.py ../shared/data/gazetteer-full

Joins (see SOURCE.md, section "miejscowosci.csv.gz", for the measured coverage):
1. SIMC 2020 (GUS TERYT) gives every locality, its kind (RM), its gmina and its parent (SYMPOD).
   The gmina is mapped to TERC 2026 by the 6-digit id (stable when a gmina changes kind); the towns
   created since 2020 (the TERYT change file, PRNG's 2025 towns) get the town kind.
2. A point, the first that applies:
   P  PRNG villages and towns (npm polskie-miejscowosci): same gmina (name and kind, or name) and name;
   G  GeoNames populated places: same gmina id6 and name (also gives the population);
   A  PRNG all kinds: the name is unique in the voivodeship in both PRNG and SIMC, and the point lies
      within 3 km of the gmina's polygon;
   R  the parent locality's point (parts of villages and towns: SYMPOD != SYM);
   M  the gmina's interior point (precision: the gmina, not the place).
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import tarfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from catalog.text import fold
from geo import boundaries, teryt

OUT = Path(__file__).resolve().parent / "miejscowosci.csv.gz"
TOWNS_2025 = Path(__file__).resolve().parent / "prng_miasta.csv"
CHANGES = ROOT / "data" / "teryt" / "zmiany_2024-01-01_do_2026-01-01.csv"
TOWN_KINDS = {"96"}
PIP_TOLERANCE_KM = 3.0
COLUMNS = ["simc", "nazwa", "rm", "gmina", "jednostka", "simc_nadrz", "lat", "lon", "punkt", "ludnosc"]
# A city's district unit (Warszawa's dzielnice 8, the delegatury 9) -> the city gmina (id6).
CITY_OF_DISTRICT_PREFIX = {"1465": "146501", "1261": "126101", "1061": "106101", "3064": "306401",
                           "0264": "026401"}


def read_simc(src: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(src / "SIMC_Urzedowy_2020-09-26.zip") as zf:
        name = next(n for n in zf.namelist() if n.endswith(".csv"))
        text = zf.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def city_gmina(unit7: str) -> str:
    """The 2026 gmina id6 of a SIMC unit code (a district unit -> its city)."""
    if unit7[6] in "89":
        return CITY_OF_DISTRICT_PREFIX[unit7[:4]]
    return unit7[:6]


def new_gmina(name: str, id6: str) -> str:
    """A locality named like a gmina created after 2020 inside the gmina it was split from is in the new one."""
    for new, old in boundaries.SPLIT_FROM.items():
        g = teryt.gmina(new)
        if old == id6 and g is not None and fold(g.name) == fold(name):
            return new
    return id6


def gmina_keys() -> dict[tuple[str, str, str], list[str]]:
    """(folded voivodeship, folded powiat, folded gmina name incl. 2024 name) -> gmina ids."""
    keys: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    with (ROOT / "data" / "teryt" / "gminy.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            for name in {r["nazwa"], r["nazwa_2024"]} - {""}:
                keys[(fold(r["woj_nazwa"]), fold(r["powiat_nazwa"]), fold(name))].append(r["gmina_id6"])
    return keys


def _split_commune(text: str) -> tuple[str, str]:
    """'Busko-Zdrój-gmina miejsko-wiejska' -> ('Busko-Zdrój', 'gmina miejsko-wiejska')."""
    for marker in ("-gmina ", "-obszar "):
        if marker in text:
            name, _, kind = text.rpartition(marker)
            return name, marker[1:] + kind
    return text, ""


def prng_points(src: Path) -> dict[tuple[str, str], list[tuple[float, float, str]]]:
    """(gmina id6, folded name) -> PRNG points with their type (village/city)."""
    with tarfile.open(src / "polskie-miejscowosci-1.0.2.tgz") as tf:
        data = json.load(tf.extractfile("package/data.json"))
    keys = gmina_keys()
    out: dict[tuple[str, str], list[tuple[float, float, str]]] = defaultdict(list)
    unplaced = 0
    for rec in data:
        commune, kind = _split_commune(rec["Commune"])
        ids = keys.get((fold(rec["Province"]), fold(rec["District"]), fold(commune)), [])
        # The gmina's kind separates a town from the rural gmina around it (Bolesławiec city / rural).
        kinds = {g: teryt.gmina(g).kind for g in ids}
        exact = [g for g in ids if kinds[g] == kind or (kind.startswith("obszar") and kinds[g].endswith("wiejska"))]
        chosen = exact or ids
        if not chosen:
            unplaced += 1
        for g in chosen:
            out[(g, fold(rec["Name"]))].append((rec["Latitude"], rec["Longitude"], rec["Type"]))
    print(f"PRNG package: {len(data)} records, {unplaced} in no known gmina", file=sys.stderr)
    return out


def geonames(src: Path) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(gmina or district id6, folded name) -> (lat, lon, population) of GeoNames populated places."""
    with zipfile.ZipFile(src / "geonames_PL_2024-05.zip") as zf:
        text = zf.read("PL.txt").decode("utf-8")
    out: dict[tuple[str, str], tuple[float, float, int]] = {}
    for line in text.splitlines():
        f = line.split("\t")
        if f[6] != "P" or not f[12]:
            continue
        unit = f[13][:6] if f[13][:4] in CITY_OF_DISTRICT_PREFIX and f[13][:6].isdigit() else f[12][:6]
        for name in {f[1], f[2]}:
            key = (unit, fold(name))
            pop = int(f[14] or 0)
            if key not in out or pop > out[key][2]:
                out[key] = (float(f[4]), float(f[5]), pop)
            # GeoNames often files a town under the rural gmina around it (Bolesławiec 020102): a town's
            # population is also looked up within its powiat.
            pkey = (f"powiat:{unit[:4]}", fold(name))
            if pop > out.get(pkey, (0.0, 0.0, 0))[2]:
                out[pkey] = (float(f[4]), float(f[5]), pop)
    return out


def prng_all(src: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(voivodeship code, folded name) -> the point of names that occur once in the voivodeship."""
    codes = {fold(w.name): w.code for w in teryt.wojewodztwa()}
    seen: Counter = Counter()
    points: dict[tuple[str, str], tuple[float, float]] = {}
    with (src / "prng_localities_voivodeship_name_point.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            key = (codes.get(fold(r["voivodeship"]), ""), fold(r["name"]))
            seen[key] += 1
            points[key] = (float(r["latitude"]), float(r["longitude"]))
    return {k: v for k, v in points.items() if seen[k] == 1}


def towns_since_2020() -> set[tuple[str, str]]:
    """(gmina id6, folded name) of towns per PRNG 2025 and the TERYT change file (kind 4 rows)."""
    out = set()
    with TOWNS_2025.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["gmina_teryt_pip"]:
                out.add((r["gmina_teryt_pip"][:6], fold(r["nazwa"])))
    with CHANGES.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["zmiana"] == "dodano" and r["kod"].endswith("4"):
                out.add((r["kod"][:6], fold(r["nazwa_2026"])))
    return out


def _near_gmina(lat: float, lon: float, id6: str) -> bool:
    distance = boundaries.distance_to_gmina_km(lat, lon, id6)
    return distance is None or distance <= PIP_TOLERANCE_KM


def build(src: Path) -> tuple[list[dict[str, str]], Counter]:
    simc = read_simc(src)
    prng, gn, allkinds, towns = prng_points(src), geonames(src), prng_all(src), towns_since_2020()
    standalone_names = Counter((r["WOJ"], fold(r["NAZWA"])) for r in simc if r["SYM"] == r["SYMPOD"])
    rows: dict[str, dict[str, str]] = {}
    stats: Counter = Counter()
    for r in simc:
        unit7 = r["WOJ"] + r["POW"] + r["GMI"] + r["RODZ_GMI"]
        id6 = new_gmina(r["NAZWA"], city_gmina(unit7))
        g = teryt.gmina(id6)
        if g is None:
            stats["no 2026 gmina"] += 1
            continue
        key = (id6, fold(r["NAZWA"]))
        unit_key = (unit7[:6], fold(r["NAZWA"]))
        rm = "96" if r["RM"] != "96" and r["SYM"] == r["SYMPOD"] and key in towns else r["RM"]
        row = {"simc": r["SYM"], "nazwa": r["NAZWA"], "rm": rm, "gmina": g.teryt7,
               "jednostka": unit7 if unit7[6] in "89" else "",
               "simc_nadrz": "" if r["SYMPOD"] == r["SYM"] else r["SYMPOD"],
               "lat": "", "lon": "", "punkt": "", "ludnosc": ""}
        if r["SYM"] == r["SYMPOD"]:
            _place(row, r, key, unit_key, prng, gn, allkinds, standalone_names)
        rows[r["SYM"]] = row
    for row in rows.values():
        _inherit(row, rows)
        if not row["punkt"]:
            id6 = row["gmina"][:6]
            g = teryt.gmina(id6)
            point = g if g and g.lat is not None else teryt.gmina(boundaries.SPLIT_FROM.get(id6, ""))
            if point is not None and point.lat is not None:
                row.update(lat=f"{point.lat:.4f}", lon=f"{point.lon:.4f}", punkt="M")
        kind = "standalone" if not row["simc_nadrz"] else "part"
        stats[f"{kind} {row['punkt'] or 'none'}"] += 1
        stats[kind] += 1
    return sorted(rows.values(), key=lambda x: x["simc"]), stats


def _place(row: dict, r: dict, key, unit_key, prng, gn, allkinds, standalone_names) -> None:
    """The point of a standalone locality from the first source that has it (see the module docstring)."""
    want = "city" if row["rm"] == "96" else "village"
    found = prng.get(key, [])
    same_kind = [p for p in found if p[2] == want] or found
    pop = gn.get(unit_key) or gn.get(key)
    town_pop = gn.get((f"powiat:{key[0][:4]}", key[1])) if row["rm"] in ("96", "95", "98") else None
    if pop or town_pop:
        row["ludnosc"] = str(max(pop[2] if pop else 0, town_pop[2] if town_pop else 0) or "")
    if len(same_kind) == 1:
        lat, lon, _ = same_kind[0]
        row.update(lat=f"{lat:.4f}", lon=f"{lon:.4f}", punkt="P")
    elif pop:
        row.update(lat=f"{pop[0]:.4f}", lon=f"{pop[1]:.4f}", punkt="G")
    elif (point := allkinds.get((r["WOJ"], key[1]))) and standalone_names[(r["WOJ"], key[1])] == 1 \
            and _near_gmina(point[0], point[1], key[0]):
        row.update(lat=f"{point[0]:.4f}", lon=f"{point[1]:.4f}", punkt="A")


def _inherit(row: dict, rows: dict[str, dict]) -> None:
    """Parts take the point of the nearest ancestor that has one (R)."""
    parent, hops = row["simc_nadrz"], 0
    while parent and not row["punkt"] and hops < 5:
        up = rows.get(parent)
        if up is None:
            return
        if up["punkt"] and up["punkt"] != "M":
            row.update(lat=up["lat"], lon=up["lon"], punkt="R")
            return
        parent, hops = up["simc_nadrz"], hops + 1


def main(argv: list[str]) -> int:
    src = Path(argv[1] if len(argv) > 1 else ROOT.parent / "shared" / "data" / "gazetteer-full")
    rows, stats = build(src)
    # mtime fixed so the file is byte-identical when rebuilt from the same sources.
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text.flush()
        text.detach()
    for k, v in sorted(stats.items()):
        print(f"{k}: {v}")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(rows)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
