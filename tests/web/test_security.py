"""Headers, CSP, CSRF, honeypot, rate limit and privacy of error reports."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from catalog import db
from catalog.models import ErrorReport
from webapp import create_app

MESSAGE = "Telefon jest nieaktualny, numer nie odpowiada od miesiąca."


def _token(client, inst_id: int) -> str:
    html = client.get(f"/instytucja/{inst_id}").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _reports(settings) -> list[ErrorReport]:
    with db.session_scope(settings.database_url) as s:
        return list(s.exec(select(ErrorReport)))


def test_security_headers_and_strict_csp(client, ids):
    resp = client.get(f"/instytucja/{ids['ops']}")
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    html = client.get("/").get_data(as_text=True)
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag          # no inline script at all
    assert client.get("/").headers["Content-Security-Policy"] != csp    # a fresh nonce per response
    assert nonce not in client.get("/").headers["Content-Security-Policy"]


def test_no_external_scripts_or_stylesheets(client, ids):
    for url in ("/", "/?q=pomoc", "/instytucje", f"/instytucja/{ids['ops']}", "/powiat/2002", "/zrodla", "/mapa"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script[^>]+src=\"(https?:)?//", html), url
        assert not re.search(r"<link[^>]+href=\"(https?:)?//", html), url


def test_report_is_stored_and_thanks_page(client, ids, settings):
    token = _token(client, ids["ops"])
    resp = client.post(f"/instytucja/{ids['ops']}/zglos",
                       data={"csrf_token": token, "message": MESSAGE, "contact": "jan@example.org"})
    assert resp.status_code == 303
    thanks = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Dziękujemy za zgłoszenie" in thanks
    [report] = _reports(settings)
    assert report.institution_id == ids["ops"] and report.message == MESSAGE
    assert report.contact == "jan@example.org" and report.status == "new" and len(report.client_hash) == 32
    # Reports are never shown publicly.
    page = client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    assert MESSAGE not in page and "jan@example.org" not in page


def test_report_without_csrf_token_is_refused(client, ids, settings):
    resp = client.post(f"/instytucja/{ids['ops']}/zglos", data={"message": MESSAGE})
    assert resp.status_code == 400 and "Formularz wygasł" in resp.get_data(as_text=True)
    assert _reports(settings) == []


def test_report_validation_errors_in_polish(client, ids, settings):
    token = _token(client, ids["ops"])
    resp = client.post(f"/instytucja/{ids['ops']}/zglos", data={"csrf_token": token, "message": "zle"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Opis powinien mieć od 10 do 2000 znaków." in html
    assert 'aria-invalid="true"' in html
    assert _reports(settings) == []


def test_honeypot_pretends_success_but_stores_nothing(client, ids, settings):
    token = _token(client, ids["ops"])
    resp = client.post(f"/instytucja/{ids['ops']}/zglos",
                       data={"csrf_token": token, "message": MESSAGE, "strona_www": "http://spam.example"})
    assert resp.status_code == 303
    assert _reports(settings) == []


def test_report_rate_limit(settings, ids):
    app = create_app({"TESTING": True, "REPORT_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    token = _token(client, ids["ops"])
    codes = [client.post(f"/instytucja/{ids['ops']}/zglos", data={"csrf_token": token, "message": MESSAGE}).status_code
             for _ in range(3)]
    assert codes == [303, 303, 429]
    assert len(_reports(settings)) == 2
    again = client.post(f"/instytucja/{ids['ops']}/zglos", data={"csrf_token": token, "message": MESSAGE})
    assert "Za dużo zgłoszeń" in again.get_data(as_text=True)


def test_secret_key_persisted_in_data_dir(settings, ids):
    first = create_app({"TESTING": True}).config["SECRET_KEY"]
    assert (settings.data_dir / "secret_key").read_text().strip() == first
    assert create_app({"TESTING": True}).config["SECRET_KEY"] == first


def test_secret_key_from_environment(settings, ids, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "z-env-123")
    from catalog.settings import load

    app = create_app({"SETTINGS": load()})
    assert app.config["SECRET_KEY"] == "z-env-123"


@pytest.mark.parametrize("url", ["/instytucja/1/zglos"])
def test_get_on_report_endpoint_not_allowed(client, url):
    assert client.get(url).status_code == 405
