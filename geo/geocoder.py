"""The geocoder chain: offline gazetteer first, then Nominatim when enabled (GEOCODER=nominatim) and the
offline answer is coarser than a street. Every answer, "not found" included, is cached in GeocodeCache
under geocoder + normalised query; failures of the service are never cached.

The cache is cheaper than the chain it caches:
* an in-process dict holds every answer of the run (one Geocoder per run);
* `geocode_many` / `prefetch` read a batch of addresses with one `SELECT … WHERE key IN (…)` per BATCH keys;
* new answers are buffered (shared by the geocoders of one session, in `session.info`) and written BATCH at a
  time with one multi-row `INSERT … ON CONFLICT DO NOTHING`, committed on a connection of their own — never a
  flush per address. A killed run loses at most the last, unwritten batch; a written batch is a committed
  transaction, so the table is never left half-written. The buffer is also written when the caller commits
  its session, when another Geocoder starts on the same session, and on `flush()`.
  On SQLite, while the caller's session holds the write lock (a stage that already wrote), a second connection
  could only wait for it: the batch then rides the caller's transaction instead.

Source coordinates (RJPS) never come here: geo.enrich keeps them as they are (precision "source").
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, event, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from catalog.address import ParsedAddress, parse_address
from catalog.models import GeocodeCache, utcnow
from catalog.settings import Settings
from catalog.types import Precision
from geo import offline
from geo.nominatim import NAME as NOMINATIM
from geo.nominatim import NominatimClient, NominatimUnavailable
from geo.offline import PRECISION_RANK, GeoResult

__all__ = ["BATCH", "GeoResult", "Geocoder"]

log = logging.getLogger(__name__)
# Bump when the offline layers or their logic change, so cached offline answers are recomputed.
OFFLINE = "offline/1"
_MISS = object()
MAX_ERRORS = 3
BATCH = 500          # keys per cache SELECT, rows per cache INSERT (and commit)
_PENDING = "geocode_cache_pending"   # session.info: key -> row not yet written
_TABLE = GeocodeCache.__table__     # type: ignore[attr-defined]
# detail read as text where the driver gives text (SQLite): most rows hold "{}", decoded only when not.
_COLUMNS = (_TABLE.c.key, _TABLE.c.found, _TABLE.c.lat, _TABLE.c.lon, _TABLE.c.precision, _TABLE.c.geocoder,
            _TABLE.c.gmina_id6, type_coerce(_TABLE.c.detail, String).label("detail"))


class Geocoder:
    def __init__(self, settings: Settings, session: Session | None = None,
                 nominatim_min_delay: float | None = None, batch: int = BATCH):
        self.settings = settings
        self.session = session
        self.batch = max(1, batch)
        self._nominatim_min_delay = nominatim_min_delay
        self._nominatim: NominatimClient | None = None
        self._memory: dict[str, GeoResult | None] = {}
        self._absent: set[str] = set()      # keys known not to be in the table (looked up in a batch)
        self._from_table: set[str] = set()  # keys read from the table, not yet counted as cache hits
        self.stats = {"cache_hits": 0, "offline": 0, "nominatim": 0, "nominatim_errors": 0,
                      "cache_reads": 0, "cache_writes": 0}
        if session is not None:
            if _PENDING not in session.info:
                session.info[_PENDING] = {}
                event.listen(session, "before_commit", _flush_on_commit)
            else:
                self.flush()   # an earlier geocoder's answers become visible to every reader

    @property
    def uses_nominatim(self) -> bool:
        return self.settings.geocoder == NOMINATIM

    def geocode(self, query: ParsedAddress | str | None) -> GeoResult | None:
        """The best point for an address; None when no layer knows it."""
        addr = _parsed(query)
        if addr.is_empty:
            return None
        return self._geocode(addr, addr.key())

    def _geocode(self, addr: ParsedAddress, key: str) -> GeoResult | None:
        best = self._cached(OFFLINE, key, lambda: self._offline(addr))
        if self._nominatim_wanted(addr, best):
            found = self._cached(NOMINATIM, key, lambda: self._ask_nominatim(addr))
            if found is not None and (best is None or found.better_than(best.precision)):
                best = found
        return best

    def geocode_many(self, queries: Iterable[ParsedAddress | str | None]) -> list[GeoResult | None]:
        """geocode() of each, with the cache read in batches (one SELECT per BATCH addresses)."""
        keyed = self._prefetch(queries)
        return [None if query is None else self._geocode(addr, query) for addr, query in keyed]

    def prefetch(self, queries: Iterable[ParsedAddress | str | None]) -> list[ParsedAddress]:
        """Read the cached answers of these addresses in batches; returns them parsed (for geocode)."""
        return [addr for addr, _ in self._prefetch(queries)]

    def _prefetch(self, queries: Iterable[ParsedAddress | str | None]) -> list[tuple[ParsedAddress, str | None]]:
        keyed = [(addr, None if addr.is_empty else addr.key()) for addr in map(_parsed, queries)]
        keys: dict[str, None] = {}
        for addr, query in keyed:
            if query is None:
                continue
            keys[f"{OFFLINE}|{query}"] = None
            if self.uses_nominatim and (addr.street or addr.building):
                keys[f"{NOMINATIM}|{query}"] = None
        self._load([k for k in keys if k not in self._memory and k not in self._absent])
        return keyed

    def flush(self) -> None:
        """Write the buffered answers now (one INSERT per BATCH rows)."""
        if self.session is not None:
            _write_pending(self.session)

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

    def _load(self, keys: list[str]) -> None:
        """Answers of these keys from the write buffer and the table, into the run's dict."""
        if self.session is None or not keys:
            return
        pending: dict[str, dict[str, Any]] = self.session.info.get(_PENDING, {})
        wanted = []
        for key in keys:
            row = pending.get(key)
            if row is None:
                wanted.append(key)
            else:
                self._remember_row(tuple(row[c.name] for c in _COLUMNS))
        for start in range(0, len(wanted), self.batch):
            chunk = wanted[start:start + self.batch]
            self.stats["cache_reads"] += 1
            with self.session.no_autoflush:    # the caller's pending changes are not ours to flush
                found = {row[0]: tuple(row) for row in self.session.execute(
                    select(*_COLUMNS).where(_TABLE.c.key.in_(chunk)))}
            for key in chunk:
                if key in found:
                    self._remember_row(found[key])
                else:
                    self._absent.add(key)

    def _remember_row(self, row: tuple) -> None:
        self._memory[row[0]] = _from_row(*row)
        self._from_table.add(row[0])

    def _cached(self, geocoder: str, query: str, compute) -> GeoResult | None:
        key = f"{geocoder}|{query}"
        if key not in self._memory and key not in self._absent:
            self._load([key])
        hit = self._memory.get(key, _MISS)
        if hit is not _MISS:
            if key in self._from_table:
                self._from_table.discard(key)
                self.stats["cache_hits"] += 1
            return hit  # type: ignore[return-value]
        try:
            result = compute()
        except NominatimUnavailable as exc:
            self.stats["nominatim_errors"] += 1
            log.warning("Nominatim unavailable, keeping the offline result: %s", exc)
            return None     # not cached: the next run asks again
        self._memory[key] = result
        self._absent.discard(key)
        self._store(key, geocoder, query, result)
        return result

    def _store(self, key: str, geocoder: str, query: str, result: GeoResult | None) -> None:
        if self.session is None:
            return
        pending = self.session.info.setdefault(_PENDING, {})
        pending[key] = {
            "key": key, "query": query, "found": result is not None,
            "lat": result.lat if result else None, "lon": result.lon if result else None,
            "precision": result.precision if result else None,
            "geocoder": result.geocoder if result else geocoder,
            "gmina_id6": result.gmina_id6 if result else None,
            "detail": {"label": result.label} if result and result.label else {},
            "created_at": utcnow(),
        }
        if len(pending) >= self.batch:
            self.stats["cache_writes"] += 1
            _write_pending(self.session, self.batch)


