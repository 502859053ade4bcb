"""Catalog queries behind the API: structured filters in SQL, distance in Python, and a plain
database search used only while no search index has been built (webapp.lookup.use_index)."""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, or_
from sqlmodel import Session, select

from catalog.models import Institution
from webapp import lookup
from webapp.api_params import Filters

EARTH_RADIUS_KM = 6371.0088
# Columns the map needs; selecting only these keeps 10 000 pins cheap.
MAP_COLUMNS = (Institution.id, Institution.name, Institution.type, Institution.lat, Institution.lon,
               Institution.geo_precision, Institution.locality, Institution.powiat_teryt, Institution.is_demo)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_contains(column, value: str):
    # JSON lists are stored as text on SQLite and json on PostgreSQL; matching the encoded element
    # works on both without dialect-specific JSON operators.
    return cast(column, String).like(f"%{_like_escape(json.dumps(value))}%", escape="\\")


def _bbox(near: tuple[float, float], radius_km: float) -> list:
    dlat = radius_km / 111.2
    dlon = radius_km / max(1e-6, 111.2 * math.cos(math.radians(near[0])))
    return [Institution.lat.between(near[0] - dlat, near[0] + dlat),
            Institution.lon.between(near[1] - dlon, near[1] + dlon)]


def where_clauses(f: Filters, *, with_text: bool = False) -> list:
    """SQL conditions for the structured filters (and, for the fallback search, the text)."""
    clauses: list = []
    if f.types:
        clauses.append(Institution.type.in_(f.types))
    if f.woj:
        clauses.append(Institution.woj_teryt == f.woj)
    if f.powiat:
        clauses.append(Institution.powiat_teryt == f.powiat)
    if f.gmina:
        clauses.append(Institution.gmina_id6 == f.gmina)
    if f.status:
        clauses.append(Institution.status == f.status)
    if f.target_groups:
        clauses.append(or_(*(_json_contains(Institution.target_groups, g) for g in f.target_groups)))
    if f.modified_after is not None:
        clauses.append(Institution.updated_at > f.modified_after)
    if f.free_places:
        clauses.append(Institution.places_free > 0)
    if f.near and f.radius_km:
        clauses.extend(_bbox(f.near, f.radius_km))
    if with_text and f.text:
        for word in f.text.split():
            pattern = f"%{_like_escape(word.lower())}%"
            clauses.append(or_(*(func.lower(col).like(pattern, escape="\\") for col in (
                Institution.name, Institution.locality, Institution.address_raw, Institution.operator_name))))
    return clauses


def within_radius(f: Filters, lat: float | None, lon: float | None) -> tuple[bool, float | None]:
    """(keep, distance_km) for a point under the near/radius filter."""
    if f.near is None:
        return True, None
    if lat is None or lon is None:
        return f.radius_km is None, None
    distance = haversine_km(f.near, (lat, lon))
    return (f.radius_km is None or distance <= f.radius_km), distance


def map_rows(session: Session, f: Filters, ids: Sequence[int] | None = None) -> list[Any]:
    """Light rows (MAP_COLUMNS) of located institutions matching the filters (or the given ids)."""
    stmt = select(*MAP_COLUMNS).where(Institution.lat.is_not(None), Institution.lon.is_not(None))
    stmt = stmt.where(Institution.id.in_(ids)) if ids is not None else stmt.where(*where_clauses(f))
    rows = session.exec(stmt.order_by(Institution.id)).all()
    return [r for r in rows if within_radius(f, r.lat, r.lon)[0]]


def iter_institutions(session: Session, f: Filters, batch: int = 500) -> Iterator[Institution]:
    """Every institution matching the filters, by id, in batches (for streaming exports)."""
    last_id = 0
    while True:
        stmt = (select(Institution).where(Institution.id > last_id, *where_clauses(f))
                .order_by(Institution.id).limit(batch))
        rows = session.exec(stmt).all()
        if not rows:
            return
        for inst in rows:
            if within_radius(f, inst.lat, inst.lon)[0]:
                yield inst
        last_id = rows[-1].id
        session.expunge_all()


def modified_marker(session: Session) -> tuple[int, str]:
    """(count, newest updated_at) — changes whenever the catalog does; used for ETags and caches."""
    count, newest = session.exec(select(func.count(Institution.id), func.max(Institution.updated_at))).one()
    return int(count or 0), str(newest)


@dataclass
class DbSearchResult:
    ids: list[int]
    distances: dict[int, float | None]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    note: str | None = lookup.FALLBACK_NOTICE   # the same notice the pages show


def db_search(session: Session, f: Filters) -> DbSearchResult:
    """Plain SQL search: every word in the name, locality, address or operator; used without an index."""
    stmt = select(Institution.id, Institution.name, Institution.type, Institution.lat, Institution.lon)
    rows = session.exec(stmt.where(*where_clauses(f, with_text=True))).all()
    kept = []
    for row in rows:
        keep, distance = within_radius(f, row.lat, row.lon)
        if keep:
            kept.append((row, distance))
    if f.near and f.sort == "distance":
        kept.sort(key=lambda rd: (rd[1] is None, rd[1] or 0.0, rd[0].name))
    else:
        kept.sort(key=lambda rd: (rd[0].name.lower(), rd[0].id))
    start = (f.page - 1) * f.per_page
    window = kept[start:start + f.per_page]
    return DbSearchResult(
        ids=[row.id for row, _ in window],
        distances={row.id: d for row, d in window},
        total=len(kept),
        facets={"type": dict(Counter(row.type for row, _ in kept).most_common())},
    )


def load_by_ids(session: Session, ids: Sequence[int]) -> dict[int, Institution]:
    if not ids:
        return {}
    return {inst.id: inst for inst in session.exec(select(Institution).where(Institution.id.in_(ids))).all()}
