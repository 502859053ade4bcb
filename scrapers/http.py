"""The shared polite HTTP client every source adapter fetches through.

What it guarantees, whichever mode it runs in (live, local test server, replay directory):
* politeness: at most one request per `settings.rate_limit(source)` seconds per host, identifying
  User-Agent, retries with exponential back-off + jitter on timeouts, connection errors, 5xx and 429
  (Retry-After honoured up to `HTTP_RETRY_AFTER_MAX`), then `FetchError`; other 4xx fail at once;
* limits on everything a source sends: a body is streamed and cut off past `HTTP_MAX_RESPONSE_BYTES` on
  the wire and `HTTP_MAX_DECODED_BYTES` after gzip/deflate decoding (a compression bomb stops early and
  is never stored); one request, retries included, ends by `HTTP_REQUEST_DEADLINE` however slowly the
  server drips; a source run ends by its run deadline (`Settings.run_deadline`), after which requests
  fail at once; after `HTTP_HOST_FAILURE_LIMIT` consecutive failed requests a host is not asked again
  in this run (a hanging register costs minutes, not days);
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
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpcore
import httpx
from sqlmodel import select
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_any
from tenacity.wait import wait_exponential_jitter

from catalog.db import session_scope
from catalog.models import RawCapture
from catalog.settings import Settings
from scrapers.documents import textfix
from scrapers.documents.textfix import DecodedText
from scrapers.replay import ReplayDir, ReplayWriter, canonical_url

log = logging.getLogger(__name__)

MAX_REDIRECTS = 10
ACCEPT_ENCODING = "gzip, deflate"   # what _BodyDecoder decodes (bounded); anything else is refused


class FetchError(Exception):
    """A request that could not be answered (after retries where retrying makes sense)."""

    def __init__(self, url: str, reason: str, status_code: int | None = None) -> None:
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason
        self.status_code = status_code


class ResponseTooLarge(FetchError):
    """The body passed a size limit; nothing of it is stored."""


class DeadlineExceeded(FetchError):
    """The request (or the whole source run) ran out of time."""


class RunDeadlineExceeded(DeadlineExceeded):
    """The source run's deadline has passed: the request was not sent."""


class UndecodableBody(FetchError):
    """A text body that is neither its declared charset nor a repairable mix (reported, never guessed)."""


@dataclass(frozen=True)
class Budget:
    """When a request must be over (time.monotonic) and the limit that says so (for messages)."""

    at: float
    label: str

    def remaining(self) -> float:
        return self.at - time.monotonic()


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
        """The body as text; raises UndecodableBody rather than silently replacing characters."""
        return decode_text(self.content, self.headers.get("content-type"), self.url).text

    def json(self) -> Any:
        return json.loads(self.content)


def decode_body(content: bytes, content_type: str | None, url: str = "") -> str:
    """Charset from the Content-Type header when it is there and works; otherwise detect it."""
    return decode_text(content, content_type, url).text


def decode_text(content: bytes, content_type: str | None, url: str = "") -> DecodedText:
    """The one text decoder (scrapers.documents.textfix), its failure as a FetchError of this URL."""
    try:
        return textfix.decode_text(content, content_type, url)
    except textfix.UndecodableText as exc:
        raise UndecodableBody(url, str(exc)) from exc


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


# -- time and size limits below httpx ---------------------------------------------------------------

# The monotonic time by which the request running in this thread must be over. Read by _DeadlineStream on
# every socket operation, so connect, TLS, headers and body all end by then, however slowly bytes drip.
_DEADLINE = threading.local()


def _clamp(timeout: float | None) -> float | None:
    at = getattr(_DEADLINE, "at", None)
    if at is None:
        return timeout
    remaining = at - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("request deadline reached")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _clamp(timeout), local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """httpx's own transport on a connection pool whose sockets obey the per-request deadline.
    (httpx 0.28 has no public hook for a network backend; the pool attribute is pinned with httpx.)"""
    transport = httpx.HTTPTransport()
    transport._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                              network_backend=_DeadlineBackend())
    return transport


