"""A degraded RJPS answer (every unit without its contact blocks) replayed on loopback through the CLI:
nothing the source cannot vouch for is removed, the run is `degraded`, and the operator is told why."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from sqlmodel import func, select
from werkzeug import Response

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import ChangeLog, FieldProvenance, Institution, ScrapeRun, SourceRecord
from orchestration.cli import cli

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "registries" / "samples" / "rjps"
LISTING = "/RJPS/WJ/wyszukiwanie/zaladujDane.do"
FRAGMENT = "/RJPS/WJ/wyszukiwanie/pobierzDaneJednostki.do"
CONTACT_LINKS = 'a[aria-label="e-mail"], a[aria-label="numer telefonu"], a[aria-label="strona internetowa"]'
COPIES = range(9001, 9006)   # five more units in the real 3499 layout: seven units in all


def real_fragment(unit_id: int) -> bytes:
    return (SAMPLES / f"pobierzDaneJednostki_{unit_id}_list_fragment.html").read_bytes()


def copy_of_3499(uid: int) -> bytes:
    """The real 3499 fragment as another unit (own id, name and contacts)."""
    html = real_fragment(3499).decode().replace("3499", str(uid))
    html = html.replace("Miejski Ośrodek Pomocy Społecznej w Zabłudowie", f"Gminny Ośrodek Pomocy Społecznej nr {uid}")
    html = html.replace("biuro@mops-zabludow.pl", f"gops{uid}@example.invalid")
    return html.replace("85 7188100", f"85 71881{uid % 100:02d}").encode()


def without_contacts(fragment: bytes, links: str = CONTACT_LINKS) -> bytes:
    """The same unit as a degraded page serves it: every e-mail, phone and website block gone."""
    soup = BeautifulSoup(fragment, "lxml")
    for link in soup.select(links):
        link.find_parent("div", class_="col-sm-6").decompose()
    return str(soup).encode()


class FakeRjps:
    def __init__(self, httpserver):
        listing = json.loads((SAMPLES / "zaladujDane_response_2022-06_people_with_disabilities.json").read_text())
        coords = {u["id"]: u for u in listing}
        self.units = {3499: real_fragment(3499), 2321: real_fragment(2321)}
        self.coords = {3499: coords[3499], 2321: coords[2321]}
        for uid in COPIES:
            self.units[uid] = copy_of_3499(uid)
            self.coords[uid] = {"id": uid, "x": 23.3 + (uid - 9000) / 100, "y": 53.0}
        httpserver.expect_request(LISTING, method="POST").respond_with_handler(self._listing)
        httpserver.expect_request(FRAGMENT, method="GET").respond_with_handler(self._fragment)

    def _listing(self, request):
        if json.loads(request.data)["filtry"]:   # taxonomy listings: nothing tagged here
            return Response("[]", content_type="application/json")
        return Response(json.dumps([self.coords[u] for u in self.units]), content_type="application/json")

    def _fragment(self, request):
        return Response(self.units[int(request.args["jednostkiIds"])], content_type="text/html;charset=UTF-8")


@pytest.fixture
def rjps(httpserver, data_dir, monkeypatch):
    monkeypatch.setenv("RJPS_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    return FakeRjps(httpserver)


def scrape(*args):
    return CliRunner().invoke(cli, ["scrape", "rjps", "--no-progress", *args])


def contacts(session) -> dict[str, tuple]:
    out = {}
    for rec in session.exec(select(SourceRecord).where(SourceRecord.source == "rjps")).all():
        inst = session.get(Institution, rec.institution_id)
        out[rec.source_key] = (inst.email, inst.www, [p["raw"] for p in inst.phones])
    return out


def contact_provenance(session) -> dict[tuple[str, str], tuple]:
    rows = session.exec(select(FieldProvenance).where(
        FieldProvenance.field.in_(("email", "www", "phones", "phones_raw")))).all()
    return {(r.source_key, r.field): (r.value, r.last_seen, r.superseded_at) for r in rows}


def test_every_unit_losing_its_contact_blocks_keeps_every_contact_and_fails_the_run(rjps):
    assert scrape().exit_code == 0
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        before, prov_before = contacts(session), contact_provenance(session)
    assert sum(1 for email, _, _ in before.values() if email) == 7
    assert all(phones for _, _, phones in before.values())

    rjps.units = {uid: without_contacts(body) for uid, body in rjps.units.items()}
    result = scrape("--json")
    assert result.exit_code == 1, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert line["status"] == "degraded" and "email (7/7 units)" in line["message"]

    with session_scope(s.database_url) as session:
        assert contacts(session) == before
        assert contact_provenance(session) == prov_before     # same rows, values, last_seen; none superseded
        assert session.exec(select(func.count()).select_from(ChangeLog).where(
            ChangeLog.field.in_(("email", "www", "phones")))).one() == 0
        run = session.exec(select(ScrapeRun).order_by(ScrapeRun.id.desc())).first()
        assert run.status == "degraded"
        degraded = {d["field"]: (d["gone"], d["before"]) for d in run.degraded}
        assert degraded["email"] == (7, 7) and degraded["phones"] == (7, 7) and degraded["www"] == (6, 6)

    status = CliRunner().invoke(cli, ["status"])
    assert status.exit_code == 1
    assert "degraded" in status.output and "email (7/7 units)" in status.output
    status_json = CliRunner().invoke(cli, ["status", "--json"])
    assert status_json.exit_code == 1
    last_run = json.loads(status_json.output)["sources"][0]["last_run"]
    assert last_run["status"] == "degraded"
    assert {"field": "email", "before": 7, "gone": 7, "share": 1.0} in last_run["degraded"]

    from webapp import create_app

    page = create_app({"TESTING": True}).test_client().get("/zrodla")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Źródło podało niepełne dane." in html and "usunięcia wstrzymane" in html
    assert "zniknęło z 7 z 7 jednostek" in html


def test_one_unit_dropping_its_email_among_many_is_applied_and_logged(rjps):
    assert scrape().exit_code == 0
    rjps.units[9003] = without_contacts(rjps.units[9003], 'a[aria-label="e-mail"]')
    result = scrape("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["status"] == "ok"
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        now = contacts(session)
        assert now["9003"][0] is None and now["9004"][0] == "gops9004@example.invalid"
        rec = session.exec(select(SourceRecord).where(SourceRecord.source_key == "9003")).one()
        change = session.exec(select(ChangeLog).where(ChangeLog.institution_id == rec.institution_id,
                                                      ChangeLog.field == "email")).one()
        assert json.loads(change.old_value) == "gops9003@example.invalid" and change.new_value is None
        history = session.exec(select(FieldProvenance).where(
            FieldProvenance.source_key == "9003", FieldProvenance.field == "email")).one()
        assert history.superseded_at is not None and json.loads(history.value) == "gops9003@example.invalid"
