"""End to end through the CLI: RJPS replayed from a loopback server serving the real captures."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select
from werkzeug import Response

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import ChangeLog, FieldProvenance, Institution, RawCapture, ScrapeRun, SourceRecord
from orchestration.cli import cli

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "registries" / "samples" / "rjps"
LISTING = "/RJPS/WJ/wyszukiwanie/zaladujDane.do"
FRAGMENT = "/RJPS/WJ/wyszukiwanie/pobierzDaneJednostki.do"


def real_fragment(unit_id: int) -> bytes:
    return (SAMPLES / f"pobierzDaneJednostki_{unit_id}_list_fragment.html").read_bytes()


def real_coords() -> dict[int, dict]:
    listing = json.loads((SAMPLES / "zaladujDane_response_2022-06_people_with_disabilities.json").read_text())
    return {u["id"]: u for u in listing}


def third_unit() -> bytes:
    """A third unit in the real layout: the real 3499 fragment with synthetic content (id, name, contacts)."""
    html = real_fragment(3499).decode()
    html = html.replace("3499", "9001").replace("Miejski Ośrodek Pomocy Społecznej w Zabłudowie",
                                                   "Gminny Ośrodek Pomocy Społecznej (testowy)")
    return html.replace("biuro@mops-zabludow.pl", "gops@example.invalid").encode()


class FakeRjps:
    """Serves the RJPS paths on loopback; tests change what it answers between runs."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.units: dict[int, bytes] = {}
        self.coords: dict[int, dict] = {}
        self.failing: set[int] = set()
        coords = real_coords()
        for uid in (3499, 2321):
            self.units[uid] = real_fragment(uid)
            self.coords[uid] = coords[uid]
        self.units[9001] = third_unit()
        self.coords[9001] = {"id": 9001, "x": 21.0, "y": 52.2}
        httpserver.expect_request(LISTING, method="POST").respond_with_handler(self._listing)
        httpserver.expect_request(FRAGMENT, method="GET").respond_with_handler(self._fragment)

    def _listing(self, request):
        filters = json.loads(request.data)["filtry"]
        if filters:   # RJPS taxonomy filters (scrapers/rjps_taxonomy.py): no unit is tagged here
            assert set(filters) == {"podkategorie"}
            return Response("[]", content_type="application/json")
        return Response(json.dumps([self.coords[u] for u in self.units]), content_type="application/json")

    def _fragment(self, request):
        uid = int(request.args["jednostkiIds"])
        if uid in self.failing:
            return Response("Internal Server Error", status=500)
        if uid not in self.units:
            return Response("not found", status=404)
        return Response(self.units[uid], content_type="text/html;charset=UTF-8")


