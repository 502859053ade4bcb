"""Shared fixtures: per-test settings on a temp data dir, and a real throwaway PostgreSQL server."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from catalog import settings as settings_mod


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data dir with SQLite; politeness delays off so tests run fast."""
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INDEX_DIR", raising=False)
    for key in ("RJPS", "OWES", "PUP"):
        monkeypatch.setenv(f"{key}_RATE_LIMIT", "0")
    monkeypatch.setenv("HTTP_RETRIES", "2")
    monkeypatch.setenv("HTTP_TIMEOUT", "5")
    monkeypatch.setenv("WSPARCIE_OFFLINE", "1")
    return tmp_path / "var"


@pytest.fixture
def settings(data_dir):
    return settings_mod.load()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """Start a real PostgreSQL server on loopback for the session; yields a base URL (no database part).

    initdb refuses to run as root, so as root the server runs as the `postgres` system user."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (CI must install it: apt-get install postgresql)")
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="wsparcie-pg-"))
    data = root / "data"
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--locale=C.UTF-8")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "30",
        "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, monkeypatch, data_dir) -> str:
    """A fresh database on the session's server, set as DATABASE_URL for the test."""
    import psycopg

    name = f"t{int(time.time() * 1000) % 10**9}_{os.getpid()}"
    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{postgres_server}/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory) -> Path:
    """A data dir with the demo snapshot loaded once per session (loading takes a while)."""
    from orchestration import demo

    path = tmp_path_factory.mktemp("demo") / "var"
    env = {"WSPARCIE_DATA_DIR": str(path)}
    saved = {k: os.environ.get(k) for k in (*env, "DATABASE_URL", "INDEX_DIR")}
    os.environ.update(env)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("INDEX_DIR", None)
    try:
        loaded = demo.load_demo(settings_mod.load())
        assert loaded.ok, loaded.describe()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return path


@pytest.fixture
def demo_data_dir(demo_snapshot, data_dir) -> Path:
    """A private copy of the demo snapshot as this test's data dir."""
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(demo_snapshot, data_dir, symlinks=True)
    return data_dir


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (each test opens its own context)."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
