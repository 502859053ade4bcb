"""Server-side clustering of the directory map: what one viewport at one zoom shows of a query's matches.

The map never receives the catalog. `/mapa/dane.json?bbox=w,s,e,n&zoom=z&<the page's filters>` answers
with clusters (count, centre = mean of the members, bounds) for the viewport, and with individual pins
(`maps.marker_rows` rows) only at street zoom (`STREET_ZOOM`) or where a grid cell holds one institution.

Grid: a cell is `CELL_PX` screen pixels wide at that zoom (in degrees of longitude; its height in degrees
of latitude is scaled by `LAT_FACTOR`, cos 52°, so a cell is about square on the Mercator map over Poland).
Cells are grouped in tiles of `TILE_CELLS` × `TILE_CELLS`: a tile (zoom, x, y) is the unit of caching, so
a pan reuses every tile already computed and cells never straddle two tiles. The answer is the union of
the tiles that cover the viewport (its bbox is snapped outwards to whole tiles).

Two ways to the matches, both the one query path (`index.params` -> `SearchQuery`):
* without text or a point: SQL aggregation over `Institution.lat/lon` (`GROUP BY` cell) with the filters
  of `index.fallback.where` (the SQL meaning of every filter, tested to agree with the index); cost grows
  with the matches inside the viewport, not with the catalog;
* with text (or near/radius): `webapp.lookup.locate` (the index, or its SQL fallback when the index is
  down) gives the ids and points of every located match, cached per catalog state and query; the grid is
  then counted in Python.

Caches (bounded LRUs owned by the app, `init_app`): tiles per (catalog state, query, zoom, x, y), matches
and summaries (total, bounds) per (catalog state, query). The catalog state is `http_cache.catalog_state`
(newest change, row count): any ingest changes it, so nothing stale is served after a change.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Integer, cast, literal_column
from sqlmodel import Session, func, select

from catalog.models import Institution
from catalog.settings import Settings
from index import fallback
from index.api import Point, SearchQuery
from index.params import ParamError
from webapp import lookup, maps

CELL_PX = 64                  # a cluster cell, in screen pixels
TILE_CELLS = 4                # cells per tile side: a tile is 256 px, like a map tile
STREET_ZOOM = 14              # from here on every institution is its own pin
MAX_ZOOM = 19
LAT_FACTOR = math.cos(math.radians(52.0))
MAX_LAT = 85.0511             # Web Mercator's edge
MAX_VIEW_TILES = 600          # a 4K screen is ~150 tiles: more is not a viewport
MAX_MARKERS = 3000            # pins in one answer at street zoom; beyond it the cells stay clusters
TILE_CACHE_SIZE = 4096
QUERY_CACHE_SIZE = 32         # summaries (a few numbers each)
MATCHES_CACHE_SIZE = 8        # located matches of text queries: up to MAX_LOCATED points (~3 MB) each
EXTENSION = "wsparcie.map_clusters"

MARKER_COLUMNS = (Institution.id, Institution.name, Institution.type, Institution.lat, Institution.lon,
                  Institution.geo_precision, Institution.is_demo)


@dataclass(frozen=True)
class View:
    west: float
    south: float
    east: float
    north: float
    zoom: int


@dataclass
class Cell:
    """Running aggregate of one grid cell."""
    count: int = 0
    sum_lat: float = 0.0
    sum_lon: float = 0.0
    south: float = 90.0
    north: float = -90.0
    west: float = 180.0
    east: float = -180.0
    first_id: int = 0


@dataclass(frozen=True)
class Tile:
    clusters: tuple[dict[str, Any], ...]
    marker_ids: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    total: int                                    # located matches of the query
    bounds: tuple[float, float, float, float] | None   # south, west, north, east
    note: str | None
    backend: str


# --- parameters ----------------------------------------------------------------------------------------

def _bad(code: str, polish: str, english: str) -> ParamError:
    return ParamError(code, polish, english)


def parse_view(args: Mapping[str, Sequence[str]]) -> View:
    """The viewport of `bbox=west,south,east,north` and `zoom` (0–19); ParamError (400) otherwise."""
    raw_zoom = (args.get("zoom") or [""])[0].strip()
    if not raw_zoom.isdigit() or not 0 <= int(raw_zoom) <= MAX_ZOOM:
        raise _bad("invalid_zoom", f"Parametr zoom musi być liczbą całkowitą od 0 do {MAX_ZOOM}.",
                   f"Parameter zoom must be an integer from 0 to {MAX_ZOOM}.")
    raw = (args.get("bbox") or [""])[0].split(",")
    message = ("Parametr bbox ma postać zachód,południe,wschód,północ (stopnie), np. 14.1,49.0,24.2,54.9.",
               "Parameter bbox must be west,south,east,north in degrees, e.g. 14.1,49.0,24.2,54.9.")
    if len(raw) != 4:
        raise _bad("invalid_bbox", *message)
    try:
        west, south, east, north = (float(v) for v in raw)
    except ValueError:
        raise _bad("invalid_bbox", *message) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise _bad("invalid_bbox", *message)
    # Leaflet reports bounds beyond the antimeridian when the world repeats: clamp to the one world.
    west, east = max(west, -180.0), min(east, 180.0)
    south, north = max(south, -MAX_LAT), min(north, MAX_LAT)
    if not (west < east and south < north):
        raise _bad("invalid_bbox", *message)
    view = View(west, south, east, north, int(raw_zoom))
    x0, x1, y0, y1 = tile_range(view)
    if (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_VIEW_TILES:
        raise _bad("bbox_too_large", "Obszar bbox jest za duży dla tego przybliżenia (zoom).",
                   "The bbox is too large for this zoom.")
    return view


# --- the grid ------------------------------------------------------------------------------------------

def cell_size(zoom: int) -> tuple[float, float]:
    """(degrees of latitude, degrees of longitude) of one cell at `zoom`."""
    dlon = 360.0 / (2 ** zoom) * CELL_PX / 256.0
    return dlon * LAT_FACTOR, dlon


def tile_range(view: View) -> tuple[int, int, int, int]:
    """Tiles (x0, x1, y0, y1) covering the view; x counts from 180° W, y from 90° S."""
    dlat, dlon = cell_size(view.zoom)
    tlat, tlon = dlat * TILE_CELLS, dlon * TILE_CELLS
    return (int((view.west + 180.0) // tlon), int((view.east + 180.0) // tlon),
            int((view.south + 90.0) // tlat), int((view.north + 90.0) // tlat))


def _tile_bounds(zoom: int, x0: int, x1: int, y0: int, y1: int) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a tile block: south/west inclusive, north/east exclusive."""
    dlat, dlon = cell_size(zoom)
    tlat, tlon = dlat * TILE_CELLS, dlon * TILE_CELLS
    return y0 * tlat - 90.0, (y1 + 1) * tlat - 90.0, x0 * tlon - 180.0, (x1 + 1) * tlon - 180.0


