"""Replay directories: captured responses answered without network.

Layout of a replay directory::

    <dir>/manifest.json
    <dir>/<file>            one file per response body, byte-exact

``manifest.json``::

    {"version": 1,
     "entries": {
        "GET /RJPS/WJ/wyszukiwanie/pobierzDaneJednostki.do?jednostkiIds=3499":
            {"file": "unit_3499.html", "content_type": "text/html;charset=UTF-8"},
        "POST /RJPS/WJ/wyszukiwanie/zaladujDane.do body-sha256=<hex>":
            {"file": "listing.json", "content_type": "application/json"}}}

An entry key is ``METHOD PATH[?QUERY]`` with the query parameters sorted (so the host does not matter and
the same directory replays against any base URL), followed for requests with a body by
`` body-sha256=<sha256 hex of the exact body bytes>``. `replay_key` computes it; `ReplayWriter` writes
such a directory. The HTTP client (`scrapers.http.HttpClient(replay_dir=...)`) answers from it.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

MANIFEST = "manifest.json"


def canonical_url(url: str, params: dict | None = None) -> str:
    """The URL with its query (own + `params`) sorted: two spellings of one request give one string."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(str(k), str(v)) for k, v in (params or {}).items()]
    qs = urlencode(sorted(query))
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{qs}" if qs else "")


def replay_key(method: str, url: str, body: bytes | None = None) -> str:
    """Host-independent key of a request, as used in manifest.json."""
    parts = urlsplit(canonical_url(url))
    key = f"{method.upper()} {parts.path}" + (f"?{parts.query}" if parts.query else "")
    if body:
        key += f" body-sha256={hashlib.sha256(body).hexdigest()}"
    return key


@dataclass(frozen=True)
class ReplayEntry:
    content: bytes
    content_type: str | None


class ReplayDir:
    """Read side: look a request up in a replay directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        self.entries: dict[str, dict] = manifest.get("entries", {})

    def lookup(self, method: str, url: str, body: bytes | None = None) -> ReplayEntry | None:
        entry = self.entries.get(replay_key(method, url, body))
        if entry is None:
            return None
        return ReplayEntry((self.path / entry["file"]).read_bytes(), entry.get("content_type"))


class ReplayWriter:
    """Write side: collect responses, then `save()` the manifest (bodies are written as they are added)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        manifest_path = self.path / MANIFEST
        self.entries: dict[str, dict] = (
            json.loads(manifest_path.read_text(encoding="utf-8")).get("entries", {})
            if manifest_path.exists() else {}
        )

    def add(self, method: str, url: str, content: bytes, content_type: str | None = None,
            body: bytes | None = None, filename: str | None = None) -> str:
        """Store one response; returns its manifest key."""
        key = replay_key(method, url, body)
        name = filename or _safe_name(key)
        (self.path / name).write_bytes(content)
        self.entries[key] = {"file": name, "content_type": content_type}
        return key

    def save(self) -> Path:
        manifest = {"version": 1, "entries": dict(sorted(self.entries.items()))}
        target = self.path / MANIFEST
        target.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return target


def _safe_name(key: str) -> str:
    # Readable but filesystem-safe; the hash suffix keeps distinct keys distinct.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", key.split(" body-sha256=")[0])[-80:].strip("_")
    return f"{stem}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
