"""Compression and catalog-state validators for every answer of the site (one after_request hook).

* gzip for HTML, JSON, GeoJSON, JSON lines and CSV when the client accepts it (streamed exports are
  compressed as they stream); `Vary: Accept-Encoding` always, so caches keep both forms apart.
* static text assets (CSS, JS: Leaflet alone is 148 kB, 42 kB gzipped) are sent gzipped from a small
  per-process cache keyed by file, mtime and size; their ETag becomes weak, as the bytes differ from
  the file's while the content is the same, so revalidation still answers 304.
* API exports (streamed, so no body hash exists) get an ETag and Last-Modified tied to the catalog state
  (newest change and row count) and the query string: an unchanged catalog answers 304 Not Modified.
  Other API answers keep the body-hash ETag of webapp/api.py and gain Last-Modified.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from flask import Flask, Response, current_app, request
from sqlalchemy import func
from sqlmodel import select
from werkzeug.security import safe_join

from catalog.models import Institution
from webapp.db import session

COMPRESSIBLE = {"text/html", "application/json", "application/geo+json", "application/x-ndjson", "text/csv",
                "text/plain", "text/css", "application/javascript", "text/javascript"}
MIN_SIZE = 512          # below this gzip's header costs more than it saves
LEVEL = 6


def catalog_state() -> tuple[datetime | None, int]:
    newest, count = session().exec(select(func.max(Institution.updated_at), func.count(Institution.id))).one()
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return newest, count


def _state_tag() -> tuple[datetime | None, str]:
    """(newest change, ETag) of this request's answer as the catalog stands now (once per request)."""
    # Kept in the request's environ, not on g: an app context may outlive one request (tests, CLI).
    cached = request.environ.get("wsparcie.catalog_tag")
    if cached is None:
        newest, count = catalog_state()
        cached = newest, hashlib.sha256(f"{newest}|{count}|{request.full_path}".encode()).hexdigest()[:32]
        request.environ["wsparcie.catalog_tag"] = cached
    return cached


def _is_export() -> bool:
    return request.method in ("GET", "HEAD") and request.path.startswith("/api/export")


def _not_modified() -> Response | None:
    """A 304 for an export the client already has, before any stream (and its session) starts."""
    if not _is_export() or not (request.if_none_match or request.if_modified_since):
        return None
    newest, tag = _state_tag()
    fresh = tag in request.if_none_match or (
        not request.if_none_match and newest is not None and request.if_modified_since is not None
        and newest.replace(microsecond=0) <= request.if_modified_since)
    if not fresh:
        return None
    response = Response(status=304)
    response.set_etag(tag)
    if newest is not None:
        response.last_modified = newest
    return response


def _validators(response: Response) -> Response:
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or not request.path.startswith("/api/"):
        return response
    newest, tag = _state_tag()
    if newest is not None:
        response.last_modified = newest
    if response.is_streamed and "ETag" not in response.headers:
        response.set_etag(tag)   # a stream has no body hash: the catalog state stands for it
    return response


def _gzip_stream(chunks: Iterable[bytes | str]) -> Iterator[bytes]:
    encoder = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)   # 16+: a gzip container
    for chunk in chunks:
        data = encoder.compress(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        if data:
            yield data
    yield encoder.flush()


STATIC_CACHE_FILES = 64
_static_gzip: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
_static_lock = threading.Lock()


def _gzipped_static_file() -> bytes | None:
    """The requested static file, gzipped (cached per file version); None when it is not one."""
    filename = (request.view_args or {}).get("filename")
    path = safe_join(current_app.static_folder or "", filename) if filename else None
    try:
        stat = os.stat(path) if path else None
    except OSError:
        return None
    if stat is None or stat.st_size < MIN_SIZE:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _static_lock:
        if (body := _static_gzip.get(key)) is not None:
            _static_gzip.move_to_end(key)
            return body
    with open(path, "rb") as fh:
        body = gzip.compress(fh.read(), LEVEL, mtime=0)
    with _static_lock:
        _static_gzip[key] = body
        while len(_static_gzip) > STATIC_CACHE_FILES:
            _static_gzip.popitem(last=False)
    return body


def _compress_static(response: Response) -> Response:
    body = _gzipped_static_file() if request.endpoint == "static" else None
    if body is None:
        return response
    response.close()                      # the open file Flask meant to pass through
    response.direct_passthrough = False
    response.set_data(body)
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    response.headers["Content-Encoding"] = "gzip"
    return response


def _compress(response: Response) -> Response:
    response.vary.add("Accept-Encoding")
    if ("gzip" not in request.accept_encodings or response.status_code != 200
            or "Content-Encoding" in response.headers or response.mimetype not in COMPRESSIBLE
            or request.method == "HEAD"):
        return response
    # direct_passthrough: a file sent as it is (static assets); its body is the file's, read there.
    if response.direct_passthrough:
        return _compress_static(response)
    if response.is_streamed:
        response.response = _gzip_stream(response.response)
        response.headers.pop("Content-Length", None)
    else:
        body = response.get_data()
        if len(body) < MIN_SIZE:
            return response
        response.set_data(gzip.compress(body, LEVEL, mtime=0))   # mtime 0: equal bodies, equal bytes
    response.headers["Content-Encoding"] = "gzip"
    return response


def _after(response: Response) -> Response:
    return _compress(_validators(response))


def init_app(app: Flask) -> None:
    app.before_request(_not_modified)
    app.after_request(_after)
