"""Every locality of the SIMC register (data/gazetteer/miejscowosci.csv.gz, built by
data/gazetteer/build_localities.py) with its gmina and a point, and place-name questions over it.

A name alone is often ambiguous ("Nowa Wieś": over a hundred villages). `find` narrows the candidates with
what the text says besides the name (a postal code, "gmina X", "powiat X", the województwo, "koło X") and
otherwise returns every choice, ordered by CHOICE_ORDER, without picking one: the only silent pick is a
single town (or city district) among villages of the same name ("Bolesławiec").

Parts of localities (SIMC SYMPOD != SYM) stand for their parent: they are used only when no standalone
locality matches, and they carry the parent's point.
"""
from __future__ import annotations

import csv
import gzip
import math
import re
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from catalog.address import parse_address
from catalog.geometry import haversine_km
from catalog.settings import REFERENCE_DATA_DIR
from catalog.text import fold
from geo import boundaries, cyrillic, gazetteer, teryt

LOCALITIES_FILE = REFERENCE_DATA_DIR / "gazetteer" / "miejscowosci.csv.gz"
KIND_LABELS = {
    "00": "część miejscowości", "01": "wieś", "02": "kolonia", "03": "przysiółek", "04": "osada",
    "05": "osada leśna", "06": "osiedle", "07": "schronisko turystyczne", "95": "dzielnica m.st. Warszawy",
    "96": "miasto", "98": "delegatura", "99": "część miasta",
}
TOWN_KINDS = frozenset({"96", "95", "98"})
# Point sources of the file: P PRNG, G GeoNames, A PRNG all kinds, R parent's point, M gmina interior point.
PLACE_LEVEL_POINTS = frozenset({"P", "G", "A", "R"})
CHOICE_ORDER = ("towns and city districts first (one town, or one ten times larger than its namesakes, is "
                "taken, the others offered); then by population where GeoNames knows it (larger first); "
                "then villages before other kinds; then by województwo, powiat and gmina name")
POSTCODE_KM = 10.0         # a postal code's area reaches this far past its gminy (see _postcode_test)
DOMINANT_FACTOR = 10       # see _dominant
NEAR_KM = 25.0              # "Nowa Wieś koło Kęt": the place meant lies within this distance of Kęty
# "koło" as a word: "gmina Kołobrzeg" is no "near Brzeg".
_NEAR_RE = re.compile(r"\s+(?:(?:koło|kolo|obok|niedaleko)\s+|k\.\s*|k/\s*)(?=\S)", re.IGNORECASE)
_PARENS_RE = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True, slots=True)
class Locality:
    simc: str
    name: str
    kind: str                  # SIMC RM code, see KIND_LABELS
    gmina_id6: str             # TERC 2026 gmina (a city district's city)
    district_code: str | None  # TERC unit of a city district (RODZ 8/9), e.g. "1465058"
    parent_simc: str | None
    lat: float
    lon: float
    point_source: str          # P / G / A / R / M
    population: int

    @property
    def is_town(self) -> bool:
        return self.kind in TOWN_KINDS

    @property
    def is_part(self) -> bool:
        return self.parent_simc is not None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def place_level_point(self) -> bool:
        """False when the point is only the gmina's interior point."""
        return self.point_source in PLACE_LEVEL_POINTS


@dataclass(frozen=True)
class Register:
    by_simc: dict[str, Locality]
    by_name: dict[str, tuple[str, ...]]            # folded name -> SIMC ids
    standalone: tuple[str, ...]                    # SIMC ids with a place-level point, for nearest()
    lat: np.ndarray = field(repr=False)
    lon: np.ndarray = field(repr=False)


_REGISTER_LOCK = threading.Lock()


def register() -> Register:
    """The whole register, loaded once per process (see bench/geocode.py for time and memory).

    Locked: without it every thread of a fresh web worker that asked at once loaded its own copy
    (eight concurrent first "where" searches took 13 s each instead of 1 s)."""
    if _load_register.cache_info().currsize:
        return _load_register()
    with _REGISTER_LOCK:
        return _load_register()


