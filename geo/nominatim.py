"""Nominatim through geopy, within the usage policy: identifying User-Agent, at most one request per
second against the public server (RateLimiter), structured queries limited to Poland. Callers cache
every answer (geo.geocoder), so an address is never asked twice."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim

from catalog.address import ParsedAddress
from catalog.settings import Settings
from catalog.types import Precision
from geo import boundaries
from geo.offline import GeoResult

log = logging.getLogger(__name__)
NAME = "nominatim"
PUBLIC_HOST = "nominatim.openstreetmap.org"
_STREET_WORDS = {"ul.": "", "al.": "Aleja ", "pl.": "Plac ", "os.": "Osiedle "}
_LOCALITY_TYPES = {"city", "town", "village", "hamlet", "suburb", "neighbourhood", "quarter",
                   "isolated_dwelling", "administrative", "municipality", "borough", "city_district"}


class NominatimUnavailable(Exception):
    """The service failed (network, HTTP error, timeout): not the same as 'address not found'."""


def structured_query(addr: ParsedAddress) -> dict[str, str]:
    street = addr.street or ""
    for prefix, word in _STREET_WORDS.items():
        if street.startswith(prefix + " "):
            street = word + street[len(prefix) + 1:]
            break
    query = {"country": "Polska"}
    if street or addr.building:
        query["street"] = " ".join(p for p in (addr.building, street) if p)
    if addr.locality or addr.post_town:
        query["city"] = addr.locality or addr.post_town or ""
    if addr.postal_code:
        query["postalcode"] = addr.postal_code
    return query


def precision_of(raw: dict) -> str:
    """Map a Nominatim place to our precision scale."""
    address = raw.get("address") or {}
    kind = raw.get("addresstype") or raw.get("type") or ""
    if address.get("house_number") or kind in {"house", "building"}:
        return Precision.ADDRESS.value
    if raw.get("class") == "highway" or kind in {"road", "street", "residential", "pedestrian"}:
        return Precision.STREET.value
    if kind == "postcode":
        return Precision.POSTCODE.value
    return Precision.LOCALITY.value


class NominatimClient:
    def __init__(self, settings: Settings, min_delay: float | None = None):
        parts = urlsplit(settings.nominatim_url)
        domain = (parts.netloc + parts.path.rstrip("/")) or PUBLIC_HOST
        delay = settings.rate_limits.get(NAME, 1.0) if min_delay is None else min_delay
        if parts.netloc.endswith(PUBLIC_HOST):
            delay = max(1.0, delay)     # the public server's policy: at most one request per second
        self._geocoder = Nominatim(user_agent=settings.user_agent, domain=domain, scheme=parts.scheme or "https",
                                   timeout=min(settings.http_timeout, 10.0))
        self._limited = RateLimiter(self._geocoder.geocode, min_delay_seconds=delay, max_retries=1,
                                    error_wait_seconds=max(delay, 0.0), swallow_exceptions=False)

    def geocode(self, addr: ParsedAddress) -> GeoResult | None:
        """A point, None when Nominatim does not know the address; raises NominatimUnavailable."""
        try:
            location = self._limited(structured_query(addr), exactly_one=True, addressdetails=True,
                                     country_codes="pl")
        except GeopyError as exc:
            raise NominatimUnavailable(str(exc)) from exc
        if location is None:
            return None
        gmina = boundaries.gmina_at(location.latitude, location.longitude)
        if gmina is None:
            return None     # outside Poland's boundaries: not an answer to a Polish address
        return GeoResult(location.latitude, location.longitude, precision_of(location.raw), NAME, gmina,
                         location.address)
