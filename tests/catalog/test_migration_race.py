"""Several processes upgrading one fresh catalog at once (nodes started together on an un-migrated
database) serialise on the upgrade lock: none crashes, and the schema ends at head."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from catalog import db
from catalog.settings import REPO_ROOT

# Each process imports everything first, then waits for the start file, so the three upgrades begin
# together instead of one after another as the interpreters happen to finish starting.
UPGRADER = """
import os, sys, time
from catalog import db
start = sys.argv[1]
while not os.path.exists(start):
    time.sleep(0.005)
db.upgrade(os.environ["DATABASE_URL"])
print("upgraded")
"""


def _race(database_url: str, tmp_path: Path, n: int = 3) -> list[subprocess.CompletedProcess]:
    start = tmp_path / "go"
    env = {**os.environ, "DATABASE_URL": database_url}
    procs = [subprocess.Popen([sys.executable, "-c", UPGRADER, str(start)], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    time.sleep(0.5)   # not a timing assertion: only gives the interpreters a head start before the signal
    start.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _head() -> str:
    head = ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()
    assert head
    return head


def _check(database_url: str, results: list[subprocess.CompletedProcess]) -> None:
    for result in results:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "upgraded"
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert versions == [_head()]
    assert {"institution", "sourcerecord", "scraperun"} <= tables


@pytest.mark.postgres
def test_three_processes_upgrade_a_fresh_postgresql_database_together(postgres_url, tmp_path):
    _check(postgres_url, _race(postgres_url, tmp_path))


def test_three_processes_upgrade_a_fresh_sqlite_catalog_together(data_dir, tmp_path):
    url = f"sqlite:///{data_dir / 'wsparcie.db'}"
    _check(url, _race(url, tmp_path))
