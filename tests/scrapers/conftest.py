"""RJPS served from a local HTTP server on 127.0.0.1, on the real paths, from the real captures."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from werkzeug import Request, Response

from catalog import settings as settings_mod
from catalog.db import get_engine, upgrade
from scrapers.rjps import FRAGMENT_PATH, LISTING_PATH

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rjps"           # synthetic content, real layout
REAL = Path(__file__).resolve().parents[2] / "data" / "registries" / "samples" / "rjps"   # the real captures
REAL_LISTING = REAL / "zaladujDane_response_2022-06_people_with_disabilities.json"
REAL_FRAGMENTS = {
    "3499": REAL / "pobierzDaneJednostki_3499_list_fragment.html",
    "2321": REAL / "pobierzDaneJednostki_2321_list_fragment.html",
}
HTML = "text/html;charset=UTF-8"
JSON = "application/json;charset=UTF-8"


def real_listing_entries(ids: set[int] | None = None) -> list[dict]:
    entries = json.loads(REAL_LISTING.read_bytes())
    return [e for e in entries if ids is None or e["id"] in ids]


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory) -> Path:
    """One SQLite file built by the Alembic migration; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "wsparcie.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    get_engine(url).dispose()   # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def rjps_settings(data_dir, monkeypatch, httpserver, migrated_db):
    """Settings on a temp data dir with a migrated SQLite DB, RJPS pointed at the local server."""
    monkeypatch.setenv("RJPS_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("RJPS_RATE_LIMIT", "0")
    monkeypatch.setenv("HTTP_RETRIES", "3")
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "1")
    settings = settings_mod.load()
    db_file = Path(settings.database_url.split("///", 1)[1])
    db_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_db, db_file)
    return settings


def serve_listing(httpserver, body: bytes | str, status: int = 200, filtered: dict[str, list[int]] | None = None,
                  failing: set[str] = frozenset()) -> None:
    """The listing endpoint, answering by the POST body like RJPS: {"filtry": {}} -> `body`;
    {"filtry": {"podkategorie": ids}} -> the units `filtered[ids]` (default: none), HTTP 404 for `failing`."""

    def answer(request: Request) -> Response:
        filters = json.loads(request.data)["filtry"]
        if not filters:
            return Response(body, status=status, content_type=JSON)
        ids = filters["podkategorie"]
        if ids in failing:
            return Response("Nie znaleziono", status=404)
        units = [{"id": u, "x": 19.0, "y": 52.0} for u in (filtered or {}).get(ids, [])]
        return Response(json.dumps(units), content_type=JSON)

    httpserver.expect_request(LISTING_PATH, method="POST").respond_with_handler(answer)


def taxonomy_requests_in(httpserver) -> list[str]:
    """The podkategorie values of the filtered listing requests the server received, in order."""
    bodies = [json.loads(req.data) for req, _ in httpserver.log if req.path == LISTING_PATH]
    return [b["filtry"]["podkategorie"] for b in bodies if b["filtry"]]


def serve_fragment(httpserver, unit_ids: str, body: bytes, status: int = 200) -> None:
    httpserver.expect_request(FRAGMENT_PATH, method="GET", query_string={"jednostkiIds": unit_ids}
                              ).respond_with_data(body, status=status, content_type=HTML)
