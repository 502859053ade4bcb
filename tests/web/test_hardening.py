"""The smaller web hardening items (security issue, item 10), each at its root: the report rate limit
keyed by the real client behind a declared proxy, no redirect built from a forged Host, private data
files, Secure cookies and HSTS on HTTPS sites, literal LIKE text, ISO 8601 times on /zdrowie, Polish
(or API JSON) error pages."""
from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import select

from catalog import db
from catalog.models import ErrorReport

REPORT = {"message": "Telefon jest nieaktualny od miesiąca.", "contact": "ala@example.org"}


def _app(**config):
    from webapp import create_app

    return create_app({"TESTING": True, "AUTO_UPGRADE": False, "WTF_CSRF_ENABLED": False, **config})


def _report(client, inst_id: int, forwarded_for: str) -> int:
    return client.post(f"/instytucja/{inst_id}/zglos", data=REPORT,
                       headers={"X-Forwarded-For": forwarded_for}).status_code


def test_report_limit_counts_each_client_behind_a_trusted_proxy(ids, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    client = _app(REPORT_RATE_LIMIT="1 per minute").test_client()
    assert _report(client, ids["ops"], "203.0.113.7") == 303
    assert _report(client, ids["ops"], "203.0.113.7") == 429          # the same person again
    assert _report(client, ids["ops"], "198.51.100.20") == 303        # someone else behind the proxy


def test_forwarded_for_is_ignored_without_a_declared_proxy(ids, monkeypatch):
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    client = _app(REPORT_RATE_LIMIT="1 per minute").test_client()
    assert _report(client, ids["ops"], "203.0.113.7") == 303
    assert _report(client, ids["ops"], "198.51.100.20") == 429        # a forged header buys no new bucket


@pytest.mark.parametrize("path", ["//zrodla", "/powiat//2002", "/api//wojewodztwa"])
def test_no_redirect_is_built_from_the_host_header(client, path):
    # PATH_INFO as a server passes "GET //zrodla HTTP/1.1" (the test client would read "//x" as a host)
    resp = client.get("/", headers={"Host": "evil.example"}, environ_overrides={"PATH_INFO": path})
    assert "evil.example" not in (resp.headers.get("Location") or "")
    assert not 300 <= resp.status_code < 400


def test_trusted_hosts_refuse_other_host_headers(ids, monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", "mapa.example,localhost")
    client = _app().test_client()
    assert client.get("/", headers={"Host": "mapa.example"}).status_code == 200
    resp = client.get("/", headers={"Host": "evil.example"})
    assert resp.status_code == 400 and "Nieprawidłowe żądanie" in resp.get_data(as_text=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_fresh_data_dir_and_catalog_are_private(data_dir, monkeypatch):
    from webapp import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    os.umask(0o022)   # the usual default: files would be world-readable without our care
    create_app({"TESTING": True})
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "wsparcie.db") == 0o600
    assert _mode(data_dir / "secret_key") == 0o600
    for side in ("wsparcie.db-wal", "wsparcie.db-shm"):
        if (data_dir / side).exists():
            assert _mode(data_dir / side) == 0o600, side


def test_existing_world_readable_files_are_tightened_on_start(data_dir, schema_template):
    from webapp import create_app

    data_dir.mkdir(mode=0o755, parents=True)
    data_dir.chmod(0o755)
    catalog = data_dir / "wsparcie.db"
    catalog.write_bytes(schema_template.read_bytes())
    catalog.chmod(0o644)
    db.get_engine.cache_clear()
    create_app({"TESTING": True, "AUTO_UPGRADE": False})
    assert _mode(data_dir) == 0o700 and _mode(catalog) == 0o600


def test_https_sites_send_secure_cookies_and_hsts(ids, monkeypatch):
    monkeypatch.setenv("WSPARCIE_HTTPS", "1")
    monkeypatch.setenv("HSTS_SECONDS", "31536000")
    resp = _app(WTF_CSRF_ENABLED=True).test_client().get(f"/instytucja/{ids['ops']}")   # the form starts a session
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_plain_http_sites_send_neither(client, ids):
    resp = client.get(f"/instytucja/{ids['ops']}")
    assert "Secure" not in resp.headers.get("Set-Cookie", "")
    assert "Strict-Transport-Security" not in resp.headers


@pytest.mark.parametrize("q", ["Chor%szczy", "Chor_szczy", "Choroszcz\\y", "%Choroszczy%x"])
def test_like_wildcards_are_plain_letters_in_the_fallback_search(app_without_index, q):
    # No index is built here: both searches run on the catalog (the LIKE path), where a typed % or _
    # inside a word must not act as a wildcard.
    client = app_without_index.test_client()
    html = client.get("/instytucje", query_string={"q": q}).get_data(as_text=True)
    assert "Centrum Integracji Społecznej w Choroszczy" not in html
    assert client.get("/api/institutions", query_string={"q": q}).get_json()["total"] == 0


@pytest.mark.parametrize("q", ["%", "_", "%%", "\\"])
def test_punctuation_alone_is_no_text_in_both_backends(client, app_without_index, q):
    # The index's analyser finds no word in "%": it lists everything, and the fallback must agree.
    for c in (client, app_without_index.test_client()):
        assert c.get("/api/institutions", query_string={"q": q}).get_json()["total"] == 8


def test_like_filter_still_finds_words(app_without_index):
    html = app_without_index.test_client().get("/instytucje", query_string={"q": "Choroszczy"}).get_data(as_text=True)
    assert "Centrum Integracji Społecznej w Choroszczy" in html
    assert "Warsztat Terapii Zajęciowej w Choroszczy" in html
    assert "Zabłudowie" not in html


def test_health_times_are_iso_8601_utc(client):
    source = client.get("/zdrowie").get_json()["sources"][0]
    for value in (source["last_success_at"], source["last_run"]["started_at"]):
        assert value.endswith("Z") and "+00:00" not in value, value
        assert datetime.fromisoformat(value).utcoffset().total_seconds() == 0


def test_method_not_allowed_is_a_polish_page_and_api_json(client):
    resp = client.post("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 405 and "Niedozwolona metoda" in html and "Method Not Allowed" not in html
    assert "GET" in resp.headers["Allow"]
    api = client.post("/api/institutions")
    assert api.status_code == 405 and api.get_json()["error"]["code"] == "method_not_allowed"


def test_too_large_post_is_a_polish_page(client, ids, settings):
    resp = client.post(f"/instytucja/{ids['ops']}/zglos", data={"message": "x" * 100_000})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413 and "Za dużo danych" in html and "Request Entity Too Large" not in html
    with db.session_scope(settings.database_url) as session:
        assert session.exec(select(ErrorReport)).first() is None


def test_health_flags_a_degraded_run_as_needing_attention(client, settings):
    """A degraded run kept old values instead of applying mass removals: monitoring must see it."""
    from sqlmodel import select

    from catalog.db import session_scope
    from catalog.models import ScrapeRun

    def last_run_failed() -> bool:
        return client.get("/zdrowie").get_json()["sources"][0]["last_run"]["failed"]

    assert last_run_failed() is False     # the fixture's run is "partial"
    with session_scope(settings.database_url) as session:
        for run in session.exec(select(ScrapeRun)).all():
            run.status = "degraded"
    assert last_run_failed() is True
