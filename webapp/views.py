"""The site's HTML blueprint: request-scoped DB session, shared template context, Polish error pages.

Routes live in views_public (home, list, detail, report), views_powiat (adviser sheet, CSV) and
views_info (map, sources, health); each registers itself on `bp`."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, g, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from catalog import db
from catalog.settings import Settings
from webapp import lookup
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

    return {"is_demo_catalog": demo, "search_fallback_notice": lookup.FALLBACK_NOTICE}


def _error(status: int, title: str, message: str):
    return render_template("error.html", status=status, title=title, message=message), status


# Polish titles and messages for the HTTP errors a visitor can meet (werkzeug's defaults are English).
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Nieprawidłowe żądanie", "Serwer nie zrozumiał tego żądania. Sprawdź adres i spróbuj ponownie."),
    403: ("Brak dostępu", "Nie masz dostępu do tej strony."),
    405: ("Niedozwolona metoda", "Ta strona nie przyjmuje takiego żądania. Otwórz ją zwykłym linkiem."),
    408: ("Przekroczono czas", "Żądanie trwało zbyt długo. Spróbuj ponownie."),
    413: ("Za dużo danych", "Wysłane dane są za duże. Skróć opis i spróbuj ponownie."),
    414: ("Za długi adres", "Adres strony jest za długi. Zawęź wyszukiwanie."),
    431: ("Za duże nagłówki", "Przeglądarka wysłała za duże nagłówki. Usuń ciasteczka tej strony i spróbuj ponownie."),
}
GENERIC_ERROR = ("Nie udało się", "Nie udało się obsłużyć tego żądania. Spróbuj ponownie za chwilę.")
API_ERRORS_EN = {405: "The API accepts GET requests only."}


def _http_error(exc: HTTPException):
    """Any HTTP error without a handler of its own: a Polish page, or the API's JSON error shape."""
    code = exc.code or 500
    title, message = HTTP_ERRORS.get(code, GENERIC_ERROR)
    if request.path.startswith("/api/"):
        from webapp.api_params import ApiError

        english = API_ERRORS_EN.get(code, exc.name)
        polish = "API przyjmuje tylko zapytania GET." if code == 405 else message
        response = jsonify(ApiError(f"http_{code}" if code != 405 else "method_not_allowed",
                                    polish, english, code).to_dict())
    elif request_ctx.url_adapter is None:   # the Host was refused: no URL of the site can be built
        response = make_response(f'<!doctype html><html lang="pl"><meta charset="utf-8"><title>{title}</title>'
                                 f"<h1>{title}</h1><p>{message}</p></html>")
    else:
        response = make_response(render_template("error.html", status=code, title=title, message=message))
    response.status_code = code
    allow = exc.get_response().headers.get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


def register_error_pages(app: Flask) -> None:
    # Registered after the API blueprint, so this also replaces its app-wide 405 handler (which
    # left HTML paths to werkzeug's English page); /api/ paths keep the API's JSON error.
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(405, _http_error)

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
