"""Scale-out: two web nodes (real `wsparcie serve`, gunicorn with two workers each) on one PostgreSQL
catalog, each with its own data and index directory. An ingest on either node (`wsparcie import-document`
of a real office document) writes the shared catalog; afterwards both nodes answer the same, and
/zdrowie shows each index caught up. A form served by one node validates when posted to the other
(shared SECRET_KEY_FILE); without a shared key it does not."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from catalog.settings import REPO_ROOT

REAL = REPO_ROOT / "data" / "registries" / "real" / "wojewoda"
DPS_04 = REAL / "kujawsko-pomorskie" / "dps_wolne_miejsca_2026-06-20.xls"   # 47 DPS of Kujawsko-Pomorskie
SDS_12 = REAL / "malopolskie" / "sds_wykaz_2026-05-04.xlsx"                 # 89 ŚDS of Małopolska
QUERIES = ("", "dom pomocy społecznej", "środowiskowy dom samopomocy", "type=dps", "type=sds&woj=12",
           "bydgoszcz", "krakow")
WAIT_S = 240.0   # a generous ceiling for polling, never a timing assertion

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    name: str
    env: dict[str, str]
    port: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:   # loopback only
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers, error.read()

    def health(self) -> dict:
        return json.loads(self.get("/zdrowie")[2])

    def wsparcie(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from orchestration.cli import main; main()", *args],
                              cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=600, check=False)


def _wait(what: str, check, nodes: list[Node]) -> None:
    deadline = time.monotonic() + WAIT_S
    last = None
    while time.monotonic() < deadline:
        for node in nodes:
            if node.proc is not None and node.proc.poll() is not None:
                raise AssertionError(f"{node.name} exited: {node.log.read_text()}")
        try:
            if check():
                return
        except OSError as error:   # not listening yet
            last = error
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what} ({last}); health: "
                         f"{[n.health() if n.proc and n.proc.poll() is None else None for n in nodes]}")


@pytest.fixture
def nodes(postgres_url, tmp_path):
    key_file = tmp_path / "shared_secret"
    key_file.write_text("a-key-every-node-shares-" + "x" * 32, encoding="utf-8")
    key_file.chmod(0o600)
    out = []
    for name in ("a", "b"):
        env = {**os.environ, "DATABASE_URL": postgres_url, "WSPARCIE_DATA_DIR": str(tmp_path / name),
               "SECRET_KEY_FILE": str(key_file), "INDEX_FOLLOW_INTERVAL": "0.5", "WSPARCIE_OFFLINE": "1",
               "DPS_04_EXPECTED_MIN": "1", "SDS_12_EXPECTED_MIN": "1"}
        for unset in ("SECRET_KEY", "INDEX_DIR"):
            env.pop(unset, None)
        out.append(Node(name, env, _free_port(), tmp_path / f"serve-{name}.log"))
    for node in out:   # both started at once on the un-migrated database: their upgrades serialise
        _start(node)
    try:
        retries = [0]
        _wait("both nodes to listen", lambda: _listening(out, retries), [])
        yield out
    finally:
        for node in out:
            if node.proc.poll() is None:
                os.killpg(node.proc.pid, signal.SIGTERM)
        for node in out:
            try:
                node.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(node.proc.pid, signal.SIGKILL)
                node.proc.wait(timeout=10)


def _start(node: Node) -> None:
    """`wsparcie serve` of this node; its log goes to a file (a pipe nobody reads could fill and stall it)."""
    with node.log.open("w") as log:
        node.proc = subprocess.Popen(
            [sys.executable, "-c", "from orchestration.cli import main; main()", "serve", "--server", "gunicorn",
             "--port", str(node.port)], cwd=REPO_ROOT, env={**node.env, "WEB_WORKERS": "2", "WEB_THREADS": "4"},
            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def _listening(nodes: list[Node], retries: list[int]) -> bool:
    """Both nodes answer; a node whose free port was taken by another test meanwhile gets a new one
    (at most three times: `retries` counts them)."""
    for node in nodes:
        if node.proc.poll() is not None:
            err = node.log.read_text()
            if "Connection in use" not in err or retries[0] >= 3:
                raise AssertionError(f"{node.name} exited: {err}")
            retries[0] += 1
            node.port = _free_port()
            _start(node)
    return all(n.get("/zdrowie")[0] in (200, 503) for n in nodes)


def _answers(node: Node) -> list:
    """What a user sees: per query the total and the ids of the first page, plus the list page count."""
    out = []
    for query in QUERIES:
        params = query if "=" in query else urllib.parse.urlencode({"q": query} if query else {})
        status, _headers, body = node.get(f"/api/institutions?per_page=100&{params}")
        assert status == 200, body
        data = json.loads(body)
        out.append((query, data["total"], [item["id"] for item in data["items"]], data["note"]))
    return out


def _count(node: Node, where: str) -> int:
    """Institutions in the shared catalog matching `where`, counted by the database itself."""
    from sqlalchemy import create_engine, text

    engine = create_engine(node.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM institution WHERE {where}")).scalar_one()
    finally:
        engine.dispose()


def _caught_up(nodes: list[Node], catalog: int) -> bool:
    healths = [n.health() for n in nodes]
    return all(h["ok"] and h["index_sync"]["status"] == "ok" and h["index_sync"]["catalog"] == catalog
               and h["index_sync"]["indexed"] == catalog for h in healths)


def _ingest(node: Node, path: Path, kind: str, source: str) -> None:
    result = node.wsparcie("import-document", str(path), "--kind", kind, "--source", source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{source}: ok" in result.stdout


def test_two_nodes_answer_the_same_after_an_ingest_on_either(nodes):
    a, b = nodes
    for node in nodes:
        sync = node.health()["index_sync"]
        assert sync["catalog"] == 0 and sync["following"] is True

    _ingest(a, DPS_04, "dps", "dps-04")       # node A writes the catalog (and its own index)
    _wait("both indexes level with 47 institutions", lambda: _caught_up(nodes, 47), nodes)
    first = _answers(a)
    assert first == _answers(b)
    assert first[0][1] == 47 and first[0][3] is None   # answered by the index, not the SQL fallback

    _ingest(b, SDS_12, "sds", "sds-12")       # now node B is the writer
    # Until node A catches up its health says so (or it already has: then it says ok).
    assert a.health()["index_sync"]["status"] in ("catching-up", "ok")
    _wait("both indexes level with 136 institutions", lambda: _caught_up(nodes, 136), nodes)
    second = _answers(a)
    assert second == _answers(b)
    assert second[0][1] == 136
    totals = {q: total for q, total, _ids, _note in second}
    assert totals["type=sds&woj=12"] == _count(a, "type = 'sds' AND woj_teryt = '12'") > 80
    assert totals["type=dps"] == _count(a, "type = 'dps'") >= 47

    # The health page says the same for people.
    status, _headers, page = b.get("/zdrowie", {"Accept": "text/html"})
    assert status == 200 and b'data-status="ok"' in page and b"Stan serwisu" in page


def test_a_node_behind_the_catalog_says_so_until_it_catches_up(nodes):
    a, b = nodes
    _ingest(a, DPS_04, "dps", "dps-04")
    _wait("both level", lambda: _caught_up(nodes, 47), nodes)
    os.killpg(b.proc.pid, signal.SIGSTOP)     # node B frozen: it cannot follow while A ingests
    try:
        _ingest(a, SDS_12, "sds", "sds-12")
    finally:
        os.killpg(b.proc.pid, signal.SIGCONT)

    # Its first answers after waking may already be caught up; what it must never do is claim "ok"
    # while its index holds fewer institutions than the catalog.
    def consistent_then_level() -> bool:
        sync = b.health()["index_sync"]
        if sync["status"] == "ok":
            assert sync["indexed"] == sync["catalog"] == 136
            return True
        assert sync["status"] == "catching-up" and sync["behind"] >= 1
        return False
    _wait("node B to catch up", consistent_then_level, nodes)
    assert _answers(a) == _answers(b)


def _form(node: Node, inst_id: int) -> tuple[str, str]:
    status, headers, body = node.get(f"/instytucja/{inst_id}")
    assert status == 200
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()
    cookie = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [])
    assert "session=" in cookie
    return token, cookie


def _post_report(node: Node, inst_id: int, token: str, cookie: str) -> int:
    data = urllib.parse.urlencode({"csrf_token": token, "message": "Zmienił się numer telefonu ośrodka.",
                                   "contact": ""}).encode()
    request = urllib.request.Request(f"{node.base}/instytucja/{inst_id}/zglos", data=data,
                                     headers={"Cookie": cookie})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as error:
        with error:
            return error.code


def test_a_form_served_by_one_node_validates_on_the_other(nodes):
    a, b = nodes
    _ingest(a, DPS_04, "dps", "dps-04")
    inst_id = json.loads(a.get("/api/institutions?per_page=1")[2])["items"][0]["id"]
    token, cookie = _form(a, inst_id)
    assert _post_report(b, inst_id, token, cookie) == 303
    token, cookie = _form(b, inst_id)
    assert _post_report(a, inst_id, token, cookie) == 303


@pytest.fixture
def pooled(postgres_url):
    """The cached engine the in-process apps share, closed afterwards (no connection left open)."""
    from catalog.db import get_engine

    yield postgres_url
    get_engine(postgres_url).dispose()
    get_engine.cache_clear()


def test_without_a_shared_key_the_other_node_refuses_the_form_and_serve_warns(pooled, tmp_path, monkeypatch):
    postgres_url = pooled
    from click.testing import CliRunner
    from sqlmodel import Session

    from catalog import settings as settings_mod
    from catalog.db import get_engine, upgrade
    from catalog.models import Institution
    from webapp import create_app, serve_cli

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    upgrade(postgres_url)
    apps = []
    for name in ("a", "b"):
        monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path / name))
        apps.append(create_app({"TESTING": True, "SETTINGS": settings_mod.load()}))
    assert apps[0].config["SECRET_KEY"] != apps[1].config["SECRET_KEY"]   # each data dir made its own
    with Session(get_engine(postgres_url)) as session:
        inst = Institution(name="Dom Pomocy Społecznej w Toruniu", type="dps", locality="Toruń")
        session.add(inst)
        session.commit()
        inst_id = inst.id
    client_a, client_b = (app.test_client() for app in apps)
    html = client_a.get(f"/instytucja/{inst_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client_b.set_cookie("session", client_a.get_cookie("session").value)
    refused = client_b.post(f"/instytucja/{inst_id}/zglos", data={"csrf_token": token, "message": "Nowy adres."})
    assert refused.status_code == 400 and "Formularz wygasł" in refused.get_data(as_text=True)

    # With the same SECRET_KEY_FILE the same form is accepted by the other node.
    key_file = tmp_path / "shared_secret"
    key_file.write_text("shared-" + "k" * 40, encoding="utf-8")
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    shared = []
    for name in ("a", "b"):
        monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path / name))
        shared.append(create_app({"TESTING": True, "SETTINGS": settings_mod.load()}).test_client())
    html = shared[0].get(f"/instytucja/{inst_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    shared[1].set_cookie("session", shared[0].get_cookie("session").value)
    accepted = shared[1].post(f"/instytucja/{inst_id}/zglos", data={"csrf_token": token, "message": "Nowy adres."})
    assert accepted.status_code == 303

    # `wsparcie serve` on a PostgreSQL catalog without a shared key says so loudly before it starts.
    monkeypatch.delenv("SECRET_KEY_FILE")
    started = []
    monkeypatch.setattr(serve_cli, "_serve_gunicorn", started.append)
    result = CliRunner().invoke(serve_cli.serve_cmd, ["--port", "8999", "--server", "gunicorn"])
    assert result.exit_code == 0, result.output
    assert "SECRET_KEY / SECRET_KEY_FILE is not set" in result.output and started
    assert started[0]["workers"] == 2
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("SECRET_KEY", "shared-from-env")
    started.clear()
    result = CliRunner().invoke(serve_cli.serve_cmd, ["--port", "8999", "--server", "gunicorn"])
    assert result.exit_code == 0 and "SECRET_KEY / SECRET_KEY_FILE" not in result.output
    assert started[0]["workers"] == 3
