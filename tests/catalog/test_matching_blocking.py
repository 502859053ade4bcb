"""catalog.matching.Matcher (blocking keys read once per run) against the exhaustive comparison it
replaced: the same decisions, with the same explanations, on a random catalog; and candidates bounded
by the units that share a place key with the record, not by the size of the catalog."""
from __future__ import annotations

import random
import re

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from catalog.db import get_engine
from catalog.geometry import bbox
from catalog.matching import (
    FUZZY_THRESHOLD,
    IDENTIFIERS,
    MAX_DISTANCE_KM,
    POSTCODE_SLACK_KM,
    Match,
    Matcher,
    _Side,
    compatible_types,
    find_match,
    name_score,
    place_conflict,
    same_place,
)
from catalog.models import Institution, SourceRecord
from catalog.records import SourceItem
from catalog.types import InstitutionType

# -- the exhaustive comparison (the implementation before blocking keys, kept as the reference) -------


def _not_from_source(session, institutions, source):
    if not institutions:
        return []
    sources: dict[int, set[str]] = {}
    for inst_id, src in session.exec(select(SourceRecord.institution_id, SourceRecord.source).where(
            SourceRecord.institution_id.in_([i.id for i in institutions]))).all():
        sources.setdefault(inst_id, set()).add(src)
    return [i for i in institutions if sources.get(i.id) and source not in sources[i.id]]


def exhaustive_match(session: Session, item: SourceItem) -> Match | None:
    side = _Side.of_item(item)
    types = compatible_types(side.type)
    if not side.name or not types or side.type == InstitutionType.OTHER.value:
        return None
    for ident in IDENTIFIERS:
        value = re.sub(r"\D", "", str(item.fields.get(ident) or ""))
        if not value:
            continue
        found = _not_from_source(session, list(session.exec(select(Institution).where(
            getattr(Institution, ident) == value, Institution.type.in_(sorted(types)),
            Institution.is_demo == False).order_by(Institution.id)).all()), item.source)
        for inst in found:
            other = _Side.of_institution(inst)
            conflict, facts = place_conflict(side, other)
            if not conflict:
                return Match(inst.id, "identifier", 100.0, {
                    "identifier": ident, "value": value, "names": [side.name, inst.name],
                    "types": [side.type, inst.type], "postal_code": [side.postal_code, inst.postal_code],
                    "locality": [side.locality, inst.locality], **facts})
    near = [Institution.postal_code == side.postal_code] if side.postal_code else []
    if side.locality:
        near.append(func.lower(Institution.locality) == func.lower(side.locality))
    if side.point:
        a, b, c, d = bbox(*side.point, MAX_DISTANCE_KM + POSTCODE_SLACK_KM)
        near.append(and_(Institution.lat.between(a, b), Institution.lon.between(c, d)))
    candidates = [] if not near else _not_from_source(session, list(session.exec(select(Institution).where(
        Institution.type.in_(sorted(types)), or_(*near), Institution.is_demo == False)).all()),
        item.source)
    scored = []
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
    best, inst, names, agree, facts = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else None
    if runner_up is not None and runner_up >= FUZZY_THRESHOLD and best - runner_up < 3:
        return None
    exact = names["normalised"][0] == names["normalised"][1]
    method = "name-place" if exact and {"postal_code", "locality"} & set(agree) else "fuzzy"
    return Match(inst.id, method, float(best), {
        "names": [side.name, inst.name], "types": [side.type, inst.type], **names,
        "place_agrees_on": agree, "postal_code": [side.postal_code, inst.postal_code],
        "locality": [side.locality, inst.locality], "threshold": FUZZY_THRESHOLD,
        "candidates": len(scored), "runner_up_score": runner_up, **facts})


# -- a random catalog -----------------------------------------------------------------------------------

PLACES = [  # postal code, locality, point, województwo
    ("16-060", "Zabłudów", (53.0137, 23.3366), "20"), ("15-001", "Białystok", (53.1325, 23.1688), "20"),
    ("18-100", "Łapy", (52.9913, 22.8843), "20"), ("59-700", "Bolesławiec", (51.2637, 15.5697), "02"),
    ("30-001", "Kraków", (50.0614, 19.9366), "12"), ("30-002", "Kraków", (50.0650, 19.9450), "12"),
    ("00-950", "Warszawa", (52.2297, 21.0122), "14"), ("88-231", "Bytoń", (52.5580, 18.5940), "04"),
]
KINDS = {"cis": "Centrum Integracji Społecznej", "kis": "Klub Integracji Społecznej",
         "ops": "Ośrodek Pomocy Społecznej", "cus": "Centrum Usług Społecznych"}
WORDS = ("Nadzieja", "Szansa", "Przystań", "Krok", "Most", "Razem", "Start")


def _name(rng: random.Random, kind: str, locality: str) -> str:
    prefix = rng.choice(["Miejski ", "Gminny ", ""]) if kind == "ops" else ""
    word = rng.choice([*WORDS, ""])
    quoted = f" „{word}”" if word else ""
    return f"{prefix}{KINDS[kind]}{quoted} w {locality}" if rng.random() < 0.6 else f"{prefix}{KINDS[kind]}{quoted}"


