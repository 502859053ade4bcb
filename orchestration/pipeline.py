"""The ingest pipeline: for each source fetch -> merge (one transaction) -> enrich (geo) -> index.

Failure rules (the catalog never loses good data):
* a source that is down, answers garbage or too few records ("fatal") changes nothing in the catalog;
  the run is recorded as failed with its reason;
* per-unit failures leave those units untouched (neither updated nor counted missing); the run is
  "partial" and the command exits non-zero;
* an interrupted run (Ctrl-C, SIGTERM, crash) is recorded as such and the next run of that source
  continues it, answering already fetched requests from the stored captures;
* a failure in a later stage (geocoding, indexing) is reported but keeps the merged data, and the next
  run completes it: the geo stage re-checks everything changed since its watermark, the index catches
  up with the catalog by itself (index.api.catch_up; also checked at the start of every ingest);
* one stuck source blocks nothing: each source runs under its own lock (a second ingest skips the
  sources another one is running and runs the rest) and within its run deadline (scrapers.http).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import func, select

from catalog.db import session_scope, upgrade
from catalog.merge import apply_fetch, describe_degraded, ensure_source
from catalog.models import Institution, RawCapture, ScrapeRun, Source, utcnow
from catalog.settings import Settings
from geo.units import resolve_units
from scrapers.registry import ADAPTERS, expand

log = logging.getLogger(__name__)

RESUME_WINDOW = timedelta(hours=24)
# Rows stamped this long before a watermark are checked again: a merge transaction stamps updated_at
# before it commits, so a slow one may become visible after a later watermark was taken.
WATERMARK_OVERLAP = timedelta(hours=1)
STAGE_LOCK_POLL = 0.2
Progress = Callable[[int, int], None]


@dataclass
class RunSummary:
    source: str
    run_id: int | None
    status: str                    # ok | partial | degraded | failed | interrupted
    complete: bool = False
    n_in: int = 0
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_missing: int = 0
    n_errors: int = 0
    errors: list[dict] = field(default_factory=list)
    message: str | None = None
    seconds: float = 0.0
    touched_ids: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class IngestLocked(RuntimeError):
    pass


@contextmanager
def ingest_lock(settings: Settings, shared: bool = False) -> Iterator[None]:
    """Exclusive (demo load): nothing else writes. Shared (scrape/ingest): several ingests may run, each
    source and stage then has its own lock. Released by the kernel when the process dies, even kill -9."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "ingest.lock", "a") as fh:
        try:
            fcntl.flock(fh, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestLocked("Another ingest or demo load holds the catalog (lock: ingest.lock)") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _lock_path(settings: Settings, name: str) -> Path:
    locks = settings.data_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return locks / f"{name}.lock"


@contextmanager
def named_lock(settings: Settings, name: str, wait: float = 0.0) -> Iterator[bool]:
    """An exclusive flock on locks/<name>.lock, waiting at most `wait` seconds; yields whether it is held."""
    with open(_lock_path(settings, name), "a") as fh:
        give_up = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    yield False
                    return
                time.sleep(STAGE_LOCK_POLL)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def pause_point(settings: Settings, name: str) -> None:
    """Test hook for crash tests: with WSPARCIE_PAUSE_AT=<name>, announce the point reached (a file
    `paused-<name>` in the data dir) and wait there, so a test can kill -9 the process exactly here."""
    if name not in os.environ.get("WSPARCIE_PAUSE_AT", "").split(","):
        return
    (settings.data_dir / f"paused-{name}").write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(os.environ.get("WSPARCIE_PAUSE_SECONDS", "30")))


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """cron/systemd stop a job with SIGTERM; treat it like Ctrl-C so the run is recorded as interrupted."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:   # not in the main thread (e.g. under a test runner thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def scrape(settings: Settings, keys: list[str] | None = None, progress: Progress | None = None,
           post_process: bool = True) -> list[RunSummary]:
    """Run the given sources (all when None), each isolated from the others' failures."""
    upgrade(settings.database_url)
    summaries: list[RunSummary] = []
    with ingest_lock(settings, shared=True), _sigterm_as_interrupt():
        if post_process:   # work a crashed earlier run left behind (cheap when there is none)
            _stage(summaries, "index", _index, settings, [], wait=0.0)
        for key in expand(keys):
            summary = _run_locked(settings, key, progress)
            summaries.append(summary)
            _log_summary(summary)
        ran = [s for s in summaries if s.status != "skipped" and not s.source.startswith("stage:")]
        if summaries and not ran:
            raise IngestLocked("every requested source is being run by another ingest; nothing to do")
        if post_process:
            touched = set().union(*(s.touched_ids for s in summaries))
            later_stages(settings, sorted(touched), summaries)
    return summaries


