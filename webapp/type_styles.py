"""The per-type stylesheet, generated from catalog/types.py so a new type needs no CSS edit.

The CSP forbids inline styles, so badge colours cannot be written into the pages; they are served as a
same-origin stylesheet instead. Its body depends only on the type registry: the ETag is its hash, and the
link carries the hash as a version, so browsers may keep it for a year and still see a changed palette."""
from __future__ import annotations

import hashlib
from functools import cache

from flask import Blueprint, Flask, Response, request, url_for

from catalog.types import TYPES

bp = Blueprint("type_styles", __name__)
_ONE_YEAR = 365 * 24 * 3600


@cache
def stylesheet() -> tuple[str, str]:
    """(CSS text, its ETag) for every type's badge; codes are enum values ([a-z-]), safe in selectors."""
    rules = [f".badge-{code.value} {{ background: {info.badge_colour}; }}" for code, info in TYPES.items()]
    css = "/* Generated from catalog/types.py (webapp/type_styles.py): do not edit. */\n" + "\n".join(rules) + "\n"
    return css, hashlib.sha256(css.encode()).hexdigest()[:16]


@bp.get("/static-gen/types.css")
def types_css() -> Response:
    css, etag = stylesheet()
    response = Response(css, mimetype="text/css")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = _ONE_YEAR
    return response.make_conditional(request)


def types_css_url() -> str:
    """URL of the stylesheet, versioned by its ETag so a long cache never serves an old palette."""
    return url_for("type_styles.types_css", v=stylesheet()[1])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(types_css_url)
