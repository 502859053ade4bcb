"""kill -9 of a real `wsparcie scrape` in the merge, geo and index stages, then a normal rerun: every
merged institution is enriched and searchable (finding 8: 0 of 2000 were, after a successful rerun).

The kill lands deterministically through the WSPARCIE_PAUSE_AT hook (orchestration.pipeline.pause_point):
the process announces the point with a file and waits there until it is killed."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from catalog.db import session_scope
from catalog.models import Institution, ScrapeRun

_spec = importlib.util.spec_from_file_location("pipeline_loopback", Path(__file__).with_name("loopback.py"))
lb = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("pipeline_loopback", lb)
_spec.loader.exec_module(lb)

FIRST = list(range(10_001, 10_004))          # an earlier, complete ingest: the index exists
SECOND = list(range(10_001, 10_301))         # 297 new units arrive in the run that gets killed


@pytest.mark.parametrize("stage", ["merge", "geo", "index"])
def test_kill_9_in_a_stage_then_rerun_makes_everything_searchable(stage, httpserver, tmp_path):
    data_dir = tmp_path / "var"
    rjps = lb.LoopbackRjps(httpserver, FIRST)
    env = lb.cli_env(data_dir, RJPS_BASE_URL=rjps.base_url)
    first = lb.run(env, "scrape", "rjps", "--no-progress")
    assert first.returncode == 0, first.stdout + first.stderr
    assert lb.searchable_ids(data_dir) == lb.catalog_ids(data_dir) and len(lb.catalog_ids(data_dir)) == 3

    rjps.ids = SECOND
    proc = lb.start({**env, "WSPARCIE_PAUSE_AT": stage, "WSPARCIE_PAUSE_SECONDS": "120"},
                    "scrape", "rjps", "--no-progress")
    lb.wait_for(data_dir / f"paused-{stage}", proc)
    lb.kill_9(proc)
    settings = lb.settings_for(data_dir)
    with session_scope(settings.database_url) as session:
        merged = len(session.exec(select(Institution)).all())
    assert merged == (3 if stage == "merge" else 300)   # a kill in the merge transaction changes nothing

    rerun = lb.run(env, "scrape", "rjps", "--no-progress")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    ids = lb.catalog_ids(data_dir)
    assert len(ids) == 300
    assert lb.searchable_ids(data_dir) == ids
    with session_scope(settings.database_url) as session:
        rows = session.exec(select(Institution)).all()
        assert all(r.teryt_method is not None and r.lat is not None for r in rows)   # all enriched
        runs = session.exec(select(ScrapeRun).order_by(ScrapeRun.id)).all()
    if stage == "merge":   # the killed run was continued, not restarted
        assert [r.status for r in runs] == ["ok", "ok"]


def test_index_catches_up_at_the_start_of_the_next_ingest_even_if_it_fetches_nothing(httpserver, tmp_path):
    """Killed in the index stage, then a run whose only source fails: the start-of-ingest check alone
    brings the index level with the catalog."""
    data_dir = tmp_path / "var"
    rjps = lb.LoopbackRjps(httpserver, FIRST)
    env = lb.cli_env(data_dir, RJPS_BASE_URL=rjps.base_url)
    assert lb.run(env, "scrape", "rjps", "--no-progress").returncode == 0
    rjps.ids = SECOND
    proc = lb.start({**env, "WSPARCIE_PAUSE_AT": "index", "WSPARCIE_PAUSE_SECONDS": "120"},
                    "scrape", "rjps", "--no-progress")
    lb.wait_for(data_dir / "paused-index", proc)
    lb.kill_9(proc)
    assert len(lb.searchable_ids(data_dir)) == 3

    down = lb.run({**env, "RJPS_BASE_URL": "http://127.0.0.1:9"}, "scrape", "rjps", "--no-progress")
    assert down.returncode == 1 and "failed" in down.stdout
    assert lb.searchable_ids(data_dir) == lb.catalog_ids(data_dir) and len(lb.catalog_ids(data_dir)) == 300


def test_stages_catch_up_on_postgresql(httpserver, postgres_url, data_dir, monkeypatch):
    """A run that merged and enriched but died before its index stage, then a run that changes
    nothing: on PostgreSQL too, the index finds the leftover work itself."""
    from catalog import settings as settings_mod
    from orchestration import pipeline

    rjps = lb.LoopbackRjps(httpserver, SECOND[:40])
    monkeypatch.setenv("RJPS_BASE_URL", rjps.base_url)
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    settings = settings_mod.load()
    assert settings.database_url == postgres_url
    pipeline.scrape(settings, ["rjps"])                       # the index exists
    rjps.ids = SECOND[:120]
    [merged] = pipeline.scrape(settings, ["rjps"], post_process=False)
    pipeline.later_stages(settings, sorted(merged.touched_ids), [], stages=("geo",))   # no index stage
    [again] = [s for s in pipeline.scrape(settings, ["rjps"]) if s.source == "rjps"]
    assert again.ok and again.n_new == 0 and not again.touched_ids
    with session_scope(settings.database_url) as session:
        rows = session.exec(select(Institution)).all()
    assert len(rows) == 120 and all(r.teryt_method is not None for r in rows)
    assert lb.searchable_ids(data_dir) == {r.id for r in rows}
