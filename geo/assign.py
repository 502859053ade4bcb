"""TERYT assignment: which gmina (and so powiat and województwo) an institution is in.

Evidence, most trusted first: explicit codes from the source; the postal code (postal code x gmina pairs
from PRG address points); the locality name (diacritics-insensitive), looked up in the SIMC register of
every locality (geo.localities, as resolve does: a name shared by several villages is taken only when the
address, the source's powiat or a precise point says which); the seat named in the institution's own name
("GOPS w Bytoniu" -> Bytoń, via morfeusz2 lemmas); the point's polygon. An address-derived gmina
is checked against a precise point (source coordinates or an address-level geocode): when the point lies
more than ~2 km outside that gmina (the boundaries' generalisation), the disagreement is flagged for
review and the address-derived answer is kept; nothing is guessed away.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from catalog.address import ParsedAddress
from catalog.types import Precision
from geo import boundaries, gazetteer, localities, offline, teryt

TOLERANCE_KM = 2.0
PRECISE = {Precision.SOURCE.value, Precision.ADDRESS.value, Precision.STREET.value}
_UPPER = "A-ZĄĆĘŁŃÓŚŹŻ"
_SEAT_RE = re.compile(rf"\b(?:w|we|[Gg]miny|[Mm]iasta|[Gg]mina|[Mm]iasto)\s+([{_UPPER}][\w.]*(?:(?:\s+|-)[{_UPPER}][\w.]*)*)"
                      rf"(\s+(?:nad|pod)\s+[{_UPPER}]\w*)?")
_MAX_COMBINATIONS = 32
METHOD_LABELS = {
    "explicit": "kod TERYT podany przez źródło", "postcode": "kod pocztowy", "locality": "nazwa miejscowości",
    "name": "nazwa jednostki", "pip": "położenie punktu na mapie",
}


@dataclass(frozen=True)
class Assignment:
    gmina_id6: str | None
    powiat_code: str | None
    woj_code: str | None
    method: str | None                 # explicit / postcode / locality / name / pip
    flag: str | None = None            # Polish note for review when address and point disagree
    alternatives: tuple[str, ...] = ()  # other gminy the evidence allowed (ambiguous locality names)


def _from_gmina(id6: str, method: str, alternatives: tuple[str, ...] = ()) -> Assignment:
    g = teryt.gmina(id6)
    assert g is not None
    return Assignment(g.id6, g.powiat_code, g.woj_code, method, None, tuple(a for a in alternatives if a != g.id6))


@lru_cache(maxsize=1)
def _morfeusz():
    import morfeusz2  # ~44 MB and 0.1 s: loaded only when a name has to be read

    return morfeusz2.Morfeusz()


def _lemmas(word: str) -> list[str]:
    forms = [word]
    for _start, _end, (_orth, lemma, *_rest) in _morfeusz().analyse(word):
        base = lemma.split(":", 1)[0]
        if base not in forms:
            forms.append(base)
    return forms


def seat_names(name: str | None) -> list[str]:
    """Nominative place names a unit's name points at: 'GOPS w Nowym Targu' -> [..., 'Nowy Targ', ...];
    'DPS w Nakle nad Notecią' -> [..., 'Nakło nad Notecią'] (the river part keeps its case)."""
    out: list[str] = []
    for match in _SEAT_RE.finditer(name or ""):
        words = re.split(r"(\s+|-)", match.group(1).rstrip("."))
        options = [[w] if not w.strip() or w == "-" else _lemmas(w) for w in words]
        tail = match.group(2) or ""
        for combo in itertools.islice(itertools.product(*options), _MAX_COMBINATIONS):
            candidate = ("".join(combo) + tail).strip()
            if candidate not in out:
                out.append(candidate)
    return out


def _woj_hint(addr: ParsedAddress) -> str | None:
    return gazetteer.woj_code_for(addr.woj_hint) if addr.woj_hint else None


def by_postcode(addr: ParsedAddress, point_gmina: str | None) -> Assignment | None:
    gminy = gazetteer.gminy_for_postcode(addr.postal_code)
    if not gminy:
        return None
    if point_gmina and len(gminy) > 1:
        for id6 in gminy:
            if boundaries.same_area(id6, point_gmina):
                return _from_gmina(id6, "postcode")
    code_point = gazetteer.postcode_points().get(addr.postal_code or "")
    id6 = offline.postcode_gmina(addr, gminy, code_point.gmina_id6 if code_point else None)
    return _from_gmina(id6, "postcode") if id6 and teryt.gmina(id6) else None


def by_names(names: list[str], method: str, woj: str | None, within: str | None = None,
             near_gmina: str | None = None, addr: ParsedAddress | None = None) -> Assignment | None:
    """Gmina of the first name that is a gmina or a known place (towns and larger places first), else a
    locality of the SIMC register (geo.localities: every village, with its gmina).
    within: a TERYT prefix (a powiat code) the gmina must lie in; near_gmina: the gmina of a precise point,
    which picks among same-named villages (else a gmina of the same name, the seat); addr: the address the names come from, whose postal code, gmina,
    powiat and województwo narrow them. A name the register holds in several gminy is not guessed."""
    prefix = within or woj
    for name in names:
        ids = [g for g in gazetteer.gminy_named(name) if prefix is None or g.startswith(prefix)]
        ids += [p.gmina_id6 for p in gazetteer.places_named(name) if prefix is None or p.gmina_id6.startswith(prefix)]
        ids = list(dict.fromkeys(ids))
        # A name the register holds is decided by it, as resolve decides it (geo.localities.find): the
        # older layers (GeoNames and PRNG points placed by the generalised polygons) know one village of a
        # name shared by a hundred, and sometimes place it in the neighbouring gmina.
        register = _register_gminy(_place_query(name, addr), prefix, near_gmina)
        if register is not None:
            chosen, choices = register
            if chosen:
                return _from_gmina(chosen, method, tuple(dict.fromkeys((*choices, *ids))))
            continue            # several villages of the name and nothing says which: no guess
        if ids:
            return _from_gmina(_best_named(name, ids), method, tuple(ids))
        # Not in the register as written (an older spelling): a post town of that name.
        ids = list(dict.fromkeys(p.gmina_id6 for p in gazetteer.post_towns_named(name)
                                 if prefix is None or p.gmina_id6.startswith(prefix)))
        if ids:
            return _from_gmina(_best_named(name, ids), method, tuple(ids))
    return None


def _place_query(name: str, addr: ParsedAddress | None) -> localities.PlaceQuery:
    if addr is None or name != addr.locality:
        return localities.PlaceQuery(name)
    return localities.PlaceQuery(name, addr.postal_code, addr.gmina_hint, addr.powiat_hint, addr.woj_hint)


def _register_gminy(query: localities.PlaceQuery, prefix: str | None, near_gmina: str | None
                    ) -> tuple[str | None, tuple[str, ...]] | None:
    """(the gmina meant or None when ambiguous, every candidate gmina) of the SIMC localities of that name
    (localities.find: parts stand for their parent, a dominant town is taken) within the prefix; None when
    the register has no such locality there."""
    match = localities.find(query)
    if match is None:
        return None
    choices = [c for c in match.choices if prefix is None or c.gmina_id6.startswith(prefix)]
    gminy = tuple(dict.fromkeys(c.gmina_id6 for c in choices))
    if not gminy:
        return None
    if match.chosen is not None and match.chosen.gmina_id6 in gminy:
        return match.chosen.gmina_id6, gminy
    if len(gminy) == 1:
        return gminy[0], gminy
    near = [g for g in gminy if near_gmina and boundaries.same_area(g, near_gmina)]
    if len(near) == 1:
        return near[0], gminy
    # The gmina named after the place holds its seat ("DPS w Zakrzewie" in powiat aleksandrowski: gmina
    # Zakrzewo, not the other village of that name in the powiat).
    seats = [g for g in gminy if g in set(gazetteer.gminy_named(query.name))]
    return (seats[0] if len(seats) == 1 else None), gminy


def _best_named(name: str, ids: list[str]) -> str:
    # The place itself before a same-named rural gmina around it (Bolesławiec city vs rural gmina).
    places = [p for p in gazetteer.places_named(name) if p.gmina_id6 in ids]
    return places[0].gmina_id6 if places else ids[0]


def _check(assignment: Assignment, lat: float, lon: float) -> Assignment:
    pip = boundaries.gmina_at(lat, lon)
    if pip is None:
        flag = f"Współrzędne ({lat:.5f}, {lon:.5f}) leżą poza granicami Polski."
    elif boundaries.same_area(pip, assignment.gmina_id6):
        return assignment
    else:
        distance = boundaries.distance_to_gmina_km(lat, lon, assignment.gmina_id6 or "")
        if distance is not None and distance <= TOLERANCE_KM:
            return assignment
        other = teryt.gmina(pip)
        mine = teryt.gmina(assignment.gmina_id6)
        flag = (f"Adres wskazuje gminę {mine.name if mine else assignment.gmina_id6} "
                f"({METHOD_LABELS.get(assignment.method or '', assignment.method)}), a współrzędne leżą w gminie {other.name if other else pip} ({pip}), "
                f"{distance or 0:.1f} km od granicy — do sprawdzenia.")
    return Assignment(assignment.gmina_id6, assignment.powiat_code, assignment.woj_code, assignment.method,
                      flag, assignment.alternatives)


def _within_powiat(found: Assignment | None, powiat_code: str) -> Assignment:
    """A source gave only the powiat (PCPR, PUP): keep it; take the gmina only when it lies in that powiat."""
    p = teryt.powiat(powiat_code)
    woj = p.woj_code if p else powiat_code[:2]
    if found is None or found.powiat_code == powiat_code:
        gmina = found.gmina_id6 if found else None
        return Assignment(gmina, powiat_code, woj, found.method if found else "explicit", found.flag if found else None)
    g = teryt.gmina(found.gmina_id6)
    flag = (f"Źródło podaje {p.label if p else powiat_code}, a adres wskazuje gminę {g.name if g else found.gmina_id6} "
            f"w innym powiecie ({found.powiat_code}) — do sprawdzenia.")
    return Assignment(None, powiat_code, woj, "explicit", flag)


def assign(addr: ParsedAddress, name: str | None = None, point: tuple[float, float] | None = None,
           point_precision: str | None = None, explicit_gmina: str | None = None,
           explicit_powiat: str | None = None) -> Assignment | None:
    """The gmina/powiat/województwo of an institution, or None when nothing points anywhere.

    point_precision None means coordinates of unknown quality given by a source: treated as precise."""
    precision = point_precision or Precision.SOURCE.value
    precise = point if point is not None and precision in PRECISE else None
    point_gmina = boundaries.gmina_at(*precise) if precise else None
    woj = _woj_hint(addr)
    found = None
    if explicit_gmina and teryt.gmina(explicit_gmina):
        found = _from_gmina(explicit_gmina[:6], "explicit")
    found = found or by_postcode(addr, point_gmina)
    names = [n for n in (addr.locality, addr.gmina_hint) if n]
    # A source that names only the powiat (a list without addresses: "DPS w Zakrzewie", powiat
    # aleksandrowski): a same-named place inside that powiat is the one meant, not the first in Poland.
    scope = explicit_powiat if explicit_powiat and not explicit_gmina and teryt.powiat(explicit_powiat) else None
    # A name elsewhere in Poland says nothing about such a unit: its seat is looked up in its powiat only.
    if scope:
        found = found or by_names(names, "locality", woj, within=scope, near_gmina=point_gmina, addr=addr)
        found = found or by_names(seat_names(name), "name", woj, within=scope, near_gmina=point_gmina)
    found = found or by_names(names, "locality", woj, near_gmina=point_gmina, addr=addr)
    if not scope:
        found = found or by_names(seat_names(name), "name", woj, near_gmina=point_gmina)
    if found is None and point_gmina:
        found = _from_gmina(point_gmina, "pip")
    elif found is not None and precise:
        found = _check(found, *precise)
    if explicit_powiat and not explicit_gmina and teryt.powiat(explicit_powiat):
        return _within_powiat(found, explicit_powiat)
    return found
