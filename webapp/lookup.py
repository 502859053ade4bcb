"""The pages' one door to search (index/) and place resolution (geo.resolve).

When no search index has been built yet (fresh install, or the last rebuild failed) lists fall back to
plain catalog queries, so the site still lists institutions; see use_index."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from catalog.models import Institution
from catalog.settings import Settings
from geo import resolve as geo_resolve
from index import api as index_api
from webapp import page_queries as pq

log = logging.getLogger(__name__)


class QueryRefused(ValueError):
    """A query we refuse, with a Polish message for the page."""


@dataclass
class Listing:
    items: list[tuple[Institution, float | None]] = field(default_factory=list)
    total: int = 0
    note: str | None = None
    facets: dict[str, Any] = field(default_factory=dict)


def index_ready(settings: Settings) -> bool:
    try:
        return index_api.index_exists(settings)
    except Exception:  # a damaged index must not take the site down: log and use the catalog
        log.exception("search index check failed")
        return False


# Index dirs whose fallback has been logged: once per outage, not once per request.
_FALLBACK_LOGGED: set[Path] = set()


def use_index(settings: Settings) -> bool:
    """True when the search index can answer; otherwise callers list from catalog queries (logged once)."""
    if index_ready(settings):
        _FALLBACK_LOGGED.discard(settings.index_dir)
        return True
    if settings.index_dir not in _FALLBACK_LOGGED:
        _FALLBACK_LOGGED.add(settings.index_dir)
        log.warning("no search index in %s (not built yet, or the last rebuild failed): "
                    "lists come from plain catalog queries until `wsparcie reindex`", settings.index_dir)
    return False


def search(session: Session, settings: Settings, f: pq.Filters, *, page: int, per_page: int,
           near: tuple[float, float] | None = None, radius_km: float | None = None,
           nearest_first: bool = False) -> Listing:
    """Matching institutions (nearest first on request); raises QueryRefused on a refused query."""
    if use_index(settings):
        return _search_index(session, settings, f, page, per_page, near, radius_km, nearest_first)
    if near:
        rows = pq.nearest(session, near[0], near[1], f=f, limit=page * per_page, max_km=radius_km)
        return Listing(items=rows[(page - 1) * per_page:], total=len(rows))
    rows, total = pq.filter_institutions(session, f, page, per_page)
    return Listing(items=[(r, None) for r in rows], total=total)


def _search_index(session: Session, settings: Settings, f: pq.Filters, page: int, per_page: int,
                  near: tuple[float, float] | None, radius_km: float | None, nearest_first: bool) -> Listing:
    query = index_api.SearchQuery(
        text=f.q, types=tuple(f.types), target_groups=(f.target_group,) if f.target_group else (), woj=f.woj, powiat=f.powiat, gmina=f.gmina, status=f.status,
        near=near, radius_km=radius_km, sort="distance" if near and nearest_first else "relevance",
        page=page, per_page=per_page,
    )
    try:
        result = index_api.search(settings, query)
    except index_api.QueryError as exc:
        raise QueryRefused(str(exc)) from exc
    distances = {h.id: h.distance_km for h in result.hits}
    items = [(i, distances.get(i.id)) for i in pq.by_ids(session, [h.id for h in result.hits])]
    return Listing(items=items, total=result.total, note=result.note, facets=dict(result.facets or {}))


def resolve(session: Session, settings: Settings, text: str | None = None,
            point: tuple[float, float] | None = None) -> geo_resolve.Resolution | None:
    """The place and its competent units (geo.resolve.resolve); None when no such place is known."""
    return geo_resolve.resolve(session, settings, text=text, point=point)
