"""The ingest pipeline: for each source fetch -> merge (one transaction) -> enrich (geo) -> index.

Failure rules (the catalog never loses good data):
* a source that is down, answers garbage or too few records ("fatal") changes nothing in the catalog;
  the run is recorded as failed with its reason;
* per-unit failures leave those units untouched (neither updated nor counted missing); the run is
  "partial" and the command exits non-zero;
* an interrupted run (Ctrl-C, SIGTERM, crash) is recorded as such and the next run of that source
  continues it, answering already fetched requests from the stored captures;
* a failure in a later stage (geocoding, indexing) is reported but keeps the merged data.
"""
from __future__ import annotations

import fcntl
import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select

from catalog.db import session_scope, upgrade
from catalog.merge import apply_fetch, describe_degraded, ensure_source
from catalog.models import Institution, ScrapeRun, Source, utcnow
from catalog.settings import Settings
from scrapers.registry import ADAPTERS, expand

log = logging.getLogger(__name__)

RESUME_WINDOW = timedelta(hours=24)
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
def ingest_lock(settings: Settings) -> Iterator[None]:
    """One writer at a time: an overlapping cron run stops instead of interleaving with the first."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestLocked("Another ingest is already running (lock: ingest.lock)") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
    summaries = []
    with ingest_lock(settings), _sigterm_as_interrupt():
        for key in expand(keys):
            summary = run_source(settings, key, progress)
            summaries.append(summary)
            _log_summary(summary)
        if post_process:
            touched = set().union(*(s.touched_ids for s in summaries)) if summaries else set()
            later_stages(settings, sorted(touched), summaries)
    return summaries


def run_source(settings: Settings, key: str, progress: Progress | None = None) -> RunSummary:
    started = time.monotonic()
    if key not in ADAPTERS:
        known = ", ".join(sorted(ADAPTERS))
        return RunSummary(key, None, "failed", message=f"unknown source {key!r} (known: {known})")
    try:
        adapter = ADAPTERS[key]()
    except Exception as exc:  # an adapter that cannot even be built must not stop the other sources
        log.exception("source %s: adapter failed to load", key)
        return RunSummary(key, None, "failed", message=f"adapter failed to load: {exc}")
    summary = run_adapter(settings, adapter, progress)
    summary.seconds = time.monotonic() - started
    return summary


def run_adapter(settings: Settings, adapter, progress: Progress | None = None) -> RunSummary:
    """Fetch and merge one adapter instance (also used for the demo snapshot's replayed sources)."""
    key = adapter.meta.key
    started = time.monotonic()
    upgrade(settings.database_url)
    run_id, resumed = _start_run(settings, adapter.meta)
    summary = RunSummary(key, run_id, "failed")
    try:
        result = _fetch(settings, adapter, run_id, resumed, progress)
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
        summary.message = result.fatal
        _finish(settings, run_id, "failed", message=result.fatal, errors=result.errors)
    else:
        _merge(settings, adapter.meta, result, run_id, summary)
    summary.seconds = time.monotonic() - started
    return summary


def _fetch(settings: Settings, adapter, run_id: int, resumed: bool, progress: Progress | None):
    from scrapers.http import HttpClient

    if progress is not None and hasattr(adapter, "progress"):
        adapter.progress = progress
    replay_dir = getattr(adapter, "replay_dir", None)
    with HttpClient(settings, adapter.meta.key, run_id=run_id, resume_run_id=run_id if resumed else None,
                    replay_dir=replay_dir) as client:
        return adapter.fetch(client, settings)


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
            if meta.key != "demo" and result.complete:
                stats.touched_ids.update(_replace_placeholders(session, result))
        summary.status, summary.complete, summary.touched_ids = status, result.complete, stats.touched_ids
        if result.errors:
            summary.message = f"{len(result.errors)} record(s) failed; they were left unchanged"
        if stats.degraded:
            summary.message = "; ".join(filter(None, (summary.message, describe_degraded(stats.degraded))))
    except Exception as exc:   # the transaction rolled back: the catalog is exactly as before
        log.exception("source %s: merge failed", meta.key)
        summary.status, summary.message = "failed", f"merge failed, nothing changed: {exc}"
        _finish(settings, run_id, "failed", message=summary.message, errors=result.errors)


# A real source must deliver at least this many institutions of a type before that type's demo
# placeholders go (the bundled RJPS sample alone must not empty the demo map).
PLACEHOLDER_REPLACEMENT_MIN = 100


def _replace_placeholders(session, result) -> list[int]:
    from scrapers.demo import purge_placeholders

    counts: dict[str, int] = {}
    for item in result.items:
        type_ = "ops" if item.fields.get("type") == "cus" else item.fields.get("type")
        counts[type_] = counts.get(type_, 0) + 1
    types = {t for t, n in counts.items() if n >= PLACEHOLDER_REPLACEMENT_MIN and t in ("ops", "pcpr", "pup")}
    if not types:
        return []
    removed = purge_placeholders(session, types)
    log.info("replaced %d demo placeholders (%s) with real records", len(removed), ", ".join(sorted(types)))
    return removed


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

    touched_ids None means everything (full enrich pass and an index rebuild)."""
    started = utcnow()
    if "geo" in stages:
        _stage(summaries, "geo", _enrich, settings, touched_ids)
    if "index" in stages:
        ids = None if touched_ids is None else sorted(set(touched_ids) | _changed_since(settings, started))
        _stage(summaries, "index", _index, settings, ids)


def _stage(summaries: list[RunSummary], name: str, stage, settings: Settings, ids: list[int] | None) -> None:
    try:
        problem = stage(settings, ids)
    except Exception as exc:
        log.exception("stage %s failed", name)
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        summaries.append(RunSummary(f"stage:{name}", None, "failed", message=problem))


def _changed_since(settings: Settings, since) -> set[int]:
    """Institutions the geo stage changed (it stamps updated_at): they need re-indexing too."""
    with session_scope(settings.database_url) as session:
        return set(session.exec(select(Institution.id).where(Institution.updated_at >= since)).all())


def _enrich(settings: Settings, ids: list[int] | None) -> str | None:
    from geo.enrich import enrich

    with session_scope(settings.database_url) as session:
        stats = enrich(session, settings, ids)
        if ids is not None:
            # Also retry rows an earlier run could not complete (cheap: complete rows are skipped in SQL).
            retry = enrich(session, settings, None)
            stats.errors += retry.errors
    log.info("geo: %s", stats)
    if stats.errors:
        return f"{stats.errors} institution(s) failed geo enrichment; they keep their previous values (see log)"
    return None


def _index(settings: Settings, ids: list[int] | None) -> None:
    from index import api as index_api

    with session_scope(settings.database_url) as session:
        if ids is None or not index_api.index_exists(settings):
            index_api.rebuild(settings, session)
        elif ids:
            index_api.update(settings, session, ids)


def _log_summary(s: RunSummary) -> None:
    counts = (f"in={s.n_in} new={s.n_new} changed={s.n_changed} unchanged={s.n_unchanged} "
              f"missing={s.n_missing} errors={s.n_errors}")
    level = logging.INFO if s.ok else logging.ERROR
    log.log(level, "source %s: %s (%s) %.1fs%s", s.source, s.status, counts, s.seconds,
            f" — {s.message}" if s.message else "")