def cell_of(zoom: int, lat: float, lon: float) -> tuple[int, int]:
    dlat, dlon = cell_size(zoom)
    return int((lon + 180.0) // dlon), int((lat + 90.0) // dlat)


# --- caches --------------------------------------------------------------------------------------------

class _LRU:
    """A small thread-safe LRU (the app serves requests from several threads)."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


@dataclass
class Caches:
    tiles: _LRU
    matches: _LRU
    summaries: _LRU


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Caches(_LRU(TILE_CACHE_SIZE), _LRU(MATCHES_CACHE_SIZE), _LRU(QUERY_CACHE_SIZE))


def _caches() -> Caches:
    caches = current_app.extensions.get(EXTENSION)
    if caches is None:
        init_app(current_app)
        caches = current_app.extensions[EXTENSION]
    return caches


def query_key(query: SearchQuery) -> SearchQuery:
    """The query as far as the map is concerned: paging and sorting change nothing it shows."""
    return replace(query, page=1, per_page=20, sort="relevance")


def needs_locate(query: SearchQuery) -> bool:
    """Text (ranked words, relaxation) and near/radius (a circle) are answered by lookup.locate."""
    return bool((query.text or "").strip()) or query.near is not None


# --- matches -------------------------------------------------------------------------------------------

def _floor(session: Session, expression: Any) -> Any:
    """floor() of a non-negative number on both databases (SQLite has no floor without its math
    extension; its integer cast truncates, which is floor for x >= 0)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(expression, Integer)
    return cast(func.floor(expression), Integer)


def _located() -> list[Any]:
    return [Institution.lat.is_not(None), Institution.lon.is_not(None)]


def _located_matches(session: Session, settings: Settings, query: SearchQuery, state: Hashable) -> Any:
    key = (state, query)
    caches = _caches()
    located = caches.matches.get(key)
    if located is None:
        located = lookup.locate(session, settings, query)
        caches.matches.put(key, located)
    return located


def summary(session: Session, settings: Settings, query: SearchQuery, state: Hashable) -> Summary:
    """Total located matches, their bounds, the search note: once per catalog state and query."""
    key = (state, query)
    caches = _caches()
    found = caches.summaries.get(key)
    if found is not None:
        return found
    if needs_locate(query):
        located = _located_matches(session, settings, query, state)
        points = located.points
        bounds = ((min(p.lat for p in points), min(p.lon for p in points),
                   max(p.lat for p in points), max(p.lon for p in points)) if points else None)
        found = Summary(len(points), bounds, located.note, located.backend)
    else:
        row = session.exec(select(func.count(Institution.id), func.min(Institution.lat), func.min(Institution.lon),
                                  func.max(Institution.lat), func.max(Institution.lon))
                           .where(*fallback.where(query), *_located())).one()
        count = int(row[0] or 0)
        bounds = (float(row[1]), float(row[2]), float(row[3]), float(row[4])) if count else None
        found = Summary(count, bounds, None, fallback.BACKEND)
    caches.summaries.put(key, found)
    return found


def _cells_sql(session: Session, query: SearchQuery, zoom: int,
               box: tuple[float, float, float, float]) -> dict[tuple[int, int], Cell]:
    """Cell aggregates of the filtered matches inside box (south, north, west, east), in SQL."""
    dlat, dlon = cell_size(zoom)
    # Constants written into the SQL (not bound): PostgreSQL matches GROUP BY expressions textually.
    cx = _floor(session, (Institution.lon + literal_column("180.0")) / literal_column(repr(dlon)))
    cy = _floor(session, (Institution.lat + literal_column("90.0")) / literal_column(repr(dlat)))
    south, north, west, east = box
    stmt = (select(cx, cy, func.count(Institution.id), func.sum(Institution.lat), func.sum(Institution.lon),
                   func.min(Institution.lat), func.max(Institution.lat), func.min(Institution.lon),
                   func.max(Institution.lon), func.min(Institution.id))
            .where(*fallback.where(query), *_located(), Institution.lat >= south, Institution.lat < north,
                   Institution.lon >= west, Institution.lon < east)
            .group_by(cx, cy))
    cells: dict[tuple[int, int], Cell] = {}
    for x, y, n, slat, slon, s, nn, w, e, first in session.exec(stmt).all():
        cells[(int(x), int(y))] = Cell(int(n), float(slat), float(slon), float(s), float(nn), float(w), float(e),
                                       int(first))
    return cells


def _cells_points(points: Sequence[Point], zoom: int,
                  box: tuple[float, float, float, float]) -> dict[tuple[int, int], Cell]:
    south, north, west, east = box
    cells: dict[tuple[int, int], Cell] = {}
    for p in points:
        if not (south <= p.lat < north and west <= p.lon < east):
            continue
        cell = cells.setdefault(cell_of(zoom, p.lat, p.lon), Cell(first_id=p.id))
        cell.count += 1
        cell.sum_lat += p.lat
        cell.sum_lon += p.lon
        cell.south, cell.north = min(cell.south, p.lat), max(cell.north, p.lat)
        cell.west, cell.east = min(cell.west, p.lon), max(cell.east, p.lon)
        cell.first_id = min(cell.first_id, p.id)
    return cells


def _ids_sql(session: Session, query: SearchQuery, box: tuple[float, float, float, float]) -> list[tuple]:
    south, north, west, east = box
    stmt = (select(Institution.id, Institution.lat, Institution.lon)
            .where(*fallback.where(query), *_located(), Institution.lat >= south, Institution.lat < north,
                   Institution.lon >= west, Institution.lon < east)
            .order_by(Institution.id).limit(MAX_MARKERS + 1))
    return list(session.exec(stmt).all())


def _cluster(cell: Cell) -> dict[str, Any]:
    return {"lat": round(cell.sum_lat / cell.count, 5), "lon": round(cell.sum_lon / cell.count, 5),
            "count": cell.count,
            "bounds": [round(cell.south, 5), round(cell.west, 5), round(cell.north, 5), round(cell.east, 5)]}


def _tiles_from_cells(cells: dict[tuple[int, int], Cell], wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Tile]:
    grouped: dict[tuple[int, int], tuple[list[dict[str, Any]], list[int]]] = {t: ([], []) for t in wanted}
    for (x, y), cell in sorted(cells.items()):
        tile = (x // TILE_CELLS, y // TILE_CELLS)
        if tile not in grouped:
            continue
        clusters, singles = grouped[tile]
        if cell.count == 1:
            singles.append(cell.first_id)
        else:
            clusters.append(_cluster(cell))
    return {t: Tile(tuple(c), tuple(s)) for t, (c, s) in grouped.items()}


def _street_tiles(rows: Sequence[tuple], zoom: int, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Tile]:
    grouped: dict[tuple[int, int], list[int]] = {t: [] for t in wanted}
    for inst_id, lat, lon in rows:
        x, y = cell_of(zoom, lat, lon)
        tile = (x // TILE_CELLS, y // TILE_CELLS)
        if tile in grouped:
            grouped[tile].append(int(inst_id))
    return {t: Tile((), tuple(ids)) for t, ids in grouped.items()}


def _compute(session: Session, settings: Settings, query: SearchQuery, state: Hashable, zoom: int,
             missing: list[tuple[int, int]]) -> dict[tuple[int, int], Tile]:
    """Tiles not in the cache, computed by one aggregation over the block that holds them all."""
    xs, ys = [t[0] for t in missing], [t[1] for t in missing]
    box = _tile_bounds(zoom, min(xs), max(xs), min(ys), max(ys))
    wanted = set(missing)
    points = _located_matches(session, settings, query, state).points if needs_locate(query) else None
    if zoom >= STREET_ZOOM:
        if points is not None:
            south, north, west, east = box
            rows = [(p.id, p.lat, p.lon) for p in points if south <= p.lat < north and west <= p.lon < east]
        else:
            rows = _ids_sql(session, query, box)
        if len(rows) <= MAX_MARKERS:
            return _street_tiles(rows, zoom, wanted)
    cells = _cells_points(points, zoom, box) if points is not None else _cells_sql(session, query, zoom, box)
    return _tiles_from_cells(cells, wanted)


# --- the answer ----------------------------------------------------------------------------------------

def _inside(view: View, lat: float, lon: float) -> bool:
    return view.south <= lat <= view.north and view.west <= lon <= view.east


def viewport(session: Session, settings: Settings, query: SearchQuery, view: View, state: Hashable,
             translate: Callable[[str], str] = str) -> dict[str, Any]:
    """What the map draws for `view`: clusters, pins, and the query's total and bounds (JSON-ready).
    `state` is the catalog state (http_cache.catalog_state): part of every cache key."""
    query = query_key(query)
    x0, x1, y0, y1 = tile_range(view)
    caches = _caches()
    tiles: dict[tuple[int, int], Tile] = {}
    missing = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            tile = caches.tiles.get((state, query, view.zoom, x, y))
            if tile is None:
                missing.append((x, y))
            else:
                tiles[(x, y)] = tile
    if missing:
        for xy, tile in _compute(session, settings, query, state, view.zoom, missing).items():
            caches.tiles.put((state, query, view.zoom, *xy), tile)
            tiles[xy] = tile
    clusters = [c for xy in sorted(tiles) for c in tiles[xy].clusters]
    ids = [i for xy in sorted(tiles) for i in tiles[xy].marker_ids]
    rows, _present = maps.marker_rows(lookup.by_ids(session, ids, MARKER_COLUMNS))
    info = summary(session, settings, query, state)
    south, north, west, east = _tile_bounds(view.zoom, x0, x1, y0, y1)
    return {
        "zoom": view.zoom, "street_zoom": STREET_ZOOM,
        "bbox": [round(max(west, -180.0), 5), round(max(south, -90.0), 5), round(min(east, 180.0), 5),
                 round(min(north, 90.0), 5)],
        # in_view: what lies in the asked viewport itself (the answer covers whole tiles around it).
        "total": info.total,
        "in_view": sum(c["count"] for c in clusters if _inside(view, c["lat"], c["lon"]))
        + sum(1 for r in rows if _inside(view, r[0], r[1])),
        "bounds": list(info.bounds) if info.bounds else None,
        "clusters": clusters, "markers": rows,
        "note": translate(info.note) if info.note else None, "backend": info.backend,
    }
