"""The SQL answer to a SearchQuery, for when the search index cannot answer (never built, damaged).

Filters mean exactly what they mean in the index (tests/index/test_fallback_agrees.py runs the same
queries on both and compares the ids, in order where the order is defined). Free text is simpler here:
every word must occur, case- and diacritic-insensitively (folded as the index folds), in the name,
locality, address or operator; there is no Polish inflection, no typo tolerance, no relaxation, and
results are sorted by name (folded, as the index's sort key) or, near a point without text or with
sort=distance, nearest first (as the index does), never by relevance. For an exact name both find the
same institutions."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, or_
from sqlmodel import Session, select

from catalog.geometry import bbox, haversine_km
from catalog.models import Institution
from index.analysis import fold
from index.api import Hit, Located, Point, SearchQuery, SearchResult, validate

BACKEND = "sql"
# Shown on every page that searched without the index (templates/base.html) and as the API's note.
NOTICE = ("Wyszukiwarka działa w trybie awaryjnym: indeks wyszukiwania jest niedostępny, więc działa "
          "wyszukiwanie uproszczone w katalogu (bez odmiany słów i poprawiania literówek).")
MAX_WORDS = 8


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_contains(column: Any, value: str) -> Any:
    # JSON lists are stored as text on SQLite and json on PostgreSQL; matching the encoded element
    # works on both without dialect-specific JSON operators.
    return cast(column, String).like(f"%{like_escape(json.dumps(value))}%", escape="\\")


def where(query: SearchQuery, *, modified_after: datetime | None = None) -> list[Any]:
    """SQL conditions for the query's filters (the text is matched by `matches_text`, in Python:
    SQLite's lower() folds only ASCII, and neither database folds Polish letters as the index does)."""
    clauses: list[Any] = []
    if query.types:
        clauses.append(Institution.type.in_(query.types))
    if query.woj:
        clauses.append(Institution.woj_teryt == query.woj)
    if query.powiat:
        clauses.append(Institution.powiat_teryt == query.powiat)
    if query.gmina:
        clauses.append(Institution.gmina_id6 == query.gmina[:6])
    if query.status:
        clauses.append(Institution.status == query.status)
    if query.target_groups:
        clauses.append(or_(*(_json_contains(Institution.target_groups, g) for g in query.target_groups)))
    if query.free_places:
        clauses.append(Institution.places_free > 0)
    if modified_after is not None:
        clauses.append(Institution.updated_at > modified_after)
    if query.near and query.radius_km:
        min_lat, max_lat, min_lon, max_lon = bbox(*query.near, query.radius_km)
        clauses += [Institution.lat.between(min_lat, max_lat), Institution.lon.between(min_lon, max_lon)]
    return clauses


def words(text: str) -> list[str]:
    """The query's words, folded: split on spaces, a piece without any letter or digit dropped (the
    index's analyser finds no word in "%" either, so both then list everything)."""
    return [fold(w) for w in text.split() if any(c.isalnum() for c in w)][:MAX_WORDS]


# The columns free text is looked for in.
TEXT_COLUMNS = (Institution.name, Institution.locality, Institution.address_raw, Institution.operator_name)


def matches_text(wanted: list[str], row: Any) -> bool:
    """Whether every folded word occurs in the row's text columns."""
    if not wanted:
        return True
    haystack = fold(" ".join(str(getattr(row, col.key) or "") for col in TEXT_COLUMNS))
    return all(word in haystack for word in wanted)


def _by_distance(query: SearchQuery) -> bool:
    """Nearest first: what the index does near a point with sort=distance or without any text."""
    return query.near is not None and (query.sort == "distance" or not words(query.text or ""))


def _distance(query: SearchQuery, lat: float | None, lon: float | None) -> tuple[bool, float | None]:
    """(kept by the radius, distance in km) of a point under the query's near/radius."""
    if query.near is None:
        return True, None
    if lat is None or lon is None:
        # Like the index: a radius, nearest-first, or a point without text (which the index always
        # orders by distance) needs a point; relevance near a point does not.
        by_relevance = query.sort != "distance" and bool(words(query.text or ""))
        return query.radius_km is None and by_relevance, None
    distance = haversine_km(query.near[0], query.near[1], lat, lon)
    return query.radius_km is None or distance <= query.radius_km, distance


def _kept(session: Session, query: SearchQuery, *columns: Any) -> list[tuple[Any, float | None]]:
    """(row, distance) of every institution the query keeps, in no particular order."""
    wanted = words(query.text or "")
    stmt = select(Institution.id, Institution.lat, Institution.lon, *columns, *TEXT_COLUMNS)
    kept = []
    for row in session.exec(stmt.where(*where(query))).all():
        keep, distance = _distance(query, row.lat, row.lon)
        if keep and matches_text(wanted, row):
            kept.append((row, distance))
    return kept


def search(session: Session, query: SearchQuery) -> SearchResult:
    """Filtered results by name (nearest first near a point), paged like the index's."""
    validate(query)
    kept = _kept(session, query, Institution.type)
    if _by_distance(query):
        # Like the index: only located institutions can be sorted by distance.
        kept = [(row, d) for row, d in kept if d is not None]
        kept.sort(key=lambda rd: (rd[1], fold(rd[0].name or "")[:200], rd[0].id))
    else:
        kept.sort(key=lambda rd: (fold(rd[0].name or "")[:200], rd[0].id))
    start = (query.page - 1) * query.per_page
    hits = [Hit(int(row.id), 0.0, distance, {"name": row.name, "type": row.type})
            for row, distance in kept[start:start + query.per_page]]
    facets = {"type": dict(Counter(row.type or "other" for row, _ in kept).most_common())}
    return SearchResult(hits, len(kept), facets, query.page, query.per_page, NOTICE, BACKEND)


def locate(session: Session, query: SearchQuery, cap: int) -> Located:
    """Every located match (for the map), by id."""
    validate(query)
    points = sorted((Point(int(row.id), row.lat, row.lon) for row, _d in _kept(session, query)
                     if row.lat is not None and row.lon is not None), key=lambda p: p.id)
    return Located(len(points), points[:cap], NOTICE, BACKEND)


def iter_institutions(session: Session, query: SearchQuery, *, modified_after: datetime | None = None,
                      batch: int = 500) -> Iterator[Institution]:
    """Every institution matching the filters (text is not used), by id, in batches (for exports)."""
    last_id = 0
    clauses = where(query, modified_after=modified_after)
    while True:
        stmt = (select(Institution).where(Institution.id > last_id, *clauses)
                .order_by(Institution.id).limit(batch))
        rows = session.exec(stmt).all()
        if not rows:
            return
        for inst in rows:
            if _distance(query, inst.lat, inst.lon)[0]:
                yield inst
        last_id = rows[-1].id
        session.expunge_all()
