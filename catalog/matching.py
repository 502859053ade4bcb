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
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
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
    return {stem for loc in localities for stem in _stems(loc)}


@lru_cache(maxsize=65536)
def _stems(locality: str | None) -> frozenset[str]:
    return frozenset(w[:4] for w in fold_spaces(locality).replace("-", " ").split() if len(w) >= 3)


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


_fold_place = lru_cache(maxsize=65536)(fold_spaces)   # localities repeat across a run's comparisons


def same_place(a: _Side, b: _Side) -> list[str]:
    """Which place facts agree: postal code, locality, point within 1 km."""
    agree = []
    if a.postal_code and a.postal_code == b.postal_code:
        agree.append("postal_code")
    if a.locality and _fold_place(a.locality) == _fold_place(b.locality):
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

def name_score(a: _Side, b: _Side, unique_in_place: bool, normalised: tuple[str, str] | None = None) -> dict[str, Any]:
    """The explainable name comparison: whole-name and distinctive-words similarity; score = the lower.
    normalised: both normalise_name() results when the caller has them already."""
    na, nb = normalised or (normalise_name(a.name), normalise_name(b.name))
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


# -- candidates: blocking keys computed once per run -------------------------------------------------

GRID_DEGREES = 0.02    # point cells (~2.2 km × 1.4 km): the "point" agreement needs <= 1 km
POINT_AGREES_KM = 1.0


@dataclass
class _Entry:
    """One possible merge target, read once per run: its side, its normalised name and its sources."""
    id: int
    side: _Side
    lat: float | None           # the institution's own columns (the candidate box is on them)
    lon: float | None
    sources: frozenset[str]
    _normalised: str | None = None

    @property
    def normalised(self) -> str:
        """normalise_name of its name, computed when the unit first is a candidate."""
        if self._normalised is None:
            self._normalised = normalise_name(self.side.name)
        return self._normalised


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / GRID_DEGREES), math.floor(lon / GRID_DEGREES)


