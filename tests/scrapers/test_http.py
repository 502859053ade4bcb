"""The shared HTTP client against a real local server (pytest-httpserver on 127.0.0.1) and a real SQLite DB."""
from __future__ import annotations

import hashlib
import json
import socket
import time

import pytest
from sqlmodel import select
from werkzeug.wrappers import Response as WResponse

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import RawCapture
from scrapers.http import FetchError, HostRateLimiter, HttpClient, _retry_after, decode_body, request_key
from scrapers.replay import ReplayWriter, replay_key


def client(settings, **kwargs) -> HttpClient:
    kwargs.setdefault("limiter", HostRateLimiter())
    return HttpClient(settings, "rjps", backoff=0.01, **kwargs)


def captures(settings) -> list[RawCapture]:
    with session_scope(settings.database_url) as session:
        return list(session.exec(select(RawCapture).order_by(RawCapture.id)).all())


# -- politeness -----------------------------------------------------------------------------------


def test_limiter_books_one_slot_per_delay_per_host():
    now = [100.0]
    limiter = HostRateLimiter(clock=lambda: now[0], sleep=lambda s: None)
    assert [limiter.reserve("a", 1.0) for _ in range(3)] == [0.0, 1.0, 2.0]
    assert limiter.reserve("b", 1.0) == 0.0          # another host is not held up
    assert limiter.reserve("a", 0) == 0.0            # 0 = politeness off
    now[0] = 110.0
    assert limiter.reserve("a", 1.0) == 0.0          # the host has been idle long enough


def test_limiter_sleeps_the_booked_wait():
    slept: list[float] = []
    limiter = HostRateLimiter(clock=lambda: 5.0, sleep=slept.append)
    for _ in range(3):
        limiter.wait("h", 0.5)
    assert slept == [0.5, 1.0]


def test_requests_are_spaced_and_identified(httpserver, rjps_settings, monkeypatch):
    monkeypatch.setenv("RJPS_RATE_LIMIT", "0.2")
    settings = settings_mod.load()
    httpserver.expect_request("/a").respond_with_data("ok")
    started = time.monotonic()
    with client(settings) as c:
        for _ in range(3):
            c.get(httpserver.url_for("/a"))
    assert time.monotonic() - started >= 0.35        # generous lower bound only: 2 gaps of 0.2 s
    assert len(httpserver.log) == 3
    assert all(req.headers["User-Agent"] == settings.user_agent for req, _ in httpserver.log)


# -- retries and errors ---------------------------------------------------------------------------


def test_retries_500_then_succeeds(httpserver, rjps_settings):
    httpserver.expect_oneshot_request("/flaky").respond_with_data("down", status=500)
    httpserver.expect_request("/flaky").respond_with_data("up")
    with client(rjps_settings) as c:
        response = c.get(httpserver.url_for("/flaky"))
    assert (response.status_code, response.text) == (200, "up")
    assert len(httpserver.log) == 2


def test_persistent_500_raises_after_the_configured_attempts(httpserver, rjps_settings):
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    with client(rjps_settings) as c, pytest.raises(FetchError) as info:
        c.get(httpserver.url_for("/down"))
    assert info.value.status_code == 503 and "HTTP 503" in info.value.reason
    assert info.value.url.endswith("/down")
    assert len(httpserver.log) == rjps_settings.http_retries == 3
    assert captures(rjps_settings) == []


def test_404_fails_at_once(httpserver, rjps_settings):
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    with client(rjps_settings) as c, pytest.raises(FetchError) as info:
        c.get(httpserver.url_for("/gone"))
    assert info.value.status_code == 404
    assert len(httpserver.log) == 1


def test_429_honours_retry_after(httpserver, rjps_settings):
    httpserver.expect_oneshot_request("/busy").respond_with_data("slow down", status=429,
                                                                 headers={"Retry-After": "0"})
    httpserver.expect_request("/busy").respond_with_data("fine")
    with client(rjps_settings) as c:
        assert c.get(httpserver.url_for("/busy")).text == "fine"
    assert len(httpserver.log) == 2


