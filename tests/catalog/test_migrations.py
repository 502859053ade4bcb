"""The Alembic migrations build exactly the schema the models describe (on SQLite and PostgreSQL)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from catalog import settings as settings_mod
from catalog.db import get_engine, upgrade


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrations_match_models(backend, request, data_dir):
    if backend == "postgres":
        request.getfixturevalue("postgres_url")
    url = settings_mod.load().database_url
    upgrade(url)
    with get_engine(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), SQLModel.metadata)
    assert diff == [], f"models changed without a migration: {diff}"
