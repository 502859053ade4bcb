"""End to end: a hostile RJPS unit (bidi overrides, control characters, a 5 700-character name) replayed
on loopback is cleaned once at the catalog's door; the stored capture keeps the exact bytes served."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select
from werkzeug import Response

from catalog import settings as settings_mod
from catalog.clean import INVISIBLE
from catalog.db import session_scope
from catalog.models import FieldProvenance, Institution, RawCapture, ScrapeRun, SourceRecord
from orchestration.cli import cli

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "registries" / "samples" / "rjps"
LISTING = "/RJPS/WJ/wyszukiwanie/zaladujDane.do"
FRAGMENT = "/RJPS/WJ/wyszukiwanie/pobierzDaneJednostki.do"
REAL_NAME = "Miejski Ośrodek Pomocy Społecznej w Zabłudowie"
HOSTILE_NAME = "\u202eMiejski\x1f Ośrodek\x07 Pomocy\u2066 Społecznej w Zabłudowie" + " dłuższa nazwa" * 400


def hostile_fragment() -> bytes:
    html = (SAMPLES / "pobierzDaneJednostki_3499_list_fragment.html").read_text(encoding="utf-8")
    html = html.replace(REAL_NAME, HOSTILE_NAME).replace("16-060 Zabłudów", "16-060 Zabłudów\u202c\x1b")
    return html.encode()


@pytest.fixture
def rjps(httpserver, data_dir, monkeypatch):
    monkeypatch.setenv("RJPS_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    listing = [{"id": 3499, "x": 23.33, "y": 53.01}]

    def on_listing(request):
        body = "[]" if json.loads(request.data)["filtry"] else json.dumps(listing)
        return Response(body, content_type="application/json")

    httpserver.expect_request(LISTING, method="POST").respond_with_handler(on_listing)
    httpserver.expect_request(FRAGMENT, method="GET").respond_with_data(
        hostile_fragment(), content_type="text/html;charset=UTF-8")
    return httpserver


def _clean(text: str) -> bool:
    return not any(c in INVISIBLE or unicodedata.category(c) == "Cc" for c in text)


def test_hostile_unit_is_cleaned_before_the_catalog_and_the_capture_stays_raw(rjps):
    result = CliRunner().invoke(cli, ["scrape", "rjps", "--no-progress"])
    assert result.exit_code == 0, result.output
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        inst = session.exec(select(Institution)).one()
        assert inst.name.startswith("Miejski Ośrodek Pomocy Społecznej w Zabłudowie dłuższa nazwa")
        assert len(inst.name) <= 300 and inst.name.endswith("…") and _clean(inst.name)
        assert (inst.postal_code, inst.locality) == ("16-060", "Zabłudów")
        assert _clean(inst.address_raw)
        values = [json.loads(p.value) for p in session.exec(select(FieldProvenance)).all()]
        assert all(_clean(v) for v in values if isinstance(v, str))
        run = session.exec(select(ScrapeRun)).one()
        messages = [n["message"] for n in run.notes if n["where"] == "rjps 3499"]
        assert any(m.startswith("name: cut from") for m in messages)
        assert "name: removed bidi/invisible characters" in messages
        # The capture is the exact bytes served: cleaning never rewrites the evidence.
        rec = session.exec(select(SourceRecord)).one()
        capture = session.get(RawCapture, rec.capture_id)
        assert (s.captures_dir / capture.content_hash[:2] / capture.content_hash).read_bytes() == hostile_fragment()
    status = CliRunner().invoke(cli, ["status"])
    assert "cleaning note(s)" in status.output and "name: cut from" in status.output
