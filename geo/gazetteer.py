"""Offline gazetteer layers from data/gazetteer and data/boundaries, each loaded lazily once per process.

Layers are kept apart because their licences differ and the geocoder names them in its results:
* postcode points (ODbL 1.0, countries-states-cities database) -> "offline:postcode"
* postcode x gmina pairs (PRG address points via GML22/PostCodesMaps, MIT) -> "offline:postcode-prg"
* towns (PRNG, GUGiK, CC BY 4.0) -> "offline:prng"; places >= 500 inhabitants (GeoNames, CC BY 4.0)
  -> "offline:geonames"; gmina interior points (computed from the boundaries) -> "offline:gmina"
"""
from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from catalog.settings import REFERENCE_DATA_DIR
from catalog.text import fold
from geo import boundaries, teryt

GAZETTEER_DIR = REFERENCE_DATA_DIR / "gazetteer"
POSTCODE_POINTS_FILE = GAZETTEER_DIR / "kody_pocztowe_punkty.csv.gz"
POSTCODE_GMINY_FILE = GAZETTEER_DIR / "kody_pocztowe_gminy_prg.csv.gz"
TOWNS_FILE = GAZETTEER_DIR / "prng_miasta.csv"
PLACES_FILE = GAZETTEER_DIR / "geonames_miejscowosci_500plus.csv"


@dataclass(frozen=True)
class PostcodePoint:
    code: str
    town: str
    woj_code: str
    lat: float
    lon: float
    gmina_id6: str | None      # point-in-polygon of the point (generalised boundaries)


@dataclass(frozen=True)
class PostcodeGmina:
    code: str
    gmina_id6: str
    n_addresses: int           # address points of the code in that gmina: how much of the code it holds
    lat: float
    lon: float


@dataclass(frozen=True)
class PlacePoint:
    name: str
    lat: float
    lon: float
    gmina_id6: str
    population: int            # 0 when unknown
    is_town: bool
    layer: str                 # geocoder name of the layer, e.g. "offline:prng"