class _ZlibStage:
    """One gzip or deflate layer, decompressed at most `limit` bytes at a time (zlib's max_length)."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding, self.limit, self.produced = encoding, limit, 0
        self._zlib: Any = None

    def feed(self, data: bytes) -> bytes:
        if self._zlib is None:
            self._zlib = zlib.decompressobj(self._wbits(data))
        out = []
        while data and not self._zlib.eof:
            out.append(self._take(self._zlib.decompress(data, self.limit - self.produced + 1)))
            data = self._zlib.unconsumed_tail
        return b"".join(out)

    def finish(self) -> bytes:
        if self._zlib is None or self._zlib.eof:
            return b""
        return self._take(self._zlib.flush(self.limit - self.produced + 1))

    def _take(self, chunk: bytes) -> bytes:
        self.produced += len(chunk)
        if self.produced > self.limit:
            raise _Oversize("decoded")
        return chunk

    def _wbits(self, head: bytes) -> int:
        if self.encoding in ("gzip", "x-gzip"):
            return 16 + zlib.MAX_WBITS
        # "deflate" should be zlib-wrapped, some servers send it raw: the zlib header says which.
        wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS


class _Oversize(Exception):
    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


class _BodyDecoder:
    """Undo Content-Encoding layers (applied in header order, undone in reverse) within a size limit."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        names = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        names = [n for n in names if n != "identity"]
        unknown = [n for n in names if n not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise ValueError(f"unsupported Content-Encoding {', '.join(unknown)!r} (we ask for {ACCEPT_ENCODING})")
        self.stages = [_ZlibStage(n, limit) for n in reversed(names)]
        self.limit = limit
        self.body = bytearray()

    def feed(self, data: bytes) -> None:
        for stage in self.stages:
            data = stage.feed(data)
        self._append(data)

    def finish(self) -> bytes:
        for i, stage in enumerate(self.stages):
            tail = stage.finish()
            for later in self.stages[i + 1:]:
                tail = later.feed(tail)
            self._append(tail)
        return bytes(self.body)

    def _append(self, data: bytes) -> None:
        if len(self.body) + len(data) > self.limit:
            raise _Oversize("decoded")
        self.body += data


@dataclass
class _Reply:
    status_code: int
    headers: httpx.Headers
    content: bytes = b""


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
                 limiter: HostRateLimiter | None = None, transport: httpx.BaseTransport | None = None,
                 captures_only: bool = False) -> None:
        """record=False: no RawCapture rows or capture files (no database needed).
        captures_only: never the network; every request is answered by the newest stored capture of the
        same request (any run), or fails with FetchError (`wsparcie reparse`).
        record_dir: also write every live 200 response into a replay directory (captures for fixtures).
        backoff: first retry pause in seconds (doubles per attempt, plus jitter)."""
        self.settings = settings
        self.source_key = source_key
        self.run_id = run_id
        self.resume_run_id = resume_run_id
        self.record = record
        self.captures_only = captures_only
        self.delay = settings.rate_limit(source_key)
        self.backoff = backoff
        self.limiter = limiter or DEFAULT_LIMITER
        self.replay = ReplayDir(replay_dir) if replay_dir else None
        self.recorder = ReplayWriter(record_dir) if record_dir else None
        self.requests_sent = 0   # network requests actually made (retries included)
        # The run's deadline starts with its client: one client serves one source run.
        run_seconds = settings.run_deadline(source_key)
        self.run_ends = None if run_seconds is None else time.monotonic() + run_seconds
        self.run_label = (f"the {run_seconds or 0:g} s deadline of this {source_key} run "
                          f"({source_key.upper().replace('-', '_')}_RUN_DEADLINE or SOURCE_RUN_DEADLINE)")
        self.deadline_reached = False
        self._host_failures: dict[str, int] = {}
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
        if self.captures_only:
            return self._from_captures(url, key)
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

    def _send_with_retries(self, method: str, url: str, body: bytes | None, headers: dict) -> _Reply:
        host = httpx.URL(url).host
        self._check_host(url, host)
        budget = self._budget(url)
        exponential = wait_exponential_jitter(multiplier=self.backoff, max=60, jitter=self.backoff)
        cap = self.settings.http_retry_after_max

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                return min(exc.retry_after, cap)
            return exponential(state)

        def out_of_time(state: RetryCallState) -> bool:
            return state.upcoming_sleep >= budget.remaining()

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s %s failed (%s), retry %d", method, url, exc, state.attempt_number)

        attempts = max(1, self.settings.http_retries)
        retrying = Retrying(stop=stop_any(stop_after_attempt(attempts), out_of_time), wait=wait,
                            retry=retry_if_exception_type(_Transient), before_sleep=log_retry, reraise=True)
        try:
            reply = retrying(self._send_once, method, url, body, headers, budget)
        except _Transient as exc:
            self._host_failed(host)
            done = retrying.statistics.get("attempt_number", attempts)
            why = "" if done >= attempts else f"; no time for another attempt within {budget.label}"
            if exc.retry_after is not None and exc.retry_after > cap:
                why += f"; the server asked to wait {exc.retry_after:.0f} s (Retry-After, we wait at most {cap:g} s)"
            tries = f"{done} attempt" + ("s" if done != 1 else "")
            raise FetchError(url, f"{exc.reason} after {tries}{why}", exc.status_code) from exc
        except DeadlineExceeded:
            self._host_failed(host)
            raise
        with self._lock:
            self._host_failures[host] = 0
        return reply

    def _budget(self, url: str) -> Budget:
        """The time left for one request: HTTP_REQUEST_DEADLINE, or less when the run ends sooner."""
        now = time.monotonic()
        budget = Budget(now + self.settings.http_request_deadline,
                        f"HTTP_REQUEST_DEADLINE={self.settings.http_request_deadline:g} s")
        if self.run_ends is None or self.run_ends >= budget.at:
            return budget
        if self.run_ends <= now:
            self.deadline_reached = True
            raise RunDeadlineExceeded(url, f"not sent: {self.run_label} has passed")
        return Budget(self.run_ends, self.run_label)

    def _check_host(self, url: str, host: str) -> None:
        limit = self.settings.http_host_failure_limit
        failures = self._host_failures.get(host, 0)
        if limit > 0 and failures >= limit:
            raise FetchError(url, f"not sent: the last {failures} requests to {host} failed "
                                  f"(HTTP_HOST_FAILURE_LIMIT={limit})")

    def _host_failed(self, host: str) -> None:
        with self._lock:
            self._host_failures[host] = self._host_failures.get(host, 0) + 1

    def _deadline_error(self, url: str, budget: Budget) -> DeadlineExceeded:
        if budget.label == self.run_label:
            self.deadline_reached = True
            return RunDeadlineExceeded(url, f"no complete answer before {budget.label} passed")
        return DeadlineExceeded(url, f"no complete answer within {budget.label}")

    def _send_once(self, method: str, url: str, body: bytes | None, headers: dict, budget: Budget) -> _Reply:
        self.limiter.wait(httpx.URL(url).host, self.delay)
        if budget.remaining() <= 0:
            raise self._deadline_error(url, budget)
        with self._lock:
            self.requests_sent += 1
        _DEADLINE.at = budget.at
        try:
            return self._exchange(method, url, body, headers)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if budget.remaining() <= 0:
                raise self._deadline_error(url, budget) from exc
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
        finally:
            _DEADLINE.at = None

    def _exchange(self, method: str, url: str, body: bytes | None, headers: dict) -> _Reply:
        """Send and read one answer, following redirects by hand so no body is read without limits."""
        client = self._client()
        request = client.build_request(method, url, content=body, headers=headers)
        for _ in range(MAX_REDIRECTS + 1):
            reply = client.send(request, stream=True)
            try:
                if reply.next_request is None:
                    return self._accept(reply, url)
                request = reply.next_request
            finally:
                reply.close()
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _accept(self, reply: httpx.Response, url: str) -> _Reply:
        status = reply.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}", status, _retry_after(reply.headers.get("retry-after")))
        if status >= 400:
            raise FetchError(url, f"HTTP {status}", status)
        content = b"" if status == 304 else self._read_limited(reply, url)
        return _Reply(status, reply.headers, content)

    def _read_limited(self, reply: httpx.Response, url: str) -> bytes:
        """Stream the body, stopping as soon as it passes the wire or the decoded size limit."""
        wire_limit, decoded_limit = self.settings.http_max_response_bytes, self.settings.http_max_decoded_bytes
        declared = reply.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > wire_limit:
            raise ResponseTooLarge(url, f"response of {int(declared)} bytes is over the limit of {wire_limit} "
                                        "bytes (HTTP_MAX_RESPONSE_BYTES)", reply.status_code)
        encoding = reply.headers.get("content-encoding")
        try:
            decoder = _BodyDecoder(encoding, decoded_limit)
        except ValueError as exc:
            raise FetchError(url, str(exc), reply.status_code) from exc
        received = 0
        try:
            for chunk in reply.iter_raw():
                received += len(chunk)
                if received > wire_limit:
                    raise _Oversize("wire")
                decoder.feed(chunk)
            return decoder.finish()
        except _Oversize as exc:
            if exc.where == "wire":
                reason = f"response passed the limit of {wire_limit} bytes (HTTP_MAX_RESPONSE_BYTES); cut off"
            else:
                reason = (f"{encoding} body decodes to more than {decoded_limit} bytes "
                          f"(HTTP_MAX_DECODED_BYTES) from {received} bytes received; cut off")
            raise ResponseTooLarge(url, reason, reply.status_code) from exc
        except zlib.error as exc:
            raise FetchError(url, f"corrupt {encoding} body: {exc}", reply.status_code) from exc

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    headers={"User-Agent": self.settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
                    timeout=self.settings.http_timeout,
                    follow_redirects=False,
                    transport=self._transport or deadline_transport(),
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

    def _from_captures(self, url: str, key: str) -> Response:
        """The stored answer to this request; its capture id is kept, so records point at those bytes."""
        stored = self._previous_capture(key, need_validator=False)
        if stored is None:
            raise FetchError(url, "not in the stored captures")
        return self._stored_response(stored, stored.url, stored.id)

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
