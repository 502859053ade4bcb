"""Shared pieces of the real-browser tests: Debian's Chromium driven by Playwright (no browser download),
and the site served on a free loopback port."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    """Skip the calling test module without Chromium, except in CI, which installs it: there it is a failure."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError("Debian chromium is not installed (apt-get install chromium)")
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)


@contextmanager
def served(app) -> Iterator[str]:
    """Serve a Flask app on a free loopback port for the duration of the block; yields its base URL.

    werkzeug's threaded server, because its shutdown() is a handshake with serve_forever(): stopping
    waitress from another thread raced its event loop (EBADF in a server thread), which fails the run
    since warnings are errors. The production servers have their own tests (tests/web/test_serving.py)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    loop.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        loop.join(timeout=5)


# A 1×1 transparent PNG: every map tile the stand-in server answers.
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")


class _Tiles(BaseHTTPRequestHandler):
    """Stands in for the OpenStreetMap tile server: every tile is the same blank PNG (tests stay offline)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(BLANK_PNG)))
        self.end_headers()
        try:
            self.wfile.write(BLANK_PNG)
        except ConnectionError:   # the map moved on and dropped the tile request
            pass

    def log_message(self, *_args) -> None:
        pass


@contextmanager
def tile_server() -> Iterator[str]:
    """A loopback tile server for the block; yields its TILE_URL template."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def error_checked_page(browser, width: int = 1366, height: int = 900):
    """A Chromium page that records console errors and uncaught exceptions (`page.errors`); leaving the
    block with any recorded fails the test."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="pl-PL")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console: {m.text} at {m.location.get('url')}")
          if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.errors = errors
    try:
        yield pg
    finally:
        context.close()
    assert errors == [], errors
