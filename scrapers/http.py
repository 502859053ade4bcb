"""The shared polite HTTP client every source adapter fetches through.

What it guarantees, whichever mode it runs in (live, local test server, replay directory):
* politeness: at most one request per `settings.rate_limit(source)` seconds per host, identifying
  User-Agent, retries with exponential back-off + jitter on timeouts, connection errors, 5xx and 429
  (Retry-After honoured up to a cap), then `FetchError`; other 4xx fail at once;
* provenance: every 200 body is stored content-addressed under `captures_dir/<sha[:2]>/<sha>` and a
  `RawCapture` row is committed in its own short transaction, so a record traces to its bytes even when
  the later merge fails;
* conditional requests (If-None-Match / If-Modified-Since from the newest earlier capture; 304 -> the
  stored bytes), resumable runs (`resume_run_id`: requests already answered in that run come from disk),
  and replay (`replay_dir`, layout in `scrapers.replay`).
"""
from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import charset_normalizer
import httpx
from sqlmodel import select
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from catalog.db import session_scope
from catalog.models import RawCapture
from catalog.settings import Settings
from scrapers.replay import ReplayDir, ReplayWriter, canonical_url

log = logging.getLogger(__name__)

RETRY_AFTER_CAP = 120.0   # seconds; a server asking for longer is treated like any other failure


class FetchError(Exception):
    """A request that could not be answered (after retries where retrying makes sense)."""

    def __init__(self, url: str, reason: str, status_code: int | None = None) -> None:
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason
        self.status_code = status_code


