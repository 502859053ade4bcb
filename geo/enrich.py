"""Pipeline stage after each merge: fill the derived geography of institutions.

For each institution: parse address_raw into missing address parts, normalise phones when only the raw
text is known, keep source coordinates (precision "source") or geocode through the chain, assign
gmina/powiat/województwo with the method used and a review flag on disagreement. Only changed fields are
written. Institutions that already have everything are skipped in SQL, so the stage is cheap on re-runs.
Explicit TERYT codes (teryt_method "explicit", or codes a source gave without a method) are kept; when a
source gives only the powiat (PCPR, PUP) the powiat is kept and a gmina is added only if it lies in it.
Address parts are only filled when missing, never rewritten (they may come from the source).
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from catalog.address import ParsedAddress, parse_address
from catalog.derived import current_rows, write_derived
from catalog.models import FieldProvenance, Institution
from catalog.phones import normalise_phones
from catalog.settings import REFERENCE_DATA_DIR, Settings
from catalog.types import Precision
from geo import assign as assign_mod
from geo import boundaries, coverage, offline
from geo.geocoder import Geocoder
from geo.nominatim import NAME as NOMINATIM

log = logging.getLogger(__name__)
BATCH = 500
GEO_SOURCE = "geo"   # the provenance source of everything this stage derives (catalog.derived)
POWIAT_POINT = "offline:powiat-point"   # "offline…": ours, so recomputed when better evidence arrives
RJPS_2022_POINT = "rjps-2022"   # geo_source of a point taken from the RJPS 2022 map answers
_ADDRESS_PARTS = ("street", "building", "flat", "postal_code", "locality")


@dataclass
class EnrichStats:
    seen: int = 0          # institutions examined
    changed: int = 0       # institutions with at least one field written
    parsed: int = 0        # address parts filled from address_raw
    geocoded: int = 0      # points found by the geocoder chain
    source_points: int = 0  # points kept from the source
    assigned: int = 0      # TERYT codes written or changed
    flagged: int = 0       # disagreements flagged for review
    unresolved: int = 0    # still without a gmina
    errors: int = 0        # records that raised (logged with a traceback, left unchanged)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _incomplete():
    # A row with a method but no gmina is complete: a source gave only its powiat and nothing more is known.
    return or_(
        Institution.powiat_teryt.is_(None), Institution.woj_teryt.is_(None),
        Institution.teryt_method.is_(None), Institution.lat.is_(None), Institution.lon.is_(None),
        Institution.geo_precision.is_(None),
    )


def _set(inst: Institution, changes: dict[str, Any], field: str, value: Any) -> None:
    if getattr(inst, field) != value:
        changes[field] = value


def _address(inst: Institution, changes: dict[str, Any], stats: EnrichStats,
             sourced: set[str] | None = None) -> ParsedAddress:
    """Parts from address_raw where the source gave none. sourced (a recheck): the parts a source gave;
    the others were parsed by us earlier and follow the current address_raw (the source may have changed it)."""
    parsed = parse_address(inst.address_raw) if inst.address_raw else ParsedAddress(raw="")
    for part in _ADDRESS_PARTS:
        current, found = getattr(inst, part), getattr(parsed, part)
        ours = sourced is not None and part not in sourced
        if found and (current is None or (ours and found != current)):
            changes[part] = found
            stats.parsed += 1
        elif current and not (ours and found):
            setattr(parsed, part, current)      # the source's own parts win over our parse
    if inst.postal_code and not parsed.post_town:
        parsed.post_town = parsed.locality
    return parsed


def _ours(inst: Institution) -> bool:
    """The point was made by our geocoder chain (not given by a source), so it may be recomputed."""
    return bool(inst.geo_source) and (inst.geo_source.startswith("offline") or inst.geo_source == NOMINATIM)


def _keeps_point(inst: Institution, recheck: bool) -> bool:
    return inst.lat is not None and inst.lon is not None and not (recheck and _ours(inst))


def _needs_geocoder(inst: Institution, recheck: bool) -> bool:
    """_point will ask the geocoder chain (no point to keep, no RJPS point)."""
    return not _keeps_point(inst, recheck) and coverage.rjps_point(inst.rjps_id) is None


def _point(inst: Institution, addr: ParsedAddress, geocoder: Geocoder, changes: dict[str, Any],
           stats: EnrichStats, recheck: bool) -> tuple[tuple[float, float] | None, str | None]:
    if _keeps_point(inst, recheck):
        if inst.geo_precision is None:
            _set(inst, changes, "geo_precision", Precision.SOURCE.value)
            if inst.geo_source is None:
                _set(inst, changes, "geo_source", "source")
        stats.source_points += inst.geo_precision in (None, Precision.SOURCE.value)
        return (inst.lat, inst.lon), changes.get("geo_precision", inst.geo_precision)
    rjps = coverage.rjps_point(inst.rjps_id)
    if rjps is not None:   # the unit's own RJPS point (2022 map) beats a geocode of its address
        for field, value in (("lat", rjps[0]), ("lon", rjps[1]), ("geo_precision", Precision.SOURCE.value),
                             ("geo_source", RJPS_2022_POINT)):
            _set(inst, changes, field, value)
        stats.source_points += 1
        return rjps, Precision.SOURCE.value
    found = geocoder.geocode(addr) if not addr.is_empty else None
    if found is None:
        return None, None
    stats.geocoded += 1
    for field, value in (("lat", found.lat), ("lon", found.lon), ("geo_precision", found.precision),
                         ("geo_source", found.geocoder)):
        _set(inst, changes, field, value)
    return (found.lat, found.lon), found.precision


def _sourced(session: Session, ids: list[int]) -> dict[int, set[str]]:
    """Which TERYT and address-part fields a source gave (FieldProvenance), per institution: those are never
    re-derived."""
    rows = session.exec(select(FieldProvenance.institution_id, FieldProvenance.field).where(
        FieldProvenance.institution_id.in_(ids),
        FieldProvenance.field.in_(("gmina_id6", "powiat_teryt", *_ADDRESS_PARTS)),
        FieldProvenance.source != GEO_SOURCE,   # our own earlier derivation is not a source
        FieldProvenance.current())).all()   # a code the source no longer gives may be re-derived
    out: dict[int, set[str]] = {}
    for inst_id, field in rows:
        out.setdefault(inst_id, set()).add(field)
    return out


def _teryt(inst: Institution, addr: ParsedAddress, point, precision, changes: dict[str, Any],
           stats: EnrichStats, sourced: set[str]) -> None:
    unset = inst.teryt_method in (None, "explicit")     # codes present before we ever ran came from a source
    explicit_gmina = inst.gmina_id6 if unset or "gmina_id6" in sourced else None
    explicit_powiat = inst.powiat_teryt if unset or "powiat_teryt" in sourced else None
    result = assign_mod.assign(addr, inst.name, point, precision,
                               explicit_gmina=explicit_gmina, explicit_powiat=explicit_powiat)
    if result is None:
        stats.unresolved += 1
        return
    if point is None:
        _fallback_point(inst, result, changes)
    _agree_point(inst, result.gmina_id6, changes)
    before = (inst.gmina_id6, inst.powiat_teryt, inst.woj_teryt)
    for field, value in (("gmina_id6", result.gmina_id6), ("powiat_teryt", result.powiat_code),
                         ("woj_teryt", result.woj_code), ("teryt_method", result.method),
                         ("teryt_flag", result.flag)):
        _set(inst, changes, field, value)
    if before != (result.gmina_id6, result.powiat_code, result.woj_code):
        stats.assigned += 1
    stats.flagged += result.flag is not None


@lru_cache(maxsize=1)
def _powiat_points() -> dict[str, tuple[float, float]]:
    import json

    from shapely.geometry import shape

    data = json.loads((REFERENCE_DATA_DIR / "boundaries" / "powiaty.geojson").read_text(encoding="utf-8"))
    points = {}
    for feature in data["features"]:
        p = shape(feature["geometry"]).representative_point()   # guaranteed inside the powiat
        points[feature["properties"]["teryt"]] = (round(p.y, 5), round(p.x, 5))
    return points


def powiat_point(code: str | None) -> tuple[float, float] | None:
    """A point inside the powiat (its reference point on the map)."""
    return _powiat_points().get(code or "")


def _fallback_point(inst: Institution, result: assign_mod.Assignment, changes: dict[str, Any]) -> None:
    """No address point: the seat named in the unit's name ('GOPS w Bytoniu') or the gmina's interior point;
    a unit known only by its powiat (a list without addresses, a seat too small for the gazetteer) is
    shown at the powiat's reference point with precision "powiat"."""
    if not result.gmina_id6:
        point = powiat_point(result.powiat_code)
        if point is not None:
            for field, value in (("lat", point[0]), ("lon", point[1]), ("geo_precision", Precision.POWIAT.value),
                                 ("geo_source", POWIAT_POINT)):
                _set(inst, changes, field, value)
        return
    found = None
    if result.method == "name":
        found = next((r for name in assign_mod.seat_names(inst.name)
                      for r in offline.place_points(name, result.gmina_id6)), None)
    found = found or offline.gmina_point(result.gmina_id6)
    if found is not None:
        for field, value in (("lat", found.lat), ("lon", found.lon), ("geo_precision", found.precision),
                             ("geo_source", found.geocoder)):
            _set(inst, changes, field, value)


