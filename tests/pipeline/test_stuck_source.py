"""One stuck source blocks nothing (finding 7): a second ingest runs the other sources while the first is
stuck, exit 3 only when nothing could run, and the run deadline ends the stuck source as a clean failure
or a partial run that keeps the catalog."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from sqlmodel import select

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import Institution, ScrapeRun, SourceRecord
from orchestration import pipeline


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


HERE = Path(__file__).resolve().parent
lb = _load("pipeline_loopback", HERE / "loopback.py")
limits = _load("http_limits_servers", HERE.parent / "scrapers" / "test_http_limits.py")
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2400\r\n\r\n"


def test_second_ingest_runs_the_sources_the_stuck_one_does_not_hold(httpserver, tmp_path):
    data_dir = tmp_path / "var"
    rjps = lb.LoopbackRjps(httpserver, [20_001, 20_002, 20_003])
    stuck = limits.DripServer(HEAD, step=0.05, steps=2400)     # at most 2 minutes, then it stops
    try:
        env = lb.cli_env(data_dir, RJPS_BASE_URL=rjps.base_url, CIS_KIS_20_BASE_URL=f"http://127.0.0.1:{stuck.port}",
                         CIS_KIS_20_RATE_LIMIT="0", HTTP_REQUEST_DEADLINE="600")
        first = lb.start(env, "scrape", "cis-kis-20", "rjps", "--no-progress")
        lb.wait_for_condition(lambda: stuck.connections >= 1, first)

        second = lb.run(env, "scrape", "cis-kis-20", "rjps", "--no-progress")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "SKP cis-kis-20" in second.stdout and "another ingest is running this source" in second.stdout
        assert "OK  rjps" in second.stdout
        only_stuck = lb.run(env, "scrape", "cis-kis-20", "--no-progress")
        assert only_stuck.returncode == 3 and "nothing to do" in only_stuck.stderr
    finally:
        stuck.close()     # the first run's request now fails; it goes on to RJPS
    out, _ = first.communicate(timeout=180)
    assert first.returncode == 1 and "ERR cis-kis-20" in out, out
    settings = lb.settings_for(data_dir)
    with session_scope(settings.database_url) as session:
        assert len(session.exec(select(Institution)).all()) == 3
    assert lb.searchable_ids(data_dir) == lb.catalog_ids(data_dir)


def test_stuck_source_ends_at_its_run_deadline_as_a_failure(data_dir, monkeypatch):
    stuck = limits.DripServer(HEAD, step=0.05, steps=2400)
    try:
        monkeypatch.setenv("CIS_KIS_20_BASE_URL", f"http://127.0.0.1:{stuck.port}")
        monkeypatch.setenv("CIS_KIS_20_RATE_LIMIT", "0")
        monkeypatch.setenv("CIS_KIS_20_RUN_DEADLINE", "1")
        monkeypatch.setenv("HTTP_REQUEST_DEADLINE", "600")
        [summary] = pipeline.scrape(settings_mod.load(), ["cis-kis-20"], post_process=False)
    finally:
        stuck.close()
    assert summary.status == "failed"
    assert "CIS_KIS_20_RUN_DEADLINE" in summary.message and "stopped at" in summary.message


def test_run_deadline_mid_listing_merges_what_came_and_keeps_the_rest(httpserver, data_dir, monkeypatch):
    ids = list(range(30_001, 30_021))
    rjps = lb.LoopbackRjps(httpserver, ids)
    monkeypatch.setenv("RJPS_BASE_URL", rjps.base_url)
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    [ok] = pipeline.scrape(settings_mod.load(), ["rjps"], post_process=False)
    assert ok.status == "ok" and ok.n_new == 20

    rjps.slow = 0.3                                # 6 s for all fragments; the run may take 1.5 s
    monkeypatch.setenv("RJPS_RUN_DEADLINE", "1.5")
    settings = settings_mod.load()
    [cut] = pipeline.scrape(settings, ["rjps"], post_process=False)
    assert cut.status == "partial" and "RJPS_RUN_DEADLINE" in cut.message
    assert cut.n_missing == 0 and cut.n_errors >= 1
    with session_scope(settings.database_url) as session:
        assert len(session.exec(select(Institution)).all()) == 20
        assert all(r.missing_runs == 0 for r in session.exec(select(SourceRecord)).all())
        assert all(i.status == "active" for i in session.exec(select(Institution)).all())
        run = session.exec(select(ScrapeRun).order_by(ScrapeRun.id.desc())).first()
        assert run.status == "partial" and "RJPS_RUN_DEADLINE" in run.message


def test_busy_index_stage_is_left_to_the_next_run_which_catches_up(httpserver, data_dir, monkeypatch):
    rjps = lb.LoopbackRjps(httpserver, [50_001, 50_002])
    monkeypatch.setenv("RJPS_BASE_URL", rjps.base_url)
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    monkeypatch.setenv("STAGE_LOCK_WAIT", "0.5")
    settings = settings_mod.load()
    assert all(s.ok for s in pipeline.scrape(settings, ["rjps"]))
    rjps.ids = [50_001, 50_002, 50_003]
    with pipeline.named_lock(settings, "stage-index") as held:     # another ingest is indexing
        assert held
        summaries = pipeline.scrape(settings, ["rjps"])
    [stage] = [s for s in summaries if s.source == "stage:index"]
    assert "STAGE_LOCK_WAIT" in stage.message and "next run catches up" in stage.message
    assert len(lb.searchable_ids(data_dir)) == 2
    assert all(s.ok for s in pipeline.scrape(settings, ["rjps"]))
    assert lb.searchable_ids(data_dir) == lb.catalog_ids(data_dir) and len(lb.catalog_ids(data_dir)) == 3
