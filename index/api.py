"""Search API used by the web app and the CLI (contract: docs/ARCHITECTURE.md, "Search").

One engine per process and backend is kept open and shared; each call checks (one stat) whether the
writer published a new generation or committed into the current one and reopens cheaply if so."""
from __future__ import annotations

import importlib
import logging
import math
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlmodel import Session, func, select

from catalog.geometry import EARTH_RADIUS_KM, bbox, haversine_km
from catalog.models import Institution
from catalog.settings import Settings
from catalog.types import Level
from catalog.types import info as type_info
from index import analysis, documents, store
from index.documents import FACET_KEYS
from index.plan import MAX_QUERY_CHARS, build_plan
from index.query import Filters, Match, Node

log = logging.getLogger(__name__)

BACKENDS = {"tantivy": "index.tantivy_backend", "whoosh": "index.whoosh_backend"}
# tantivy meets the latency targets at 100 000 institutions, whoosh does not (bench/search.py).
DEFAULT_BACKEND = "tantivy"

MAX_PER_PAGE = 100
MAX_RESULT_WINDOW = 10_000
MAX_RADIUS_KM = 1000.0
RERANK_DEPTH = 200             # relevance hits re-ranked by distance when a point is given
MAX_DISTANCE_CANDIDATES = 50_000
# Not catalog.radii's policy (how far a person should be sent for help): this is how the nearest-first
# sort gathers candidates, box by box, until it has a page's worth; every located match still counts
# and may appear on later pages. The pages' and resolve's widening is catalog.radii.WIDENING_RADII_KM.
EXPANDING_RADII_KM = (5.0, 15.0, 50.0, 150.0, 400.0, 1500.0)
DISTANCE_SCALE_KM = 30.0       # distance-aware ranking: score / (1 + d / scale)
NO_POINT_PENALTY = 0.5
BATCH = 2000
FACET_CACHE_SIZE = 512

NOTE_FUZZY = "Pokazano wyniki dla podobnych słów."
NOTE_PARTIAL = "Nie znaleziono instytucji pasujących do wszystkich słów – pokazano najbliższe dopasowania."
NOTE_TRUNCATED = "Zapytanie było za długie – uwzględniono jego początek."


class QueryError(ValueError):
    """A query we refuse; str(error) is a Polish message fit for the user."""


class IndexMissing(QueryError):
    """No index has been built yet."""


class IndexStale(IndexMissing):
    """The published generation holds documents of another schema version (built by older code): its
    fields cannot be trusted to answer, so it counts as missing until catch_up rebuilds it."""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    types: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    woj: str | None = None
    powiat: str | None = None
    gmina: str | None = None
    status: str | None = None
    near: tuple[float, float] | None = None     # (lat, lon)
    radius_km: float | None = None
    sort: str = "relevance"                     # "relevance" | "distance"
    page: int = 1
    per_page: int = 20
    free_places: bool = False                   # only documents whose places say free ones exist


@dataclass
class Hit:
    id: int
    score: float
    distance_km: float | None
    fields: dict[str, Any]


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    page: int
    per_page: int
    note: str | None = None
    backend: str = field(default=DEFAULT_BACKEND, repr=False)


# --- backends and shared engines -------------------------------------------------------------------

def backend_name(settings: Settings) -> str:
    name = (settings.search_backend or DEFAULT_BACKEND).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"SEARCH_BACKEND must be one of {sorted(BACKENDS)}, not {name!r}")
    return name


def _module(name: str) -> ModuleType:
    return importlib.import_module(BACKENDS[name])


