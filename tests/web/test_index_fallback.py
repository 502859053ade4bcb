"""Without a built search index the pages and the API list from catalog queries, and say so in the log once
per outage (not once per request); maps are always offered for located institutions."""
from __future__ import annotations

import logging
import shutil

import pytest

from catalog import db
from catalog.models import Institution
from index import api as index_api

FALLBACK = "no search index"


def _fallback_warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum(FALLBACK in r.getMessage() for r in caplog.records if r.name == "webapp.lookup")


@pytest.fixture
def client(app_without_index):
    """No index was ever built here: every list comes from the SQL fallback."""
    return app_without_index.test_client()


def test_lists_fall_back_to_the_catalog_and_log_it_once_per_outage(client, settings, caplog):
    caplog.set_level(logging.WARNING, logger="webapp.lookup")
    for _ in range(2):
        html = client.get("/instytucje?q=Choroszczy&typ=cis").get_data(as_text=True)
        assert "Centrum Integracji Społecznej w Choroszczy" in html
    body = client.get("/api/institutions?q=integracji").get_json()
    assert body["total"] >= 1 and "uproszczone" in body["note"]     # the API's plain catalog search
    assert _fallback_warnings(caplog) == 1

    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    note = client.get("/api/institutions?q=integracji").get_json()["note"]
    assert "uproszczone" not in (note or "")                      # the index answers now
    assert _fallback_warnings(caplog) == 1

    shutil.rmtree(settings.index_dir)             # e.g. an operator removed a damaged index
    client.get("/instytucje?q=Choroszczy")
    client.get("/instytucje?q=Choroszczy")
    assert _fallback_warnings(caplog) == 2


def test_detail_offers_a_map_only_with_a_point(client, settings, ids):
    html = client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    assert f'src="/instytucja/{ids["ops"]}/mapa"' in html
    assert client.get(f"/instytucja/{ids['ops']}/mapa").status_code == 200
    with db.session_scope(settings.database_url) as session:
        unplaced = Institution(name="Klub Integracji Społecznej bez adresu", type="kis")
        session.add(unplaced)
        session.flush()
        unplaced_id = unplaced.id
    html = client.get(f"/instytucja/{unplaced_id}").get_data(as_text=True)
    assert "Nie znamy jeszcze położenia tej instytucji na mapie." in html and "small-map" not in html
    assert client.get(f"/instytucja/{unplaced_id}/mapa").status_code == 404


def test_map_page_always_embeds_the_map_frame(client):
    html = client.get("/mapa?typ=cis").get_data(as_text=True)
    assert 'class="full-map" src="/mapa/ramka?typ=cis"' in html
