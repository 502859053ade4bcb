"""Every error answer of the site, in one place: Polish HTML pages, and for /api/ paths the API's JSON
error shape {"error": {"code", "message" (Polish), "message_en"}} (never werkzeug's English page)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from index.params import ParamError

log = logging.getLogger(__name__)

# Polish titles and messages for the HTTP errors a visitor can meet (werkzeug's defaults are English).
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Nieprawidłowe żądanie", "Serwer nie zrozumiał tego żądania. Sprawdź adres i spróbuj ponownie."),
    403: ("Brak dostępu", "Nie masz dostępu do tej strony."),
    404: ("Nie znaleziono strony", "Tej strony nie ma albo instytucja została usunięta z katalogu."),
    405: ("Niedozwolona metoda", "Ta strona nie przyjmuje takiego żądania. Otwórz ją zwykłym linkiem."),
    408: ("Przekroczono czas", "Żądanie trwało zbyt długo. Spróbuj ponownie."),
    413: ("Za dużo danych", "Wysłane dane są za duże. Skróć opis i spróbuj ponownie."),
    414: ("Za długi adres", "Adres strony jest za długi. Zawęź wyszukiwanie."),
    429: ("Za dużo zgłoszeń",
          "Wysłano zbyt wiele zgłoszeń w krótkim czasie. Spróbuj ponownie za kilka minut."),
    431: ("Za duże nagłówki", "Przeglądarka wysłała za duże nagłówki. Usuń ciasteczka tej strony i spróbuj ponownie."),
    500: ("Błąd serwera", "Coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę."),
}
GENERIC_ERROR = ("Nie udało się", "Nie udało się obsłużyć tego żądania. Spróbuj ponownie za chwilę.")
# The API's own wording where the page's Polish text would not fit a client (and its English twin).
API_ERRORS: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "Nie znaleziono.", "Not found."),
    405: ("method_not_allowed", "API przyjmuje tylko zapytania GET.", "The API accepts GET requests only."),
    413: ("http_413", "Zapytanie jest za duże.", "The request is too large."),
    500: ("internal_error", "Wewnętrzny błąd serwera.", "Internal server error."),
}


def is_api() -> bool:
    return request.path.startswith("/api/")


def api_error(code: int) -> ParamError:
    """The API's error for an HTTP status: Polish message, English twin (werkzeug's name only in English)."""
    known = API_ERRORS.get(code)
    if known is not None:
        return ParamError(known[0], known[1], known[2], code)
    polish = HTTP_ERRORS.get(code, GENERIC_ERROR)[1]
    return ParamError(f"http_{code}", polish, HTTP_STATUS_CODES.get(code, "Error"), code)


def _json(error: ParamError):
    return jsonify(error.to_dict()), error.status


def _page(code: int, title: str | None = None, message: str | None = None):
    default_title, default_message = HTTP_ERRORS.get(code, GENERIC_ERROR)
    title, message = title or default_title, message or default_message
    if request_ctx.url_adapter is None:   # the Host was refused: no URL of the site can be built
        return make_response(f'<!doctype html><html lang="pl"><meta charset="utf-8"><title>{title}</title>'
                             f"<h1>{title}</h1><p>{message}</p></html>", code)
    return make_response(render_template("error.html", status=code, title=title, message=message), code)


def _http_error(exc: HTTPException):
    """Any HTTP error: a Polish page, or the API's JSON error shape."""
    code = exc.code or 500
    response = _json(api_error(code)) if is_api() else (_page(code), code)
    response = make_response(response[0], code)
    allow = exc.get_response().headers.get("Allow")
    if allow:
        response.headers["Allow"] = allow
    elif code == 405 and is_api():
        response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or ("GET", "HEAD", "OPTIONS"))
    return response


def _param_error(exc: ParamError):
    if is_api():
        return _json(exc)
    return _page(exc.status, message=exc.message)


def _csrf(_exc: CSRFError):
    return _page(400, "Formularz wygasł",
                 "Nie udało się wysłać formularza (brak lub nieważny token bezpieczeństwa). "
                 "Odśwież stronę i spróbuj jeszcze raz.")


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if not is_api():
        raise exc   # Flask logs it and answers with the 500 page (_http_error); tests see the error
    log.exception("API error on %s", request.path)
    return _json(api_error(500))


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(ParamError, _param_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
