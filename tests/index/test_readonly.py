"""The index serves a web process that may only read it while a separate writer (the cron job) updates
and rebuilds it (issue 5), for both backends.

Tests run as root, for whom file permissions are not enforced, so the reader is a subprocess that
drops to the unprivileged user `nobody` before it touches the index (as a web server's workers do).
The venv's interpreter lives under /root (mode 0700), which `nobody` cannot reach, so the process
starts as root, imports everything it needs, then drops its privileges for good. The index tree is
made world-readable and not writable; the writer (root, this process) still writes it."""
from __future__ import annotations

import json
import os
import pwd
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from catalog import db
from catalog import settings as settings_mod
from catalog.models import Institution
from index import api, store

REPO = Path(__file__).resolve().parents[2]
ANSWER_TIMEOUT_S = 120   # a hang guard only; nothing here asserts timings
SEARCHES_BETWEEN_STEPS = 5
MAX_BURST = 20_000       # searches; a guard in case the reader never sees the stop file

READER = r'''
import importlib, json, os, pkgutil, pwd, sys, time, traceback
import encodings
import whoosh
from catalog import settings as settings_mod
from index import api, store, tantivy_backend, tantivy_view, whoosh_backend  # noqa: F401
from index.api import SearchQuery, search

# Modules imported lazily (whoosh's parts, codecs such as latin1 for its pickles) must be loaded
# while the interpreter's files are still readable.
for info in [*pkgutil.walk_packages(whoosh.__path__, "whoosh."),
             *pkgutil.iter_modules(encodings.__path__, "encodings.")]:
    try:
        importlib.import_module(info.name)
    except ImportError:
        pass
settings = settings_mod.load()
backend = api.backend_name(settings)
user = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)


def probe():
    """Paths this process can write into (there must be none)."""
    writable = []
    generation = store.current_generation(settings.index_dir, backend)
    for directory in (settings.index_dir, settings.index_dir / backend, generation):
        try:
            (directory / ".probe").touch()
            writable.append(str(directory))
        except PermissionError:
            pass
    return {"uid": os.getuid(), "euid": os.geteuid(), "writable": writable}


def ask(cmd):
    result = search(settings, SearchQuery(text=cmd["text"], per_page=cmd.get("per_page", 20)))
    generation = api._ENGINES[(settings.index_dir, backend)].generation.name
    return {"ids": [hit.id for hit in result.hits], "total": result.total, "note": result.note,
            "generation": generation}


def burst(cmd):
    """Search until the writer says stop, reporting progress after each search; count failures
    and answers missing the expected id."""
    count, errors, missing = 0, [], 0
    while count < cmd["max"] and not os.path.exists(cmd["stop"]):
        try:
            if cmd["expect"] not in ask(cmd)["ids"]:
                missing += 1
        except Exception:
            errors.append(traceback.format_exc())
        count += 1
        print(json.dumps({"progress": count}), flush=True)
    return {"count": count, "errors": errors[:3], "n_errors": len(errors), "missing": missing}


for line in sys.stdin:
    cmd = json.loads(line)
    try:
        answer = {"probe": probe, "search": ask, "burst": burst}[cmd["op"]](*([] if cmd["op"] == "probe" else [cmd]))
    except Exception:
        answer = {"error": traceback.format_exc()}
    print(json.dumps(answer), flush=True)
'''