def reparse(settings: Settings, keys: list[str] | None = None) -> list[RunSummary]:
    """Run the parsers again over the stored captures (RawCapture rows and their bodies) of the given
    sources (default: every registered source with captures), each as a normal run through the merge,
    then the later stages: a parser fix reaches old records without a request to any source. A request
    the captures cannot answer fails that source's run as a fetch error would; the catalog keeps it."""
    upgrade(settings.database_url)
    if keys is None:
        with session_scope(settings.database_url) as session:
            stored = set(session.exec(select(RawCapture.source).distinct()).all())
        keys = sorted(k for k in ADAPTERS if k in stored)
    summaries: list[RunSummary] = []
    with ingest_lock(settings, shared=True), _sigterm_as_interrupt():
        for key in expand(keys):
            summary = _run_locked(settings, key, None, captures_only=True)
            summaries.append(summary)
            _log_summary(summary)
        touched = set().union(*(s.touched_ids for s in summaries))
        later_stages(settings, sorted(touched), summaries)
    return summaries


def _run_locked(settings: Settings, key: str, progress: Progress | None,
                captures_only: bool = False) -> RunSummary:
    """Run one source under its own lock; skip it when another process is running it."""
    with named_lock(settings, f"source-{key}") as held:
        if not held:
            return RunSummary(key, None, "skipped",
                              message=f"another ingest is running this source (lock: locks/source-{key}.lock)")
        return run_source(settings, key, progress, captures_only)


def run_source(settings: Settings, key: str, progress: Progress | None = None,
               captures_only: bool = False) -> RunSummary:
    started = time.monotonic()
    if key not in ADAPTERS:
        known = ", ".join(sorted(ADAPTERS))
        return RunSummary(key, None, "failed", message=f"unknown source {key!r} (known: {known})")
    try:
        adapter = ADAPTERS[key]()
    except Exception as exc:  # an adapter that cannot even be built must not stop the other sources
        log.exception("source %s: adapter failed to load", key)
        return RunSummary(key, None, "failed", message=f"adapter failed to load: {exc}")
    summary = run_adapter(settings, adapter, progress, captures_only)
    summary.seconds = time.monotonic() - started
    return summary


def run_adapter(settings: Settings, adapter, progress: Progress | None = None,
                captures_only: bool = False) -> RunSummary:
    """Fetch and merge one adapter instance (also used for the demo snapshot's replayed sources).
    captures_only: answer every request from the stored captures, never the network (reparse)."""
    key = adapter.meta.key
    started = time.monotonic()
    upgrade(settings.database_url)
    run_id, resumed = _start_run(settings, adapter.meta)
    summary = RunSummary(key, run_id, "failed")
    try:
        result, deadline = _fetch(settings, adapter, run_id, resumed, progress, captures_only)
    except KeyboardInterrupt:
        _finish(settings, run_id, "interrupted", message="interrupted; the next run continues it")
        raise
    except Exception as exc:
        log.exception("source %s: fetch failed", key)
        summary.message = f"fetch failed: {type(exc).__name__}: {exc}"
        _finish(settings, run_id, "failed", message=summary.message)
        summary.seconds = time.monotonic() - started
        return summary
    summary.errors, summary.n_errors = result.errors, len(result.errors)
    if result.fatal:
        summary.message = result.fatal if deadline is None else f"{deadline}; {result.fatal}"
        _finish(settings, run_id, "failed", message=summary.message, errors=result.errors)
    else:
        resolve_units(result)   # the geo stage before the merge: unit names -> TERYT codes
        _merge(settings, adapter.meta, result, run_id, summary)
        if deadline is not None and summary.status != "failed":
            # What was fetched in time is merged; the rest is left as it was (never counted missing).
            summary.status = "partial"
            summary.message = f"{deadline}; {summary.message or 'what was fetched in time is merged'}"
            _finish(settings, run_id, "partial", message=summary.message)
    summary.seconds = time.monotonic() - started
    return summary


