"""Helpers for the crash and concurrency tests: an RJPS of N synthetic units (real fragment layout) on a
loopback server, `wsparcie` run as a real subprocess, and what the search index holds."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select
from werkzeug import Response

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import Institution
from index import api as index_api

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "registries" / "samples" / "rjps"
LISTING = "/RJPS/WJ/wyszukiwanie/zaladujDane.do"
FRAGMENT = "/RJPS/WJ/wyszukiwanie/pobierzDaneJednostki.do"
REPO = Path(__file__).resolve().parents[2]


def synthetic_fragment(unit_id: int) -> bytes:
    """The real 3499 fragment with another id and a name of its own."""
    html = (SAMPLES / "pobierzDaneJednostki_3499_list_fragment.html").read_bytes().decode()
    html = html.replace("3499", str(unit_id))
    html = html.replace("Miejski Ośrodek Pomocy Społecznej w Zabłudowie",
                        f"Gminny Ośrodek Pomocy Społecznej numer {unit_id}")
    return html.encode()


class LoopbackRjps:
    """Serves the RJPS listing and fragments for `ids`; `slow` seconds of delay per fragment."""

    def __init__(self, httpserver, ids: list[int]) -> None:
        self.ids = list(ids)
        self.slow = 0.0
        httpserver.expect_request(LISTING, method="POST").respond_with_handler(self._listing)
        httpserver.expect_request(FRAGMENT, method="GET").respond_with_handler(self._fragment)
        self.base_url = httpserver.url_for("/").rstrip("/")

    def _listing(self, request):
        if json.loads(request.data)["filtry"]:   # taxonomy filters: nobody is tagged here
            return Response("[]", content_type="application/json")
        units = [{"id": u, "x": 23.0 + u % 100 / 1000, "y": 53.0} for u in self.ids]
        return Response(json.dumps(units), content_type="application/json")

    def _fragment(self, request):
        if self.slow:
            time.sleep(self.slow)
        uid = int(request.args["jednostkiIds"])
        if uid not in self.ids:
            return Response("not found", status=404)
        return Response(synthetic_fragment(uid), content_type="text/html;charset=UTF-8")


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "INDEX_DIR", "WSPARCIE_PAUSE_AT")}
    env.update({"WSPARCIE_DATA_DIR": str(data_dir), "RJPS_EXPECTED_MIN": "1", "RJPS_RATE_LIMIT": "0",
                "HTTP_RETRIES": "2", "HTTP_TIMEOUT": "5", "WSPARCIE_OFFLINE": "1"})
    env.update(extra)
    return env


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], check=False, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Until `path` exists (bounded); fails with the process output if it ended first."""
    give_up = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"process ended (rc {proc.returncode}) before {path.name}:\n{proc.stdout.read()}")
        if time.monotonic() > give_up:
            proc.kill()
            raise AssertionError(f"{path.name} not reached within {timeout} s")
        time.sleep(0.1)


def kill_9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def catalog_ids(data_dir: Path) -> set[int]:
    settings = settings_for(data_dir)
    with session_scope(settings.database_url) as session:
        return set(session.exec(select(Institution.id)).all())


def searchable_ids(data_dir: Path) -> set[int]:
    """Every id the search index returns for an empty query, page by page."""
    settings = settings_for(data_dir)
    found: set[int] = set()
    for page in range(1, index_api.MAX_RESULT_WINDOW // index_api.MAX_PER_PAGE + 1):
        result = index_api.search(settings, index_api.SearchQuery(page=page, per_page=index_api.MAX_PER_PAGE))
        found |= {hit.id for hit in result.hits}
        if page * index_api.MAX_PER_PAGE >= result.total:
            break
    return found


def settings_for(data_dir: Path):
    saved = os.environ.get("WSPARCIE_DATA_DIR")
    os.environ["WSPARCIE_DATA_DIR"] = str(data_dir)
    try:
        return settings_mod.load()
    finally:
        if saved is None:
            os.environ.pop("WSPARCIE_DATA_DIR", None)
        else:
            os.environ["WSPARCIE_DATA_DIR"] = saved


def wait_for_condition(check, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Until check() is true (bounded); fails with the process output if it ended first."""
    give_up = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"process ended (rc {proc.returncode}) early:\n{proc.stdout.read()}")
        if time.monotonic() > give_up:
            proc.kill()
            raise AssertionError(f"condition not reached within {timeout} s")
        time.sleep(0.1)