class Reader:
    """A long-running read-only search process (one shared engine, like a web worker)."""

    def __init__(self, settings) -> None:
        env = {**os.environ, "WSPARCIE_DATA_DIR": str(settings.data_dir),
               "SEARCH_BACKEND": settings.search_backend, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("INDEX_DIR", None)
        env.pop("DATABASE_URL", None)
        # A file, not a pipe: warnings can never block the reader; closed in close().
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-c", READER], cwd=REPO, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        # Lines are read by a thread, so waiting for one can time out instead of hanging the suite.
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def send(self, **cmd) -> None:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def _next(self) -> dict:
        try:
            line = self.lines.get(timeout=ANSWER_TIMEOUT_S)
        except queue.Empty:
            line = ""
        if not line:
            self.proc.kill()
            self.proc.wait()
            self.stderr.seek(0)
            pytest.fail(f"reader process gave no answer: {self.stderr.read().decode(errors='replace')}")
        return json.loads(line)

    def receive(self) -> dict:
        """The answer to the last command (progress reports skipped)."""
        while "progress" in (answer := self._next()):
            pass
        assert "error" not in answer, answer["error"]
        return answer

    def progress(self, searches: int) -> None:
        """Wait until the reader has completed this many more searches."""
        for _ in range(searches):
            assert "progress" in self._next()

    def ask(self, **cmd) -> dict:
        self.send(**cmd)
        return self.receive()

    def search(self, text: str, per_page: int = 20) -> dict:
        return self.ask(op="search", text=text, per_page=per_page)

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=ANSWER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


@pytest.fixture(params=("tantivy", "whoosh"))
def readonly(request, monkeypatch, _templates):
    """(settings, key -> id, reader): a catalog and index only root may write, and a reader as nobody."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the reader must run as another user (nobody) for permissions to apply")
    template_dir, ids = _templates[request.param]
    # pytest's own tmp dirs are private to root (0700); the reader needs to reach the index.
    base = Path(tempfile.mkdtemp(prefix="wsparcie-readonly-"))
    try:
        base.chmod(0o755)
        shutil.copytree(template_dir, base / "data")
        subprocess.run(["chmod", "-R", "a-w,a+rX", str(base / "data")], check=True)
        monkeypatch.setenv("WSPARCIE_DATA_DIR", str(base / "data"))
        monkeypatch.setenv("SEARCH_BACKEND", request.param)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        monkeypatch.delenv("INDEX_DIR", raising=False)
        settings = settings_mod.load()
        reader = Reader(settings)
        try:
            yield settings, dict(ids), reader
        finally:
            reader.close()
    finally:
        shutil.rmtree(base)


def rename(settings, inst_id: int, new_name: str) -> None:
    with db.session_scope(settings.database_url) as session:
        inst = session.get(Institution, inst_id)
        inst.name = new_name
        session.add(inst)


def update(settings, inst_id: int) -> None:
    with db.session_scope(settings.database_url) as session:
        assert api.update(settings, session, [inst_id]) == 1


def rebuild(settings) -> None:
    with db.session_scope(settings.database_url) as session:
        api.rebuild(settings, session)


def current(settings) -> str:
    return store.current_generation(settings.index_dir, api.backend_name(settings)).name


def test_reader_really_cannot_write(readonly):
    _settings, _ids, reader = readonly
    nobody = pwd.getpwnam("nobody").pw_uid
    assert reader.ask(op="probe") == {"uid": nobody, "euid": nobody, "writable": []}
    assert reader.search("mops")["total"] >= 1   # and yet it searches


def test_reader_sees_updates_and_rebuilds_by_the_writer(readonly):
    settings, ids, reader = readonly
    kis, byton = ids["kis-lodz"], ids["gops-byton"]
    first = reader.search("klub integracji łódź")
    assert first["ids"][0] == kis and first["generation"] == current(settings)

    rename(settings, kis, "Klub Integracji Społecznej Przystań w Łodzi")
    update(settings, kis)
    after_update = reader.search("przystań")
    assert after_update["ids"] == [kis]
    assert after_update["generation"] == first["generation"]    # committed into the same generation

    rename(settings, byton, "Centrum Usług Społecznych w Bytoniu")
    rebuild(settings)
    after_rebuild = reader.search("centrum usług bytoń")
    assert after_rebuild["ids"][0] == byton
    assert after_rebuild["generation"] == current(settings) != first["generation"]
    assert reader.search("przystań")["ids"] == [kis]

    rename(settings, byton, "Ośrodek Wsparcia Rodziny w Bytoniu")   # an update into the new generation
    update(settings, byton)
    assert reader.search("wsparcia rodziny bytoń")["ids"][0] == byton


def test_reader_keeps_answering_while_the_writer_works(readonly):
    settings, ids, reader = readonly
    kis = ids["kis-lodz"]
    stop = settings.data_dir.parent / "stop"   # created by root; the reader only checks it exists
    reader.send(op="burst", text="klub łódź", per_page=100, expect=kis, stop=str(stop), max=MAX_BURST)
    generations = {current(settings)}
    for round_ in range(2):
        # the reader searches in a loop meanwhile; a few searches between the writer's steps make
        # sure they interleave whatever the speeds
        reader.progress(SEARCHES_BETWEEN_STEPS)
        rename(settings, kis, f"Klub Integracji Społecznej Przystań {round_} w Łodzi")
        update(settings, kis)
        reader.progress(SEARCHES_BETWEEN_STEPS)
        rebuild(settings)
        generations.add(current(settings))
    stop.touch()
    report = reader.receive()
    assert report["n_errors"] == 0, report["errors"]
    assert report["missing"] == 0 and 1 <= report["count"] < MAX_BURST   # it saw the stop file
    assert len(generations) == 3
    final = reader.search("przystań 1")
    assert final["ids"][0] == kis and final["generation"] == current(settings)


KILLED_REBUILD = """
import os, signal
from catalog import db, settings as settings_mod
from index import api

settings = settings_mod.load()
# Die the hard way (no cleanup handlers) after the documents went in, before commit and publish.
api._module(api.backend_name(settings)).Writer.commit = lambda self: os.kill(os.getpid(), signal.SIGKILL)
with db.session_scope(settings.database_url) as session:
    api.rebuild(settings, session)
"""


def test_interrupted_rebuild_is_never_seen_and_is_cleaned_later(readonly):
    settings, ids, reader = readonly
    byton = ids["gops-byton"]
    before = reader.search("gminny bytoń")
    assert before["ids"][0] == byton
    generation = before["generation"]
    rename(settings, byton, "Centrum Usług Społecznych w Bytoniu")

    env = {**os.environ, "WSPARCIE_DATA_DIR": str(settings.data_dir), "SEARCH_BACKEND": settings.search_backend}
    killed = subprocess.run([sys.executable, "-c", KILLED_REBUILD], cwd=REPO, env=env,
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    base = store.backend_dir(settings.index_dir, api.backend_name(settings))
    leftovers = {p.name for p in base.glob("gen-*")} - {generation}
    assert current(settings) == generation and len(leftovers) == 1   # half-built, never published

    still = reader.search("gminny bytoń")
    assert still["ids"][0] == byton and still["generation"] == generation and still["note"] is None

    rebuild(settings)
    assert not any((base / name).exists() for name in leftovers)      # cleaned by the next rebuild
    after = reader.search("centrum usług bytoń")
    assert after["ids"][0] == byton and after["generation"] == current(settings) != generation
