"""Interface languages: Polish (default, at `/…`), Ukrainian (`/uk/…`) and English (`/en/…`).

Institution data stays as published; only the interface is translated. The language is part of the
URL: `LocalePrefix`, a small WSGI middleware, moves a leading `/uk` or `/en` from PATH_INFO into
SCRIPT_NAME and records the locale in the environ. Every `url_for` link, form action, redirect and
static URL therefore stays in the page's language with no change in the views, and `select_locale()`
(the one place that decides the locale) reads it back.

Polish text is the msgid everywhere. Vocabulary of the lower layers (catalog/types.py type labels,
needs, target groups, service tags, statuses; index notes; geo labels) stays Polish there, because
those layers cannot import Flask-Babel; the webapp translates it by msgid (`vocab`), and extraction
picks it up through `extract_vocabulary`, a Babel extraction method named in babel.cfg (one mechanism:
no marker in the lower layers, the vocabulary is read from the data structures themselves)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale, gettext
from werkzeug.middleware.proxy_fix import ProxyFix

DEFAULT_LOCALE = "pl"
LOCALES = ("pl", "uk", "en")
PREFIXED = tuple(locale for locale in LOCALES if locale != DEFAULT_LOCALE)
# Each language named in itself: the switch reads the same to everyone who needs it.
LANGUAGE_NAMES = {"pl": "Polski", "uk": "Українська", "en": "English"}
ENVIRON_LOCALE = "wsparcie.locale"
ENVIRON_ROOT = "wsparcie.script_root"   # SCRIPT_NAME before the language prefix was taken off


class LocalePrefix:
    """WSGI middleware: `/uk/x` is served as `/x` with SCRIPT_NAME `…/uk` and the locale "uk"."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        root = environ.get("SCRIPT_NAME", "")
        environ[ENVIRON_ROOT] = root
        environ[ENVIRON_LOCALE] = DEFAULT_LOCALE
        for locale in PREFIXED:
            prefix = f"/{locale}"
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = root + prefix
                environ["PATH_INFO"] = path[len(prefix):] or "/"
                environ[ENVIRON_LOCALE] = locale
                break
        return self.app(environ, start_response)


def select_locale() -> str:
    """The page's language: the URL prefix (LocalePrefix); Polish outside a request."""
    if has_request_context():
        return request.environ.get(ENVIRON_LOCALE, DEFAULT_LOCALE)
    return DEFAULT_LOCALE


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE) if has_request_context() else DEFAULT_LOCALE


def locale_url(locale: str) -> str:
    """This page (path and query string) in `locale`: the language switch and hreflang alternates."""
    root = request.environ.get(ENVIRON_ROOT, "")
    prefix = "" if locale == DEFAULT_LOCALE else f"/{locale}"
    path = quote(request.path, safe="/%:@!$&'()*+,;=-._~")
    query = quote(request.query_string, safe="=&%+;/:,@!$'()*-._~")   # raw bytes: non-ASCII re-encoded
    return f"{root}{prefix}{path}" + (f"?{query}" if query else "")


def alternates() -> list[tuple[str, str]]:
    """(hreflang, root-relative URL) of this page in every language, and x-default (the Polish page).
    Root-relative: a <link> never names a host (tests/web/test_security.py), and no Host header is echoed."""
    links = [(locale, locale_url(locale)) for locale in LOCALES]
    return [*links, ("x-default", locale_url(DEFAULT_LOCALE))]


def language_links() -> list[dict[str, Any]]:
    """The header's switch: every language, the current one marked."""
    here = current_locale()
    return [{"locale": locale, "name": LANGUAGE_NAMES[locale], "url": locale_url(locale),
             "current": locale == here} for locale in LOCALES]


def N_(text: str) -> str:
    """Marks a Polish msgid kept as it is here (the API answers it in Polish); pages translate it later."""
    return text