@lru_cache(maxsize=1)
def _load_register() -> Register:
    by_simc: dict[str, Locality] = {}
    by_name: dict[str, list[str]] = defaultdict(list)
    folded: dict[str, str] = {}     # names repeat (Nowa Wieś ×300): fold each once, outside fold's small cache
    intern = sys.intern             # gmina ids, kinds and sources repeat: one string object each
    with gzip.open(LOCALITIES_FILE, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        c_simc, c_name, c_rm, c_gm, c_unit, c_up, c_lat, c_lon, c_src, c_pop = (col[k] for k in (
            "simc", "nazwa", "rm", "gmina", "jednostka", "simc_nadrz", "lat", "lon", "punkt", "ludnosc"))
        for r in reader:
            if not r[c_lat]:
                continue
            name = r[c_name]
            loc = Locality(r[c_simc], name, intern(r[c_rm]), intern(r[c_gm][:6]), r[c_unit] or None,
                           r[c_up] or None, float(r[c_lat]), float(r[c_lon]), intern(r[c_src]),
                           int(r[c_pop] or 0))
            by_simc[loc.simc] = loc
            key = folded.get(name)
            if key is None:
                key = folded[name] = fold(name)
            by_name[key].append(loc.simc)
    near = tuple(s for s, loc in by_simc.items() if not loc.is_part and loc.place_level_point)
    lat = np.array([by_simc[s].lat for s in near])
    lon = np.array([by_simc[s].lon for s in near])
    return Register(by_simc, {k: tuple(v) for k, v in by_name.items()}, near, lat, lon)


def get(simc: str | None) -> Locality | None:
    return register().by_simc.get(simc or "")


def named(name: str | None) -> list[Locality]:
    reg = register()
    found = reg.by_name.get(fold(name), ())
    if not found and name and cyrillic.has_cyrillic(name):
        found = _cyrillic_named(reg, name)
    return [reg.by_simc[s] for s in found]


def _cyrillic_named(reg: Register, name: str) -> tuple[str, ...]:
    """A Polish place typed in Cyrillic: the curated exonym, else of the spellings it may stand for the one
    naming the largest place ("Щецин" is Szczecin, not the village Szczecyn)."""
    candidates = cyrillic.polish_candidates(name)
    hits = [found for c in candidates if (found := reg.by_name.get(fold(c)))]
    if not hits:
        return ()
    if cyrillic.exonyms().get(fold(name)) is not None and reg.by_name.get(fold(candidates[0])):
        return hits[0]
    return max(hits, key=lambda ids: max(reg.by_simc[s].population for s in ids))


def parent_of(loc: Locality) -> Locality | None:
    """The standalone locality a part belongs to (following SYMPOD up to a few levels)."""
    current, hops = loc, 0
    while current.parent_simc and hops < 5:
        up = get(current.parent_simc)
        if up is None:
            return None
        current, hops = up, hops + 1
    return current if current is not loc else None


def nearest(lat: float, lon: float, gmina_id6: str | None = None) -> Locality | None:
    """The nearest standalone locality with a place-level point (inside gmina_id6 when given)."""
    reg = register()
    if not reg.standalone:
        return None
    # Equirectangular distance is enough to rank points a few km apart.
    d2 = (reg.lat - lat) ** 2 + ((reg.lon - lon) * math.cos(math.radians(lat))) ** 2
    for i in np.argsort(d2)[:200]:
        loc = reg.by_simc[reg.standalone[int(i)]]
        if gmina_id6 is None or boundaries.same_area(loc.gmina_id6, gmina_id6):
            return loc
    return None


# --- place-name questions -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlaceQuery:
    name: str
    postal_code: str | None = None
    gmina: str | None = None
    powiat: str | None = None
    woj: str | None = None
    near: str | None = None

    @property
    def narrowed(self) -> bool:
        return any((self.postal_code, self.gmina, self.powiat, self.woj, self.near))


@dataclass
class Match:
    chosen: Locality | None                         # None: ambiguous, ask which one
    choices: list[Locality]                         # every candidate, in CHOICE_ORDER (chosen first)


def parse_query(text: str) -> PlaceQuery | None:
    """A place name with qualifiers, or None when the text is an address (street, house number)."""
    text = _PARENS_RE.sub(lambda m: ", " + m.group(1), text)
    if district_named(text.replace(",", " ")) is not None:
        return PlaceQuery(text.replace(",", " "))        # "Mokotów, Warszawa"
    near = None
    split = _NEAR_RE.split(text, maxsplit=1)
    if len(split) == 2:
        text, rest = split
        near, _, tail = rest.partition(",")
        text = f"{text}, {tail}" if tail.strip() else text
        near = near.strip() or None
    addr = parse_address(text)
    if addr.street or addr.building or not addr.locality:
        return None
    return PlaceQuery(addr.locality, addr.postal_code, addr.gmina_hint, addr.powiat_hint, addr.woj_hint, near)


def _rank(loc: Locality) -> tuple:
    g = teryt.gmina(loc.gmina_id6)
    p = teryt.powiat(g.powiat_code if g else None)
    w = teryt.wojewodztwo(g.woj_code if g else None)
    return (not loc.is_town, -loc.population, loc.kind != "01", fold(w.name if w else ""),
            fold(p.name if p else ""), fold(g.name if g else ""), loc.simc)


def _one_per_gmina(locs: list[Locality]) -> list[Locality]:
    """Same-named places in one gmina have the same competent units: the first (best ranked) stands for them."""
    seen: set[tuple[str, str | None]] = set()
    out = []
    for loc in locs:
        key = (loc.gmina_id6, loc.district_code)
        if key not in seen:
            seen.add(key)
            out.append(loc)
    return out


def _gminy_named(text: str) -> set[str]:
    words = fold(text).removeprefix("gmina ").removeprefix("gm ")
    found = set(gazetteer.gminy_named(words))
    if not found:       # an inflected form: "gminie Kętach" is rare, but "gmina Kęt" -> "Kęty"
        for form in _lemma_forms(text):
            found |= set(gazetteer.gminy_named(form))
    return found


def _powiaty_named(text: str) -> set[str]:
    words = fold(text).removeprefix("powiat ").removeprefix("pow ").removeprefix("powiatu ")
    return {p.code for p in teryt.powiaty() if fold(p.name) == words or fold(p.label) == words}


def _lemma_forms(text: str) -> list[str]:
    from geo import assign  # morfeusz2 is loaded only for qualifiers in an inflected form

    titled = " ".join(w[:1].upper() + w[1:] for w in text.split())
    return assign.seat_names(f"w {titled}")


def _near_points(text: str) -> list[tuple[float, float, str]]:
    """Points (and gminy) of the place a 'koło X' names: towns first, the name as typed or its lemma."""
    for form in [text, *_lemma_forms(text)]:
        locs = sorted((loc for loc in named(form) if not loc.is_part), key=_rank)
        if locs:
            towns = [loc for loc in locs if loc.is_town] or locs
            return [(loc.lat, loc.lon, loc.gmina_id6) for loc in towns]
        gminy = [teryt.gmina(g) for g in gazetteer.gminy_named(form)]
        pts = [(g.lat, g.lon, g.id6) for g in gminy if g is not None and g.lat is not None]
        if pts:
            return pts
    return []


def _powiat_of(id6: str) -> str:
    g = teryt.gmina(id6)
    return g.powiat_code if g else ""


def _narrow(cands: list[Locality], q: PlaceQuery) -> tuple[list[Locality], bool]:
    """Apply each qualifier the text gives (except 'koło', see _nearest_to); one that matches nothing is
    ignored, so a typo there does not hide the place (the choices are shown instead).
    Returns the candidates left and whether any qualifier matched."""
    out, matched = cands, False
    tests = []
    if q.postal_code:
        tests.append(_postcode_test(q.postal_code))
    if q.gmina:
        ids = _gminy_named(q.gmina)
        tests.append(lambda c: c.gmina_id6 in ids)
    if q.powiat:
        codes = _powiaty_named(q.powiat)
        tests.append(lambda c: _powiat_of(c.gmina_id6) in codes)
    if q.woj:
        woj = gazetteer.woj_code_for(q.woj) or "-"
        tests.append(lambda c: c.gmina_id6.startswith(woj))
    for test in tests:
        kept = [c for c in out if test(c)]
        if kept:
            out, matched = kept, True
    return out, matched


def _postcode_test(code: str):
    """In a gmina the postal code serves, or (a village using a neighbouring gmina's post office) within
    POSTCODE_KM of the code's point."""
    gminy = gazetteer.gminy_for_postcode(code)
    point = gazetteer.postcode_points().get(code)

    def test(c: Locality) -> bool:
        if any(boundaries.same_area(c.gmina_id6, g) for g in gminy):
            return True
        return point is not None and haversine_km(c.lat, c.lon, point.lat, point.lon) <= POSTCODE_KM
    return test


def _nearest_to(cands: list[Locality], near: str) -> Locality | None:
    """'Nowa Wieś koło Kęt': the candidate in the gmina of Kęty, else the nearest within NEAR_KM."""
    points = _near_points(near)
    if not points or not cands:
        return None

    def distance(c: Locality) -> float:
        return min(haversine_km(c.lat, c.lon, la, lo) for la, lo, _ in points)

    same = [c for c in cands if any(boundaries.same_area(c.gmina_id6, g) for _, _, g in points)]
    best = min(same or cands, key=distance)
    return best if same or distance(best) <= NEAR_KM else None


def district_named(text: str) -> teryt.District | None:
    """'Warszawa Mokotów', 'Mokotów', 'Kraków Nowa Huta', 'Kraków-Nowa Huta', 'Łódź Bałuty' -> the district."""
    key = fold(text)
    for d in teryt.districts().values():
        city = teryt.gmina(d.city_id6)
        names = {fold(d.full_name)}
        if city is not None:        # "Warszawa Mokotów" and "Mokotów, Warszawa"
            names |= {fold(f"{city.name} {d.name}"), fold(f"{d.name} {city.name}")}
        if d.kind == "dzielnica":
            names.add(fold(d.name))     # Warszawa's dzielnice are known by name alone
        if key in names:
            return d
    return None


def district_locality(d: teryt.District) -> Locality | None:
    """The SIMC entry of a district (RM 95/98 in that unit), else the city's."""
    for loc in named(d.full_name) + named(d.name):
        if loc.district_code and loc.district_code[:6] == d.id6 and not loc.is_part:
            return loc
    city = teryt.gmina(d.city_id6)
    towns = [loc for loc in named(city.name) if loc.kind == "96" and loc.gmina_id6 == d.city_id6] if city else []
    return towns[0] if towns else None


def find(q: PlaceQuery) -> Match | None:
    """The locality the query names, or the choices when several fit; None when no locality has that name."""
    district = district_named(q.name)
    if district is not None and (loc := district_locality(district)) is not None:
        return Match(loc, [loc])
    locs = named(q.name)
    if not locs:
        return None
    standalone = [c for c in locs if not c.is_part]
    parts = [c for c in locs if c.is_part]
    pool, matched = _narrow(standalone, q) if standalone else ([], False)
    # A part of a village stands in only when no standalone locality has the name or fits the qualifiers.
    if parts and (not standalone or (q.narrowed and not matched)):
        part_pool, part_matched = _narrow(parts, q)
        if not standalone or part_matched:
            pool, matched = part_pool, part_matched
    ordered = _one_per_gmina(sorted(pool, key=_rank))
    if q.near and (near := _nearest_to(pool, q.near)) is not None:
        return Match(near, [near, *[c for c in ordered if c.gmina_id6 != near.gmina_id6]])
    if len(ordered) == 1:
        return Match(ordered[0], ordered)
    towns = [c for c in ordered if c.is_town]
    if towns and not matched and _dominant(towns):
        return Match(towns[0], ordered)
    if q.postal_code and (point := gazetteer.postcode_points().get(q.postal_code)):
        # No namesake in the code's area: the nearest to it are the likeliest.
        ordered.sort(key=lambda c: haversine_km(c.lat, c.lon, point.lat, point.lon))
    return Match(None, ordered)


def _dominant(towns: list[Locality]) -> bool:
    """One town of the name, or one far larger than the others (Bolesławiec 40 000 / Bolesławiec 1 500):
    that is the place meant; its namesakes are still offered."""
    if len(towns) == 1:
        return True
    return towns[0].population > 0 and towns[0].population >= DOMINANT_FACTOR * max(t.population for t in towns[1:])


def selector(loc: Locality) -> str:
    """A query string that selects this locality among its namesakes: 'Nowa Wieś, gmina Kęty, powiat
    oświęcimski' (the powiat: gmina names repeat across Poland)."""
    g = teryt.gmina(loc.gmina_id6)
    if g is None:
        return loc.name
    p = teryt.powiat(g.powiat_code)
    d = teryt.district(loc.district_code)
    if d is not None and loc.kind in TOWN_KINDS:
        city = teryt.gmina(d.city_id6)
        return f"{city.name if city else ''} {d.name}".strip()
    powiat = f"powiat {p.name}" if p and not p.city_with_powiat_rights else None
    return ", ".join(x for x in (loc.name, f"gmina {g.name}", powiat) if x)