class _Transient(Exception):
    """A failure worth retrying; `retry_after` is the server's requested pause, if any."""

    def __init__(self, reason: str, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass
class Response:
    status_code: int
    content: bytes
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    url: str = ""
    capture_id: int | None = None
    from_cache: bool = False

    @property
    def text(self) -> str:
        return decode_body(self.content, self.headers.get("content-type"))

    def json(self) -> Any:
        return json.loads(self.content)


def decode_body(content: bytes, content_type: str | None) -> str:
    """Charset from the Content-Type header when it is there and works; otherwise detect it."""
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    if match:
        try:
            return content.decode(match.group(1))
        except (LookupError, UnicodeDecodeError):
            pass
    best = charset_normalizer.from_bytes(content).best()
    return str(best) if best is not None else content.decode("utf-8", errors="replace")


def json_body(payload: Any) -> bytes:
    """The exact bytes post_json sends (compact, key order kept): stable request keys and replay keys."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def request_key(method: str, url: str, body: bytes | None = None) -> str:
    """sha256 of method + canonical URL (sorted query) + body: the identity of what was asked."""
    digest = hashlib.sha256(f"{method.upper()} {canonical_url(url)}\n".encode())
    digest.update(body or b"")
    return digest.hexdigest()


class HostRateLimiter:
    """Spaces requests per host: each caller reserves the next free slot (thread-safe, monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, host: str, delay: float) -> float:
        """Book a slot for one request to `host`; returns how long the caller must wait for it."""
        if delay <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + delay
            return slot - now

    def wait(self, host: str, delay: float) -> None:
        pause = self.reserve(host, delay)
        if pause > 0:
            self._sleep(pause)


# One limiter per process, so two clients (or a resumed run) never double the rate on one host.
DEFAULT_LIMITER = HostRateLimiter()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpClient:
    """`with HttpClient(settings, "rjps", run_id=...) as client: client.get(url)`."""

    def __init__(self, settings: Settings, source_key: str, run_id: int | None = None,
                 resume_run_id: int | None = None, replay_dir: str | Path | None = None, *,
                 record: bool = True, record_dir: str | Path | None = None, backoff: float = 1.0,
                 limiter: HostRateLimiter | None = None, transport: httpx.BaseTransport | None = None) -> None:
        """record=False: no RawCapture rows or capture files (no database needed).
        record_dir: also write every live 200 response into a replay directory (captures for fixtures).
        backoff: first retry pause in seconds (doubles per attempt, plus jitter)."""
        self.settings = settings
        self.source_key = source_key
        self.run_id = run_id
        self.resume_run_id = resume_run_id
        self.record = record
        self.delay = settings.rate_limit(source_key)
        self.backoff = backoff
        self.limiter = limiter or DEFAULT_LIMITER
        self.replay = ReplayDir(replay_dir) if replay_dir else None
        self.recorder = ReplayWriter(record_dir) if record_dir else None
        self.requests_sent = 0   # network requests actually made (retries included)
        self._transport = transport
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    # -- public interface -------------------------------------------------------------------------

    def get(self, url: str, params: dict | None = None, headers: dict | None = None) -> Response:
        return self._request("GET", canonical_url(url, params), None, headers or {})

    def post_json(self, url: str, payload: Any, headers: dict | None = None) -> Response:
        body = json_body(payload)
        extra = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        return self._request("POST", canonical_url(url), body, extra)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.recorder is not None:
            self.recorder.save()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- request flow -----------------------------------------------------------------------------

    def _request(self, method: str, url: str, body: bytes | None, headers: dict) -> Response:
        key = request_key(method, url, body)
        if self.replay is not None:
            return self._from_replay(method, url, body, key)
        if self.resume_run_id is not None and self.record:
            resumed = self._from_resume(key)
            if resumed is not None:
                return resumed
        previous = self._previous_capture(key) if self.record else None
        conditional = dict(headers)
        if previous is not None:
            if previous.etag:
                conditional["If-None-Match"] = previous.etag
            if previous.last_modified:
                conditional["If-Modified-Since"] = previous.last_modified
        reply = self._send_with_retries(method, url, body, conditional)
        if reply.status_code == 304:
            if previous is None:
                raise FetchError(url, "HTTP 304 without a stored copy", 304)
            return self._stored_response(previous, url, previous.id)
        response = Response(reply.status_code, reply.content, reply.headers, url)
        if reply.status_code == 200:
            response.capture_id = self._capture(method, url, key, reply.content, reply.headers, 200)
            if self.recorder is not None:
                with self._lock:
                    self.recorder.add(method, url, reply.content, reply.headers.get("content-type"), body)
        return response

    def _send_with_retries(self, method: str, url: str, body: bytes | None, headers: dict) -> httpx.Response:
        exponential = wait_exponential_jitter(multiplier=self.backoff, max=60, jitter=self.backoff)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                return min(exc.retry_after, RETRY_AFTER_CAP)
            return exponential(state)

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s %s failed (%s), retry %d", method, url, exc, state.attempt_number)

        retrying = Retrying(stop=stop_after_attempt(max(1, self.settings.http_retries)), wait=wait,
                            retry=retry_if_exception_type(_Transient), before_sleep=log_retry, reraise=True)
        try:
            return retrying(self._send_once, method, url, body, headers)
        except _Transient as exc:
            raise FetchError(url, f"{exc.reason} after {self.settings.http_retries} attempts",
                             exc.status_code) from exc

    def _send_once(self, method: str, url: str, body: bytes | None, headers: dict) -> httpx.Response:
        self.limiter.wait(httpx.URL(url).host, self.delay)
        with self._lock:
            self.requests_sent += 1
        try:
            reply = self._client().request(method, url, content=body, headers=headers)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
        status = reply.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}", status, _retry_after(reply.headers.get("retry-after")))
        if status >= 400:
            raise FetchError(url, f"HTTP {status}", status)
        return reply

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    headers={"User-Agent": self.settings.user_agent},
                    timeout=self.settings.http_timeout,
                    follow_redirects=True,
                    transport=self._transport,
                )
            return self._http

    # -- replay, resume, conditional --------------------------------------------------------------

    def _from_replay(self, method: str, url: str, body: bytes | None, key: str) -> Response:
        assert self.replay is not None
        entry = self.replay.lookup(method, url, body)
        if entry is None:
            raise FetchError(url, "not in replay dir")
        headers = httpx.Headers({"content-type": entry.content_type} if entry.content_type else {})
        capture_id = self._capture(method, url, key, entry.content, headers, 200)
        return Response(200, entry.content, headers, url, capture_id, from_cache=True)

    def _from_resume(self, key: str) -> Response | None:
        stored = self._previous_capture(key, run_id=self.resume_run_id, need_validator=False)
        if stored is None:
            return None
        content = self._read_body(stored.content_hash)
        if content is None:
            return None
        capture_id = stored.id
        if self.run_id is not None and self.run_id != self.resume_run_id:
            # A row for this run too, so a run resumed twice still finds what it already has.
            capture_id = self._capture(stored.method, stored.url, key, content,
                                       _stored_headers(stored), 200)
        return Response(200, content, _stored_headers(stored), stored.url, capture_id, from_cache=True)

    def _previous_capture(self, key: str, run_id: int | None = None,
                          need_validator: bool = True) -> RawCapture | None:
        query = select(RawCapture).where(RawCapture.request_key == key, RawCapture.status_code == 200)
        if run_id is not None:
            query = query.where(RawCapture.run_id == run_id)
        if need_validator:
            query = query.where((RawCapture.etag.is_not(None)) | (RawCapture.last_modified.is_not(None)))
        with session_scope(self.settings.database_url) as session:
            row = session.exec(query.order_by(RawCapture.id.desc()).limit(1)).first()
        if row is None or not self._body_path(row.content_hash).exists():
            return None
        return row

    def _stored_response(self, stored: RawCapture, url: str, capture_id: int | None) -> Response:
        content = self._read_body(stored.content_hash)
        if content is None:
            raise FetchError(url, "stored capture body is missing")
        return Response(200, content, _stored_headers(stored), url, capture_id, from_cache=True)

    # -- captures ---------------------------------------------------------------------------------

    def _body_path(self, content_hash: str) -> Path:
        return self.settings.captures_dir / content_hash[:2] / content_hash

    def _read_body(self, content_hash: str) -> bytes | None:
        path = self._body_path(content_hash)
        return path.read_bytes() if path.exists() else None

    def _capture(self, method: str, url: str, key: str, content: bytes, headers: httpx.Headers,
                 status: int) -> int | None:
        if not self.record:
            return None
        content_hash = hashlib.sha256(content).hexdigest()
        path = self._body_path(content_hash)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{content_hash}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(content)
            os.replace(tmp, path)   # atomic: a reader never sees half a body
        row = RawCapture(
            source=self.source_key, url=url, method=method, request_key=key, content_hash=content_hash,
            status_code=status, content_type=headers.get("content-type"), etag=headers.get("etag"),
            last_modified=headers.get("last-modified"), size=len(content), run_id=self.run_id,
        )
        with session_scope(self.settings.database_url) as session:
            session.add(row)
            session.flush()
            return row.id


def _stored_headers(stored: RawCapture) -> httpx.Headers:
    pairs = {"content-type": stored.content_type, "etag": stored.etag, "last-modified": stored.last_modified}
    return httpx.Headers({k: v for k, v in pairs.items() if v})
