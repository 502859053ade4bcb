"""`wsparcie serve` as a real process on loopback: it keeps answering while clients hold half-open
connections (slowloris, security issue item 6), a search index damaged under it (files truncated
while mmapped) neither kills it nor fails a page, and it starts and serves reads on a full disk
(item 9).

What start-up writes and how each degrades on a full disk: the secret key file (a key for this
process tree), the SQLite WAL index `-shm` (the catalog opened read-only, `immutable`), the private
index copy in TMPDIR (files linked instead of copied). The full disk is a small tmpfs mounted for the
test: CI runs as root; elsewhere that test skips, saying why."""
from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from catalog import db
from catalog import settings as settings_mod
from catalog.settings import REPO_ROOT, Settings
from index import api as index_api
from index import store

HALF_OPEN = 120
START_TIMEOUT_S = 60        # hang guards only: nothing here asserts how fast anything is
ANSWER_TIMEOUT_S = 10
NOTICE = "trybie awaryjnym"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = ANSWER_TIMEOUT_S) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:   # loopback only
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


@contextmanager
def served(data_dir: Path, log: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    port = _free_port()
    env = {**os.environ, "WSPARCIE_DATA_DIR": str(data_dir), "WSPARCIE_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("INDEX_DIR", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "serve", "--port", str(port), *args],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise AssertionError(log.read_text(errors="replace"))
            try:
                _get(base + "/zdrowie", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("server did not start: " + log.read_text(errors="replace")) from None
                time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _half_open(port: int, count: int) -> list[socket.socket]:
    """Connections that send part of a request head and then hold, as a slowloris client does."""
    held = []
    for n in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow-%d: " % n)
        held.append(s)
    return held


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_real_requests_are_answered_while_clients_hold_half_open_connections(data_dir, tmp_path, server):
    with served(data_dir, tmp_path / "server.log", "--server", server) as (base, proc):
        port = int(base.rsplit(":", 1)[1])
        held = _half_open(port, HALF_OPEN)
        try:
            time.sleep(0.5)   # let the server take them all in before the real requests come
            for _ in range(5):
                status, html = _get(base + "/")
                assert status == 200 and "Znajdź pomoc blisko siebie" in html
            assert proc.poll() is None
        finally:
            for s in held:
                s.close()


def test_gunicorn_is_the_linux_default_with_two_workers(data_dir, tmp_path):
    log = tmp_path / "server.log"
    with served(data_dir, log) as (base, _proc):
        assert _get(base + "/")[0] == 200
    text = log.read_text(errors="replace")
    assert "(gunicorn)" in text and text.count("Booting worker") == 2


def _segment_files(generation: Path) -> list[Path]:
    meta = {"meta.json", ".managed.json", store.FOLD_MAP}
    return [p for p in generation.iterdir()
            if p.is_file() and p.name not in meta and not p.name.endswith((".lock", ".toc"))]


@pytest.mark.parametrize("backend", ["tantivy", "whoosh"])
def test_index_truncated_under_a_running_server_neither_kills_it_nor_fails_a_page(
        data_dir, ids, tmp_path, monkeypatch, backend):
    monkeypatch.setenv("SEARCH_BACKEND", backend)
    settings: Settings = settings_mod.load()
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    log = tmp_path / "server.log"
    with served(data_dir, log, "--workers", "1") as (base, proc):
        status, html = _get(base + "/instytucje?q=Choroszczy")   # the worker maps the index now
        assert status == 200 and "Centrum Integracji Społecznej w Choroszczy" in html and NOTICE not in html
        assert _get(base + "/zdrowie")[0] == 200
        generation = store.current_generation(settings.index_dir, backend)
        segments = _segment_files(generation)
        assert segments
        for path in segments:          # what a failing disk or a careless operator does to live files
            os.truncate(path, path.stat().st_size // 3)
        for _ in range(5):
            status, html = _get(base + "/instytucje?q=Choroszczy&typ=cis")
            assert status == 200 and NOTICE in html
            assert "Centrum Integracji Społecznej w Choroszczy" in html     # from the catalog now
        status, body = _get(base + "/api/institutions?q=Choroszczy")
        assert status == 200 and NOTICE in body
        status, body = _get(base + "/zdrowie")
        assert status == 503 and "truncated" in body
        assert proc.poll() is None
    assert "SIGBUS" not in log.read_text(errors="replace")   # no worker died and was replaced either


DISK_BYTES = 48 * 1024 * 1024
FILL_CHUNK = b"\0" * (1024 * 1024)


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (the full disk) needs root; CI runs as root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount)],
                          check=False, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> None:
    """Write until the file system says ENOSPC (bounded by its size)."""
    with open(disk / "filler", "wb") as fh:
        for _ in range(DISK_BYTES // len(FILL_CHUNK) + 2):
            try:
                fh.write(FILL_CHUNK)
                fh.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC
                return
    raise AssertionError("the small disk never filled up")


def test_server_starts_and_serves_reads_on_a_full_disk(data_dir, ids, small_disk, tmp_path, monkeypatch):
    settings = settings_mod.load()
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    db.get_engine(settings.database_url).dispose()     # the last connection folds the WAL into the file
    full_data = small_disk / "var"
    shutil.copytree(data_dir, full_data)
    (full_data / "secret_key").unlink(missing_ok=True)    # start-up has to create one
    for side in ("wsparcie.db-wal", "wsparcie.db-shm"):
        (full_data / side).unlink(missing_ok=True)
    tmp = small_disk / "tmp"
    tmp.mkdir()
    _fill(small_disk)

    monkeypatch.setenv("TMPDIR", str(tmp))   # the private index copy goes to the full disk too
    with served(full_data, tmp_path / "server.log", "--workers", "1") as (base, proc):
        status, html = _get(base + "/")
        assert status == 200 and "Znajdź pomoc blisko siebie" in html
        status, html = _get(base + "/instytucje?q=Choroszczy")
        assert status == 200 and "Centrum Integracji Społecznej w Choroszczy" in html
        assert _get(base + f"/instytucja/{ids['cis']}")[0] == 200
        status, body = _get(base + "/api/institutions?q=Choroszczy")
        assert status == 200 and "Choroszczy" in body
        assert proc.poll() is None
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "read-only" in log and "secret key" in log
