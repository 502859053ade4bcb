"""RJPS through the real pipeline (orchestration.pipeline.run_adapter -> catalog.merge) on a real SQLite file."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from catalog.db import session_scope
from catalog.models import Institution, RawCapture, ScrapeRun, SourceRecord
from orchestration.pipeline import run_adapter
from scrapers.rjps import DEMO_REPLAY_DIR, RjpsAdapter
from tests.scrapers.conftest import REAL_FRAGMENTS, real_listing_entries, serve_fragment, serve_listing


def test_demo_replay_dir_lands_in_the_catalog(rjps_settings):
    summary = run_adapter(rjps_settings, RjpsAdapter(expected_min=1, replay_dir=DEMO_REPLAY_DIR))
    assert summary.status == "ok" and summary.n_new == 2
    with session_scope(rjps_settings.database_url) as session:
        names = sorted(session.exec(select(Institution.name)).all())
        records = session.exec(select(SourceRecord)).all()
        capture_ids = {r.id for r in session.exec(select(RawCapture)).all()}
    assert names == ["Gminny Ośrodek Pomocy Społecznej w Bytoniu",
                     "Miejski Ośrodek Pomocy Społecznej w Zabłudowie"]
    assert all(r.capture_id in capture_ids for r in records)   # every record traces to its bytes


def test_interrupted_run_resumes_without_refetching(httpserver, rjps_settings):
    serve_listing(httpserver, json.dumps(real_listing_entries({3499, 2321})))
    for unit_id, path in REAL_FRAGMENTS.items():
        serve_fragment(httpserver, unit_id, path.read_bytes())

    def interrupt_after_first(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_adapter(rjps_settings, RjpsAdapter(progress=interrupt_after_first))
    assert len(httpserver.log) == 2 + 14                 # listing, the 14 taxonomy filters, the first unit
    with session_scope(rjps_settings.database_url) as session:
        assert [r.status for r in session.exec(select(ScrapeRun)).all()] == ["interrupted"]

    summary = run_adapter(rjps_settings, RjpsAdapter())
    assert summary.status == "ok" and summary.n_new == 2
    assert len(httpserver.log) == 3 + 14                 # only the unit the interrupted run never fetched
