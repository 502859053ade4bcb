"""Limits of the shared HTTP client, reproduced over loopback: compression bombs, oversized bodies, a
1 byte/s drip, a hanging host, huge Retry-After, the source run deadline, invalid UTF-8.

Every server here is bounded (it stops dripping or hanging after a fixed number of steps), so a client
without the limit makes the test fail, never hang."""
from __future__ import annotations

import logging
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from sqlmodel import select
from werkzeug.wrappers import Response as WResponse

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import RawCapture
from scrapers.http import (
    DeadlineExceeded,
    FetchError,
    HostRateLimiter,
    HttpClient,
    ResponseTooLarge,
    RunDeadlineExceeded,
    UndecodableBody,
    decode_text,
)

MiB = 1024 * 1024


def client(settings, **kwargs) -> HttpClient:
    return HttpClient(settings, "rjps", backoff=0.01, limiter=HostRateLimiter(), **kwargs)


def captures(settings) -> list[RawCapture]:
    with session_scope(settings.database_url) as session:
        return list(session.exec(select(RawCapture)).all())


def stored_files(settings) -> list:
    return [p for p in settings.captures_dir.rglob("*") if p.is_file()] if settings.captures_dir.exists() else []


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 GiB of zeros gzipped to about 1 MB: the body of finding 5."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MiB)
    return b"".join([*(packer.compress(block) for _ in range(1024)), packer.flush()])