def _fetch(settings: Settings, adapter, run_id: int, resumed: bool, progress: Progress | None,
           captures_only: bool = False):
    from scrapers.http import HttpClient

    if progress is not None and hasattr(adapter, "progress"):
        adapter.progress = progress
    replay_dir = getattr(adapter, "replay_dir", None)
    with HttpClient(settings, adapter.meta.key, run_id=run_id, resume_run_id=run_id if resumed else None,
                    replay_dir=replay_dir, captures_only=captures_only) as client:
        result = adapter.fetch(client, settings)
        deadline = f"stopped at {client.run_label}" if client.deadline_reached else None
    return result, deadline


def _merge(settings: Settings, meta, result, run_id: int, summary: RunSummary) -> None:
    status = "partial" if result.errors else "ok"
    try:
        with session_scope(settings.database_url) as session:
            run = session.get(ScrapeRun, run_id)
            stats = apply_fetch(session, meta, result, run, settings)
            if stats.degraded:   # catalog.merge withheld mass removals: not a success, exit non-zero
                status = "degraded"
            for name in ("n_in", "n_new", "n_changed", "n_unchanged", "n_missing"):
                setattr(run, name, getattr(stats, name))
                setattr(summary, name, getattr(stats, name))
            run.n_errors, run.errors, run.complete = len(result.errors), result.errors, result.complete
            run.status, run.finished_at = status, utcnow()
            source = session.get(Source, meta.key)
            source.last_run_id = run_id
            if status == "ok":
                source.last_success_at = run.finished_at
            pause_point(settings, "merge")   # inside the transaction: a kill here must change nothing
        summary.status, summary.complete, summary.touched_ids = status, result.complete, stats.touched_ids
        if result.errors:
            summary.message = f"{len(result.errors)} record(s) failed; they were left unchanged"
        if stats.degraded:
            summary.message = "; ".join(filter(None, (summary.message, describe_degraded(stats.degraded))))
    except Exception as exc:   # the transaction rolled back: the catalog is exactly as before
        log.exception("source %s: merge failed", meta.key)
        summary.status, summary.message = "failed", f"merge failed, nothing changed: {exc}"
        _finish(settings, run_id, "failed", message=summary.message, errors=result.errors)


def _start_run(settings: Settings, meta) -> tuple[int, bool]:
    """Continue the source's last run if it was interrupted recently, else open a new one."""
    with session_scope(settings.database_url) as session:
        ensure_source(session, meta)
        last = session.exec(
            select(ScrapeRun).where(ScrapeRun.source == meta.key).order_by(ScrapeRun.id.desc()).limit(1)
        ).first()
        if last and last.status in ("interrupted", "running") and utcnow() - last.started_at < RESUME_WINDOW:
            last.status, last.message = "running", f"resumed at {utcnow():%Y-%m-%d %H:%M:%S} UTC"
            return last.id, True
        run = ScrapeRun(source=meta.key)
        session.add(run)
        session.flush()
        return run.id, False


def _finish(settings: Settings, run_id: int, status: str, message: str | None = None,
            errors: list[dict] | None = None) -> None:
    with session_scope(settings.database_url) as session:
        run = session.get(ScrapeRun, run_id)
        run.status, run.finished_at, run.message = status, utcnow(), message
        if errors is not None:
            run.errors, run.n_errors = errors, len(errors)
        source = session.get(Source, run.source)
        if source is not None:
            source.last_run_id = run_id


def later_stages(settings: Settings, touched_ids: list[int] | None, summaries: list[RunSummary],
                 stages: tuple[str, ...] = ("geo", "index")) -> None:
    """Geocode/assign TERYT and update the search index for what changed; failures are reported, data kept.

    touched_ids None means everything (full enrich pass and an index rebuild). Otherwise each stage also
    takes what an earlier, crashed run left undone (geo: changed since its watermark; index: catch-up)."""
    removed: list[int] = []
    if "geo" in stages:
        _stage(summaries, "geo", lambda s, ids: _enrich(s, ids, removed), settings, touched_ids)
    if "index" in stages:
        pause_point(settings, "index")   # after the geo commit: a kill here used to lose the index update
        ids = None if touched_ids is None else sorted(set(touched_ids) | set(removed))
        _stage(summaries, "index", _index, settings, ids)


