"""Shared fixtures for the source adapters: settings on a tmp data dir with a migrated SQLite file,
fixture files served by pytest-httpserver on the paths the adapters request."""
from __future__ import annotations

from pathlib import Path

import pytest

from catalog import settings as settings_mod
from catalog.db import upgrade

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"


@pytest.fixture
def env(tmp_path, monkeypatch, httpserver):
    """Environment pointing every source of this area at the local server; returns a settings loader."""
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    base = httpserver.url_for("").rstrip("/")
    for key in ("OWES", "PUP", "RJPS"):
        monkeypatch.setenv(f"{key}_BASE_URL", base)
        monkeypatch.setenv(f"{key}_RATE_LIMIT", "0")
    for woj in ("02", "04", "06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28", "30", "32"):
        monkeypatch.setenv(f"CIS_KIS_{woj}_BASE_URL", base)
        monkeypatch.setenv(f"CIS_KIS_{woj}_RATE_LIMIT", "0")
    monkeypatch.setenv("HTTP_RETRIES", "1")
    monkeypatch.setenv("HTTP_TIMEOUT", "5")
    loaded = settings_mod.load()
    upgrade(loaded.database_url)
    return loaded


def _fixture_bytes(*parts: str) -> bytes:
    return (FIXTURES.joinpath(*parts)).read_bytes()


@pytest.fixture
def fixture_bytes():
    """fixture_bytes("owes", "export_11.csv") -> the bytes of a fixture file."""
    return _fixture_bytes


@pytest.fixture
def serve(httpserver):
    """serve(path, body, content_type=..., status=...): answer `path` on the local server (first wins)."""
    def _serve(path: str, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
               query_string: str | None = None):
        httpserver.expect_request(path, query_string=query_string).respond_with_data(
            body, status=status, content_type=content_type)

    return _serve


@pytest.fixture
def make_client():
    """make_client(settings, source_key, record=True) -> a real HttpClient (fast back-off for error tests;
    record=False skips RawCapture rows where a test does not look at them)."""
    from scrapers.http import HttpClient

    return lambda settings, key, record=True: HttpClient(settings, key, backoff=0.01, record=record)