def _parsed(query: ParsedAddress | str | None) -> ParsedAddress:
    return query if isinstance(query, ParsedAddress) else parse_address(query)


def _flush_on_commit(session: Session) -> None:
    _write_pending(session)


def _insert(dialect: str):
    if dialect == "postgresql":
        return pg_insert(_TABLE).on_conflict_do_nothing(index_elements=["key"])
    return sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=["key"])


def _write_pending(session: Session, batch: int = BATCH) -> None:
    """Write the session's buffered answers, `batch` rows per INSERT; a row another process wrote first
    is kept (same key, same answer)."""
    pending: dict[str, dict[str, Any]] = session.info.get(_PENDING, {})
    if not pending:
        return
    rows = list(pending.values())
    bind = session.get_bind()
    statement = _insert(bind.dialect.name)
    if _holds_sqlite_write_lock(session):
        for start in range(0, len(rows), batch):
            session.execute(statement, rows[start:start + batch])
    else:
        for start in range(0, len(rows), batch):
            with bind.engine.begin() as conn:     # its own transaction: committed, whatever the caller does
                conn.execute(statement, rows[start:start + batch])
    pending.clear()


def _holds_sqlite_write_lock(session: Session) -> bool:
    """True when the session's SQLite connection is inside a write transaction (another connection's
    commit would wait for it)."""
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return False
    driver = session.connection().connection.driver_connection
    return bool(getattr(driver, "in_transaction", False))


def _from_row(key: str, found: bool, lat: float | None, lon: float | None, precision: str | None,
              geocoder: str, gmina_id6: str | None, detail: Any) -> GeoResult | None:
    if not found or lat is None or lon is None or precision is None:
        return None
    if isinstance(detail, str):
        detail = json.loads(detail) if detail != "{}" else None
    return GeoResult(lat, lon, precision, geocoder, gmina_id6, (detail or {}).get("label"))
