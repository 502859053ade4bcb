"""Flask application factory: settings from the environment, schema upgrade, blueprints, hardening."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from catalog import db
from catalog.settings import REPO_ROOT, Settings, load

log = logging.getLogger(__name__)

TEMPLATES_DIR = REPO_ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _secret_key(settings: Settings) -> str:
    """SECRET_KEY from the environment, else a random key persisted in the data dir (stable across restarts)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


def _register_api(app: Flask) -> None:
    from webapp import api
    from webapp.security import csrf

    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)   # read-only JSON, no cookies-based state to protect


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the site. `config` overrides Flask config keys; "SETTINGS" may carry a ready Settings."""
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR), static_folder=str(STATIC_DIR))
    config = dict(config or {})
    settings: Settings = config.pop("SETTINGS", None) or load()
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=64 * 1024,            # only small forms are ever posted
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REPORT_RATE_LIMIT=os.environ.get("REPORT_RATE_LIMIT") or "5 per minute;30 per day",
        WTF_CSRF_TIME_LIMIT=None,                # a long-open page must still be able to report
    )
    app.config.update(config)
    app.json.ensure_ascii = False                # Polish letters as they are in the JSON API
    if app.config.get("AUTO_UPGRADE", True):
        db.upgrade(settings.database_url)

    from webapp import present, security, views

    security.init_app(app)
    present.init_app(app)
    app.register_blueprint(views.bp)
    _register_api(app)
    views.register_error_pages(app)
    return app