class _Engine:
    """An open reader of one published generation, plus its fold map."""

    def __init__(self, index_dir: Path, backend: str) -> None:
        self.index_dir, self.backend = index_dir, backend
        self.stamp = store.pointer_stamp(index_dir, backend)
        generation = store.current_generation(index_dir, backend)
        if generation is None:
            raise IndexMissing("Wyszukiwarka nie jest jeszcze gotowa: indeks nie został zbudowany.")
        self.generation = generation
        version = store.read_schema_version(generation)
        if version != documents.SCHEMA_VERSION:
            raise IndexStale(f"Indeks wyszukiwania pochodzi z wcześniejszej wersji (schemat {version}, "
                             f"potrzebny {documents.SCHEMA_VERSION}) i czeka na przebudowanie (wsparcie reindex).")
        self.reader = _module(backend).Reader(generation)
        self.fold_stamp = store.fold_map_stamp(generation)
        self.fold_map = store.read_fold_map(generation)
        # Facet counts per (query, filters): the most expensive part of a typical request, and the same
        # for every page of a result list. Valid until the index changes.
        self.facet_cache: OrderedDict[tuple, dict[str, dict[str, int]]] = OrderedDict()

    def refresh(self) -> None:
        if self.reader.refresh():
            self.facet_cache.clear()
        stamp = store.fold_map_stamp(self.generation)
        if stamp != self.fold_stamp:
            self.fold_map, self.fold_stamp = store.read_fold_map(self.generation), stamp


