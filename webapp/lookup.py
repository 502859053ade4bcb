"""The pages' one door to search (index/) and place resolution (geo.resolve).

When the search index cannot answer (never built, the last rebuild failed, or its files were damaged)
lists fall back to plain catalog queries with a visible notice, so the site still lists institutions;
see use_index."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import g, has_request_context
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


# Shown on every page that searched without the index (templates/base.html) and in the API's note.
FALLBACK_NOTICE = ("Wyszukiwarka działa w trybie awaryjnym: indeks wyszukiwania jest niedostępny, więc działa "
                   "wyszukiwanie uproszczone w katalogu (bez odmiany słów i poprawiania literówek).")

# Index dirs whose outage has been logged, with the reason: once per outage, not once per request.
_FALLBACK_LOGGED: dict[Path, str] = {}


def index_problem(settings: Settings) -> str | None:
    """Why the search index cannot answer now (missing or damaged generation), or None when it can.

    Opening or refreshing the shared engine is a few stats when nothing changed; it is what notices
    a generation damaged under the running site (index.tantivy_view)."""
    try:
        if not index_api.index_exists(settings):
            return "no published index generation (not built yet, or the last rebuild failed)"
        index_api.check(settings)
    except BaseException as error:  # a Rust panic is a BaseException: none may take the site down
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        return f"{type(error).__name__}: {error}"
    return None


def index_ready(settings: Settings) -> bool:
    return index_problem(settings) is None


def _fall_back(settings: Settings, reason: str) -> None:
    """Remember (for the page's notice) and log (once per outage) that lists come from the catalog."""
    if has_request_context():
        g.search_fallback = True
    if _FALLBACK_LOGGED.get(settings.index_dir) != reason:
        _FALLBACK_LOGGED[settings.index_dir] = reason
        log.warning("no search index in %s (%s): lists come from plain catalog queries until "
                    "`wsparcie reindex`", settings.index_dir, reason)


def use_index(settings: Settings) -> bool:
    """True when the search index can answer; otherwise callers list from catalog queries (logged once)."""
    reason = index_problem(settings)
    if reason is None:
        _FALLBACK_LOGGED.pop(settings.index_dir, None)
        return True
    _fall_back(settings, reason)
    return False


def search(session: Session, settings: Settings, f: pq.Filters, *, page: int, per_page: int,
           near: tuple[float, float] | None = None, radius_km: float | None = None,
           nearest_first: bool = False) -> Listing:
    """Matching institutions (nearest first on request); raises QueryRefused on a refused query.
    A missing or damaged index never fails the page: the catalog answers, with a notice."""
    if use_index(settings):
        try:
            return _search_index(session, settings, f, page, per_page, near, radius_km, nearest_first)
        except QueryRefused:
            raise
        except BaseException as error:  # see index_problem
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            log.exception("index search failed")
            _fall_back(settings, f"{type(error).__name__}: {error}")
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
        page=page, per_page=per_page, free_places=f.free_places,
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
