"""The per-request database session of every page, API answer and map frame (one lifecycle).

Opened on first use in a request, kept on `flask.g`, closed at the end of the request's app context;
views commit explicitly when they write (error reports), everything else only reads."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlmodel import Session

from catalog import db
from catalog.settings import Settings


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def session() -> Session:
    if "db_session" not in g:
        g.db_session = Session(db.get_engine(settings().database_url), expire_on_commit=False)
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