def _limited(monkeypatch, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings_mod.load()


# -- size ------------------------------------------------------------------------------------------


def test_gzip_bomb_is_cut_off_early_and_nothing_is_stored(httpserver, rjps_settings, monkeypatch, gzip_bomb):
    settings = _limited(monkeypatch, HTTP_MAX_DECODED_BYTES=str(8 * MiB))
    httpserver.expect_request("/bomb").respond_with_data(
        gzip_bomb, headers={"Content-Encoding": "gzip"}, content_type="text/html")
    tracemalloc.start()
    try:
        with client(settings, run_id=1) as c, pytest.raises(ResponseTooLarge) as info:
            c.get(httpserver.url_for("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "HTTP_MAX_DECODED_BYTES" in info.value.reason and info.value.url.endswith("/bomb")
    assert peak < 4 * 8 * MiB            # the 1 GiB was never held: decoding stopped at the limit
    assert captures(settings) == [] and stored_files(settings) == []
    assert len(httpserver.log) == 1      # a size violation is not retried


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_bomb_is_cut_off(httpserver, rjps_settings, monkeypatch, wbits):
    settings = _limited(monkeypatch, HTTP_MAX_DECODED_BYTES=str(MiB))
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    bomb = b"".join([*(packer.compress(bytes(MiB)) for _ in range(64)), packer.flush()])
    httpserver.expect_request("/d").respond_with_data(bomb, headers={"Content-Encoding": "deflate"})
    with client(settings) as c, pytest.raises(ResponseTooLarge, match="HTTP_MAX_DECODED_BYTES"):
        c.get(httpserver.url_for("/d"))
    assert captures(settings) == []


def test_encodings_we_cannot_bound_are_refused_not_stored(httpserver, rjps_settings):
    httpserver.expect_request("/br").respond_with_data(b"\x1b\x00\x00", headers={"Content-Encoding": "br"})
    with client(rjps_settings) as c, pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        c.get(httpserver.url_for("/br"))
    assert httpserver.log[0][0].headers["Accept-Encoding"] == "gzip, deflate"
    assert captures(rjps_settings) == []


def test_small_gzip_body_is_decoded_and_stored_decoded(httpserver, rjps_settings):
    text = "Ośrodek Pomocy Społecznej".encode()
    httpserver.expect_request("/z").respond_with_data(
        zlib.compress(text, wbits=16 + zlib.MAX_WBITS), headers={"Content-Encoding": "gzip"},
        content_type="text/plain; charset=utf-8")
    with client(rjps_settings, run_id=1) as c:
        response = c.get(httpserver.url_for("/z"))
    assert response.content == text and response.text == "Ośrodek Pomocy Społecznej"
    [row] = captures(rjps_settings)
    assert row.size == len(text)


def test_declared_oversize_body_is_refused_before_reading(httpserver, rjps_settings, monkeypatch):
    settings = _limited(monkeypatch, HTTP_MAX_RESPONSE_BYTES=str(MiB))
    httpserver.expect_request("/big").respond_with_data(bytes(2 * MiB))
    with client(settings) as c, pytest.raises(ResponseTooLarge) as info:
        c.get(httpserver.url_for("/big"))
    assert "HTTP_MAX_RESPONSE_BYTES" in info.value.reason and str(2 * MiB) in info.value.reason
    assert stored_files(settings) == []


def test_chunked_oversize_body_is_cut_off_while_streaming(httpserver, rjps_settings, monkeypatch):
    settings = _limited(monkeypatch, HTTP_MAX_RESPONSE_BYTES=str(MiB))
    sent = {"chunks": 0}

    def endless(request):
        def chunks() -> Iterator[bytes]:
            for _ in range(200):                 # 12.5 MiB at most, bounded
                sent["chunks"] += 1
                yield bytes(64 * 1024)
        return WResponse(chunks(), content_type="application/octet-stream")   # no Content-Length

    httpserver.expect_request("/stream").respond_with_handler(endless)
    with client(settings) as c, pytest.raises(ResponseTooLarge, match="cut off"):
        c.get(httpserver.url_for("/stream"))
    assert stored_files(settings) == []


# -- time ------------------------------------------------------------------------------------------


class DripServer:
    """A raw TCP server answering every connection one byte at a time (at most `steps` bytes)."""

    def __init__(self, head: bytes, step: float = 0.05, steps: int = 400, drip_headers: bool = False) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.head, self.step, self.steps, self.drip_headers = head, step, steps, drip_headers
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/drip"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                body = b"x" * self.steps
                data = self.head + body if self.drip_headers else body
                if not self.drip_headers:
                    conn.sendall(self.head)
                for byte in data:
                    if self._stop.wait(self.step):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)


@pytest.fixture
def drip():
    servers: list[DripServer] = []

    def make(**kwargs) -> DripServer:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 400\r\n\r\n"
        servers.append(DripServer(head, **kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_one_byte_drip_body_ends_at_the_request_deadline(drip, rjps_settings, monkeypatch):
    # Each byte comes well within the read timeout, so only an overall deadline can end it (finding 7);
    # the whole body would take 20 s.
    settings = _limited(monkeypatch, HTTP_REQUEST_DEADLINE="1", HTTP_TIMEOUT="5")
    server = drip()
    with client(settings) as c, pytest.raises(DeadlineExceeded) as info:
        c.get(server.url)
    assert "HTTP_REQUEST_DEADLINE=1 s" in info.value.reason and info.value.url == server.url
    assert not isinstance(info.value, RunDeadlineExceeded)
    assert server.connections == 1       # the deadline covers retries too: no second attempt


def test_dripping_headers_also_end_at_the_request_deadline(drip, rjps_settings, monkeypatch):
    settings = _limited(monkeypatch, HTTP_REQUEST_DEADLINE="1", HTTP_TIMEOUT="5")
    server = drip(drip_headers=True)
    with client(settings) as c, pytest.raises(DeadlineExceeded, match="HTTP_REQUEST_DEADLINE"):
        c.get(server.url)


class SilentServer:
    """Accepts connections and never answers (a hanging unit), until closed."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


def test_hanging_host_is_given_up_after_the_failure_limit(silent, rjps_settings, monkeypatch):
    # 2 800 units on a hanging host used to cost ~129 s each; now only the first few are tried.
    settings = _limited(monkeypatch, HTTP_TIMEOUT="0.2", HTTP_RETRIES="2", HTTP_HOST_FAILURE_LIMIT="3")
    errors = []
    with client(settings) as c:
        for unit in range(50):
            with pytest.raises(FetchError) as info:
                c.get(f"http://127.0.0.1:{silent.port}/unit", params={"id": unit})
            errors.append(info.value.reason)
        sent = c.requests_sent
    assert sent == 3 * 2
    assert all("ReadTimeout" in reason for reason in errors[:3])
    assert all("HTTP_HOST_FAILURE_LIMIT=3" in reason for reason in errors[3:])


def test_success_resets_the_host_failure_count(httpserver, rjps_settings, monkeypatch):
    settings = _limited(monkeypatch, HTTP_RETRIES="1", HTTP_HOST_FAILURE_LIMIT="2")
    httpserver.expect_request("/bad").respond_with_data("down", status=503)
    httpserver.expect_request("/good").respond_with_data("up")
    with client(settings) as c:
        for _ in range(5):
            with pytest.raises(FetchError, match="HTTP 503"):
                c.get(httpserver.url_for("/bad"))
            assert c.get(httpserver.url_for("/good")).text == "up"


def test_huge_retry_after_is_capped(httpserver, rjps_settings, monkeypatch):
    settings = _limited(monkeypatch, HTTP_RETRY_AFTER_MAX="0.05", HTTP_RETRIES="3")
    httpserver.expect_request("/busy").respond_with_data("later", status=429, headers={"Retry-After": "3600"})
    with client(settings) as c, pytest.raises(FetchError) as info:
        c.get(httpserver.url_for("/busy"))
    assert len(httpserver.log) == 3      # three attempts, each pause 0.05 s instead of an hour
    assert "asked to wait 3600 s" in info.value.reason and "at most 0.05 s" in info.value.reason


def test_retry_after_beyond_the_run_deadline_gives_up_at_once(httpserver, rjps_settings, monkeypatch):
    settings = _limited(monkeypatch, RJPS_RUN_DEADLINE="5", HTTP_RETRY_AFTER_MAX="30", HTTP_RETRIES="4")
    httpserver.expect_request("/busy").respond_with_data("later", status=429, headers={"Retry-After": "600"})
    with client(settings) as c, pytest.raises(FetchError) as info:
        c.get(httpserver.url_for("/busy"))
    assert len(httpserver.log) == 1
    assert "no time for another attempt" in info.value.reason and "RJPS_RUN_DEADLINE" in info.value.reason


def test_run_deadline_cuts_the_request_in_flight_and_sends_no_more(drip, httpserver, rjps_settings, monkeypatch):
    settings = _limited(monkeypatch, RJPS_RUN_DEADLINE="1", HTTP_REQUEST_DEADLINE="60", HTTP_TIMEOUT="5")
    server = drip()
    httpserver.expect_request("/next").respond_with_data("never asked")
    with client(settings) as c:
        with pytest.raises(RunDeadlineExceeded, match="RJPS_RUN_DEADLINE"):
            c.get(server.url)
        with pytest.raises(RunDeadlineExceeded, match="not sent"):
            c.get(httpserver.url_for("/next"))
        assert c.deadline_reached and c.requests_sent == 1
    assert httpserver.log == []


def test_run_deadline_settings(monkeypatch, data_dir):
    monkeypatch.setenv("SOURCE_RUN_DEADLINE", "600")
    monkeypatch.setenv("CIS_KIS_20_RUN_DEADLINE", "60")
    monkeypatch.setenv("OWES_RUN_DEADLINE", "0")
    s = settings_mod.load()
    assert s.run_deadline("rjps") == 600 and s.run_deadline("cis-kis-20") == 60
    assert s.run_deadline("owes") is None and "source" not in s.run_deadlines


# -- text ------------------------------------------------------------------------------------------


def test_stray_cp1250_bytes_in_utf8_are_repaired_and_reported(caplog):
    body = "Gminny Ośrodek Pomocy Społecznej".encode().replace("ś".encode(), "ś".encode("cp1250"))
    with caplog.at_level(logging.WARNING, logger="scrapers.http"):
        decoded = decode_text(body, "text/html;charset=UTF-8", "https://example.invalid/u")
    assert decoded.text == "Gminny Ośrodek Pomocy Społecznej" and decoded.repaired_bytes == 1
    assert "https://example.invalid/u" in caplog.text and "windows-1250" in caplog.text


def test_whole_body_in_a_polish_codepage_is_detected_not_replaced():
    text = "Powiatowe Centrum Pomocy Rodzinie w Łańcucie, ul. Świętej Źródlanej"
    for encoding in ("cp1250", "iso8859_2"):
        decoded = decode_text(text.encode(encoding), "text/html; charset=UTF-8")
        assert (decoded.text, decoded.encoding) == (text, encoding)


def test_undecodable_body_is_reported_not_replaced(httpserver, rjps_settings):
    body = "Ośrodek".encode() + b"\x81\x98"      # bytes no Polish charset defines
    with pytest.raises(UndecodableBody, match="undecodable"):
        decode_text(body, "text/html;charset=UTF-8", "u")
    httpserver.expect_request("/bad").respond_with_data(body, content_type="text/html;charset=UTF-8")
    with client(rjps_settings) as c:
        response = c.get(httpserver.url_for("/bad"))
        with pytest.raises(UndecodableBody) as info:
            _ = response.text
    assert info.value.url.endswith("/bad") and "\ufffd" not in str(info.value)

