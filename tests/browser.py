"""Shared pieces of the real-browser tests: Debian's Chromium driven by Playwright (no browser download),
and the site served by waitress on a free loopback port."""
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
    """Serve a Flask app on a free loopback port for the duration of the block; yields its base URL."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Worker threads first: one still finishing a request pulls the loop's trigger, which close() has
        # already shut, and the stray thread exception fails the run (warnings are errors).
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        server.close()
        loop.join(timeout=5)