_ENGINES: dict[tuple[Path, str], _Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(settings: Settings) -> _Engine:
    key = (settings.index_dir, backend_name(settings))
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None or engine.stamp != store.pointer_stamp(*key):
            engine = _ENGINES[key] = _open_engine(*key)
        else:
            engine.refresh()
        return engine


def _open_engine(index_dir: Path, backend: str, attempts: int = 3) -> _Engine:
    """Open the published generation; if the writer publishes again meanwhile (and so may delete
    the generation we were opening), try the newer one instead of failing the request."""
    for attempt in range(attempts):
        stamp = store.pointer_stamp(index_dir, backend)
        try:
            return _Engine(index_dir, backend)
        except (OSError, ValueError) as error:
            if isinstance(error, QueryError) or attempt == attempts - 1:
                raise
            if store.pointer_stamp(index_dir, backend) == stamp:
                raise
    raise AssertionError("unreachable")


def index_exists(settings: Settings) -> bool:
    return store.current_generation(settings.index_dir, backend_name(settings)) is not None


def _current_schema(generation: Path | None) -> bool:
    return generation is not None and store.read_schema_version(generation) == documents.SCHEMA_VERSION


def check(settings: Settings) -> None:
    """Open (or refresh) the shared engine: raises what a search would on a missing or damaged index."""
    _engine(settings)


# --- validation ------------------------------------------------------------------------------------

def validate(query: SearchQuery) -> None:
    """Raise QueryError (Polish message) for a query no backend answers."""
    if query.sort not in ("relevance", "distance"):
        raise QueryError("Nieznany sposób sortowania. Wybierz trafność albo odległość.")
    if query.page < 1 or not 1 <= query.per_page <= MAX_PER_PAGE:
        raise QueryError(f"Nieprawidłowa strona wyników (na stronie można pokazać od 1 do {MAX_PER_PAGE}).")
    if query.page * query.per_page > MAX_RESULT_WINDOW:
        raise QueryError("Za daleka strona wyników. Zawęź wyszukiwanie filtrami.")
    if query.near is not None:
        lat, lon = query.near
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
            raise QueryError("Nieprawidłowe współrzędne punktu.")
    if query.radius_km is not None and not 0 < query.radius_km <= MAX_RADIUS_KM:
        raise QueryError(f"Promień musi być większy od zera i nie większy niż {MAX_RADIUS_KM:.0f} km.")
    if query.sort == "distance" and query.near is None:
        raise QueryError("Sortowanie według odległości wymaga wskazania miejsca.")


def _filters(query: SearchQuery) -> Filters:
    values = {
        "type": tuple(query.types),
        "target_group": tuple(query.target_groups),
        "woj": (query.woj,) if query.woj else (),
        "powiat": (query.powiat,) if query.powiat else (),
        "gmina": ((query.gmina or "")[:6],) if query.gmina else (),
        "status": (query.status,) if query.status else (),
        "places": (documents.PLACES_FREE,) if query.free_places else (),
    }
    return Filters({k: v for k, v in values.items() if v})


# --- geometry --------------------------------------------------------------------------------------

def _distance(match: Match, near: tuple[float, float]) -> float | None:
    if match.lat is None or match.lon is None:
        return None
    return haversine_km(near[0], near[1], match.lat, match.lon)


# --- search ----------------------------------------------------------------------------------------

def search(settings: Settings, query: SearchQuery) -> SearchResult:
    """Ranked, filtered, faceted results; raises QueryError with a Polish message for bad input."""
    validate(query)
    engine = _engine(settings)
    reader = engine.reader
    plan = build_plan(query.text or "", reader, engine.fold_map)
    filters = _filters(query)
    notes = [NOTE_TRUNCATED] if len(query.text or "") > MAX_QUERY_CHARS else []
    node = plan.node
    total, ranked = _ranked(reader, node, filters, query, plan.empty)
    if total == 0 and plan.relaxed is not None:
        relaxed_total, relaxed_ranked = _ranked(reader, plan.relaxed, filters, query, plan.empty)
        if relaxed_total:
            node, total, ranked = plan.relaxed, relaxed_total, relaxed_ranked
            notes.append(NOTE_PARTIAL)
    if plan.fuzzy and total:
        notes.append(NOTE_FUZZY)
    if query.near is not None and query.radius_km:
        filters = Filters(filters.values, bbox(*query.near, query.radius_km))
    hits = [
        Hit(doc_id, score, distance, fields)
        for (score, distance), (doc_id, fields) in zip(
            [(m.score, d) for m, d in ranked], reader.stored([m for m, _d in ranked]), strict=False
        )
    ]
    if query.near is None and not plan.empty:
        hits.sort(key=_tie_break)
    return SearchResult(
        hits, total, _cached_facets(engine, node, filters), query.page, query.per_page,
        " ".join(notes) or None, engine.backend,
    )


MAX_LOCATED = 20_000   # the most points one map shows (the whole catalog today is ~12 000 located)


@dataclass(frozen=True)
class Point:
    id: int
    lat: float
    lon: float


@dataclass
class Located:
    """Every located match of a query (for the map): `total` located matches, `points` up to the cap."""
    total: int
    points: list[Point]
    note: str | None = None
    backend: str = field(default=DEFAULT_BACKEND, repr=False)


def locate(settings: Settings, query: SearchQuery, cap: int = MAX_LOCATED) -> Located:
    """The ids and points of all located matches of `query` (the same matches `search` counts, without
    ranking or paging); at most `cap` of them, best first. The map draws exactly these."""
    validate(query)
    engine = _engine(settings)
    reader = engine.reader
    plan = build_plan(query.text or "", reader, engine.fold_map)
    filters = _filters(query)
    box = bbox(*query.near, query.radius_km) if query.near and query.radius_km else (-90.0, 90.0, -180.0, 180.0)
    boxed = Filters(filters.values, box)
    notes = [NOTE_TRUNCATED] if len(query.text or "") > MAX_QUERY_CHARS else []
    node = plan.node
    # The same relaxation `search` applies: when no institution matches every word, the closest ones.
    if (plan.relaxed is not None and reader.top(node, filters, 1, 0, False)[0] == 0
            and reader.top(plan.relaxed, filters, 1, 0, False)[0]):
        node = plan.relaxed
        notes.append(NOTE_PARTIAL)
    matches = reader.located(node, boxed, MAX_DISTANCE_CANDIDATES if query.radius_km else cap)
    points = [Point(doc_id, m.lat, m.lon) for m, doc_id in zip(matches, reader.ids(matches), strict=False)
              if m.lat is not None and m.lon is not None
              and (not query.radius_km or haversine_km(*query.near, m.lat, m.lon) <= query.radius_km)]
    total = len(points) if query.radius_km else reader.top(node, boxed, 1, 0, False)[0]
    return Located(total, points[:cap], " ".join(notes) or None, engine.backend)


_LEVEL_RANK = {Level.GMINA: 0, Level.POWIAT: 1}


def _tie_break(hit: Hit) -> tuple[float, int]:
    """Equal scores (typical of typo matches) put the first-contact office of the place first:
    the gmina's OPS, then powiat units, then the rest (GUIDE §1: the competent office first)."""
    return -round(hit.score, 5), _LEVEL_RANK.get(type_info(hit.fields.get("type") or "other").level, 2)


def _ranked(reader, node: Node, filters: Filters, query: SearchQuery, empty: bool):
    if query.near is not None and (query.sort == "distance" or empty):
        return _by_distance(reader, node, filters, query)
    if query.near is not None:
        return _by_relevance_near(reader, node, filters, query)
    return _by_relevance(reader, node, filters, query, by_name=empty)


def _offset(query: SearchQuery) -> int:
    return (query.page - 1) * query.per_page


def _by_relevance(reader, node: Node, filters: Filters, query: SearchQuery, by_name: bool):
    total, matches = reader.top(node, filters, query.per_page, _offset(query), by_name)
    return total, [(m, None) for m in matches]


def _by_relevance_near(reader, node: Node, filters: Filters, query: SearchQuery):
    """Relevance softened by distance: the best RERANK_DEPTH matches (or all within the radius)."""
    near = query.near
    if query.radius_km:
        matches = reader.located(node, Filters(filters.values, bbox(*near, query.radius_km)),
                                 MAX_DISTANCE_CANDIDATES)
        scored = [(m, d) for m in matches if (d := _distance(m, near)) is not None and d <= query.radius_km]
        total = len(scored)
    else:
        total = reader.top(node, filters, 1, 0, False)[0]
        depth = max(RERANK_DEPTH, query.page * query.per_page)
        scored = [(m, _distance(m, near)) for m in reader.located(node, filters, depth)]

    def key(item: tuple[Match, float | None]) -> float:
        match, distance = item
        factor = NO_POINT_PENALTY if distance is None else 1.0 / (1.0 + distance / DISTANCE_SCALE_KM)
        return -match.score * factor

    scored.sort(key=key)
    offset = _offset(query)
    return total, scored[offset:offset + query.per_page]


def _by_distance(reader, node: Node, filters: Filters, query: SearchQuery):
    """Nearest first: widen the box until enough matches lie inside the circle. With a radius the page
    comes from the smallest box that holds it and the total from _circle_count (not every match read)."""
    near, needed = query.near, query.page * query.per_page
    radii = EXPANDING_RADII_KM
    in_box = None
    if query.radius_km:
        # Few matches in the box: read them all at once; many (a city): see _circle_count.
        in_box = reader.top(node, Filters(filters.values, bbox(*near, query.radius_km)), 1, 0, False)[0]
        radii = (query.radius_km,) if in_box <= READ_WHOLE_BOX else _radii_within(query.radius_km)
    inside: list[tuple[Match, float]] = []
    radius = radii[0]
    for radius in radii:
        matches = reader.located(node, Filters(filters.values, bbox(*near, radius)), MAX_DISTANCE_CANDIDATES)
        inside = [(m, d) for m in matches if (d := _distance(m, near)) is not None and d <= radius]
        if len(inside) >= needed:
            break
    inside.sort(key=lambda item: (item[1], -item[0].score))
    if query.radius_km:
        total = len(inside) if radius == query.radius_km else _circle_count(reader, node, filters, near,
                                                                             query.radius_km, in_box)
    else:   # everything located, wherever it is (institutions without a point cannot be sorted)
        total = reader.top(node, Filters(filters.values, (-90.0, 90.0, -180.0, 180.0)), 1, 0, False)[0]
    offset = _offset(query)
    return total, inside[offset:offset + query.per_page]


def _radii_within(radius_km: float) -> tuple[float, ...]:
    """The boxes a page within radius_km is looked for in: a city's 5 km box alone holds thousands."""
    return tuple(r for r in (1.0, 2.0, *EXPANDING_RADII_KM) if r < radius_km) + (radius_km,)


READ_WHOLE_BOX = 1000   # matches in a radius's box read at once (below this, counting by parts costs more)
CIRCLE_ROWS = 8
# Slack of the box edges between the parts of _circle_count, in degrees (~10 m): more than any backend's
# rounding of a stored coordinate (whoosh keeps 32-bit floats), so a match on an edge is read, not lost.
EDGE_DEG = 1e-4


def _circle_count(reader, node: Node, filters: Filters, near: tuple[float, float], radius_km: float,
                  in_box: int | None = None) -> int:
    """How many located matches lie within radius_km of `near`, reading few of them: the box's count
    (nothing read) less the matches outside the circle. Those lie only outside the middle part of each of
    CIRCLE_ROWS rows of the box, a part wholly inside the circle (its corners are checked); the rest of
    each row (the box's corners and the circle's edge) is read and measured."""
    box = bbox(*near, radius_km)
    min_lat, max_lat, min_lon, max_lon = box
    if in_box is None:
        in_box = reader.top(node, Filters(filters.values, box), 1, 0, False)[0]
    step = (max_lat - min_lat) / CIRCLE_ROWS
    edge: list[Match] = []
    for row in range(CIRCLE_ROWS):
        low, high = min_lat + row * step - EDGE_DEG, min_lat + (row + 1) * step + EDGE_DEG
        half = _inner_half_width(near, radius_km, low, high)
        parts = [(min_lon, max_lon)] if half is None else [
            (min_lon, near[1] - half + EDGE_DEG), (near[1] + half - EDGE_DEG, max_lon)]
        for west, east in parts:
            if west <= east:
                edge += reader.located(node, Filters(filters.values, (max(low, min_lat), min(high, max_lat),
                                                                      west, east)), MAX_DISTANCE_CANDIDATES)
    outside = {doc_id for match, doc_id in zip(edge, reader.ids(edge), strict=True)
               if (d := _distance(match, near)) is None or d > radius_km}
    return in_box - len(outside)


def _inner_half_width(near: tuple[float, float], radius_km: float, low: float, high: float) -> float | None:
    """Half the width (degrees of longitude) of a box spanning latitudes low..high around near's meridian that
    lies wholly inside the circle, or None. On the sphere the farthest point of such a box from the centre is
    one of its corners, so checking the four corners proves it."""
    lat0 = math.radians(near[0])
    cos_r = math.cos(radius_km / EARTH_RADIUS_KM)
    halves = []
    for lat in (low, high):
        phi = math.radians(lat)
        denom = math.cos(phi) * math.cos(lat0)
        if denom <= 0:
            return None
        x = (cos_r - math.sin(phi) * math.sin(lat0)) / denom
        if x >= 1:
            return None                         # this edge of the row lies outside the circle
        halves.append(math.degrees(math.acos(max(-1.0, x))))
    half = min(halves) * 0.999
    if half <= 2 * EDGE_DEG or any(haversine_km(near[0], near[1], lat, near[1] + side * half) > radius_km
                                   for lat in (low, high) for side in (-1, 1)):
        return None
    return half


def _cached_facets(engine: _Engine, node: Node, filters: Filters) -> dict[str, dict[str, int]]:
    key = (node, tuple(sorted(filters.values.items())), filters.bbox)
    cache = engine.facet_cache
    with _ENGINES_LOCK:
        facets = cache.get(key)
        if facets is not None:
            cache.move_to_end(key)
    if facets is None:
        facets = _facets(engine.reader, node, filters)
        with _ENGINES_LOCK:
            cache[key] = facets
            while len(cache) > FACET_CACHE_SIZE:
                cache.popitem(last=False)
    return {name: dict(counts) for name, counts in facets.items()}   # callers may change their copy


def _facets(reader, node: Node, filters: Filters) -> dict[str, dict[str, int]]:
    """Counts per facet value; a facet ignores its own filter so other choices stay visible.
    With a radius the counts cover its bounding box (a square slightly larger than the circle)."""
    out: dict[str, dict[str, int]] = {}
    shared = [key for key in FACET_KEYS if key not in filters.values]
    if shared:
        out.update(reader.facets(node, filters, shared))
    for key in FACET_KEYS:
        if key in filters.values:
            out.update(reader.facets(node, filters.without(key), [key]))
    return {key: out.get(key, {}) for key in FACET_KEYS}


# --- writing ---------------------------------------------------------------------------------------

def _institutions(session: Session, ids: Iterable[int] | None = None) -> Iterator[list[Institution]]:
    """Institutions in id order, in batches (never the whole table in memory at once)."""
    if ids is not None:
        wanted = sorted({int(i) for i in ids})
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start:start + BATCH]
            yield list(session.exec(select(Institution).where(Institution.id.in_(chunk))).all())
        return
    last = 0
    while True:
        rows = session.exec(
            select(Institution).where(Institution.id > last).order_by(Institution.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id


def _merge_fold_map(fold_map: dict[str, list[str]], entries: dict[str, set[str]]) -> bool:
    changed = False
    for form, lemmas in entries.items():
        known = fold_map.setdefault(form, [])
        for lemma in sorted(lemmas):
            if lemma not in known:
                known.append(lemma)
                changed = True
    return changed


def _add_documents(writer, batches: Iterable[list[Institution]]) -> tuple[set[int], set[str]]:
    """Index every institution of `batches`; returns their ids and the words seen (for the fold map)."""
    words: set[str] = set()
    added: set[int] = set()
    for batch in batches:
        docs = [documents.build(inst) for inst in batch]
        writer.add(docs)
        for doc in docs:
            words |= doc.words
        added.update(inst.id for inst in batch)
    return added, words


def _high_water(session: Session) -> datetime | None:
    return session.exec(select(func.max(Institution.updated_at))).one()


def catalog_counts(session: Session, high_water: datetime | None) -> tuple[int, int]:
    """(institutions in the catalog, those stamped since `high_water` minus CATCH_UP_OVERLAP): with the
    high-water mark, the catalog's mark a generation records when it is brought level. Stamps only move
    forward, so any insert, delete or change committed later, even by a slow transaction that stamped
    its rows before the mark, moves one of the three (index.follow compares them)."""
    count = session.exec(select(func.count()).select_from(Institution)).one()
    if high_water is None:
        return count, 0
    window = session.exec(select(func.count()).select_from(Institution)
                          .where(Institution.updated_at >= high_water - CATCH_UP_OVERLAP)).one()
    return count, window


def rebuild(settings: Settings, session: Session) -> int:
    """Build a new generation from the whole catalog and publish it atomically; returns its size."""
    backend = backend_name(settings)
    started = time.monotonic()
    with store.write_lock(settings.index_dir, backend):
        generation = store.new_generation(settings.index_dir, backend)
        try:
            high_water = _high_water(session)   # read first: a row changed while we read is newer
            count = session.exec(select(func.count()).select_from(Institution)).one()
            window = _window_ids(session, high_water)
            writer = _module(backend).Writer(generation, create=True)
            added, words = _add_documents(writer, _institutions(session))
            count = len(added)
            writer.commit()
            fold_map: dict[str, list[str]] = {}
            _merge_fold_map(fold_map, analysis.fold_map_entries(words))
            store.write_fold_map(generation, fold_map)
            store.write_schema_version(generation, documents.SCHEMA_VERSION)
            store.write_catalog_state(generation, store.CatalogState(added, high_water, set(), count, len(window),
                                                                     window))
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        store.publish(settings.index_dir, backend, generation)
    log.info("index rebuilt: %d institutions, backend %s, %.1f s", count, backend, time.monotonic() - started)
    return count


def update(settings: Settings, session: Session, institution_ids: list[int]) -> int:
    """Replace the documents of these institutions (removing those gone from the catalog)."""
    if not institution_ids:
        return 0
    if not _current_schema(store.current_generation(settings.index_dir, backend_name(settings))):
        return rebuild(settings, session)   # none yet, or documents of another schema: all anew
    with store.write_lock(settings.index_dir, backend_name(settings)):
        generation = store.current_generation(settings.index_dir, backend_name(settings))
        assert generation is not None
        state = store.read_catalog_state(generation)
        # An update proves nothing about other rows: the high-water mark stays where it was.
        added = _replace(settings, session, generation, state, set(institution_ids),
                         state.high_water if state else None)
    return len(added)


@dataclass
class CatchUp:
    updated: int = 0
    removed: int = 0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.updated or self.removed or self.rebuilt)


# A merge stamps updated_at before it commits; rows stamped this long before the high-water mark are
# looked at again, so a slow transaction that commits after a catch-up is still picked up.
CATCH_UP_OVERLAP = timedelta(hours=1)


def catch_up(settings: Settings, session: Session, also: Iterable[int] = ()) -> CatchUp:
    """Bring the index level with the catalog, whatever an earlier run left undone: re-index every
    institution changed since the index's high-water mark or not indexed yet (plus `also`), drop the
    documents of ids no longer in the catalog. Cheap when nothing is pending (two small queries)."""
    backend = backend_name(settings)
    generation = store.current_generation(settings.index_dir, backend)
    state = store.read_catalog_state(generation) if generation else None
    # No index, one from before catalog states were kept, or one of another document schema.
    if state is None or not _current_schema(generation):
        return CatchUp(updated=rebuild(settings, session), rebuilt=True)
    with store.write_lock(settings.index_dir, backend):
        generation = store.current_generation(settings.index_dir, backend)
        state = store.read_catalog_state(generation) if generation else None
        if generation is None or state is None:
            return CatchUp(rebuilt=True)   # a rebuild ran meanwhile (or the index vanished): nothing to do
        high_water = _high_water(session)
        # Before the reads below, so they cover at least what the mark counts.
        count = session.exec(select(func.count()).select_from(Institution)).one()
        window = _window_ids(session, high_water)
        mark = (count, len(window))
        catalog_ids = set(session.exec(select(Institution.id)).all())
        changed = (_changed_since(session, state) if state.high_water is not None
                   else set(session.exec(select(Institution.id)).all()))
        wanted = changed | (catalog_ids - state.ids) | state.pending
        wanted |= {int(i) for i in also}
        gone = (state.ids - catalog_ids) | (state.pending - catalog_ids)
        if not wanted and not gone and high_water == state.high_water:
            if (state.catalog_count, state.window_count, state.window_ids) != (*mark, window):
                store.write_catalog_state(generation, store.CatalogState(state.ids, high_water, set(), *mark,
                                                                         window))
            return CatchUp()
        added = _replace(settings, session, generation, state, wanted | gone, high_water, mark, window)
    return CatchUp(updated=len(added), removed=len(gone - added))


def _changed_since(session: Session, state: store.CatalogState) -> set[int]:
    """Ids to re-index because they changed since the generation was brought level: those stamped at or
    after its high-water mark, plus those a slow transaction committed later with a stamp within the
    overlap before it (rows there that were not there then). A state that did not record its window
    (older, or after a partial update) re-reads the whole overlap."""
    assert state.high_water is not None
    start = state.high_water - CATCH_UP_OVERLAP
    if state.window_ids is None:
        return set(session.exec(select(Institution.id).where(Institution.updated_at >= start)).all())
    newer = set(session.exec(select(Institution.id).where(Institution.updated_at >= state.high_water)).all())
    inside = set(session.exec(select(Institution.id).where(Institution.updated_at >= start,
                                                           Institution.updated_at < state.high_water)).all())
    return newer | (inside - state.window_ids)


def _window_ids(session: Session, high_water: datetime | None) -> set[int]:
    if high_water is None:
        return set()
    return set(session.exec(select(Institution.id)
                            .where(Institution.updated_at >= high_water - CATCH_UP_OVERLAP)).all())


def _replace(settings: Settings, session: Session, generation: Path, state: store.CatalogState | None,
             ids: set[int], high_water: datetime | None, mark: tuple[int, int] | None = None,
             window: set[int] | None = None) -> set[int]:
    """Delete these ids' documents and add back those still in the catalog; record it in the state
    (pending first, so a crash between the commit and the final state write is redone next time).
    `mark`: the catalog's counts when a catch-up read it (None after a partial update)."""
    if state is not None:
        store.write_catalog_state(generation, store.CatalogState(state.ids, state.high_water,
                                                                 state.pending | ids))
    writer = _module(backend_name(settings)).Writer(generation, create=False)
    writer.delete(sorted(ids))
    added, words = _add_documents(writer, _institutions(session, ids))
    writer.commit()
    fold_map = store.read_fold_map(generation)
    if _merge_fold_map(fold_map, analysis.fold_map_entries(words)):
        store.write_fold_map(generation, fold_map)
    if state is not None:
        store.write_catalog_state(generation, store.CatalogState((state.ids - ids) | added, high_water, set(),
                                                                 *(mark or (None, None)), window))
    return added