def test_connection_refused_is_retried_then_fetch_error(rjps_settings):
    with socket.socket() as s:      # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with client(rjps_settings) as c, pytest.raises(FetchError) as info:
        c.get(f"http://127.0.0.1:{port}/x")
    assert c.requests_sent == 3 and "ConnectError" in info.value.reason


# -- captures -------------------------------------------------------------------------------------


def test_200_body_is_stored_with_a_capture_row(httpserver, rjps_settings):
    body = "Ośrodek pomocy".encode()
    httpserver.expect_request("/page", query_string={"a": "1", "b": "2"}).respond_with_data(
        body, content_type="text/html;charset=UTF-8", headers={"ETag": '"v1"'})
    with client(rjps_settings, run_id=42) as c:
        response = c.get(httpserver.url_for("/page") + "?b=2", params={"a": 1})
    sha = hashlib.sha256(body).hexdigest()
    assert (rjps_settings.captures_dir / sha[:2] / sha).read_bytes() == body
    [row] = captures(rjps_settings)
    assert response.capture_id == row.id and not response.from_cache
    assert row.content_hash == sha and row.size == len(body) and row.status_code == 200
    assert row.run_id == 42 and row.etag == '"v1"' and row.content_type.startswith("text/html")
    assert row.source == "rjps" and row.method == "GET"
    # The key does not depend on how the query was spelled.
    assert row.request_key == request_key("GET", httpserver.url_for("/page") + "?a=1&b=2")
    assert response.text == "Ośrodek pomocy"


def test_post_json_sends_the_json_body(httpserver, rjps_settings):
    httpserver.expect_request("/api", method="POST", json={"filtry": {}},
                              headers={"Content-Type": "application/json; charset=UTF-8"}
                              ).respond_with_json([{"id": 1}])
    with client(rjps_settings) as c:
        assert c.post_json(httpserver.url_for("/api"), {"filtry": {}}).json() == [{"id": 1}]
    [row] = captures(rjps_settings)
    assert row.method == "POST" and row.request_key == request_key("POST", row.url, b'{"filtry":{}}')


