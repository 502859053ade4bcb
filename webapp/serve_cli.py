"""`wsparcie serve`: the site under gunicorn on Linux (forked workers, threads), waitress elsewhere.

Half-open connections (slowloris) are the reason for the custom worker below: gunicorn's gthread
worker hands a connection to a thread as soon as its first bytes arrive, and the thread then blocks
in the parser until the request head is complete. 120 clients that send half a request and hold
tie up every thread (measured: all real requests time out). `HeadFirstWorker` reads request heads
in the worker's event loop instead and gives a connection to a thread only once its head is
complete; a head that is not complete within HEAD_TIMEOUT_S is dropped. Slow bodies still hold a
thread (the site only accepts small forms, MAX_CONTENT_LENGTH): a buffering reverse proxy covers
those (docs/SECURITY.md).

Migrations and the secret key are done once here, before the workers fork: every worker must sign
sessions with the same key (and every node too: SECRET_KEY or SECRET_KEY_FILE; serve warns when a node
of a PostgreSQL catalog has neither), and web processes never migrate. Upgrades of several nodes started
at once serialise on a database lock (catalog.db.upgrade)."""
from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

import click

HEAD_TIMEOUT_S = 10.0           # time a client gets to send its whole request line and headers
MAX_HEAD_BYTES = 64 * 1024      # gunicorn's own limits reject larger heads; stop buffering there
WAITRESS_CONNECTION_LIMIT = 1000   # waitress stops accepting at 100 (its default) open connections


SHARED_KEY_WARNING = (
    "WARNING: the catalog is on a database server ({url}) but SECRET_KEY / SECRET_KEY_FILE is not set: "
    "this node signs forms and sessions with a key of its own data dir ({path}). If more than one node "
    "serves this catalog, a form served by one and posted to another fails (\"Formularz wygasł\"). "
    "Give every node the same SECRET_KEY or SECRET_KEY_FILE (README, \"Several nodes\")."
)


def _prepare() -> None:
    """Once per server, before any worker exists: schema upgrade (serialised with any other node's,
    catalog.db.upgrade), private data dir, the key every worker signs with."""
    from catalog import db
    from catalog.settings import load
    from webapp import SecretKeyError, prepare_data_dir, secret_key, shared_secret

    settings = load()
    prepare_data_dir(settings)
    db.upgrade(settings.database_url)
    try:
        secret_key(settings)
    except SecretKeyError as error:
        raise click.ClickException(str(error)) from error
    if not settings.database_url.startswith("sqlite") and not shared_secret(settings):
        from catalog.cli import _safe_url

        click.secho(SHARED_KEY_WARNING.format(url=_safe_url(settings.database_url),
                                              path=settings.data_dir / "secret_key"), err=True, fg="red")
    from geo import localities
    localities.register()   # loaded once in the master: forked workers start with it, not 1 s late each
    db.get_engine(settings.database_url).dispose()   # no pooled connection may cross the fork
    db.get_engine.cache_clear()


def _make_app():
    from webapp import create_app

    # Served for real: each worker process keeps its node's search index level with the shared catalog.
    return create_app({"AUTO_UPGRADE": False, "INDEX_FOLLOW": True})


def _serve_waitress(host: str, port: int, threads: int) -> None:
    from waitress import serve

    serve(_make_app(), host=host, port=port, threads=threads, ident="mapa-wsparcia",
          connection_limit=WAITRESS_CONNECTION_LIMIT, channel_timeout=30)


def gunicorn_options(host: str, port: int, workers: int, threads: int, timeout: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}" if ":" not in host else f"[{host}]:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "webapp.serve_cli.HeadFirstWorker",
        "timeout": timeout,               # a worker whose main loop stalls this long is replaced
        "graceful_timeout": 10,
        "keepalive": 5,
        "worker_connections": 1000,
        "limit_request_line": 4094,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "forwarded_allow_ips": "",        # proxy headers are trusted in one place only: TRUSTED_PROXIES
        "proc_name": "mapa-wsparcia",
        "control_socket_disable": True,   # gunicorn 27 would open a control socket in $HOME: nothing uses it
        "accesslog": None,
        "errorlog": "-",
    }


def _serve_gunicorn(options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return _make_app()

    _App().run()


@click.command("serve")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--server", "server", type=click.Choice(["auto", "gunicorn", "waitress"]), default="auto",
              show_default=True, help="auto: gunicorn on Linux, waitress elsewhere.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), envvar="WEB_WORKERS",
              show_envvar=True, help="Worker processes (gunicorn); one per core.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), envvar="WEB_THREADS",
              show_envvar=True, help="Threads per worker.")
@click.option("--timeout", default=30, show_default=True, type=click.IntRange(5, 600),
              help="Seconds before a stuck gunicorn worker is replaced.")
def serve_cmd(port: int, host: str, server: str = "auto", workers: int = 2, threads: int = 8,
              timeout: int = 30) -> None:
    """Serve the site and the API (settings from the environment, schema upgraded on start)."""
    if server == "auto":
        server = "gunicorn" if sys.platform.startswith("linux") else "waitress"
    _prepare()
    click.echo(f"Mapa Wsparcia: http://{host}:{port}/ ({server})", err=True)
    if server == "waitress":
        _serve_waitress(host, port, threads)
    else:
        _serve_gunicorn(gunicorn_options(host, port, workers, threads, timeout))


commands = [serve_cmd]


try:   # gunicorn runs on Unix only; on other systems `serve` uses waitress and this class is not needed
    import selectors

    from gunicorn.workers.gthread import ThreadWorker
except ImportError:  # pragma: no cover - non-Unix
    ThreadWorker = None

if ThreadWorker is not None:

    class HeadFirstWorker(ThreadWorker):
        """gthread worker that buffers each request head in its event loop (see the module docstring)."""

        def init_process(self) -> None:
            self.heading: dict[Any, tuple[bytearray, float]] = {}
            super().init_process()

        def enqueue_req(self, conn) -> None:
            buffered = conn.parser is not None and conn.parser.unreader.buf.getvalue()
            if self.cfg.is_ssl or buffered:
                super().enqueue_req(conn)
                return
            head, deadline = self.heading.pop(conn, (bytearray(), time.monotonic() + HEAD_TIMEOUT_S))
            state = _read_available(conn.sock, head)
            if state == "closed":
                self.nr_conns -= 1
                conn.close()
            elif state == "complete":
                conn.sock.setblocking(True)
                conn.init()
                conn.parser.unreader.unread(bytes(head))
                conn.data_ready = True
                super().enqueue_req(conn)
            else:
                self.heading[conn] = (head, deadline)
                self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._head_readable, conn))

        def _head_readable(self, conn, _sock) -> None:
            self.poller.unregister(conn.sock)
            self.enqueue_req(conn)

        def murder_pending(self) -> None:
            super().murder_pending()
            now = time.monotonic()
            for conn in [c for c, (_h, deadline) in self.heading.items() if deadline <= now]:
                del self.heading[conn]
                try:
                    self.poller.unregister(conn.sock)
                except (OSError, KeyError, ValueError):
                    pass
                self.nr_conns -= 1
                conn.close()


def _read_available(sock, head: bytearray) -> str:
    """Read what has arrived without blocking: 'complete', 'partial' or 'closed'."""
    sock.setblocking(False)
    while True:
        try:
            chunk = sock.recv(8192)
        except (BlockingIOError, InterruptedError):
            return "partial"
        except OSError:
            return "closed"
        if not chunk:
            return "closed"
        head += chunk
        if b"\r\n\r\n" in head or b"\n\n" in head or len(head) >= MAX_HEAD_BYTES:
            return "complete"