@pytest.fixture
def rjps(httpserver, data_dir, monkeypatch):
    monkeypatch.setenv("RJPS_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    return FakeRjps(httpserver)


def scrape(*args):
    return CliRunner().invoke(cli, ["scrape", "rjps", "--no-progress", *args])


def institution(session, key: str) -> Institution:
    rec = session.exec(select(SourceRecord).where(SourceRecord.source == "rjps",
                                                  SourceRecord.source_key == key)).one()
    return session.get(Institution, rec.institution_id)


def test_real_samples_become_institutions_with_provenance(rjps):
    result = scrape()
    assert result.exit_code == 0, result.output
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        zab = institution(session, "3499")
        assert zab.name == "Miejski Ośrodek Pomocy Społecznej w Zabłudowie"
        assert (zab.postal_code, zab.locality, zab.street, zab.building) == ("16-060", "Zabłudów", "ul. Rynek", "8")
        assert zab.email == "biuro@mops-zabludow.pl"
        assert zab.phones[0]["raw"] == "85 7188100" and zab.phones[0]["e164"] == "+48857188100"
        assert zab.source_updated_at == date(2018, 2, 5)
        assert zab.type == "ops" and zab.rjps_id == "3499"
        assert zab.lat == pytest.approx(rjps.coords[3499]["y"]) and zab.geo_precision == "source"
        prov = {p.field: p for p in session.exec(
            select(FieldProvenance).where(FieldProvenance.institution_id == zab.id)).all()}
        assert prov["email"].source == "rjps" and prov["email"].source_updated_at == date(2018, 2, 5)
        # The record traces back to the exact bytes it was parsed from.
        rec = session.exec(select(SourceRecord).where(SourceRecord.source_key == "3499")).one()
        capture = session.get(RawCapture, rec.capture_id)
        body = (s.captures_dir / capture.content_hash[:2] / capture.content_hash).read_bytes()
        assert body == real_fragment(3499)

        byton = institution(session, "2321")
        assert byton.name == "Gminny Ośrodek Pomocy Społecznej w Bytoniu"
        assert byton.street is None and byton.www is None
        assert (byton.postal_code, byton.locality) == ("88-231", "Bytoń")
        assert byton.source_updated_at == date(2013, 12, 13)


def test_second_replay_changed_vanished_and_failing_units(rjps):
    assert scrape().exit_code == 0
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        failing_before = institution(session, "9001").model_dump()
    # One unit changed (e-mail), one vanished from the listing, the server fails on a third.
    rjps.units[3499] = rjps.units[3499].replace(b"biuro@mops-zabludow.pl", b"sekretariat@mops-zabludow.pl")
    del rjps.units[2321]
    rjps.failing.add(9001)
    rjps.units[9001] = third_unit()   # still listed

    result = scrape("--json")
    assert result.exit_code == 1, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert line["status"] == "partial" and line["changed"] == 1 and line["missing"] == 1 and line["errors"] == 1

    with session_scope(s.database_url) as session:
        zab = institution(session, "3499")
        assert zab.email == "sekretariat@mops-zabludow.pl"
        change = session.exec(select(ChangeLog).where(ChangeLog.institution_id == zab.id,
                                                      ChangeLog.field == "email")).one()
        assert json.loads(change.old_value) == "biuro@mops-zabludow.pl"
        # Vanished: still there, counted missing, not yet possibly-closed after one run.
        byton = institution(session, "2321")
        assert byton.status == "active" and byton.name.endswith("Bytoniu")
        rec = session.exec(select(SourceRecord).where(SourceRecord.source_key == "2321")).one()
        assert rec.missing_runs == 1
        # Failed unit: exactly as before.
        assert institution(session, "9001").model_dump() == failing_before
        run = session.exec(select(ScrapeRun).order_by(ScrapeRun.id.desc())).first()
        assert run.status == "partial" and run.errors[0]["where"] == "RJPS unit 9001"
        assert "500" in run.errors[0]["message"]
    status = CliRunner().invoke(cli, ["status"])
    assert status.exit_code == 1 and "partial" in status.output and "RJPS unit 9001" in status.output


@pytest.mark.parametrize("listing", [b"<html>Przerwa techniczna</html>", b"[]", b'{"error": 1}'])
def test_garbage_listing_leaves_catalog_exactly_as_it_was(rjps, httpserver, listing):
    assert scrape().exit_code == 0
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        before = [i.model_dump() for i in session.exec(select(Institution).order_by(Institution.id)).all()]
    httpserver.clear()
    httpserver.expect_request(LISTING, method="POST").respond_with_data(listing, content_type="application/json")
    result = scrape()
    assert result.exit_code == 1
    assert "failed" in result.output
    with session_scope(s.database_url) as session:
        after = [i.model_dump() for i in session.exec(select(Institution).order_by(Institution.id)).all()]
        run = session.exec(select(ScrapeRun).order_by(ScrapeRun.id.desc())).first()
    assert after == before
    assert run.status == "failed" and run.message


def test_source_down_is_reported_and_changes_nothing(rjps, httpserver, monkeypatch):
    assert scrape().exit_code == 0
    monkeypatch.setenv("RJPS_BASE_URL", "http://127.0.0.1:9")   # nothing listens on the discard port
    result = scrape()
    assert result.exit_code == 1 and "failed" in result.output
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        assert len(session.exec(select(Institution)).all()) == 3


def test_too_few_units_is_a_failure_not_closures(rjps, monkeypatch):
    assert scrape().exit_code == 0
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "50")
    result = scrape()
    assert result.exit_code == 1 and "expected at least 50" in result.output
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        assert all(r.missing_runs == 0 for r in session.exec(select(SourceRecord)).all())


def test_export_jsonl_and_csv(rjps):
    assert scrape().exit_code == 0
    out = CliRunner().invoke(cli, ["export", "--format", "jsonl"])
    rows = [json.loads(line) for line in out.output.splitlines()]
    zab = next(r for r in rows if r["rjps_id"] == "3499")
    assert zab["postal_code"] == "16-060" and zab["name"].endswith("Zabłudowie")
    assert zab["source_updated_at"] == "2018-02-05" and zab["phones"][0]["e164"] == "+48857188100"
    csv_out = CliRunner().invoke(cli, ["export", "--format", "csv"])
    header = csv_out.output.splitlines()[0].split(",")
    assert {"name", "type", "postal_code", "lat", "lon", "gmina_id6"} <= set(header)
    assert len(csv_out.output.strip().splitlines()) == 4


def test_interrupted_run_is_recorded_and_resumed_without_refetching(rjps, httpserver):
    from orchestration import pipeline
    from scrapers.rjps import RjpsAdapter

    s = settings_mod.load()
    calls = {"n": 0}

    def stop_after_first(done, total):
        calls["n"] += 1
        if done == 1:
            raise KeyboardInterrupt

    adapter = RjpsAdapter(progress=stop_after_first)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_adapter(s, adapter)
    with session_scope(s.database_url) as session:
        run = session.exec(select(ScrapeRun)).one()
        assert run.status == "interrupted"
        assert session.exec(select(Institution)).all() == []   # nothing half-merged
    fetched_before = [r for r, _ in httpserver.log if r.path == FRAGMENT]
    assert len(fetched_before) == 1

    result = scrape()
    assert result.exit_code == 0, result.output
    fragments = [r.args["jednostkiIds"] for r, _ in httpserver.log if r.path == FRAGMENT]
    # The unit fetched before the interruption was answered from the stored capture.
    assert fragments.count(fragments[0]) == 1 and len(fragments) == 3
    with session_scope(s.database_url) as session:
        runs = session.exec(select(ScrapeRun)).all()
        assert len(runs) == 1 and runs[0].status == "ok"    # the same run, continued
        assert len(session.exec(select(Institution)).all()) == 3