def test_conditional_request_304_returns_the_stored_bytes(httpserver, rjps_settings):
    def handler(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return WResponse(status=304)
        return WResponse(b"first body", headers={"ETag": '"v1"', "Content-Type": "text/plain"})

    httpserver.expect_request("/cond").respond_with_handler(handler)
    with client(rjps_settings, run_id=1) as c:
        first = c.get(httpserver.url_for("/cond"))
    with client(rjps_settings, run_id=2) as c:
        second = c.get(httpserver.url_for("/cond"))
    assert "If-None-Match" not in httpserver.log[0][0].headers
    assert httpserver.log[1][0].headers["If-None-Match"] == '"v1"'
    assert httpserver.log[1][1].status_code == 304
    assert second.from_cache and second.content == b"first body" and second.capture_id == first.capture_id
    assert len(captures(rjps_settings)) == 1


def test_last_modified_is_sent_back(httpserver, rjps_settings):
    stamp = "Wed, 21 Oct 2025 07:28:00 GMT"
    httpserver.expect_request("/lm").respond_with_data("x", headers={"Last-Modified": stamp})
    with client(rjps_settings) as c:
        c.get(httpserver.url_for("/lm"))
        c.get(httpserver.url_for("/lm"))
    assert httpserver.log[1][0].headers["If-Modified-Since"] == stamp


# -- resume ---------------------------------------------------------------------------------------


def test_resume_answers_stored_requests_without_network(httpserver, rjps_settings):
    for path in ("/u1", "/u2", "/u3"):
        httpserver.expect_request(path).respond_with_data(path.encode())
    with client(rjps_settings, run_id=7) as c:
        c.get(httpserver.url_for("/u1"))
        c.post_json(httpserver.url_for("/u2"), {"filtry": {}})
    assert len(httpserver.log) == 2
    with client(rjps_settings, run_id=7, resume_run_id=7) as c:
        again1 = c.get(httpserver.url_for("/u1"))
        again2 = c.post_json(httpserver.url_for("/u2"), {"filtry": {}})
        fresh = c.get(httpserver.url_for("/u3"))
        assert c.requests_sent == 1                  # only the request the interrupted run never made
    assert len(httpserver.log) == 3 and httpserver.log[-1][0].path == "/u3"
    assert again1.from_cache and again1.content == b"/u1" and again2.content == b"/u2"
    assert not fresh.from_cache
    # A run that resumes from another run records the reused bytes under its own id too.
    with client(rjps_settings, run_id=8, resume_run_id=7) as c:
        reused = c.get(httpserver.url_for("/u1"))
        assert c.requests_sent == 0
    assert [r.run_id for r in captures(rjps_settings) if r.id == reused.capture_id] == [8]


def test_resume_does_not_reuse_other_runs(httpserver, rjps_settings):
    httpserver.expect_request("/u").respond_with_data("x")
    with client(rjps_settings, run_id=1) as c:
        c.get(httpserver.url_for("/u"))
    with client(rjps_settings, run_id=2, resume_run_id=2) as c:
        assert not c.get(httpserver.url_for("/u")).from_cache
    assert len(httpserver.log) == 2


# -- replay ---------------------------------------------------------------------------------------


def test_replay_dir_answers_without_network(tmp_path, rjps_settings):
    writer = ReplayWriter(tmp_path / "replay")
    writer.add("GET", "https://example.invalid/p?b=2&a=1", "zażółć".encode(), "text/html;charset=UTF-8")
    writer.add("POST", "https://example.invalid/api", b"[1]", "application/json",
               body=json.dumps({"q": 1}, separators=(",", ":")).encode())
    writer.save()
    manifest = json.loads((tmp_path / "replay" / "manifest.json").read_text())
    assert "GET /p?a=1&b=2" in manifest["entries"]
    with client(rjps_settings, replay_dir=tmp_path / "replay", run_id=3) as c:
        page = c.get("http://another-host.invalid/p", params={"a": "1", "b": "2"})   # host does not matter
        api = c.post_json("https://example.invalid/api", {"q": 1})
        with pytest.raises(FetchError, match="not in replay dir"):
            c.post_json("https://example.invalid/api", {"q": 2})
        with pytest.raises(FetchError, match="not in replay dir"):
            c.get("https://example.invalid/other")
        assert c.requests_sent == 0
    assert page.text == "zażółć" and api.json() == [1]
    assert [r.run_id for r in captures(rjps_settings)] == [3, 3]
    assert page.capture_id is not None


def test_record_dir_writes_a_replayable_directory(httpserver, tmp_path, rjps_settings):
    httpserver.expect_request("/r", query_string="x=1").respond_with_data("live", content_type="text/plain")
    with client(rjps_settings, record_dir=tmp_path / "rec") as c:
        c.get(httpserver.url_for("/r"), params={"x": 1})
    with client(rjps_settings, replay_dir=tmp_path / "rec") as c:
        assert c.get(httpserver.url_for("/r"), params={"x": 1}).text == "live"
    assert len(httpserver.log) == 1
    assert replay_key("GET", "http://h/r?x=1") == "GET /r?x=1"


def test_decode_body_uses_the_declared_charset_then_detection():
    text = "Gminny Ośrodek Pomocy Społecznej w Bytoniu"
    assert decode_body(text.encode("cp1250"), "text/html; charset=windows-1250") == text
    assert decode_body(text.encode("utf-8"), None) == text
    assert decode_body(text.encode("utf-8"), "text/html; charset=bogus-charset") == text


def test_retry_after_accepts_seconds_and_http_dates():
    assert _retry_after("7") == 7.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0     # in the past: no wait
    assert _retry_after("soon") is None and _retry_after(None) is None
