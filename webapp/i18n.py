"""Interface languages: Polish (default), Ukrainian and English through Flask-Babel.

Institution data stays as published; only the interface is translated. The locale of a request is
chosen here (one place), so every template and view gets it the same way."""
from __future__ import annotations

from flask import Flask
from flask_babel import Babel

DEFAULT_LOCALE = "pl"
LOCALES = ("pl", "uk", "en")


def select_locale() -> str:
    return DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    Babel(app, locale_selector=select_locale)
