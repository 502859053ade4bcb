"""Shared pieces of the real-browser tests: Debian's Chromium driven by Playwright (no browser download),
and the site served on a free loopback port."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
def served(app, threads: int = 4) -> Iterator[str]:
    """Serve a Flask app on a free loopback port for the duration of the block; yields its base URL.

    werkzeug's threaded server, because its shutdown() is a handshake with serve_forever(): stopping
    waitress from another thread raced its event loop (EBADF in a server thread), which fails the run
    since warnings are errors. The production servers have their own tests (tests/web/test_serving.py)."""
    from werkzeug.serving import make_server

    del threads   # werkzeug starts one thread per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    loop.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        loop.join(timeout=5)
