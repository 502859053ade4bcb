"""Cross-source matching: is this new source record an institution we already have from another source?

Three steps, first hit wins, each guarded the same way:

1. identifiers: the unit's own NIP / KRS / REGON equal (operator identifiers are not used: one operator
   runs many units);
2. name + place: equal normalised names (diacritics folded, abbreviations such as "CIS" or "MOPS"
   expanded from catalog.types, quotes and "w <locality>" dropped) and the same postal code or locality;
3. fuzzy: a rapidfuzz score at or above FUZZY_THRESHOLD for a candidate in the same place.

Guards, never overridden: the types must be equal or a compatible pair (OPS/CUS); both places must be
close (points <= MAX_DISTANCE_KM apart, postal-code areas and województwa equal when both are known);
an institution already holding a record from the same source is a different unit of that source.

Every decision carries `detail` (what was compared, scores, distance), stored by catalog.merge in
SourceRecord.match_detail, so `wsparcie explain-merge` can show it and `wsparcie unmerge` undo it."""
from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from catalog.geometry import bbox, haversine_km
from catalog.models import Institution, SourceRecord
from catalog.records import SourceItem
from catalog.settings import REFERENCE_DATA_DIR
from catalog.text import fold_spaces
from catalog.types import TYPES, InstitutionType

FUZZY_THRESHOLD = 85.0
MAX_DISTANCE_KM = 5.0
# A postal-code point stands for a whole delivery area: allow for its size when one side has no point.
POSTCODE_SLACK_KM = 10.0
UNIQUE_IN_PLACE_SCORE = 90.0   # one name has no distinctive words but it is the only such unit there

COMPATIBLE_TYPES: tuple[frozenset[str], ...] = (
    frozenset({InstitutionType.OPS.value, InstitutionType.CUS.value}),   # an OPS converted into a CUS
)
IDENTIFIERS = ("nip", "krs", "regon")
POSTCODES_FILE = REFERENCE_DATA_DIR / "gazetteer" / "kody_pocztowe_punkty.csv.gz"


@dataclass
class Match:
    institution_id: int
    method: str                 # "identifier" | "name-place" | "fuzzy"
    score: float                # 0..100
    detail: dict[str, Any] = field(default_factory=dict)


# -- text normalisation -------------------------------------------------------------------------------

def _abbreviations() -> dict[str, str]:
    """'cis' -> 'centrum integracji spolecznej', 'mops' -> 'miejski osrodek pomocy spolecznej', ..."""
    out = {fold_spaces(info.abbreviations[0]): fold_spaces(info.label) for info in TYPES.values() if info.abbreviations}
    out.pop("ss", None)
    out.pop("ps", None)   # too ambiguous inside names
    ops = fold_spaces(TYPES[InstitutionType.OPS].label)
    out.update({
        "mops": f"miejski {ops}", "gops": f"gminny {ops}", "mgops": f"miejsko-gminny {ops}",
        "mopr": "miejski osrodek pomocy rodzinie", "mgopr": "miejsko-gminny osrodek pomocy rodzinie",
        "mup": "miejski urzad pracy", "gup": "grodzki urzad pracy", "sds": fold_spaces(TYPES[InstitutionType.SDS].label),
        "stow": "stowarzyszenie", "fund": "fundacja", "im": "imienia", "sp": "spolka",
    })
    return out


ABBREVIATIONS = _abbreviations()
# Words that only say what kind of unit it is: they cannot tell two units of one type apart.
GENERIC_WORDS = frozenset(
    w for info in TYPES.values() for w in fold_spaces(info.label).split()
) | frozenset({"w", "we", "i", "z", "ze", "przy", "na", "do", "dla", "imienia", "nr", "oraz"})
# Words that name a part of a unit or a service run inside it ("Lokal Interwencyjny w DPS …", "Punkt
# Konsultacyjny przy OPS …", "Filia …"): a name with one the other lacks is not that unit.
SUBUNIT_WORDS = frozenset({
    "punkt", "lokal", "filia", "telefon", "zespol", "oddzial", "dzial", "sekcja", "hostel", "mieszkanie",
    "mieszkania", "schronisko", "noclegownia", "swietlica", "grupa", "poradnia",
})
_PUNCT = re.compile(r"[^\w\s-]+|(?<!\w)-|-(?!\w)")


def normalise_name(name: str | None) -> str:
    """'CIS „Szansa” w Zabłudowie' -> 'centrum integracji spolecznej szansa w zabludowie'."""
    words = _PUNCT.sub(" ", fold_spaces(name)).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


def _place_stems(*localities: str | None) -> set[str]:
    return {w[:4] for loc in localities for w in fold_spaces(loc).replace("-", " ").split() if len(w) >= 3}


def without_place(normalised: str) -> str:
    """Drop the last 'w/we <place...>' phrase: where a unit is, is compared separately."""
    words = normalised.split()
    for i in range(len(words) - 1, 0, -1):
        if words[i] in ("w", "we"):
            return " ".join(words[:i])
    return normalised


