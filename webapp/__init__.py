"""Flask application factory: settings from the environment, blueprints (one per area), error
handlers, hardening. It never migrates the catalog: `wsparcie init-db`/`upgrade`, and `serve` before
its workers fork, do (a web process that upgraded would race the others at start)."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from catalog import db as catalog_db
from catalog.settings import REPO_ROOT, Settings, load

log = logging.getLogger(__name__)

TEMPLATES_DIR = REPO_ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def prepare_data_dir(settings: Settings) -> None:
    """The data dir holds reporters' contact details (ErrorReport) and the session key: owner only.
    Created 0700; an existing one is tightened (when we own it: a reader running as another user
    cannot, and then only logs it)."""
    path = settings.data_dir
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as error:
        log.warning("cannot make the data dir %s private: %s", path, error)
    catalog_db.protect(settings.database_url)


class SecretKeyError(RuntimeError):
    """SECRET_KEY_FILE names a file that cannot be read or is empty: no node may sign with another key."""


def shared_secret(settings: Settings) -> bool:
    """Whether the key comes from shared configuration (SECRET_KEY or SECRET_KEY_FILE), not the data dir."""
    return bool(settings.secret_key or settings.secret_key_file)


def secret_key(settings: Settings) -> str:
    """SECRET_KEY from the environment, else the contents of SECRET_KEY_FILE, else a random key persisted
    in the data dir (stable across restarts, but private to this node: several nodes behind one address
    must share SECRET_KEY or SECRET_KEY_FILE, or a form served by one fails on another). When the key
    cannot be stored (disk full, read-only data dir) the site still starts, with a key for this process
    tree only (sessions and forms then end with the process)."""
    if settings.secret_key:
        return settings.secret_key
    if settings.secret_key_file is not None:
        try:
            key = settings.secret_key_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise SecretKeyError(f"SECRET_KEY_FILE {settings.secret_key_file}: {error}") from error
        if not key:
            raise SecretKeyError(f"SECRET_KEY_FILE {settings.secret_key_file} is empty")
        return key
    path = settings.data_dir / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip() or _new_secret_key(path)
    except FileNotFoundError:
        return _new_secret_key(path)


def _new_secret_key(path: Path) -> str:
    key = secrets.token_hex(32)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:   # another process created it first: everyone uses that one
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        return _unstored_key(key, path, error)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
    except OSError as error:
        path.unlink(missing_ok=True)   # never leave an empty or partial key behind
        return _unstored_key(key, path, error)
    return key


def _unstored_key(key: str, path: Path, error: OSError) -> str:
    log.error("cannot store the secret key in %s (%s): using a key for this process tree only", path, error)
    os.environ["SECRET_KEY"] = key   # forked web workers inherit it, so they all sign alike
    return key


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str] | None:
    values = [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]
    return values or None


def _proxy_count() -> int:
    """TRUSTED_PROXIES: how many reverse proxies in front of the site set X-Forwarded-* (0: none)."""
    raw = os.environ.get("TRUSTED_PROXIES", "").strip()
    return int(raw) if raw.isdigit() else 0


def _https_config() -> dict[str, Any]:
    """WSPARCIE_HTTPS=1: the site is reached over HTTPS only (session cookie Secure, HSTS on request)."""
    https = _env_flag("WSPARCIE_HTTPS")
    hsts = os.environ.get("HSTS_SECONDS", "").strip()
    return {
        "SESSION_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "HSTS_SECONDS": int(hsts) if https and hsts.isdigit() else 0,
    }


def _register_blueprints(app: Flask) -> None:
    from webapp import api, views_info, views_map, views_powiat, views_public
    from webapp.security import csrf

    for module in (views_public, views_powiat, views_map, views_info, api):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)   # read-only JSON, no cookies-based state to protect
    views_map.init_app(app)


def _shared_context() -> dict[str, Any]:
    from webapp import db as web_db
    from webapp import lookup, page_queries

    def demo() -> bool:   # lazily: error pages may render without a working DB
        try:
            return page_queries.has_demo(web_db.session())
        except Exception:
            log.exception("demo check failed")
            return False

    return {"is_demo_catalog": demo, "search_fallback_notice": lookup.FALLBACK_NOTICE}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the site. `config` overrides Flask config keys; "SETTINGS" may carry a ready Settings."""
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR), static_folder=str(STATIC_DIR))
    config = dict(config or {})
    settings: Settings = config.pop("SETTINGS", None) or load()
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=secret_key(settings),
        MAX_CONTENT_LENGTH=64 * 1024,            # only small forms are ever posted
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REPORT_RATE_LIMIT=os.environ.get("REPORT_RATE_LIMIT") or "5 per minute;30 per day",
        WTF_CSRF_TIME_LIMIT=None,                # a long-open page must still be able to report
        TRUSTED_HOSTS=_env_list("TRUSTED_HOSTS"),  # Host headers accepted (None: any; see SECURITY.md)
        TRUSTED_PROXIES=_proxy_count(),
        **_https_config(),
    )
    app.config.update(config)
    app.json.ensure_ascii = False                # Polish letters as they are in the JSON API
    # werkzeug answers "//x" and "/a//b" with a redirect to an absolute URL built from the Host
    # header (an open redirect via a forged Host); no URL of the site needs slashes merged.
    app.url_map.merge_slashes = False
    prepare_data_dir(settings)
    if app.config["TRUSTED_PROXIES"]:
        # Only as many hops as the operator declared: a client cannot forge its address past them.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    from webapp import db as web_db
    from webapp import errors, i18n, lookup, present, security
    i18n.init_app(app)   # Flask-Babel: `_()` in templates and code; the locale is the page's
    web_db.init_app(app)
    lookup.init_app(app)
    security.init_app(app)
    present.init_app(app)
    _register_blueprints(app)
    from webapp import type_styles
    type_styles.init_app(app)   # /static-gen/types.css, built from catalog/types.py
    from webapp import hsds_api
    hsds_api.init_app(app)   # the HSDS 3.0 API under /api/hsds/
    from webapp import report_queue
    report_queue.init_app(app)   # open reports on /zrodla and on institution pages
    from webapp import http_cache
    http_cache.init_app(app)   # gzip; catalog-state ETag/Last-Modified on API answers
    errors.init_app(app)
    app.context_processor(_shared_context)
    _init_follower(app)
    return app


FOLLOWER = "wsparcie.index_follower"


def _init_follower(app: Flask) -> None:
    """INDEX_FOLLOW (set by `wsparcie serve`): this process keeps its node's index level with the shared
    catalog (index.follow), in a thread started by the first request the process serves (so a forked
    worker starts its own)."""
    from index.follow import Follower

    settings: Settings = app.config["SETTINGS"]
    if not app.config.get("INDEX_FOLLOW") or settings.index_follow_interval <= 0:
        return
    follower = app.extensions[FOLLOWER] = Follower(settings, settings.index_follow_interval)
    app.before_request(follower.ensure_started)
