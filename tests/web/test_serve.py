"""`wsparcie serve` really serves the site (waitress on loopback), and a fresh data dir gets its schema."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from catalog.settings import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:   # loopback only
        return resp.status, resp.read().decode("utf-8")


def test_serve_command_serves_pages_on_loopback(tmp_path):
    port = _free_port()
    env = {**os.environ, "WSPARCIE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from orchestration.cli import main; main()", "serve", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        for _ in range(300):   # wait for the port (imports and the schema upgrade come first)
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode())
            try:
                status, html = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start")
        assert status == 200 and "Znajdź pomoc blisko siebie" in html
        try:
            status, body = _get(f"http://127.0.0.1:{port}/zdrowie")
        except urllib.error.HTTPError as error:   # no index built yet: healthy catalog, failing index
            status, body = error.code, error.read().decode("utf-8")
        assert status == 503 and '"database":true' in body.replace(" ", "")
        assert '"index":false' in body.replace(" ", "")
        assert (tmp_path / "wsparcie.db").exists()     # created by the upgrade on start
    finally:
        proc.terminate()
        proc.wait(timeout=10)
