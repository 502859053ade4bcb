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
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from catalog import db as catalog_db
from catalog import zero_results
from catalog.models import Institution
from catalog.settings import Settings
from catalog.text import fold
from catalog.types import NEEDS
from geo import resolve as geo_resolve
from index import api as index_api
from index import fallback, needs
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


# --- zero results: counted for the operator, and never the end of the road ---------------------------------

READ_ONLY_EXTENSION = "wsparcie.zero_results_read_only"


def _read_only(error: BaseException) -> bool:
    """SQLite opened read-only (a full disk, a read-only file) or a PostgreSQL read-only transaction."""
    orig = getattr(error, "orig", error)
    text = str(orig).lower()
    return getattr(orig, "sqlstate", None) == "25006" or "readonly" in text or "read-only" in text


def log_zero_result(settings: Settings, query: str | None, place: str | None, need: str | None) -> None:
    """Count a search that found nothing (catalog.zero_results: text only, never the client's address).

    Its own short transaction, apart from the page's session; a failing write is logged and the page goes
    on, a read-only catalog is skipped (noted in the log once per process)."""
    try:
        with catalog_db.session_scope(settings.database_url) as session:
            zero_results.record(session, query, place, need)
    except SQLAlchemyError as error:
        if not _read_only(error):
            log.warning("zero-result search not recorded: %s", error)
            return
        flags = current_app.extensions if has_app_context() else {}
        if not flags.get(READ_ONLY_EXTENSION):
            flags[READ_ONLY_EXTENSION] = True
            log.info("catalog is read-only: zero-result searches are not recorded")
    except Exception:   # counting is a side matter: the page is answered anyway
        log.exception("zero-result search not recorded")


def need_suggestions(text: str | None, need: str | None = None, limit: int = 5) -> dict[str, Any]:
    """What a search that found nothing offers next (index.needs.suggest): the need phrases nearest to
    what was typed (never the typed words themselves) as new queries, and their needs that the pages can
    filter on (catalog.types.NEEDS) as need links — {"suggestions": [...], "needs": [(key, label)]}."""
    found: list[needs.Suggestion] = []
    if text and text.strip():
        try:
            found = list(needs.suggest(text, limit=limit + 1))
        except Exception:   # a suggestion is a help, never a reason for the page to fail
            log.exception("need suggestions failed for a zero-result search")
    typed = fold(text)
    phrases = [s for s in found if fold(s.phrase) != typed][:limit]
    keys = list(dict.fromkeys(s.need for s in found if s.need in NEEDS and s.need != need))
    return {"suggestions": phrases, "needs": [(key, NEEDS[key]) for key in keys]}


# --- "Którą miejscowość masz na myśli?": long lists of choices grouped by województwo -----------------------

GROUP_CHOICES_OVER = 12    # more choices than this are grouped by województwo (a <details> each)
_POLISH_ORDER = {c: i for i, c in enumerate("aąbcćdeęfghijklłmnńoóprsśtuvwxyzźż")}


def polish_sort_key(text: str) -> tuple[int, ...]:
    """Polish alphabetical order of a name ("lubuskie" < "łódzkie" < "małopolskie")."""
    return tuple(_POLISH_ORDER.get(c, 100 + ord(c)) for c in (text or "").lower())


def choice_groups(alternatives: Sequence[geo_resolve.Place]) -> list[dict[str, Any]]:
    """The choices by województwo in Polish alphabetical order, each keeping the resolver's order
    (geo.localities.CHOICE_ORDER) inside: [{"wojewodztwo", "woj_code", "choices": [place dicts]}]."""
    groups: dict[str, dict[str, Any]] = {}
    for alt in alternatives:
        d = alt.to_dict()
        name = d["wojewodztwo"] or ""
        group = groups.setdefault(name, {"wojewodztwo": name, "woj_code": d["woj_code"], "choices": []})
        group["choices"].append(d)
    return sorted(groups.values(), key=lambda grp: polish_sort_key(grp["wojewodztwo"]))