def distinctive_words(normalised: str, localities: tuple[str | None, ...]) -> set[str]:
    """The words that tell one unit of a type from another: no type words, no 'w <locality>' tail."""
    words = without_place(normalised).split()
    stems = _place_stems(*localities)
    return {w for w in words if w not in GENERIC_WORDS and w[:4] not in stems}


# -- geography ----------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _postcode_points() -> dict[str, tuple[float, float]]:
    with gzip.open(POSTCODES_FILE, "rb") as fh:
        reader = csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8"))
        return {r["kod_pocztowy"]: (float(r["lat"]), float(r["lon"])) for r in reader if r["lat"]}


def _point(lat: Any, lon: Any, postal_code: str | None) -> tuple[tuple[float, float] | None, str]:
    if lat is not None and lon is not None:
        return (float(lat), float(lon)), "coordinates"
    if postal_code and postal_code in _postcode_points():
        return _postcode_points()[postal_code], "postcode"
    return None, "none"


@dataclass
class _Side:
    name: str
    type: str
    postal_code: str | None
    locality: str | None
    woj: str | None
    gmina: str | None
    point: tuple[float, float] | None
    basis: str

    @classmethod
    def of_item(cls, item: SourceItem) -> _Side:
        f = item.fields
        point, basis = _point(f.get("lat"), f.get("lon"), f.get("postal_code"))
        return cls(f.get("name") or "", f.get("type") or "", f.get("postal_code"), f.get("locality"),
                   f.get("woj_teryt"), f.get("gmina_id6"), point, basis)

    @classmethod
    def of_institution(cls, inst: Institution) -> _Side:
        point, basis = _point(inst.lat, inst.lon, inst.postal_code)
        return cls(inst.name, inst.type, inst.postal_code, inst.locality, inst.woj_teryt, inst.gmina_id6,
                   point, basis)


def place_conflict(a: _Side, b: _Side) -> tuple[str | None, dict[str, Any]]:
    """Why two records cannot be one place (None when they can), and the distance facts."""
    facts: dict[str, Any] = {}
    if a.point and b.point:
        km = haversine_km(*a.point, *b.point)
        exact = a.basis == b.basis == "coordinates"
        limit = MAX_DISTANCE_KM if exact else MAX_DISTANCE_KM + POSTCODE_SLACK_KM
        facts = {"distance_km": round(km, 2), "distance_basis": f"{a.basis}/{b.basis}", "limit_km": limit}
        if km > limit:
            return f"too far apart ({km:.1f} km > {limit:g} km)", facts
    if a.postal_code and b.postal_code and a.postal_code[:2] != b.postal_code[:2]:
        return f"different postal areas ({a.postal_code} / {b.postal_code})", facts
    if a.woj and b.woj and a.woj != b.woj:
        return f"different województwa ({a.woj} / {b.woj})", facts
    if a.gmina and b.gmina and a.gmina[:6] != b.gmina[:6]:
        return f"different gminy ({a.gmina} / {b.gmina})", facts
    return None, facts


def same_place(a: _Side, b: _Side) -> list[str]:
    """Which place facts agree: postal code, locality, point within 1 km."""
    agree = []
    if a.postal_code and a.postal_code == b.postal_code:
        agree.append("postal_code")
    if a.locality and fold_spaces(a.locality) == fold_spaces(b.locality):
        agree.append("locality")
    if a.basis == b.basis == "coordinates" and haversine_km(*a.point, *b.point) <= 1.0:
        agree.append("point")
    return agree


def compatible_types(code: str | None) -> set[str]:
    if not code:
        return set()
    out = {code}
    for pair in COMPATIBLE_TYPES:
        if code in pair:
            out |= pair
    return out


# -- scoring ------------------------------------------------------------------------------------------

def name_score(a: _Side, b: _Side, unique_in_place: bool) -> dict[str, Any]:
    """The explainable name comparison: whole-name and distinctive-words similarity; score = the lower."""
    na, nb = normalise_name(a.name), normalise_name(b.name)
    localities = (a.locality, b.locality)
    da, db = distinctive_words(na, localities), distinctive_words(nb, localities)
    full = fuzz.token_set_ratio(without_place(na), without_place(nb))
    part_of = sorted((da ^ db) & SUBUNIT_WORDS)
    if part_of:
        distinct, rule = 60.0, f"jedna nazwa to część lub usługa drugiej jednostki ({', '.join(part_of)})"
    elif da and db:
        distinct = fuzz.token_set_ratio(" ".join(sorted(da)), " ".join(sorted(db)))
        rule = "porównano słowa wyróżniające"
    elif not da and not db:
        distinct, rule = 100.0, "żadna nazwa nie ma słów wyróżniających"
    elif unique_in_place:
        distinct, rule = UNIQUE_IN_PLACE_SCORE, "jedna nazwa bez słów wyróżniających; jedyna taka jednostka w miejscu"
    else:
        distinct, rule = 60.0, "jedna nazwa bez słów wyróżniających, a w miejscu jest kilka takich jednostek"
    return {
        "normalised": [na, nb], "distinctive": [sorted(da), sorted(db)], "full_score": round(full, 1),
        "distinct_score": round(distinct, 1), "score": round(min(full, distinct), 1), "rule": rule,
    }