def _open(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _rows(path: Path):
    with _open(path) as fh:
        yield from csv.DictReader(fh)


@lru_cache(maxsize=1)
def postcode_points() -> dict[str, PostcodePoint]:
    """ODbL layer. Rows the source notes flag (wrong województwo, 'centre of Poland') are left out."""
    out = {}
    for r in _rows(POSTCODE_POINTS_FILE):
        if r["uwagi"].strip():
            continue
        out[r["kod_pocztowy"]] = PostcodePoint(
            r["kod_pocztowy"], r["miejscowosc"], r["woj_teryt"], float(r["lat"]), float(r["lon"]),
            r["gmina_teryt_pip"][:6] or None,
        )
    return out


@lru_cache(maxsize=1)
def postcode_gminy() -> dict[str, tuple[PostcodeGmina, ...]]:
    """Postal code -> gminy it serves, the gmina with most address points first."""
    grouped: dict[str, list[PostcodeGmina]] = defaultdict(list)
    for r in _rows(POSTCODE_GMINY_FILE):
        grouped[r["kod_pocztowy"]].append(PostcodeGmina(
            r["kod_pocztowy"], r["gmina_teryt"][:6], int(r["liczba_punktow_adresowych"] or 0),
            float(r["lat"]), float(r["lon"]),
        ))
    return {code: tuple(sorted(v, key=lambda p: -p.n_addresses)) for code, v in grouped.items()}


def gminy_for_postcode(code: str | None) -> list[str]:
    """Gminy (id6) a postal code serves: PRG pairs, else the gmina of the ODbL point."""
    if not code:
        return []
    pairs = postcode_gminy().get(code)
    if pairs:
        return [p.gmina_id6 for p in pairs]
    point = postcode_points().get(code)
    return [point.gmina_id6] if point and point.gmina_id6 else []


def _add(index: dict[str, list[PlacePoint]], place: PlacePoint) -> None:
    bucket = index[fold(place.name)]
    for i, known in enumerate(bucket):
        if known.gmina_id6 == place.gmina_id6:
            # Same place from two layers: keep the first (PRNG) point, the larger population.
            if place.population > known.population:
                bucket[i] = PlacePoint(known.name, known.lat, known.lon, known.gmina_id6, place.population,
                                       known.is_town or place.is_town, known.layer)
            return
    bucket.append(place)


@lru_cache(maxsize=1)
def places_index() -> dict[str, tuple[PlacePoint, ...]]:
    """Folded name -> places (towns and villages with >= 500 inhabitants), towns and larger first."""
    index: dict[str, list[PlacePoint]] = defaultdict(list)
    for r in _rows(TOWNS_FILE):
        if r["gmina_teryt_pip"]:
            _add(index, PlacePoint(r["nazwa"], float(r["lat"]), float(r["lon"]), r["gmina_teryt_pip"][:6], 0,
                                   True, "offline:prng"))
    for r in _rows(PLACES_FILE):
        if r["gmina_teryt_pip"]:
            _add(index, PlacePoint(r["nazwa"], float(r["lat"]), float(r["lon"]), r["gmina_teryt_pip"][:6],
                                   int(r["populacja"] or 0), False, "offline:geonames"))
    return {k: tuple(sorted(v, key=lambda p: (not p.is_town, -p.population))) for k, v in index.items()}


@lru_cache(maxsize=1)
def post_towns_index() -> dict[str, tuple[PlacePoint, ...]]:
    """Folded post-town name -> one point per (town, gmina): the mean of its postal code points (ODbL layer).
    Covers villages with a post office that the >= 500 inhabitants layer lacks; more codes rank first."""
    sums: dict[tuple[str, str], list] = {}
    for p in postcode_points().values():
        if p.gmina_id6:
            entry = sums.setdefault((p.town, p.gmina_id6), [0.0, 0.0, 0])
            entry[0], entry[1], entry[2] = entry[0] + p.lat, entry[1] + p.lon, entry[2] + 1
    index: dict[str, list[PlacePoint]] = defaultdict(list)
    for (town, id6), (lat, lon, n) in sums.items():
        # A post-2019 gmina named like the town lies inside the old polygon the point fell in (Szczawa).
        named = [g for g in gminy_named(town) if boundaries.same_area(g, id6)]
        index[fold(town)].append(PlacePoint(town, lat / n, lon / n, named[0] if named else id6, n, False,
                                            "offline:postcode"))
    return {k: tuple(sorted(v, key=lambda p: -p.population)) for k, v in index.items()}


def post_towns_named(name: str | None) -> tuple[PlacePoint, ...]:
    return post_towns_index().get(fold(name), ())


@lru_cache(maxsize=1)
def gminy_by_name() -> dict[str, tuple[str, ...]]:
    """Folded gmina name -> gmina ids (several gminy share names, e.g. Bolesławiec city and rural)."""
    index: dict[str, list[str]] = defaultdict(list)
    for g in teryt.gminy():
        index[fold(g.name)].append(g.id6)
    return {k: tuple(v) for k, v in index.items()}


def places_named(name: str | None) -> tuple[PlacePoint, ...]:
    return places_index().get(fold(name), ())


def gminy_named(name: str | None) -> tuple[str, ...]:
    return gminy_by_name().get(fold(name), ())


@lru_cache(maxsize=1)
def woj_by_name() -> dict[str, str]:
    return {fold(w.name): w.code for w in teryt.wojewodztwa()}


def woj_code_for(name_or_code: str | None) -> str | None:
    """'podlaskie' / 'woj. podlaskie' / '20' -> '20'."""
    text = fold(name_or_code)
    if text.isdigit() and teryt.wojewodztwo(text.zfill(2)):
        return text.zfill(2)
    return woj_by_name().get(text.removeprefix("wojewodztwo ").removeprefix("woj "))
