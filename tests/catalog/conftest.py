"""Catalog test fixtures: the same tests on SQLite and on the real PostgreSQL test server."""
from __future__ import annotations

import pytest

from catalog import settings as settings_mod
from catalog.db import upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_settings(request, data_dir):
    """Migrated settings on SQLite, then on a fresh PostgreSQL database."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_url")
    s = settings_mod.load()
    upgrade(s.database_url)
    return s