def _jitter(rng: random.Random, point: tuple[float, float], km: float) -> tuple[float, float]:
    return round(point[0] + rng.uniform(-km, km) / 111, 5), round(point[1] + rng.uniform(-km, km) / 70, 5)


def random_catalog(session: Session, rng: random.Random, n: int) -> list[Institution]:
    made = []
    for i in range(n):
        code, town, point, woj = rng.choice(PLACES)
        kind = rng.choice(list(KINDS))
        fields = {"name": _name(rng, kind, town), "type": kind, "woj_teryt": rng.choice([woj, None])}
        if rng.random() < 0.8:
            fields["postal_code"] = code
        if rng.random() < 0.8:
            fields["locality"] = town
        if rng.random() < 0.6:
            fields["lat"], fields["lon"] = _jitter(rng, point, rng.choice([0.3, 3.0, 20.0]))
        if rng.random() < 0.1:
            fields["nip"] = f"54200000{i % 7:02d}"
        inst = Institution(is_demo=rng.random() < 0.05, **fields)
        session.add(inst)
        made.append(inst)
    session.flush()
    for inst in made:
        for source in rng.choice([["rjps"], ["rjps", "cis-kis-20"], ["owes"], [], ["cis-kis-20"]]):
            session.add(SourceRecord(source=source, source_key=f"{source}-{inst.id}", institution_id=inst.id))
    session.flush()
    return made


def random_item(rng: random.Random, made: list[Institution], q: int) -> SourceItem:
    base = rng.choice(made)
    code, town, point, _woj = rng.choice(PLACES)
    if rng.random() < 0.6:   # another source's record of an existing unit
        name = rng.choice([base.name, base.name.replace("„", '"').replace("”", '"'), base.name.split(" w ")[0],
                           base.name.upper()])
        fields = {"name": name, "type": rng.choice([base.type, base.type, "cus" if base.type == "ops" else "kis"])}
        code, town = base.postal_code or code, base.locality or town
    else:
        kind = rng.choice(list(KINDS))
        fields = {"name": _name(rng, kind, town), "type": kind}
    if rng.random() < 0.8:
        fields["postal_code"] = code
    if rng.random() < 0.7:
        fields["locality"] = town
    if rng.random() < 0.5:
        fields["lat"], fields["lon"] = _jitter(rng, point, rng.choice([0.2, 2.0]))
    if rng.random() < 0.15:
        fields["nip"] = rng.choice([base.nip or "", f"542-000-00-{q % 7:02d}"])
    return SourceItem(rng.choice(["cis-kis-20", "owes", "pup"]), f"k{q}", fields)


def test_blocking_decides_exactly_as_the_exhaustive_comparison(db_settings):
    rng = random.Random(20261202)
    with Session(get_engine(db_settings.database_url)) as session:
        made = random_catalog(session, rng, 400)
        matcher = Matcher(session)
        items = [random_item(rng, made, q) for q in range(400)]
        decisions = [(matcher.find(item), exhaustive_match(session, item)) for item in items]
    matched = sum(1 for ours, _ in decisions if ours is not None)
    assert 40 <= matched <= 360, matched      # the sample exercises both answers
    assert {m.method for m, _ in decisions if m} >= {"identifier", "name-place", "fuzzy"}
    for (ours, reference), item in zip(decisions, items, strict=True):
        assert ours == reference, item.fields


def _add(session: Session, source: str = "rjps", **fields) -> Institution:
    inst = Institution(**fields)
    session.add(inst)
    session.flush()
    session.add(SourceRecord(source=source, source_key=f"{source}-{inst.id}", institution_id=inst.id))
    return inst


def test_candidates_are_the_units_sharing_a_place_key_whatever_the_catalog_size(db_settings):
    record = SourceItem("cis-kis-20", "x", {"name": "CIS Próba", "type": "cis", "postal_code": "16-060",
                                           "locality": "Zabłudów", "lat": 53.0137, "lon": 23.3366})
    side = _Side.of_item(record)
    counts = []
    with Session(get_engine(db_settings.database_url)) as session:
        _add(session, name="Centrum Integracji Społecznej Próba", type="cis", postal_code="16-060",
             locality="Zabłudów")
        _add(session, name="Centrum Integracji Społecznej Inna", type="cis", lat=53.0140, lon=23.3370)
        for size in (50, 500):
            while session.exec(select(func.count()).select_from(Institution)).one() < size:
                i = session.exec(select(func.count()).select_from(Institution)).one()
                # Same place, other types; same type elsewhere (Białystok, 20 km): never compared.
                if i % 2:
                    _add(session, name=f"Klub Integracji Społecznej {i}", type="kis", postal_code="16-060",
                         locality="Zabłudów", lat=53.0137, lon=23.3366)
                else:
                    _add(session, name=f"Centrum Integracji Społecznej {i}", type="cis", postal_code="15-001",
                         locality="Białystok", lat=53.1325, lon=23.1688)
            matcher = Matcher(session)
            found = matcher.candidates(record, side, compatible_types("cis"))
            counts.append(sorted(e.side.name for e, _ in found))
            assert find_match(session, record).detail["candidates"] == 2
    assert counts[0] == counts[1] == ["Centrum Integracji Społecznej Inna", "Centrum Integracji Społecznej Próba"]
