"""The pages' one door to search (index/) and place resolution (geo.resolve).

Both packages are optional at run time: when the index has not been built yet the pages fall back to
plain catalog queries, so a fresh install still lists institutions."""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlmodel import Session

from catalog.models import Institution
from catalog.settings import Settings
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


def _optional(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


def index_ready(settings: Settings) -> bool:
    api = _optional("index.api")
    try:
        return bool(api and api.index_exists(settings))
    except Exception:  # a damaged index must not take the site down: log and use the catalog
        log.exception("search index check failed")
        return False


def search(session: Session, settings: Settings, f: pq.Filters, *, page: int, per_page: int,
           near: tuple[float, float] | None = None, radius_km: float | None = None,
           nearest_first: bool = False) -> Listing:
    """Matching institutions (nearest first on request); raises QueryRefused on a refused query."""
    if index_ready(settings):
        return _search_index(session, settings, f, page, per_page, near, radius_km, nearest_first)
    if near:
        rows = pq.nearest(session, near[0], near[1], f=f, limit=page * per_page, max_km=radius_km)
        return Listing(items=rows[(page - 1) * per_page:], total=len(rows))
    rows, total = pq.filter_institutions(session, f, page, per_page)
    return Listing(items=[(r, None) for r in rows], total=total)


def _search_index(session: Session, settings: Settings, f: pq.Filters, page: int, per_page: int,
                  near: tuple[float, float] | None, radius_km: float | None, nearest_first: bool) -> Listing:
    api = importlib.import_module("index.api")
    query = api.SearchQuery(
        text=f.q, types=tuple(f.types), woj=f.woj, powiat=f.powiat, gmina=f.gmina, status=f.status,
        near=near, radius_km=radius_km, sort="distance" if near and nearest_first else "relevance",
        page=page, per_page=per_page,
    )
    try:
        result = api.search(settings, query)
    except api.QueryError as exc:
        raise QueryRefused(str(exc)) from exc
    distances = {h.id: h.distance_km for h in result.hits}
    items = [(i, distances.get(i.id)) for i in pq.by_ids(session, [h.id for h in result.hits])]
    return Listing(items=items, total=result.total, note=result.note, facets=dict(result.facets or {}))


def resolve(session: Session, settings: Settings, text: str | None = None,
            point: tuple[float, float] | None = None) -> Any | None:
    """geo.resolve.resolve, or None when that package is not installed yet."""
    mod = _optional("geo.resolve")
    if mod is None:
        return None
    return mod.resolve(session, settings, text=text, point=point)


def maps() -> ModuleType | None:
    return _optional("webapp.maps")