def vocab(text: str | None) -> str:
    """A Polish string of a lower layer (a type label, a need, a note) in the page's language."""
    if not text:
        return text or ""
    return gettext(text)


def query_message(error: Exception) -> str:
    """A refused query's message for a page: index.params gives an English twin, else the Polish text."""
    english = getattr(error, "message_en", None)
    return english if english and current_locale() == "en" else vocab(str(error))


def notes(text: str | None) -> str:
    """A search note (index.api joins its NOTE_* sentences with spaces) in the page's language."""
    if not text:
        return ""
    from index import api as index_api
    known = [index_api.NOTE_TRUNCATED, index_api.NOTE_PARTIAL, index_api.NOTE_FUZZY]
    for note in known:
        text = text.replace(note, vocab(note))
    return vocab(text) if text not in known else text


class TranslatedMapping(Mapping):
    """A code → Polish label dict read in the page's language at each access (templates' NEEDS…)."""

    def __init__(self, base: Mapping[Any, Any], wrap: Callable[[Any], Any] = vocab) -> None:
        self._base, self._wrap = base, wrap

    def __getitem__(self, key: Any) -> Any:
        return self._wrap(self._base[key])

    def __iter__(self) -> Iterator[Any]:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)


def vocabulary() -> Iterator[tuple[str, str]]:
    """(Polish text, where it comes from) of every lower-layer string the interface shows."""
    from catalog import types
    from geo import resolve
    from index import api as index_api
    from index import fallback
    from webapp import helplines

    for code, info in types.TYPES.items():
        for field in ("label", "plural", "what", "who", "how_to_get_in", "competent_label"):
            value = getattr(info, field)
            if value:
                yield value, f"catalog.types.TYPES[{code.value}].{field}"
        if not info.abbreviations:
            yield info.label, f"catalog.types.TYPES[{code.value}].badge"
    for name in ("NEEDS", "TARGET_GROUPS", "SERVICE_TAGS"):
        for code, label in getattr(types, name).items():
            yield label, f"catalog.types.{name}[{code}]"
    for name in ("STATUS_LABELS", "PRECISION_LABELS"):
        for code, label in getattr(types, name).items():
            yield label, f"catalog.types.{name}[{code.value}]"
    for name in ("NOTE_FUZZY", "NOTE_PARTIAL", "NOTE_TRUNCATED"):
        yield getattr(index_api, name), f"index.api.{name}"
    yield fallback.NOTICE, "index.fallback.NOTICE"
    for name in ("ROLE_LABELS", "PLACEHOLDER_LABELS"):
        for code, label in getattr(resolve, name, {}).items():
            yield label, f"geo.resolve.{name}[{code}]"
    for line in helplines.load().helplines:   # curated data shown as interface text
        for field in ("name", "who", "hours"):
            yield getattr(line, field), f"data/helplines.toml {line.display} {field}"


def extract_vocabulary(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel extraction method (babel.cfg): the lower layers' vocabulary, whatever file it is run on."""
    seen: set[str] = set()
    for lineno, (text, where) in enumerate(vocabulary(), start=1):
        if text not in seen:
            seen.add(text)
            yield lineno, "gettext", text, [where]


def _content_language(response: Response) -> Response:
    """Pages say their language in HTTP too; the API and exports stay language-neutral."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", current_locale())
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    Babel(app, locale_selector=select_locale)
    app.after_request(_content_language)
    # Innermost, under ProxyFix: a proxy's X-Forwarded-Prefix (which replaces SCRIPT_NAME) comes first,
    # the language prefix is taken off the path after it.
    if isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app.app = LocalePrefix(app.wsgi_app.app)
    else:
        app.wsgi_app = LocalePrefix(app.wsgi_app)  # type: ignore[method-assign]
    app.jinja_env.globals.update(current_locale=current_locale, hreflang_alternates=alternates,
                                 language_links=language_links)
    app.jinja_env.filters.update(vocab=vocab, notes=notes)