def _agree_point(inst: Institution, gmina_id6: str | None, changes: dict[str, Any]) -> None:
    """A coarse geocoded point in another gmina than the assigned one (a same-named place elsewhere)
    would put the marker in the wrong place: use the assigned gmina's interior point instead."""
    if changes.get("geo_precision") not in (Precision.LOCALITY.value, Precision.GMINA.value) or not gmina_id6:
        return
    lat, lon = changes["lat"], changes["lon"]
    if boundaries.same_area(boundaries.gmina_at(lat, lon), gmina_id6):
        return
    fallback = offline.gmina_point(gmina_id6)
    if fallback is not None:
        for field, value in (("lat", fallback.lat), ("lon", fallback.lon), ("geo_precision", fallback.precision),
                             ("geo_source", fallback.geocoder)):
            _set(inst, changes, field, value)


def _sourced_arg(recheck: bool, sourced: set[str] | None) -> set[str] | None:
    return (sourced or set()) if recheck else None


def enrich_one(inst: Institution, geocoder: Geocoder, stats: EnrichStats, recheck: bool = False,
               sourced: set[str] | None = None) -> dict[str, Any]:
    """Derived fields of one institution that differ from what it has (applied by the caller).
    recheck: recompute points our geocoder made earlier (the address may have changed since)."""
    changes: dict[str, Any] = {}
    addr = _address(inst, changes, stats, _sourced_arg(recheck, sourced))
    if inst.phones_raw and not inst.phones:
        changes["phones"] = normalise_phones(inst.phones_raw)
    point, precision = _point(inst, addr, geocoder, changes, stats, recheck)
    _teryt(inst, addr, point, precision, changes, stats, sourced or set())
    return changes


