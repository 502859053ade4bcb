"""`wsparcie reparse`: a parser fix reaches records already in the catalog from the stored captures alone.
The PUP list is served once over loopback (pytest-httpserver) and scraped through the real pipeline with a
parser that misses the www field; after the fix, reparse runs with the server answering nothing, and the
record gains its www without a single request."""
from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select

from catalog.db import session_scope
from catalog.models import FieldProvenance, Institution, RawCapture, ScrapeRun
from orchestration import pipeline
from orchestration.cli import cli
from scrapers import pup

PLOCK = "Miejski Urząd Pracy w Płocku"


def _www(settings) -> str | None:
    with session_scope(settings.database_url) as session:
        return session.exec(select(Institution.www).where(Institution.name == PLOCK)).one()


def test_reparse_applies_a_parser_fix_without_any_request(env, serve, fixture_bytes, httpserver, monkeypatch):
    monkeypatch.setenv("PUP_EXPECTED_MIN", "1")
    serve(pup.LIST_PATH, fixture_bytes("pup", "urzedy-pracy.html"))
    fixed_labels = list(pup._LABELS)
    monkeypatch.setattr(pup, "_LABELS", [(n, p) for n, p in fixed_labels if n != "www"])   # the parser bug
    [first] = pipeline.scrape(env, ["pup"])
    assert first.ok and _www(env) is None
    requests = len(httpserver.log)
    assert requests >= 1

    monkeypatch.setattr(pup, "_LABELS", fixed_labels)   # the parser fix
    httpserver.clear()                                   # the source is gone: only the captures remain
    result = CliRunner().invoke(cli, ["reparse", "--source", "pup"])
    assert result.exit_code == 0, result.output
    assert len(httpserver.log) == 0 and _www(env) == "mupplock.praca.gov.pl"
    with session_scope(env.database_url) as session:
        runs = session.exec(select(ScrapeRun).where(ScrapeRun.source == "pup").order_by(ScrapeRun.id)).all()
        assert [r.status for r in runs] == ["ok", "ok"]
        inst_id = session.exec(select(Institution.id).where(Institution.name == PLOCK)).one()
        [row] = session.exec(select(FieldProvenance).where(
            FieldProvenance.institution_id == inst_id, FieldProvenance.field == "www")).all()
        assert row.source == "pup" and row.run_id == runs[1].id
        # The records still point at the bytes they were parsed from: no new capture was made.
        assert len(session.exec(select(RawCapture)).all()) == requests


def test_reparse_of_a_source_without_captures_changes_nothing(env, httpserver):
    summaries = pipeline.reparse(env, ["pup"])
    assert [s.status for s in summaries] == ["failed"] and len(httpserver.log) == 0
    with session_scope(env.database_url) as session:
        assert session.exec(select(Institution)).all() == []