def _stage(summaries: list[RunSummary], name: str, stage, settings: Settings, ids: list[int] | None,
           wait: float | None = None) -> None:
    """Run a stage under its lock (one geo writer, one index writer). wait=0: only if it is free now
    (the start-of-ingest check; whoever holds the stage is doing that work anyway)."""
    wait = settings.stage_lock_wait if wait is None else wait
    try:
        with named_lock(settings, f"stage-{name}", wait=wait) as held:
            if held:
                problem = stage(settings, ids)
            elif not wait:
                problem = None
            else:
                problem = (f"skipped: another process held the {name} stage for {wait:g} s "
                           "(STAGE_LOCK_WAIT); the next run catches up")
    except Exception as exc:
        log.exception("stage %s failed", name)
        problem = f"{type(exc).__name__}: {exc}; the next run catches up"
    if problem:
        summaries.append(RunSummary(f"stage:{name}", None, "failed", message=problem))


def _geo_watermark_path(settings: Settings) -> Path:
    return settings.data_dir / "state" / "geo-watermark.json"


def read_geo_watermark(settings: Settings) -> datetime | None:
    try:
        raw = json.loads(_geo_watermark_path(settings).read_text(encoding="utf-8"))["high_water"]
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return datetime.fromisoformat(raw) if raw else None


def _write_geo_watermark(settings: Settings, high_water: datetime | None) -> None:
    path = _geo_watermark_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"high_water": high_water.isoformat() if high_water else None}), encoding="utf-8")
    os.replace(tmp, path)


def _since_geo_watermark(session, settings: Settings) -> tuple[set[int], datetime | None]:
    """Ids changed since the geo watermark (all when there is none) and the catalog's newest stamp now."""
    high = session.exec(select(func.max(Institution.updated_at))).one()
    mark = read_geo_watermark(settings)
    query = select(Institution.id)
    if mark is not None:
        query = query.where(Institution.updated_at >= mark - WATERMARK_OVERLAP)
    return set(session.exec(query).all()), high


def _enrich(settings: Settings, ids: list[int] | None, removed: list[int]) -> str | None:
    """Geo enrich, then the demo placeholders whose unit a real record now covers go (their ids are
    appended to `removed`, for the index stage), in the same transaction."""
    from geo.enrich import enrich
    from orchestration.demo import replace_covered_placeholders

    with session_scope(settings.database_url) as session:
        if ids is None:
            high = session.exec(select(func.max(Institution.updated_at))).one()
            stats = enrich(session, settings, None)
        else:
            pending, high = _since_geo_watermark(session, settings)
            stats = enrich(session, settings, sorted(set(ids) | pending))
            # Also retry rows an earlier run could not complete (cheap: complete rows are skipped in SQL).
            retry = enrich(session, settings, None)
            stats.errors += retry.errors
        gone = replace_covered_placeholders(session)
        pause_point(settings, "geo")   # before the commit: a kill here loses this stage's work only
    removed.extend(gone)
    _write_geo_watermark(settings, high)
    log.info("geo: %s", stats)
    if stats.errors:
        return f"{stats.errors} institution(s) failed geo enrichment; they keep their previous values (see log)"
    return None


def _index(settings: Settings, ids: list[int] | None) -> None:
    from index import api as index_api

    with session_scope(settings.database_url) as session:
        if ids is None or not index_api.index_exists(settings):
            index_api.rebuild(settings, session)
        else:
            outcome = index_api.catch_up(settings, session, ids)
            if outcome.changed:
                log.info("index: %s", outcome)


def _log_summary(s: RunSummary) -> None:
    counts = (f"in={s.n_in} new={s.n_new} changed={s.n_changed} unchanged={s.n_unchanged} "
              f"missing={s.n_missing} errors={s.n_errors}")
    level = logging.INFO if s.ok else logging.ERROR
    log.log(level, "source %s: %s (%s) %.1fs%s", s.source, s.status, counts, s.seconds,
            f" — {s.message}" if s.message else "")
