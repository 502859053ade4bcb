"""Distances and boxes on the WGS84 sphere: the one implementation used by matching, geography and search."""
from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088   # mean radius (IUGG)
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def bbox(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box holding every point within radius_km: a cheap
    prefilter before haversine_km (the cosine is floored so a box near a pole stays finite)."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    # On the sphere of haversine_km a circle reaches asin(sin(r/R) / cos(lat)) east and west of its centre:
    # 111.32 km per degree (the ellipsoid's equator) made the box ~0.1 % too narrow, and it missed points.
    reach = math.sin(min(radius_km / EARTH_RADIUS_KM, math.pi / 2)) / max(math.cos(math.radians(lat)), 0.01)
    dlon = math.degrees(math.asin(reach)) if reach < 1 else 180.0
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
