"""Zero-result searches: aggregated per folded text, place and need, text only, capped; listed by
`wsparcie status --zero-results` (table and JSON) on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from catalog import zero_results
from catalog.db import get_engine, session_scope
from catalog.models import ZERO_RESULT_TEXT_MAX, ZeroResultQuery
from orchestration.stages_cli import status_cmd

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _closed_engine(db_settings):
    """Close this test's pooled connections: a cached engine evicted later would drop them unclosed."""
    yield
    get_engine(db_settings.database_url).dispose()


def _record(settings, *args, now=None) -> bool:
    with session_scope(settings.database_url) as session:
        return zero_results.record(session, *args, now=now)


def test_same_search_folds_into_one_row_with_count_and_dates(db_settings):
    assert _record(db_settings, "Eksmisja", "Żywiec", None, now=T0)
    assert _record(db_settings, "  eksmisja ", "zywiec", None, now=T0 + timedelta(hours=1))
    assert _record(db_settings, "EKSMISJA", "Zywiec", "", now=T0 + timedelta(hours=2))
    assert _record(db_settings, "eksmisja", "Cieszyn", None, now=T0)        # another place: another row
    assert _record(db_settings, "eksmisja", "Żywiec", "bezdomnosc", now=T0)  # another need: another row
    with session_scope(db_settings.database_url) as session:
        rows = session.exec(select(ZeroResultQuery).order_by(ZeroResultQuery.id)).all()
        assert [(r.query_folded, r.place_folded, r.need, r.count) for r in rows] == [
            ("eksmisja", "zywiec", "", 3), ("eksmisja", "cieszyn", "", 1), ("eksmisja", "zywiec", "bezdomnosc", 1)]
        first = rows[0]
        assert first.first_seen == T0 and first.last_seen == T0 + timedelta(hours=2)
        assert first.query_text == "EKSMISJA" and first.place_text == "Zywiec"   # as last typed
        assert zero_results.total(session) == {"distinct": 3, "searches": 5}


def test_text_is_cleaned_capped_and_empty_searches_are_not_counted(db_settings):
    long = "pomoc " * 100 + "\x00\x07koniec"
    assert _record(db_settings, long, "x" * 500, None, now=T0)
    assert _record(db_settings, long + " jeszcze", "x" * 600, None, now=T0)   # same first 200 characters
    assert not _record(db_settings, "  \t ", "Kraków", None)                  # nothing was asked
    assert not _record(db_settings, None, None, None)
    assert _record(db_settings, "", "Kraków", "przemoc", now=T0)             # a need alone counts
    with session_scope(db_settings.database_url) as session:
        rows = session.exec(select(ZeroResultQuery).order_by(ZeroResultQuery.id)).all()
        assert len(rows) == 2
        assert rows[0].count == 2
        assert len(rows[0].query_text) == ZERO_RESULT_TEXT_MAX and "\x00" not in rows[0].query_text
        assert len(rows[0].place_text) == ZERO_RESULT_TEXT_MAX
        assert (rows[1].query_folded, rows[1].need, rows[1].place_folded) == ("", "przemoc", "krakow")


def test_status_zero_results_table_json_and_limit(db_settings):
    for i, (text, n) in enumerate((("jedzenie", 3), ("alkohol", 1), ("depresja", 2))):
        for k in range(n):
            _record(db_settings, text, "Będzin", None, now=T0 + timedelta(minutes=10 * i + k))
    runner = CliRunner()
    out = runner.invoke(status_cmd, ["--zero-results", "--json", "--limit", "2"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)["zero_results"]
    assert (report["distinct"], report["searches"], report["limit"]) == (3, 6, 2)
    assert [(q["query"], q["place"], q["count"]) for q in report["queries"]] == [
        ("jedzenie", "Będzin", 3), ("depresja", "Będzin", 2)]
    assert set(report["queries"][0]) == {"query", "query_folded", "place", "need", "count", "first_seen",
                                         "last_seen"}   # text only: nothing of the client

    table = runner.invoke(status_cmd, ["--zero-results"], catch_exceptions=False)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert "zero-result searches: 3 distinct, 6 in all" in table.output
    body = lines[lines.index(next(line for line in lines if line.startswith(" count"))) + 2:]
    assert [line.split()[-1] for line in body] == ["jedzenie", "depresja", "alkohol"]
    assert body[0].split()[0] == "3"

    plain = runner.invoke(status_cmd, ["--json"], catch_exceptions=False)
    assert "zero_results" not in json.loads(plain.output)   # only when asked for


def test_status_zero_results_when_none_recorded(db_settings):
    out = CliRunner().invoke(status_cmd, ["--zero-results"], catch_exceptions=False)
    assert out.exit_code == 0
    assert "no zero-result searches recorded" in out.output
