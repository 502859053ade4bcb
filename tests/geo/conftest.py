"""Geo test fixtures: settings on a temp dir and a real SQLite catalog built by the Alembic migration."""
from __future__ import annotations

import shutil

import pytest
from sqlmodel import Session

from catalog import settings as settings_mod
from catalog.db import get_engine, upgrade
from catalog.models import Institution


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """One database built by the real migration; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("geo-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def geo_settings(tmp_path, monkeypatch, migrated_db):
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path / "var"))
    for name in ("DATABASE_URL", "INDEX_DIR", "GEOCODER", "NOMINATIM_URL", "NOMINATIM_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    settings = settings_mod.load()
    (tmp_path / "var").mkdir()
    shutil.copyfile(migrated_db, tmp_path / "var" / "wsparcie.db")
    return settings


@pytest.fixture
def session(geo_settings):
    with Session(get_engine(geo_settings.database_url), expire_on_commit=False) as s:
        yield s


@pytest.fixture
def add(session):
    """Insert an institution and return it (committed, with an id)."""
    def _add(name: str, type: str, **fields) -> Institution:
        inst = Institution(name=name, type=type, **fields)
        session.add(inst)
        session.commit()
        session.refresh(inst)
        return inst
    return _add


@pytest.fixture
def geo_client(geo_settings):
    """The site over the same (empty unless a test adds rows) catalog; no search index: lists fall back."""
    from webapp import create_app

    return create_app({"TESTING": True}).test_client()
