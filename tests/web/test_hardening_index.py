"""A damaged or missing index generation under a running app (security issue item 9): every search page
and the API answer from the catalog with a visible Polish notice, and /zdrowie says the index fails
(HTTP 503 with the reason). Truncation of mmapped files is tested against a served process in
test_serving.py (in this process it would be a SIGBUS if the protection failed)."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog import db
from catalog import settings as settings_mod
from index import api as index_api
from index import store

NOTICE = "Wyszukiwarka działa w trybie awaryjnym"
CIS = "Centrum Integracji Społecznej w Choroszczy"
PAGES = ("/instytucje", "/instytucje?q=Choroszczy", "/instytucje?q=integracji&typ=cis",
         "/?q=Choroszczy", "/?q=integracji&gdzie=Białystok")


def _meta(generation: Path) -> Path:
    meta = generation / "meta.json"
    return meta if meta.exists() else max(generation.glob("_*.toc"))   # tantivy / whoosh


def corrupt_meta(generation: Path) -> None:
    meta = _meta(generation)
    meta.write_bytes(b"\x00garbage{" * (meta.stat().st_size // 9 + 1))


def delete_a_segment_file(generation: Path) -> None:
    skip = {"meta.json", ".managed.json", store.FOLD_MAP}
    victim = next(p for p in sorted(generation.iterdir())
                  if p.is_file() and p.name not in skip and not p.name.endswith((".lock", "WRITELOCK", ".toc")))
    victim.unlink()


def delete_generation(generation: Path) -> None:
    shutil.rmtree(generation)


@pytest.fixture(params=["tantivy", "whoosh"])
def indexed_client(request, ids, monkeypatch):
    monkeypatch.setenv("SEARCH_BACKEND", request.param)
    settings = settings_mod.load()
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    from webapp import create_app

    client = create_app({"TESTING": True, "AUTO_UPGRADE": False}).test_client()
    return client, store.current_generation(settings.index_dir, request.param)


@pytest.mark.parametrize("damage", [corrupt_meta, delete_a_segment_file, delete_generation])
def test_damaged_index_degrades_pages_and_api_and_fails_health(indexed_client, damage: Callable):
    client, generation = indexed_client
    html = client.get("/instytucje?q=Choroszczy").get_data(as_text=True)
    assert CIS in html and NOTICE not in html                     # the index answers
    assert client.get("/zdrowie").status_code == 200

    damage(generation)

    for url in PAGES:
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and NOTICE in html, url
    assert CIS in client.get("/instytucje?q=Choroszczy").get_data(as_text=True)
    api = client.get("/api/institutions?q=Choroszczy")
    assert api.status_code == 200 and NOTICE in api.get_json()["note"]
    assert CIS in [i["name"] for i in api.get_json()["items"]]
    health = client.get("/zdrowie")
    assert health.status_code == 503
    assert health.get_json()["index"] is False and health.get_json()["index_error"]
    assert health.get_json()["database"] is True


def test_pages_without_a_search_say_nothing_about_the_index(app_without_index):
    client = app_without_index.test_client()
    # No index built: pages that do not search (detail, sources) carry no notice.
    assert NOTICE not in client.get("/zrodla").get_data(as_text=True)
    assert NOTICE in client.get("/instytucje").get_data(as_text=True)
