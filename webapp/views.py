"""The site's HTML blueprint: request-scoped DB session, shared template context, Polish error pages.

Routes live in views_public (home, list, detail, report), views_powiat (adviser sheet, CSV) and
views_info (map, sources, health); each registers itself on `bp`."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlmodel import Session

from catalog import db
from catalog.settings import Settings
from webapp import page_queries as pq

log = logging.getLogger(__name__)

bp = Blueprint("site", __name__)


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def session() -> Session:
    """One session per request, closed at teardown; views commit explicitly when they write."""
    if "db_session" not in g:
        g.db_session = Session(db.get_engine(settings().database_url), expire_on_commit=False)
    return g.db_session


@bp.teardown_app_request
def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


@bp.app_context_processor
def _shared_context() -> dict:
    def demo() -> bool:   # lazily: error pages may render without a working DB
        try:
            return pq.has_demo(session())
        except Exception:
            log.exception("demo check failed")
            return False

    return {"is_demo_catalog": demo}


def _error(status: int, title: str, message: str):
    return render_template("error.html", status=status, title=title, message=message), status


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(404)
    def _not_found(_e):
        if request.path.startswith("/api/"):
            from webapp.api import not_found_response  # the API's documented JSON error shape

            return not_found_response()
        return _error(404, "Nie znaleziono strony",
                      "Tej strony nie ma albo instytucja została usunięta z katalogu.")

    @app.errorhandler(429)
    def _too_many(_e):
        return _error(429, "Za dużo zgłoszeń",
                      "Wysłano zbyt wiele zgłoszeń w krótkim czasie. Spróbuj ponownie za kilka minut.")

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return _error(400, "Formularz wygasł",
                      "Nie udało się wysłać formularza (brak lub nieważny token bezpieczeństwa). "
                      "Odśwież stronę i spróbuj jeszcze raz.")

    @app.errorhandler(500)
    def _server_error(_e):
        return _error(500, "Błąd serwera",
                      "Coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.")


from webapp import views_info, views_powiat, views_public

views_public.register(bp)
views_powiat.register(bp)
views_info.register(bp)
