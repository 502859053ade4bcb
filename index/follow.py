"""A node's search index follows the shared catalog by itself.

Several web nodes may serve one PostgreSQL catalog, each with its own index directory, while an ingest on
any of them (or on a separate host) writes to the catalog. Each generation records the catalog's mark
when it was last brought level (`index.store.CatalogState`: the `updated_at` high-water mark, the number
of institutions and the number stamped within the catch-up overlap); `sync_state` compares it with the
catalog's mark now (three aggregates on indexed columns: cheap enough to run every few seconds).

`Follower` is one daemon thread per process that does so every `interval` seconds and, when the index is
behind, runs `index.api.catch_up` (which takes the index's write lock: one writer per index directory).
Of the worker processes of one node only the one holding `.follow.lock` checks; the others skip that
round. Readers keep serving the published generation meanwhile (catch-up commits into it or publishes a
new one atomically). A catalog with no institutions and no index is left alone (nothing to serve)."""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import func, select

from catalog import db
from catalog.models import Institution
from catalog.settings import Settings
from index import api, store

log = logging.getLogger(__name__)

FOLLOW_LOCK = "follow"


@dataclass
class Sync:
    """How a node's index stands against the catalog. `level`: the index holds every change the catalog's
    mark shows; `behind`: about how many institutions it lacks or holds in an older version."""

    level: bool
    catalog: int
    catalog_updated_at: datetime | None
    generation: str | None = None
    indexed: int | None = None
    high_water: datetime | None = None
    behind: int = 0


_STATES: dict[Path, tuple[tuple[int, int, int], store.CatalogState | None]] = {}


def _state(generation: Path) -> store.CatalogState | None:
    """The generation's catalog state, parsed again only when its file was replaced (at 100 000
    institutions the file holds ~200 000 ids: parsing it was most of a check's cost)."""
    try:
        st = store.state_path(generation).stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _STATES.get(generation)
    if cached is None or cached[0] != stamp:
        if len(_STATES) > 8:
            _STATES.clear()
        cached = _STATES[generation] = (stamp, store.read_catalog_state(generation))
    return cached[1]


def sync_state(settings: Settings, session) -> Sync:
    backend = api.backend_name(settings)
    generation = store.current_generation(settings.index_dir, backend)
    state = _state(generation) if generation is not None else None
    newest = session.exec(select(func.max(Institution.updated_at))).one()
    if state is None:
        count, _window = api.catalog_counts(session, None)
        return Sync(level=count == 0 and generation is not None, catalog=count, catalog_updated_at=newest,
                    generation=generation.name if generation else None, behind=count)
    count, window = api.catalog_counts(session, state.high_water)
    level = ((count, window, newest) == (state.catalog_count, state.window_count, state.high_water)
             and not state.pending and store.read_schema_version(generation) == api.documents.SCHEMA_VERSION)
    behind = 0
    if not level:
        newer = select(func.count()).select_from(Institution)
        if state.high_water is not None:
            newer = newer.where(Institution.updated_at > state.high_water)
        behind = max(session.exec(newer).one(), window - (state.window_count or 0), len(state.pending), 1)
        behind += max(0, len(state.ids) - count)   # removed from the catalog since
    return Sync(level=level, catalog=count, catalog_updated_at=newest, generation=generation.name,
                indexed=len(state.ids), high_water=state.high_water, behind=behind)


def follow_once(settings: Settings) -> api.CatchUp | None:
    """One round: check, and catch up when behind. None when another process of this node holds the
    round, or nothing was to be done."""
    backend = api.backend_name(settings)
    with store.try_lock(settings.index_dir, backend, FOLLOW_LOCK) as mine:
        if not mine:
            return None
        with db.session_scope(settings.database_url) as session:
            sync = sync_state(settings, session)
            if sync.level or (sync.catalog == 0 and sync.generation is None):
                return None
            started = time.monotonic()
            outcome = api.catch_up(settings, session)
        log.info("index %s caught up with the catalog (%d updated, %d removed%s) in %.1f s",
                 settings.index_dir, outcome.updated, outcome.removed, ", rebuilt" if outcome.rebuilt else "",
                 time.monotonic() - started)
        return outcome


class Follower:
    """The per-process thread running `follow_once` every `interval` seconds (started on first use in the
    process that serves: a thread does not survive fork, so a forked worker starts its own)."""

    def __init__(self, settings: Settings, interval: float) -> None:
        self.settings, self.interval = settings, interval
        self.last_error: str | None = None
        self.last_round: float | None = None      # time.time() of the last finished round
        self.running = False                      # a catch-up is in progress in this process
        self._pid: int | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        if self._pid == os.getpid() or self.interval <= 0:
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._loop, name="index-follower", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.round()
            self._stop.wait(self.interval)

    def round(self) -> None:
        try:
            self.running = True
            follow_once(self.settings)
            self.last_error = None
        except Exception as error:  # logged and shown on /zdrowie; the next round retries
            log.exception("index follow round failed")
            self.last_error = f"{type(error).__name__}: {error}"
        finally:
            self.running = False
            self.last_round = time.time()
