"""Hardening shared by every page: security headers with a nonce-based CSP, CSRF, rate limits, honeypot."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# Keyed by the client address; behind a reverse proxy that is the real client only when the operator
# declares the proxy (TRUSTED_PROXIES: ProxyFix in create_app), never a header a client could forge.
# Memory storage is per process: with N gunicorn workers a client gets at most N times the limit;
# RATELIMIT_STORAGE_URI (e.g. redis://...) shares one count between them.
limiter = Limiter(key_func=get_remote_address, default_limits=[],
                  storage_uri=os.environ.get("RATELIMIT_STORAGE_URI") or "memory://")

HONEYPOT_FIELD = "strona_www"


def csp_nonce() -> str:
    """One random nonce per request, used by every <script> the page emits."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def relax_styles_for_frame() -> None:
    """Map frames are folium documents full of style attributes: allow inline styles there only."""
    g.csp_inline_styles = True


def nonce_scripts(html: str) -> str:
    """Give every <script> of a generated document (folium) this request's nonce instead of 'unsafe-inline'."""
    nonce = csp_nonce()
    return re.sub(r"<script(?=[\s>])", f'<script nonce="{nonce}"', html, flags=re.IGNORECASE)


def _origin(url: str) -> str:
    parts = urlsplit(url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def content_security_policy() -> str:
    tiles = _origin(current_app.config["SETTINGS"].tile_url)
    styles = "'self' 'unsafe-inline'" if g.get("csp_inline_styles") else "'self'"
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        f"style-src {styles}",
        f"img-src 'self' data: {tiles}".strip(),
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ))


def _set_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    hsts = current_app.config.get("HSTS_SECONDS", 0)
    if hsts:   # only when the operator serves HTTPS only (WSPARCIE_HTTPS=1, HSTS_SECONDS)
        response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
    return response


def honeypot_filled() -> bool:
    """Bots fill every field; people never see this one (hidden off-screen, not focusable)."""
    return bool(request.form.get(HONEYPOT_FIELD, "").strip())


def client_hash() -> str:
    """Salted hash of the client address: enough to spot abuse, not enough to identify a person."""
    salt = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"{salt}|{get_remote_address()}".encode()).hexdigest()[:32]


def report_rate_limit() -> str:
    return current_app.config["REPORT_RATE_LIMIT"]


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["honeypot_field"] = HONEYPOT_FIELD
