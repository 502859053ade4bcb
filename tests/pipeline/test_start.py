"""The README's run command path: `wsparcie start` serves the site with data and says it is a demo."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_serves_demo_snapshot_offline(demo_data_dir):
    port = _free_port()
    env = {**os.environ, "WSPARCIE_DATA_DIR": str(demo_data_dir), "WSPARCIE_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "start", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/instytucje?q=zabludow", timeout=5)
                body = response.text
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert body is not None, proc.stdout.read().decode(errors="replace") if proc.poll() is not None else "timeout"
        assert response.status_code == 200
        assert "Dane demonstracyjne" in body
        assert "Miejski Ośrodek Pomocy Społecznej w Zabłudowie" in body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
