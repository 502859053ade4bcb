"""The geocoder chain: offline gazetteer first, then Nominatim when enabled (GEOCODER=nominatim) and the
offline answer is coarser than a street. Every answer, "not found" included, is cached in GeocodeCache
under geocoder + normalised query; failures of the service are never cached.

Source coordinates (RJPS) never come here: geo.enrich keeps them as they are (precision "source").
"""
from __future__ import annotations

import logging

from sqlmodel import Session

from catalog.address import ParsedAddress, parse_address
from catalog.models import GeocodeCache
from catalog.settings import Settings
from catalog.types import Precision
from geo import offline
from geo.nominatim import NAME as NOMINATIM
from geo.nominatim import NominatimClient, NominatimUnavailable
from geo.offline import PRECISION_RANK, GeoResult

__all__ = ["GeoResult", "Geocoder"]

log = logging.getLogger(__name__)
# Bump when the offline layers or their logic change, so cached offline answers are recomputed.
OFFLINE = "offline/1"
_MISS = object()
MAX_ERRORS = 3


class Geocoder:
    def __init__(self, settings: Settings, session: Session | None = None,
                 nominatim_min_delay: float | None = None):
        self.settings = settings
        self.session = session
        self._nominatim_min_delay = nominatim_min_delay
        self._nominatim: NominatimClient | None = None
        self._memory: dict[str, GeoResult | None] = {}
        self.stats = {"cache_hits": 0, "offline": 0, "nominatim": 0, "nominatim_errors": 0}

    @property
    def uses_nominatim(self) -> bool:
        return self.settings.geocoder == NOMINATIM

    def geocode(self, query: ParsedAddress | str | None) -> GeoResult | None:
        """The best point for an address; None when no layer knows it."""
        addr = query if isinstance(query, ParsedAddress) else parse_address(query)
        if addr.is_empty:
            return None
        key = addr.key()
        best = self._cached(OFFLINE, key, lambda: self._offline(addr))
        if self._nominatim_wanted(addr, best):
            found = self._cached(NOMINATIM, key, lambda: self._ask_nominatim(addr))
            if found is not None and (best is None or found.better_than(best.precision)):
                best = found
        return best

    def _nominatim_wanted(self, addr: ParsedAddress, best: GeoResult | None) -> bool:
        if not self.uses_nominatim or not (addr.street or addr.building):
            return False
        if self.stats["nominatim_errors"] >= MAX_ERRORS:
            return False    # the service is down: stop waiting on it for the rest of this run
        return best is None or PRECISION_RANK[best.precision] > PRECISION_RANK[Precision.STREET.value]

    def _offline(self, addr: ParsedAddress) -> GeoResult | None:
        self.stats["offline"] += 1
        return offline.geocode(addr)

    def _ask_nominatim(self, addr: ParsedAddress) -> GeoResult | None:
        if self._nominatim is None:
            self._nominatim = NominatimClient(self.settings, self._nominatim_min_delay)
        self.stats["nominatim"] += 1
        return self._nominatim.geocode(addr)

    def _cached(self, geocoder: str, query: str, compute) -> GeoResult | None:
        key = f"{geocoder}|{query}"
        hit = self._memory.get(key, _MISS)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        row = self.session.get(GeocodeCache, key) if self.session is not None else None
        if row is not None:
            self.stats["cache_hits"] += 1
            result = _from_row(row)
        else:
            try:
                result = compute()
            except NominatimUnavailable as exc:
                self.stats["nominatim_errors"] += 1
                log.warning("Nominatim unavailable, keeping the offline result: %s", exc)
                return None     # not cached: the next run asks again
            self._store(key, geocoder, query, result)
        self._memory[key] = result
        return result

    def _store(self, key: str, geocoder: str, query: str, result: GeoResult | None) -> None:
        if self.session is None:
            return
        self.session.add(GeocodeCache(   # absent: _cached looked it up just before
            key=key, query=query, found=result is not None,
            lat=result.lat if result else None, lon=result.lon if result else None,
            precision=result.precision if result else None,
            geocoder=result.geocoder if result else geocoder,
            gmina_id6=result.gmina_id6 if result else None,
            detail={"label": result.label} if result and result.label else {},
        ))


def _from_row(row: GeocodeCache) -> GeoResult | None:
    if not row.found or row.lat is None or row.lon is None or row.precision is None:
        return None
    return GeoResult(row.lat, row.lon, row.precision, row.geocoder, row.gmina_id6, (row.detail or {}).get("label"))
