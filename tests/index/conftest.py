"""Fixtures: a real SQLite catalog (Alembic schema) with the judged test institutions, and a built
index per backend. Built once per module and backend; tests that write get their own copy."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from catalog import db
from catalog import settings as settings_mod

BACKENDS = ("tantivy", "whoosh")
_spec = importlib.util.spec_from_file_location("relevance_lib", Path(__file__).with_name("relevance_lib.py"))
relevance_lib = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("relevance_lib", relevance_lib)   # dataclasses need the module registered
_spec.loader.exec_module(relevance_lib)


@pytest.fixture(scope="session")
def rel():
    """The relevance helper module (catalog loader, judgments, evaluation)."""
    return relevance_lib


def make_settings(monkeypatch: pytest.MonkeyPatch, data_dir: Path, backend: str):
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INDEX_DIR", raising=False)
    monkeypatch.setenv("SEARCH_BACKEND", backend)
    return settings_mod.load()


def build_catalog(settings) -> dict[str, int]:
    from index.api import rebuild

    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        ids = relevance_lib.load_catalog(session)
        rebuild(settings, session)
    return ids


@pytest.fixture(scope="module", params=BACKENDS)
def built(request, tmp_path_factory):
    """(settings, key -> id) of a read-only index over the test catalog."""
    with pytest.MonkeyPatch.context() as mp:
        settings = make_settings(mp, tmp_path_factory.mktemp(f"idx-{request.param}"), request.param)
        ids = build_catalog(settings)
        yield settings, ids


@pytest.fixture(scope="session")
def _templates(tmp_path_factory):
    """One built catalog + index per backend, copied for each test that writes."""
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for backend in BACKENDS:
            settings = make_settings(mp, tmp_path_factory.mktemp(f"template-{backend}"), backend)
            out[backend] = (settings.data_dir, build_catalog(settings))
    return out


@pytest.fixture(params=BACKENDS)
def writable(request, tmp_path, monkeypatch, _templates):
    """A fresh catalog and index that the test may change."""
    template_dir, ids = _templates[request.param]
    data_dir = tmp_path / "data"
    shutil.copytree(template_dir, data_dir)   # includes the SQLite WAL, so the copy is complete
    return make_settings(monkeypatch, data_dir, request.param), dict(ids)
