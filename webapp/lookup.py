"""The one door of pages, map frames and the API to search (index/) and place resolution (geo.resolve).

Every caller hands over an `index.api.SearchQuery` built by `index.params`; the index answers it, or,
when the index cannot (never built, the last rebuild failed, its files damaged, or a failure during
the search itself), the catalog answers the same query in SQL (index.fallback) with a visible notice:
a missing index never fails a page or the API."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlmodel import Session, select

from catalog.models import Institution
from catalog.settings import Settings
from geo import resolve as geo_resolve
from index import api as index_api
from index import fallback
from index.api import Located, SearchQuery, SearchResult

log = logging.getLogger(__name__)

FALLBACK_NOTICE = fallback.NOTICE
EXTENSION = "wsparcie.search_outages"


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


def init_app(app: Flask) -> None:
    # Index dirs whose outage has been logged, with the reason: once per outage, not once per request.
    app.extensions[EXTENSION] = {}


def _outages() -> dict[Path, str]:
    if has_app_context():
        return current_app.extensions.setdefault(EXTENSION, {})
    return {}


def _fall_back(settings: Settings, reason: str) -> None:
    """Remember (for the page's notice) and log (once per outage) that lists come from the catalog."""
    if has_request_context():
        g.search_fallback = True
    outages = _outages()
    if outages.get(settings.index_dir) != reason:
        outages[settings.index_dir] = reason
        log.warning("no search index in %s (%s): lists come from plain catalog queries until "
                    "`wsparcie reindex`", settings.index_dir, reason)


def _use_index(settings: Settings) -> bool:
    reason = index_problem(settings)
    if reason is None:
        _outages().pop(settings.index_dir, None)
        return True
    _fall_back(settings, reason)
    return False


def _failed(settings: Settings, error: BaseException) -> None:
    """A failure inside the index while it answered: logged, and the catalog answers instead."""
    if isinstance(error, (KeyboardInterrupt, SystemExit, index_api.QueryError)):
        raise error
    log.exception("index search failed")
    _fall_back(settings, f"{type(error).__name__}: {error}")


def search(session: Session, settings: Settings, query: SearchQuery) -> SearchResult:
    """Ranked results of `query`; raises index.api.QueryError (Polish message) for a refused query."""
    if _use_index(settings):
        try:
            return index_api.search(settings, query)
        except BaseException as error:  # noqa: BLE001 - a Rust panic too (see index_problem)
            _failed(settings, error)
    return fallback.search(session, query)


def locate(session: Session, settings: Settings, query: SearchQuery,
           cap: int = index_api.MAX_LOCATED) -> Located:
    """Ids and points of every located match of `query` (the map's markers)."""
    if _use_index(settings):
        try:
            return index_api.locate(settings, query, cap)
        except BaseException as error:  # noqa: BLE001 - as in search
            _failed(settings, error)
    return fallback.locate(session, query, cap)


def by_ids(session: Session, ids: Iterable[int], columns: Sequence[Any] | None = None,
           chunk: int = 2000) -> list[Any]:
    """Institutions (or rows of `columns`) in the order of `ids`, skipping ids no longer in the catalog
    (the index may briefly lag behind it)."""
    wanted = [int(i) for i in ids]
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), chunk):
        part = wanted[start:start + chunk]
        stmt = select(*columns) if columns else select(Institution)
        for row in session.exec(stmt.where(Institution.id.in_(part))).all():
            found[int(row.id)] = row
    return [found[i] for i in wanted if i in found]


def listing(session: Session, result: SearchResult) -> list[tuple[Institution, float | None]]:
    """The result's institutions with their distances, best first."""
    distances = {h.id: h.distance_km for h in result.hits}
    return [(inst, distances.get(inst.id)) for inst in by_ids(session, [h.id for h in result.hits])]


def resolve(session: Session, settings: Settings, text: str | None = None,
            point: tuple[float, float] | None = None) -> geo_resolve.Resolution | None:
    """The place and its competent units (geo.resolve.resolve); None when no such place is known."""
    return geo_resolve.resolve(session, settings, text=text, point=point)
