"""'Who is responsible for my address': an address, postal code, locality or point -> its gmina, powiat
and województwo, the competent units in the catalog (OPS/CUS of the gmina, PCPR of the powiat or the city's
MOPS/MOPR in a city with powiat rights, the PUP and the OWES serving the powiat) and the nearest
CIS/KIS/ZAZ/WTZ/PS with distances.

A place name is looked up among every locality of the SIMC register (geo.localities). A name shared by
places in several gminy is not decided silently: qualifiers (a postal code, "gmina X", "powiat X", the
województwo, "koło X") pick the candidate; otherwise the Resolution has no place, is `ambiguous`, and
`alternatives` holds the choices (geo.localities.CHOICE_ORDER), each with a query string selecting it.
A single town among villages of its name (or one ten times larger than its namesakes) is taken, and its
namesakes are still in `alternatives`. A city district (Warszawa's dzielnice, the delegatury of Kraków,
Łódź, Poznań, Wrocław) resolves to its city and keeps the district.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, or_
from sqlmodel import Session, select

from catalog.address import MAX_INPUT, ParsedAddress, format_address, parse_address
from catalog.geometry import bbox, haversine_km
from catalog.models import Institution
from catalog.radii import widen
from catalog.settings import Settings
from catalog.text import fold
from catalog.types import PRECISION_LABELS, TYPES, InstitutionType, Precision, codes_where, info
from geo import assign, boundaries, localities, offline, teryt
from geo.geocoder import Geocoder
from geo.offline import GeoResult

T = InstitutionType
NEARBY_TYPES = codes_where("nearby")
_POINT_RE = re.compile(r"^\s*(-?\d{1,2}\.\d+)\s*[,; ]\s*(-?\d{1,3}\.\d+)\s*$")
_TERYT_RE = re.compile(r"^\s*(\d{6,7})\s*$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")   # never part of a place; a NUL would reach the geocoder cache
_INACTIVE = ("closed",)
ROLE_LABELS = {
    **{code.value: ti.competent_label for code, ti in TYPES.items() if ti.competent_label},
    # Not a type: a city's MOPS doing the PCPR's tasks.
    "pcpr-city": "Miejski ośrodek pomocy społecznej — zadania powiatowego centrum pomocy rodzinie "
                 "(miasto na prawach powiatu)",
}
# A demo placeholder (Institution.is_demo) stands where the catalog has no record of the unit: it is
# never "the office in your gmina", only the statement that its data is missing.
PLACEHOLDER_LABELS = {
    "ops": "Brak danych: katalog nie ma jeszcze ośrodka pomocy społecznej tej gminy (rekord demonstracyjny)",
    "pcpr": "Brak danych: katalog nie ma jeszcze powiatowego centrum pomocy rodzinie tego powiatu "
            "(rekord demonstracyjny)",
    "pup": "Brak danych: katalog nie ma jeszcze powiatowego urzędu pracy tego powiatu (rekord demonstracyjny)",
    "owes": "Brak danych: katalog nie ma jeszcze ośrodka wsparcia ekonomii społecznej tego subregionu "
            "(rekord demonstracyjny)",
}


@dataclass
class Place:
    label: str
    lat: float
    lon: float
    precision: str
    gmina_id6: str | None
    powiat_code: str | None
    woj_code: str | None
    simc: str | None = None             # the SIMC locality, when the place is one
    locality: str | None = None         # its name ("Nowa Wieś")
    locality_kind: str | None = None    # "wieś", "miasto", "część miejscowości"...
    district_code: str | None = None    # TERC unit of a city district ("1465058")
    district: str | None = None         # "Mokotów", "Nowa Huta"
    query: str | None = None            # a query string that selects exactly this place

    def to_dict(self) -> dict[str, Any]:
        names = teryt.names_for(self.gmina_id6, self.powiat_code, self.woj_code)
        return {
            "label": self.label, "lat": self.lat, "lon": self.lon, "precision": self.precision,
            "precision_label": PRECISION_LABELS.get(Precision(self.precision), self.precision),
            "simc": self.simc, "locality": self.locality, "locality_kind": self.locality_kind,
            "district_code": self.district_code, "district": self.district,
            "gmina_id6": self.gmina_id6, "gmina": names["gmina"], "gmina_kind": names["gmina_kind"],
            "powiat_code": self.powiat_code, "powiat": names["powiat_label"],
            "woj_code": self.woj_code, "wojewodztwo": names["wojewodztwo"], "query": self.query,
        }


@dataclass
class Competent:
    role: str           # ops / pcpr / pup / owes
    role_label: str
    institution: Institution


@dataclass
class Nearby:
    institution: Institution
    distance_km: float


@dataclass
class Resolution:
    place: Place | None                 # None when the name is ambiguous: see alternatives
    competent: list[Competent] = field(default_factory=list)
    nearby: list[Nearby] = field(default_factory=list)
    alternatives: list[Place] = field(default_factory=list)
    query: str | None = None

    @property
    def ambiguous(self) -> bool:
        """Several places fit and nothing said which: the choices are the question to ask."""
        return self.place is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "ambiguous": self.ambiguous,
            "question": "Którą miejscowość masz na myśli?" if self.ambiguous else None,
            "choice_order": localities.CHOICE_ORDER if self.ambiguous else None,
            "place": self.place.to_dict() if self.place else None,
            "alternatives": [p.to_dict() for p in self.alternatives],
            "competent": [{"role": c.role, "role_label": c.role_label, "institution": institution_dict(c.institution)}
                          for c in self.competent],
            "nearby": [{"distance_km": round(n.distance_km, 2), "institution": institution_dict(n.institution)}
                       for n in self.nearby],
        }


def institution_dict(inst: Institution) -> dict[str, Any]:
    return {
        "id": inst.id, "name": inst.name, "type": inst.type, "type_label": info(inst.type).label,
        "address": format_address(inst), "phones": inst.phones, "email": inst.email, "www": inst.www,
        "lat": inst.lat, "lon": inst.lon, "geo_precision": inst.geo_precision, "status": inst.status,
        "gmina_id6": inst.gmina_id6, "powiat_teryt": inst.powiat_teryt, "woj_teryt": inst.woj_teryt,
    }


# --- where is it -------------------------------------------------------------------------------------------

def _place_for_gmina(id6: str, label: str, result: GeoResult | None) -> Place | None:
    g = teryt.gmina(id6)
    if g is None:
        return None
    if result is None:
        result = offline.gmina_point(id6)
        if result is None:
            return None
    return Place(label, result.lat, result.lon, result.precision, g.id6, g.powiat_code, g.woj_code)


def _label(addr: ParsedAddress, result: GeoResult | None) -> str:
    town = addr.locality or addr.post_town
    if result is not None and result.label and fold(result.label) == fold(town):
        town = result.label                     # the gazetteer's spelling: "byton" -> "Bytoń"
    if addr.street:
        parts = [" ".join(p for p in (addr.street, addr.building) if p), " ".join(
            p for p in (addr.postal_code, town) if p)]
    else:                                       # rural: "88-231 Bytoń 72"
        parts = [" ".join(p for p in (addr.postal_code, town, addr.building) if p)]
    return ", ".join(p for p in parts if p) or (result.label if result and result.label else addr.raw)


def _locality_place(loc: localities.Locality, label: str | None = None) -> Place | None:
    """A SIMC locality as a place: a part of a village stands for its parent ("Zalesie, część wsi Wola")."""
    g = teryt.gmina(loc.gmina_id6)
    if g is None:
        return None
    d = teryt.district(loc.district_code)
    parent = localities.parent_of(loc) if loc.is_part else None
    if label is None:
        label = loc.name if d is None or loc.kind in ("95", "98") else f"{loc.name} ({d.name})"
        if d is not None and loc.kind in ("95", "98"):
            city = teryt.gmina(d.city_id6)
            label = f"{city.name if city else ''} – {d.name}" if d.kind == "delegatura" else f"Warszawa – {d.name}"
        elif parent is not None and fold(parent.name) != fold(loc.name):
            label = f"{loc.name} ({loc.kind_label}: {parent.name})"
    precision = Precision.LOCALITY.value if loc.place_level_point else Precision.GMINA.value
    return Place(label, loc.lat, loc.lon, precision, g.id6, g.powiat_code, g.woj_code, loc.simc, loc.name,
                 loc.kind_label, d.teryt7 if d else None, d.name if d else None, localities.selector(loc))


def _locate_locality(text: str) -> tuple[Place | None, list[Place]] | None:
    """A place name (with qualifiers) among every SIMC locality; None when the text is an address or no
    locality has that name (the address path then tries gminy, postal codes, the gazetteer layers)."""
    q = localities.parse_query(text)
    match = localities.find(q) if q else None
    if match is None or not match.choices:
        return None
    places = [p for p in (_locality_place(c) for c in match.choices) if p is not None]
    if match.chosen is None:
        return None, places
    chosen = _locality_place(match.chosen, _query_label(q, match.chosen))
    if chosen is None:
        return None
    return chosen, [p for p in places if p.simc != chosen.simc and p.gmina_id6 != chosen.gmina_id6]


def _query_label(q: localities.PlaceQuery | None, loc: localities.Locality) -> str | None:
    """'16-060 Zabłudów' keeps the postal code the user typed; other labels come from the locality."""
    if q is None or not q.postal_code or loc.district_code:
        return None
    return f"{q.postal_code} {loc.name}"


def _locate_text(session: Session, settings: Settings, text: str) -> tuple[Place | None, list[Place]] | None:
    found = _locate_locality(text)
    if found is not None:
        return found
    addr = parse_address(text)
    cands = offline.candidates(addr)
    assigned = assign.assign(addr)
    primary = assigned.gmina_id6 if assigned else (cands[0].gmina_id6 if cands else None)
    if not primary:
        return None
    own = next((c for c in cands if boundaries.same_area(c.gmina_id6, primary)), None)
    if settings.geocoder == "nominatim" and (addr.street or addr.building):
        better = Geocoder(settings, session).geocode(addr)
        if better is not None and (own is None or better.better_than(own.precision)) \
                and boundaries.same_area(better.gmina_id6, primary):
            own = better
    place = _place_for_gmina(primary, _label(addr, own), own)
    if place is None:
        return None
    others = [c for c in cands if c.gmina_id6 and not boundaries.same_area(c.gmina_id6, primary)]
    seen: set[str] = {primary}
    alternatives = []
    for c in others:
        if c.gmina_id6 not in seen and (alt := _place_for_gmina(c.gmina_id6, c.label or text, c)):
            seen.add(c.gmina_id6)
            alternatives.append(alt)
    return place, alternatives


def locate(session: Session, settings: Settings, text: str | None = None,
           point: tuple[float, float] | None = None) -> tuple[Place | None, list[Place]] | None:
    """The place (None when ambiguous) and its alternatives; None when nothing is known of the input."""
    if point is None and text:
        match = _POINT_RE.match(text)
        if match:
            point = (float(match.group(1)), float(match.group(2)))
        elif (code := _TERYT_RE.match(text)) and teryt.gmina(code.group(1)):
            g = teryt.gmina(code.group(1))
            place = _place_for_gmina(g.id6, g.name, None) if g else None
            return (place, []) if place else None
    if point is not None:
        lat, lon = point
        id6 = boundaries.gmina_at(lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None
        g = teryt.gmina(id6)
        if g is None:
            return None
        return _point_place(lat, lon, g), []
    return _locate_text(session, settings, text or "")


def _point_place(lat: float, lon: float, g: teryt.Gmina) -> Place:
    """A shared location named by its gmina and the nearest locality in it ("Moczary, gmina Ustrzyki
    Dolne"), never by raw coordinates. A point given by the user is exact, whatever it was picked from.
    No district is set: without district polygons the nearest district centre is a guess, and the
    district decides Warszawa's OPS."""
    loc = localities.nearest(lat, lon, g.id6)
    label = f"{loc.name}, gmina {g.name}" if loc else f"gmina {g.name}"
    return Place(label, lat, lon, Precision.ADDRESS.value, g.id6, g.powiat_code, g.woj_code,
                 loc.simc if loc else None, loc.name if loc else None, loc.kind_label if loc else None)


# --- who is responsible --------------------------------------------------------------------------------------

def _active(query):
    return query.where(Institution.status.notin_(_INACTIVE))


def _area_contains(code: str):
    # service_area is a JSON list of codes; a text match on the quoted code works on SQLite and PostgreSQL.
    return cast(Institution.service_area, String).like(f'%"{code}"%')


def _serves(inst: Institution, powiat_code: str) -> bool:
    """A powiat-level unit serves the powiats in its service_area, else the powiat it stands in."""
    return powiat_code in inst.service_area if inst.service_area else inst.powiat_teryt == powiat_code


def _powiat_units(session: Session, kind: str, powiat_code: str) -> list[Institution]:
    query = _active(select(Institution).where(Institution.type == kind).where(
        or_(Institution.powiat_teryt == powiat_code, _area_contains(powiat_code))))
    rows = [r for r in session.exec(query.order_by(Institution.parent_id.is_not(None), Institution.id)).all()
            if _serves(r, powiat_code)]
    return rows


def _ops(session: Session, gmina_id6: str, district_code: str | None = None) -> list[Competent]:
    # In Warszawa each dzielnica has its own OPS ("Ośrodek Pomocy Społecznej Dzielnicy Mokotów"): a record
    # filed under the district's unit code (1465xx) is the competent one; without one, the city's.
    if district_code and district_code[6:] == "8" and (own := _ops(session, district_code[:6])):
        return own
    query = _active(select(Institution).where(Institution.type.in_((T.OPS.value, T.CUS.value)))
                    .where(Institution.gmina_id6 == gmina_id6))
    rows = session.exec(query.order_by(Institution.parent_id.is_not(None), Institution.id)).all()
    seats = [r for r in rows if r.parent_id is None] or rows[:1]
    return [Competent("ops", ROLE_LABELS["cus" if r.type == T.CUS.value else "ops"], r) for r in seats[:2]]


def _pcpr(session: Session, place: Place, ops: list[Competent]) -> list[Competent]:
    p = teryt.powiat(place.powiat_code)
    units = _powiat_units(session, T.PCPR.value, place.powiat_code or "")
    if p is None or not p.city_with_powiat_rights:
        return [Competent("pcpr", ROLE_LABELS["pcpr"], u) for u in units[:1]]
    # In a city with powiat rights the city's own centre (MOPR) or its MOPS does the PCPR's job; a
    # "Powiatowe Centrum" standing in the city serves the surrounding land powiat instead.
    own = [u for u in units if not fold(u.name).startswith("powiatowe") or place.powiat_code in u.service_area]
    if own:
        return [Competent("pcpr", ROLE_LABELS["pcpr"], own[0])]
    city_ops = ops or _city_ops(session, place.powiat_code or "")
    return [Competent("pcpr", ROLE_LABELS["pcpr-city"], c.institution) for c in city_ops[:1]]


def _city_ops(session: Session, powiat_code: str) -> list[Competent]:
    query = _active(select(Institution).where(Institution.type.in_((T.OPS.value, T.CUS.value)))
                    .where(Institution.powiat_teryt == powiat_code).where(Institution.parent_id.is_(None)))
    return [Competent("ops", ROLE_LABELS["ops"], r) for r in session.exec(query.order_by(Institution.id)).all()]


def _owes(session: Session, place: Place) -> list[Competent]:
    codes = [c for c in (place.powiat_code, place.woj_code) if c]
    query = _active(select(Institution).where(Institution.type == T.OWES.value)
                    .where(or_(*[_area_contains(c) for c in codes])))
    rows = [r for r in session.exec(query.order_by(Institution.id)).all()
            if any(c in r.service_area for c in codes)]
    return [Competent("owes", ROLE_LABELS["owes"], r) for r in rows]


def competent_units(session: Session, place: Place) -> list[Competent]:
    out = _ops(session, place.gmina_id6, place.district_code) if place.gmina_id6 else []
    if place.powiat_code:
        out += _pcpr(session, place, list(out))
        out += [Competent("pup", ROLE_LABELS["pup"], u)
                for u in _powiat_units(session, T.PUP.value, place.powiat_code)]
    out += _owes(session, place)
    return [_honest(c) for c in out]


def _honest(unit: Competent) -> Competent:
    """A placeholder's label says the data is missing instead of naming it the competent office."""
    if not unit.institution.is_demo:
        return unit
    return Competent(unit.role, PLACEHOLDER_LABELS[unit.role], unit.institution)


# How the box around a point grows while looking for its nearest units (not catalog.radii's policy of how far
# to send a person: that one decides the radius, this only how few rows are read inside it).
BOX_START_KM = 2.0
BOX_GROWTH = 3.0
BOX_ANYWHERE_KM = 2500.0     # past this the box is dropped: every located unit is read


def nearby_candidates_statement(lat: float, lon: float, radius_km: float | None, types: tuple[str, ...]):
    """(id, lat, lon) of the active located units of `types` in the box around the point holding the circle
    of radius_km (None: everywhere). Answered from the index ix_institution_type_point alone."""
    query = _active(select(Institution.id, Institution.lat, Institution.lon).where(Institution.type.in_(types)))
    if radius_km is None:
        return query.where(Institution.lat.is_not(None)).where(Institution.lon.is_not(None))
    min_lat, max_lat, min_lon, max_lon = bbox(lat, lon, radius_km)
    return query.where(Institution.lat.between(min_lat, max_lat), Institution.lon.between(min_lon, max_lon))


def _nearest_ids(session: Session, lat: float, lon: float, types: tuple[str, ...], limit: int,
                 radius_km: float | None, start_km: float) -> tuple[list[tuple[int, float]], float]:
    """Up to `limit` (id, distance) of the nearest units within radius_km (None: anywhere), nearest first
    (ties by id), and the box radius reached. The box starts at start_km and grows until it holds `limit`
    units inside its circle or reaches radius_km: the nearest ones are then among those read."""
    box = start_km if radius_km is None else min(start_km, radius_km)
    while True:
        anywhere = radius_km is None and box > BOX_ANYWHERE_KM
        stmt = nearby_candidates_statement(lat, lon, None if anywhere else box, types)
        found = sorted((d, int(i)) for i, la, lo in session.exec(stmt).all()
                       if (d := haversine_km(lat, lon, la, lo)) <= box or anywhere)
        if len(found) >= limit or anywhere or (radius_km is not None and box >= radius_km):
            return [(i, d) for d, i in found[:limit]], box
        box = box * BOX_GROWTH if radius_km is None else min(box * BOX_GROWTH, radius_km)


def nearby_units(session: Session, lat: float, lon: float, types: tuple[str, ...], limit: int) -> list[Nearby]:
    """The `limit` nearest active units of `types` within the first radius of catalog.radii's policy that has
    enough of them, nearest first. Only ids and points are read to find them; only those shown are loaded."""
    if not types or limit <= 0:
        return []
    reached = [BOX_START_KM]    # a wider radius starts from the box the narrower one ended with

    def within(radius: float | None) -> list[tuple[int, float]]:
        found, reached[0] = _nearest_ids(session, lat, lon, tuple(types), limit, radius, reached[0])
        return found

    # The one widening policy (catalog.radii), the same the home page's search widens by.
    found, _radius = widen(within, lambda units: len(units) >= limit)
    rows = {r.id: r for r in session.exec(select(Institution).where(Institution.id.in_([i for i, _d in found])))}
    return [Nearby(rows[i], d) for i, d in found if i in rows]


def resolve(session: Session, settings: Settings, text: str | None = None,
            point: tuple[float, float] | None = None, nearby_types: tuple[str, ...] = NEARBY_TYPES,
            nearby_limit: int = 10) -> Resolution | None:
    """Where the address is and who is responsible for it; None when the input names no place we know."""
    if text is not None:
        text = " ".join(_CONTROL_RE.sub(" ", text).split())
        if len(text) > MAX_INPUT or not re.search(r"\w", text):
            return None
    if not text and point is None:
        return None
    located = locate(session, settings, text, point)
    if located is None:
        return None
    place, alternatives = located
    if place is None:       # ambiguous: the choices are the answer, nothing is picked
        return Resolution(None, [], [], alternatives, text)
    return Resolution(place, competent_units(session, place),
                      nearby_units(session, place.lat, place.lon, tuple(nearby_types), nearby_limit),
                      alternatives, text)