def enrich(session: Session, settings: Settings, institution_ids: list[int] | None = None,
           force: bool = False, geocoder: Geocoder | None = None) -> EnrichStats:
    """Fill geography for the given institutions; commits are left to the caller.

    institution_ids given (the merge's touched rows): each is re-derived, since its address may have changed;
    derived values are recomputed from the cache and written only when they differ. None: every institution
    still missing something (complete rows are skipped in SQL); force=True re-derives all of them."""
    stats = EnrichStats()
    geocoder = geocoder or Geocoder(settings, session)
    recheck = force or institution_ids is not None
    if institution_ids is not None:
        ids = list(institution_ids)
    else:
        id_query = select(Institution.id).order_by(Institution.id)
        ids = list(session.exec(id_query if recheck else id_query.where(_incomplete())).all())
    _warm(session, geocoder, ids, recheck)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = session.exec(select(Institution).where(Institution.id.in_(chunk)).order_by(Institution.id)).all()
        sourced = _sourced(session, chunk) if recheck else {}
        derived_rows = current_rows(session, chunk, GEO_SOURCE)
        for inst in rows:
            stats.seen += 1
            try:
                changes = enrich_one(inst, geocoder, stats, recheck, sourced.get(inst.id))
            except Exception:      # one odd record must not stop the stage for thousands of others
                log.exception("geo enrich failed for institution %s", inst.id)
                stats.errors += 1
                continue
            if changes:   # through the catalog: provenance "geo" and a change-log entry per field
                write_derived(session, inst, changes, source=GEO_SOURCE, rows=derived_rows)
                stats.changed += 1
        session.flush()
    geocoder.flush()
    log.info("geo enrich: %s", stats.as_dict())
    return stats


def _warm(session: Session, geocoder: Geocoder, ids: list[int], recheck: bool) -> None:
    """Geocode every address the stage will need before it writes anything: the cache is read one batch
    of addresses per SELECT, and new answers are committed batch by batch while the catalog is not yet
    locked by this stage's own writes (SQLite has one writer). The write pass then answers from memory."""
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = session.exec(select(Institution).where(Institution.id.in_(chunk))).all()
        sourced = _sourced(session, chunk) if recheck else {}
        addrs = []
        for inst in rows:
            if not _needs_geocoder(inst, recheck):
                continue
            try:
                addr = _address(inst, {}, EnrichStats(), _sourced_arg(recheck, sourced.get(inst.id)))
            except Exception:      # enrich_one meets the record again and reports it
                log.debug("geocoder warm-up skipped institution %s", inst.id, exc_info=True)
                addr = None
            if addr is not None and not addr.is_empty:
                addrs.append(addr)
        try:
            geocoder.geocode_many(addrs)
        except Exception:      # a failing address is met again (and logged) by enrich_one
            log.debug("geocoder warm-up failed for a chunk", exc_info=True)
    geocoder.flush()   # the last, partial batch too: committed before this stage writes