class Matcher:
    """find_match for a whole run: the catalog's possible merge targets (real institutions with a source
    record) are read once, with their blocking keys — postal code, folded locality, a grid cell of the
    point, each identifier — in dicts. A look-up then compares only the units that share a key with the
    new record, instead of every unit of a place, and counts the same-type peers of a place in one pass.

    A snapshot: build it after the writes that should count (catalog.merge builds one per run, before
    any of the run's new records is inserted, which is also what find_match sees)."""

    def __init__(self, session: Session) -> None:
        sources: dict[int, set[str]] = {}
        for inst_id, src in session.exec(select(SourceRecord.institution_id, SourceRecord.source)).all():
            sources.setdefault(inst_id, set()).add(src)
        # (type, key) -> units: a record of one type never meets the others
        self.by_postal: dict[tuple[str, str], list[_Entry]] = {}
        self.by_locality: dict[tuple[str, str], list[_Entry]] = {}
        self.by_cell: dict[tuple[str, int, int], list[_Entry]] = {}
        self.by_identifier: dict[tuple[str, str], list[_Entry]] = {}
        columns = (Institution.id, Institution.name, Institution.type, Institution.postal_code,
                   Institution.locality, Institution.woj_teryt, Institution.gmina_id6, Institution.lat,
                   Institution.lon, Institution.nip, Institution.krs, Institution.regon)
        rows = session.exec(select(*columns).where(Institution.is_demo == False).order_by(Institution.id)).all()
        for (inst_id, name, type_, postal, locality, woj, gmina, lat, lon, *idents) in rows:
            if not sources.get(inst_id):
                continue   # no record at all: being created by this very run (see _not_from_source)
            point, basis = _point(lat, lon, postal)
            side = _Side(name, type_, postal, locality, woj, gmina, point, basis)
            entry = _Entry(inst_id, side, lat, lon, frozenset(sources[inst_id]))
            if postal:
                self.by_postal.setdefault((type_, postal), []).append(entry)
            if locality:
                self.by_locality.setdefault((type_, _fold_place(locality)), []).append(entry)
            if lat is not None and lon is not None:
                self.by_cell.setdefault((type_, *_cell(float(lat), float(lon))), []).append(entry)
            for ident, value in zip(IDENTIFIERS, idents, strict=True):
                if value:
                    self.by_identifier.setdefault((ident, value), []).append(entry)

    def find(self, item: SourceItem) -> Match | None:
        """The existing institution this new source record describes, or None (see the module doc)."""
        side = _Side.of_item(item)
        types = compatible_types(side.type)
        if not side.name or not types or side.type == InstitutionType.OTHER.value:
            return None
        return self._by_identifier(item, side, types) or self._by_name(item, side, types)

    def _eligible(self, entry: _Entry, types: set[str], source: str) -> bool:
        return entry.side.type in types and source not in entry.sources

    def _by_identifier(self, item: SourceItem, side: _Side, types: set[str]) -> Match | None:
        for ident in IDENTIFIERS:
            value = re.sub(r"\D", "", str(item.fields.get(ident) or ""))
            if not value:
                continue
            for entry in self.by_identifier.get((ident, value), ()):
                if not self._eligible(entry, types, item.source):
                    continue
                other = entry.side
                conflict, facts = place_conflict(side, other)
                if conflict:
                    continue
                return Match(entry.id, "identifier", 100.0, {
                    "identifier": ident, "value": value, "names": [side.name, other.name],
                    "types": [side.type, other.type], "postal_code": [side.postal_code, other.postal_code],
                    "locality": [side.locality, other.locality], **facts,
                })
        return None

    def candidates(self, item: SourceItem, side: _Side, types: set[str]) -> list[tuple[_Entry, list[str]]]:
        """The units that share a blocking key with the record and agree with it on a place fact (postal
        code, locality, a point within 1 km), each with what agrees. Equal to comparing the record with every
        unit near it (same postal code or locality, or a point within the 15 km box) and keeping those
        same_place accepts: a unit that agrees on no place fact is never a candidate."""
        near: dict[int, _Entry] = {}
        locality = _fold_place(side.locality) if side.locality else None
        cells: list[tuple[int, int]] = []
        if side.point and side.basis == "coordinates":
            min_lat, max_lat, min_lon, max_lon = bbox(*side.point, POINT_AGREES_KM)
            (lo_lat, lo_lon), (hi_lat, hi_lon) = _cell(min_lat, min_lon), _cell(max_lat, max_lon)
            cells = [(a, b) for a in range(lo_lat, hi_lat + 1) for b in range(lo_lon, hi_lon + 1)]
        for type_ in types:
            if side.postal_code:
                near.update((e.id, e) for e in self.by_postal.get((type_, side.postal_code), ()))
            if locality:
                near.update((e.id, e) for e in self.by_locality.get((type_, locality), ()))
            for cell in cells:
                near.update((e.id, e) for e in self.by_cell.get((type_, *cell), ()))
        box = bbox(*side.point, MAX_DISTANCE_KM + POSTCODE_SLACK_KM) if side.point else None
        out = []
        for inst_id in sorted(near):
            entry = near[inst_id]
            if not self._eligible(entry, types, item.source) or not _near(side, entry, box):
                continue
            agree = same_place(side, entry.side)
            if agree:
                out.append((entry, agree))
        return out

    def _by_name(self, item: SourceItem, side: _Side, types: set[str]) -> Match | None:
        candidates = self.candidates(item, side, types)
        peers: dict[str, int] = {}
        for entry, _agree in candidates:
            peers[entry.side.type] = peers.get(entry.side.type, 0) + 1
        normalised = normalise_name(side.name)
        scored = []
        for entry, agree in candidates:
            other = entry.side
            conflict, facts = place_conflict(side, other)
            if conflict:
                continue
            names = name_score(side, other, unique_in_place=peers[other.type] == 1,
                               normalised=(normalised, entry.normalised))
            scored.append((names["score"], entry, names, agree, facts))
        scored.sort(key=lambda s: -s[0])
        if not scored or scored[0][0] < FUZZY_THRESHOLD:
            return None
        best_score, entry, names, agree, facts = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else None
        if runner_up is not None and runner_up >= FUZZY_THRESHOLD and best_score - runner_up < 3:
            return None   # two near-equal candidates: refuse to guess
        other = entry.side
        exact = names["normalised"][0] == names["normalised"][1]
        method = "name-place" if exact and {"postal_code", "locality"} & set(agree) else "fuzzy"
        return Match(entry.id, method, float(best_score), {
            "names": [side.name, other.name], "types": [side.type, other.type], **names,
            "place_agrees_on": agree, "postal_code": [side.postal_code, other.postal_code],
            "locality": [side.locality, other.locality], "threshold": FUZZY_THRESHOLD,
            "candidates": len(scored), "runner_up_score": runner_up, **facts,
        })


def _near(side: _Side, entry: _Entry, box: tuple[float, float, float, float] | None) -> bool:
    """The candidate rule: the same postal code, the same locality (case-folded), or the unit's own point
    within the 15 km box around the record's point."""
    other = entry.side
    if side.postal_code and side.postal_code == other.postal_code:
        return True
    if side.locality and other.locality and side.locality.lower() == other.locality.lower():
        return True
    if box is None or entry.lat is None or entry.lon is None:
        return False
    return box[0] <= entry.lat <= box[1] and box[2] <= entry.lon <= box[3]


def find_match(session: Session, item: SourceItem, matcher: Matcher | None = None) -> Match | None:
    """The existing institution this new source record describes, or None (see the module doc).
    matcher: the run's Matcher (built once for many look-ups); without one, the catalog is read now."""
    return (matcher or Matcher(session)).find(item)