# -- candidates ---------------------------------------------------------------------------------------

def _candidates(session: Session, item: SourceItem, side: _Side, types: set[str]) -> list[Institution]:
    near = [Institution.postal_code == side.postal_code] if side.postal_code else []
    if side.locality:
        # lower() on both sides: SQLite folds ASCII only, so "Łapy" must meet the same folding.
        near.append(func.lower(Institution.locality) == func.lower(side.locality))
    if side.point:
        min_lat, max_lat, min_lon, max_lon = bbox(*side.point, MAX_DISTANCE_KM + POSTCODE_SLACK_KM)
        near.append(and_(Institution.lat.between(min_lat, max_lat), Institution.lon.between(min_lon, max_lon)))
    if not near:
        return []
    # Demo placeholders are never merge targets: they are deleted once real data arrive.
    query = select(Institution).where(Institution.type.in_(sorted(types)), or_(*near),
                                      Institution.is_demo == False)
    return _not_from_source(session, list(session.exec(query).all()), item.source)


def _not_from_source(session: Session, institutions: list[Institution], source: str) -> list[Institution]:
    """Keep institutions with records from other sources only. One with a record from this source is another
    unit of it; one with no record at all is being created by this very run (merge inserts records after
    matching), so it is a unit of this source too."""
    if not institutions:
        return []
    ids = [i.id for i in institutions]
    sources: dict[int, set[str]] = {}
    for inst_id, src in session.exec(
        select(SourceRecord.institution_id, SourceRecord.source).where(SourceRecord.institution_id.in_(ids))
    ).all():
        sources.setdefault(inst_id, set()).add(src)
    return [i for i in institutions if sources.get(i.id) and source not in sources[i.id]]


def _by_identifier(session: Session, item: SourceItem, side: _Side, types: set[str]) -> Match | None:
    for ident in IDENTIFIERS:
        value = re.sub(r"\D", "", str(item.fields.get(ident) or ""))
        if not value:
            continue
        column = getattr(Institution, ident)
        found = _not_from_source(session, list(session.exec(
            select(Institution).where(column == value, Institution.type.in_(sorted(types)),
                                      Institution.is_demo == False)
        ).all()), item.source)
        for inst in found:
            other = _Side.of_institution(inst)
            conflict, facts = place_conflict(side, other)
            if conflict:
                continue
            return Match(inst.id, "identifier", 100.0, {
                "identifier": ident, "value": value, "names": [side.name, inst.name],
                "types": [side.type, inst.type], "postal_code": [side.postal_code, inst.postal_code],
                "locality": [side.locality, inst.locality], **facts,
            })
    return None


def find_match(session: Session, item: SourceItem) -> Match | None:
    """The existing institution this new source record describes, or None (see the module doc)."""
    side = _Side.of_item(item)
    types = compatible_types(side.type)
    if not side.name or not types or side.type == InstitutionType.OTHER.value:
        return None
    match = _by_identifier(session, item, side, types)
    if match:
        return match
    scored = []
    candidates = _candidates(session, item, side, types)
    for inst in candidates:
        other = _Side.of_institution(inst)
        conflict, facts = place_conflict(side, other)
        agree = same_place(side, other)
        if conflict or not agree:
            continue
        peers = sum(1 for c in candidates if c.type == inst.type and same_place(side, _Side.of_institution(c)))
        names = name_score(side, other, unique_in_place=peers == 1)
        scored.append((names["score"], inst, names, agree, facts))
    scored.sort(key=lambda s: -s[0])
    if not scored or scored[0][0] < FUZZY_THRESHOLD:
        return None
    best_score, inst, names, agree, facts = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else None
    if runner_up is not None and runner_up >= FUZZY_THRESHOLD and best_score - runner_up < 3:
        return None   # two near-equal candidates: refuse to guess
    exact = names["normalised"][0] == names["normalised"][1]
    method = "name-place" if exact and {"postal_code", "locality"} & set(agree) else "fuzzy"
    return Match(inst.id, method, float(best_score), {
        "names": [side.name, inst.name], "types": [side.type, inst.type], **names,
        "place_agrees_on": agree, "postal_code": [side.postal_code, inst.postal_code],
        "locality": [side.locality, inst.locality], "threshold": FUZZY_THRESHOLD,
        "candidates": len(scored), "runner_up_score": runner_up, **facts,
    })
