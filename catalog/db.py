"""Engine, sessions and schema upgrades (Alembic) for SQLite (default) and PostgreSQL."""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from catalog import models  # noqa: F401  (registers the tables on SQLModel.metadata)

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


FULL_DISK_BYTES = 1 << 20    # less free space than this: treat a failing SQLite open as a full disk


def _sqlite_path(database_url: str) -> str | None:
    """The file of a file-backed SQLite URL (None for memory and URI-style databases)."""
    path = database_url.split("///", 1)[-1]
    return path if path and path != ":memory:" and not path.startswith("file:") else None


def _pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")     # WAL lets the web process read while cron writes
    conn.execute("PRAGMA synchronous=NORMAL")   # safe with WAL; a commit no longer waits for fsync
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")


def _disk_full(path: str) -> bool:
    try:
        st = os.statvfs(Path(path).parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < FULL_DISK_BYTES


def _connect(path: str) -> sqlite3.Connection:
    """A WAL connection; on a full disk (WAL needs its -shm file) a read-only one, so the site still
    shows the catalog: `immutable` reads the database file alone, without locks or the WAL index."""
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    try:
        _pragmas(conn)
        return conn
    except sqlite3.OperationalError:
        conn.close()
        if not _disk_full(path):
            raise
    log.error("disk full under %s: the catalog is opened read-only until space is freed", path)
    conn = sqlite3.connect(f"file:{quote(path)}?immutable=1", uri=True, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@lru_cache(maxsize=8)
def get_engine(database_url: str) -> Engine:
    path = _sqlite_path(database_url) if database_url.startswith("sqlite") else None
    if path is not None:
        protect(database_url)
        return create_engine(database_url, creator=partial(_connect, path))
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", lambda conn, _record: _pragmas(conn))
        return engine
    return create_engine(database_url, pool_pre_ping=True)


def protect(database_url: str) -> None:
    """Make a SQLite catalog file owner-only (no-op for PostgreSQL and in-memory databases)."""
    if not database_url.startswith("sqlite"):
        return
    path = _sqlite_path(database_url)
    if path is not None:
        make_private(Path(path))


def make_private(path: Path) -> None:
    """The catalog holds reporters' contact details: the file (and its WAL/SHM, which SQLite creates
    with the database's mode) is owner-only. Created 0600; an existing one we own is tightened."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # SQLite takes an empty file
    except FileExistsError:
        pass
    except OSError:   # read-only or full disk: SQLite reports what it cannot do itself
        return
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            st = name.stat()
            if st.st_uid == os.geteuid() and st.st_mode & 0o077:
                name.chmod(0o600)
        except OSError:
            pass


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


# pg_advisory_xact_lock key of schema upgrades (any constant; "wsparcie" in ASCII, as a bigint).
UPGRADE_LOCK_KEY = 0x77737061726369


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest migration; existing data is kept.

    Concurrent upgraders (several nodes started at once on a fresh database, cron during a deploy)
    serialise: PostgreSQL takes a transaction-level advisory lock before Alembic looks at the schema,
    SQLite an flock beside the database file. The second one then finds the schema at head."""
    engine = get_engine(database_url)
    cfg = alembic_config(database_url)
    with _upgrade_file_lock(database_url), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def _upgrade_file_lock(database_url: str) -> Iterator[None]:
    """An exclusive flock on `<database>.upgrade.lock` for a file-backed SQLite catalog (else nothing)."""
    path = _sqlite_path(database_url) if database_url.startswith("sqlite") else None
    if path is None:
        yield
        return
    lock = Path(f"{path}.upgrade.lock")
    lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(lock, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def session_scope(database_url: str) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
