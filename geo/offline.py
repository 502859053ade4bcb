"""The offline geocoder: a parsed address -> ranked candidate points from the gazetteer layers.

Order of trust: postal code point ("postcode") -> town/place by name ("locality") -> gmina interior
point ("gmina"). A postal code narrows the gminy a locality name may be in; a name shared by places in
several gminy yields several candidates (towns and larger places first) so callers can show them.
"""
from __future__ import annotations

from dataclasses import dataclass

from catalog.address import ParsedAddress
from catalog.text import fold
from catalog.types import Precision
from geo import boundaries, gazetteer, localities, teryt

PRECISION_RANK = {p.value: i for i, p in enumerate(Precision)}


@dataclass(frozen=True)
class GeoResult:
    lat: float
    lon: float
    precision: str             # catalog.types.Precision value
    geocoder: str              # "offline:postcode", "offline:prng", "nominatim", ...
    gmina_id6: str | None = None
    label: str | None = None

    def better_than(self, precision: str) -> bool:
        return PRECISION_RANK[self.precision] < PRECISION_RANK[precision]


@dataclass(frozen=True)
class _Filter:
    gminy: frozenset[str]      # allowed gminy (empty: any)
    woj: str | None

    def accepts(self, id6: str | None) -> bool:
        if not id6:
            return not self.gminy and self.woj is None
        if self.gminy and not any(boundaries.same_area(id6, g) for g in self.gminy):
            return False
        return self.woj is None or id6.startswith(self.woj)


def _filter(addr: ParsedAddress) -> _Filter:
    allowed = set(gazetteer.gminy_for_postcode(addr.postal_code))
    if addr.gmina_hint:
        named = set(gazetteer.gminy_named(addr.gmina_hint))
        allowed = (allowed & named or allowed) if allowed else named
    woj = gazetteer.woj_code_for(addr.woj_hint) if addr.woj_hint else None
    if woj is None and addr.postal_code and (point := gazetteer.postcode_points().get(addr.postal_code)):
        woj = point.woj_code
    return _Filter(frozenset(allowed), woj)


def _place_results(name: str | None, flt: _Filter) -> list[GeoResult]:
    places = gazetteer.places_named(name)
    # Villages under 500 inhabitants are only known as post towns; use them when no place matched.
    fallback = () if any(flt.accepts(p.gmina_id6) for p in places) else gazetteer.post_towns_named(name)
    found = [
        GeoResult(p.lat, p.lon, Precision.LOCALITY.value, p.layer, p.gmina_id6, p.name)
        for p in (*places, *fallback) if flt.accepts(p.gmina_id6)
    ]
    return found or _register_results(name, flt)


def _register_results(name: str | None, flt: _Filter) -> list[GeoResult]:
    """A village without a post office or 500 inhabitants: its SIMC locality (geo.localities), when the
    address leaves one gmina holding a locality of that name (several would be a guess)."""
    locs = [loc for loc in localities.named(name) if flt.accepts(loc.gmina_id6)]
    locs = [loc for loc in locs if not loc.is_part] or locs
    if len({loc.gmina_id6 for loc in locs}) != 1:
        return []
    loc = min(locs, key=lambda c: (not c.place_level_point, c.simc))
    precision = Precision.LOCALITY.value if loc.place_level_point else Precision.GMINA.value
    return [GeoResult(loc.lat, loc.lon, precision, "offline:simc", loc.gmina_id6, loc.name)]


def _gmina_results(ids: list[str] | tuple[str, ...], flt: _Filter) -> list[GeoResult]:
    out = []
    for id6 in ids:
        g = teryt.gmina(id6)
        if g is None or not flt.accepts(id6):
            continue
        lat, lon = (g.lat, g.lon) if g.lat is not None else _parent_point(id6)
        if lat is not None and lon is not None:
            out.append(GeoResult(lat, lon, Precision.GMINA.value, "offline:gmina", id6, g.name))
    return out


def _parent_point(id6: str) -> tuple[float | None, float | None]:
    parent = teryt.gmina(boundaries.SPLIT_FROM.get(id6, ""))
    return (parent.lat, parent.lon) if parent else (None, None)


def postcode_gmina(addr: ParsedAddress, gminy: list[str], pip: str | None) -> str | None:
    """The gmina of a postal code point: one named like the town among those the code serves (or a post-2019
    gmina inside the point's polygon), else the only one, else one holding a place of that name, else the
    point's own polygon."""
    for name in (addr.locality, addr.post_town):
        for id6 in gazetteer.gminy_named(name):
            if id6 in gminy or boundaries.same_area(id6, pip):
                return id6
    if len(gminy) == 1:
        return gminy[0]
    for name in (addr.locality, addr.street, addr.post_town):
        for place in gazetteer.places_named(name):
            if place.gmina_id6 in gminy:
                return place.gmina_id6
    return pip if pip in gminy or not gminy else gminy[0]


def _postcode_result(addr: ParsedAddress, flt: _Filter) -> GeoResult | None:
    code = addr.postal_code
    if not code:
        return None
    gminy = gazetteer.gminy_for_postcode(code)
    point = gazetteer.postcode_points().get(code)
    if point is not None:
        id6 = postcode_gmina(addr, gminy, point.gmina_id6)
        return GeoResult(point.lat, point.lon, Precision.POSTCODE.value, "offline:postcode", id6,
                         f"{code} {point.town}")
    pairs = gazetteer.postcode_gminy().get(code)
    if pairs:
        top = pairs[0]
        return GeoResult(top.lat, top.lon, Precision.POSTCODE.value, "offline:postcode-prg", top.gmina_id6, code)
    return None


def _dedupe(results: list[GeoResult]) -> list[GeoResult]:
    seen, out = set(), []
    for r in results:
        key = (r.precision, r.gmina_id6, round(r.lat, 3), round(r.lon, 3))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def candidates(addr: ParsedAddress) -> list[GeoResult]:
    """Candidate points for an address, best first; empty when nothing in the gazetteer matches."""
    if addr.is_empty:
        return []
    flt = _filter(addr)
    out: list[GeoResult] = []
    # A village named before a different post town ("Wólka 5, 16-060 Zabłudów") beats the post town's point.
    village = addr.street if addr.street and not addr.street[:3].endswith(".") else None
    if addr.locality and addr.post_town and fold(addr.locality) != fold(addr.post_town):
        village = addr.locality
    if village and addr.postal_code and flt.gminy:
        out.extend(_place_results(village, flt))
    postcode = _postcode_result(addr, flt)
    if postcode:
        out.append(postcode)
    for name in dict.fromkeys(n for n in (addr.locality, addr.post_town) if n):
        out.extend(_place_results(name, flt))
        out.extend(_gmina_results(gazetteer.gminy_named(name), flt))
    if addr.gmina_hint:
        out.extend(_gmina_results(gazetteer.gminy_named(addr.gmina_hint), flt))
    if flt.gminy:
        out.extend(_gmina_results(sorted(flt.gminy), _Filter(frozenset(), None)))
    return _dedupe(out)


def geocode(addr: ParsedAddress) -> GeoResult | None:
    found = candidates(addr)
    return found[0] if found else None


def gmina_point(id6: str) -> GeoResult | None:
    """The interior point of a gmina (of the gmina it was split from when it has no polygon)."""
    found = _gmina_results([id6], _Filter(frozenset(), None))
    return found[0] if found else None


def place_points(name: str, gmina_id6: str) -> list[GeoResult]:
    """Points of places with this name inside one gmina."""
    return _place_results(name, _Filter(frozenset({gmina_id6}), None))
