"""Point-in-polygon over the generalised gmina boundaries (data/boundaries/gminy.geojson, state of 2019).

The polygons deviate from the real boundary by ~1–2 km, so a point-in-polygon answer near a boundary is
a hint, not a fact (geo.assign prefers address-derived codes and uses this as a check). Two gminy created
after 2019 have no polygon; their area lies in the polygon of the gmina they were split from.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import shapely
from shapely.geometry import Point, shape
from shapely.ops import nearest_points

from catalog.geometry import haversine_km
from catalog.settings import REFERENCE_DATA_DIR

GMINY_FILE = REFERENCE_DATA_DIR / "boundaries" / "gminy.geojson"
# New gmina (id6) -> the gmina whose 2019 polygon still contains it (SOURCE.md "Missing gminy").
SPLIT_FROM = {"120713": "120705", "200216": "200209"}


@dataclass(frozen=True)
class _Layer:
    ids: tuple[str, ...]
    geoms: tuple
    tree: shapely.STRtree


@lru_cache(maxsize=1)
def _layer() -> _Layer:
    with GMINY_FILE.open(encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    ids = tuple(f["properties"]["teryt"][:6] for f in features)
    geoms = tuple(shape(f["geometry"]) for f in features)
    for g in geoms:
        shapely.prepare(g)
    return _Layer(ids, geoms, shapely.STRtree(geoms))


def gmina_at(lat: float, lon: float) -> str | None:
    """gmina_id6 whose (generalised) polygon contains the point; None outside Poland."""
    layer = _layer()
    hits = layer.tree.query(Point(lon, lat), predicate="intersects")
    return layer.ids[int(hits[0])] if len(hits) else None


def same_area(id6_a: str | None, id6_b: str | None) -> bool:
    """Equal gminy, treating a post-2019 gmina as part of the polygon it was split from."""
    if not id6_a or not id6_b:
        return False
    return SPLIT_FROM.get(id6_a, id6_a) == SPLIT_FROM.get(id6_b, id6_b)


def distance_to_gmina_km(lat: float, lon: float, id6: str) -> float | None:
    """Distance from a point to a gmina's polygon (0 inside); None when the gmina has no polygon."""
    layer = _layer()
    target = SPLIT_FROM.get(id6, id6)
    try:
        geom = layer.geoms[layer.ids.index(target)]
    except ValueError:
        return None
    point = Point(lon, lat)
    if geom.covers(point):
        return 0.0
    nearest = nearest_points(geom, point)[0]
    return haversine_km(lat, lon, nearest.y, nearest.x)
