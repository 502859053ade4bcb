"""Every error answer of the site, in one place: HTML pages in the page's language (Polish msgids), and for /api/ paths the API's JSON
error shape {"error": {"code", "message" (Polish), "message_en"}} (never werkzeug's English page)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from index.params import ParamError
from webapp.i18n import N_, current_locale, vocab

log = logging.getLogger(__name__)

# Titles and messages for the HTTP errors a visitor can meet (werkzeug's defaults are English): Polish,
# as the API answers them; pages translate them by msgid (N_ marks them for extraction).
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: (N_("Nieprawidłowe żądanie"), N_("Serwer nie zrozumiał tego żądania. Sprawdź adres i spróbuj ponownie.")),
    403: (N_("Brak dostępu"), N_("Nie masz dostępu do tej strony.")),
    404: (N_("Nie znaleziono strony"), N_("Tej strony nie ma albo instytucja została usunięta z katalogu.")),
    405: (N_("Niedozwolona metoda"), N_("Ta strona nie przyjmuje takiego żądania. Otwórz ją zwykłym linkiem.")),
    408: (N_("Przekroczono czas"), N_("Żądanie trwało zbyt długo. Spróbuj ponownie.")),
    413: (N_("Za dużo danych"), N_("Wysłane dane są za duże. Skróć opis i spróbuj ponownie.")),
    414: (N_("Za długi adres"), N_("Adres strony jest za długi. Zawęź wyszukiwanie.")),
    429: (N_("Za dużo zgłoszeń"),
          N_("Wysłano zbyt wiele zgłoszeń w krótkim czasie. Spróbuj ponownie za kilka minut.")),
    431: (N_("Za duże nagłówki"), N_("Przeglądarka wysłała za duże nagłówki. Usuń ciasteczka tej strony i spróbuj ponownie.")),
    500: (N_("Błąd serwera"), N_("Coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.")),
}
GENERIC_ERROR = (N_("Nie udało się"), N_("Nie udało się obsłużyć tego żądania. Spróbuj ponownie za chwilę."))
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
    title, message = vocab(title or default_title), vocab(message or default_message)
    if request_ctx.url_adapter is None:   # the Host was refused: no URL of the site can be built
        return make_response(f'<!doctype html><html lang="{current_locale()}"><meta charset="utf-8"><title>{title}</title>'
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
    return _page(exc.status, message=exc.message_en if current_locale() == "en" else exc.message)


def _csrf(_exc: CSRFError):
    return _page(400, _("Formularz wygasł"),
                 _("Nie udało się wysłać formularza (brak lub nieważny token bezpieczeństwa). "
                   "Odśwież stronę i spróbuj jeszcze raz."))


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
