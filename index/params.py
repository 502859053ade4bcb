"""The one parser of search parameters: request-like `Mapping[str, list[str]]` -> `index.api.SearchQuery`.

The pages, the map, the API and the CLI all build their query here, so a filter means the same thing
everywhere. The API is strict (every bad value is a ParamError: a 4xx with a Polish and an English
message); the pages are lenient (a bad value is dropped, as a hand-edited URL should not fail a page).
The pages speak Polish parameter names (`typ`, `grupa`, `wolne`, `strona`): see PAGE_NAMES.
No Flask here: werkzeug's MultiDict is turned into a plain mapping by the caller (`as_params`)."""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from catalog.types import NEEDS, TARGET_GROUPS, TYPES, InstitutionType, Status
from geo import teryt
from index.api import MAX_PER_PAGE, MAX_RADIUS_KM, MAX_RESULT_WINDOW, QueryError, SearchQuery

Params = Mapping[str, Sequence[str]]
T = TypeVar("T")

MAX_PAGE = 10_000
MAX_TEXT = 200
DEFAULT_PER_PAGE = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# The shapes the API accepts, published as they are in the OpenAPI document (webapp/openapi.py), so the
# document and the parser cannot disagree. JSON Schema patterns are ECMA regexes: keep them portable.
WOJ_PATTERN = "^[0-9]{2}$"
POWIAT_PATTERN = "^[0-9]{4}$"
GMINA_PATTERN = "^[0-9]{6,7}$"
_LAT = r"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
_LON = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
NEAR_PATTERN = f"^{_LAT},{_LON}$"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Parameters whose empty value means "no filter" in the API too (free text, open group codes); any other
# parameter given empty (`?woj=`) is refused, as the document's patterns and enums say.
EMPTY_ALLOWED = frozenset({"q", "target_group"})

# Canonical (API/CLI) name -> the name a page uses in its URL.
API_NAMES: dict[str, str] = {}
PAGE_NAMES: dict[str, str] = {"type": "typ", "target_group": "grupa", "free_places": "wolne",
                              "page": "strona", "need": "potrzeba"}


class ParamError(QueryError):
    """A refused parameter: `code` for machines, `message` in Polish, `message_en` in English."""

    def __init__(self, code: str, message: str, message_en: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.message_en, self.status = code, message, message_en, status

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "message_en": self.message_en}}


def as_params(multi: Any) -> dict[str, list[str]]:
    """A werkzeug MultiDict (anything with keys() and getlist()) as a plain mapping of lists."""
    return {key: list(multi.getlist(key)) for key in multi}


def clean(raw: str) -> str:
    """Typed text without control characters, trimmed: they never mean anything in a query, and a NUL
    makes PostgreSQL refuse the whole statement."""
    return _CONTROL.sub(" ", raw).strip()


class _Reader:
    """One parameter set under one naming scheme."""

    def __init__(self, params: Params, names: Mapping[str, str], strict: bool = True) -> None:
        self.params, self.names, self.strict = params, names, strict

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    def raw(self, key: str) -> str:
        """The first value as sent (None of the cleaning): what the strict API checks shapes on."""
        values = self.params.get(self.name(key)) or [""]
        return str(values[0])

    def first(self, key: str) -> str:
        value = clean(self.raw(key))
        if self.strict and not value and self.name(key) in self.params and key not in EMPTY_ALLOWED:
            raise ParamError(f"invalid_{key}", f"Parametr {key} nie może być pusty (pomiń go albo podaj wartość).",
                             f"Parameter {key} must not be empty (leave it out or give a value).")
        return value

    def many(self, key: str) -> list[str]:
        """A repeatable parameter that also accepts comma lists: ?type=cis&type=kis or ?type=cis,kis.
        The strict API keeps empty parts (`type=` or `type=cis,`) so that they are refused, not ignored."""
        out: list[str] = []
        for raw in self.params.get(self.name(key)) or []:
            parts = [clean(p) for p in str(raw).split(",")]
            out.extend(parts if self.strict and key not in EMPTY_ALLOWED else [p for p in parts if p])
        return out


# --- single values -----------------------------------------------------------------------------------

def text(r: _Reader) -> str:
    value = r.first("q")
    # The document's maxLength counts the characters as sent, before control characters are dropped.
    if len(r.raw("q") if r.strict else value) > MAX_TEXT:
        raise ParamError("query_too_long", f"Zapytanie może mieć najwyżej {MAX_TEXT} znaków.",
                         f"The query may have at most {MAX_TEXT} characters.")
    return value


def _types(r: _Reader) -> tuple[str, ...]:
    valid = {t.value for t in InstitutionType}
    # Any case ("CIS"): an existing client contract, documented as a case-insensitive pattern.
    values = [v.lower() for v in r.many("type")]
    unknown = [v for v in values if v not in valid]
    if unknown:
        raise ParamError(
            "unknown_type",
            f"Nieznany typ jednostki: {', '.join(unknown)}. Dozwolone: {', '.join(sorted(valid))}.",
            f"Unknown institution type: {', '.join(unknown)}. Allowed: {', '.join(sorted(valid))}.",
        )
    return tuple(dict.fromkeys(values))


def types_for_need(need: str | None) -> tuple[str, ...]:
    """The institution types that answer a need (catalog.types NEEDS); () for an unknown need."""
    if need not in NEEDS:
        return ()
    return tuple(code.value for code, ti in TYPES.items() if need in ti.needs)


def need(r: _Reader) -> str | None:
    value = r.first("need")
    if not value:
        return None
    if value not in NEEDS:
        raise ParamError("unknown_need", "Nieznana potrzeba.", "Unknown need.")
    return value


def _target_groups(r: _Reader, strict: bool) -> tuple[str, ...]:
    values = list(dict.fromkeys(r.many("target_group")))
    # The API has always accepted any group code (an unknown one simply matches nothing); the pages
    # offer only the known ones.
    return tuple(values if strict else [v for v in values if v in TARGET_GROUPS])


def _int(r: _Reader, key: str, default: int, low: int, high: int) -> int:
    raw = r.first(key)
    if not raw:
        return default
    try:
        if r.strict and not _INTEGER.fullmatch(r.raw(key)):
            raise ValueError(raw)   # int() would also take " 5" and "1_0", which the document does not
        value = int(raw)
    except ValueError:
        raise ParamError(f"invalid_{key}", f"Parametr {key} musi być liczbą całkowitą.",
                         f"Parameter {key} must be an integer.") from None
    if not low <= value <= high:
        raise ParamError(f"invalid_{key}", f"Parametr {key} musi być w zakresie {low}–{high}.",
                         f"Parameter {key} must be between {low} and {high}.")
    return value


def _float(raw: str, name: str) -> float:
    try:
        if not _NUMBER.fullmatch(raw):
            raise ValueError(raw)   # float() would also take "1_0", "inf" and "nan"
        value = float(raw)
    except ValueError:
        raise ParamError(f"invalid_{name}", f"Parametr {name} musi być liczbą.",
                         f"Parameter {name} must be a number.") from None
    if not math.isfinite(value):
        raise ParamError(f"invalid_{name}", f"Parametr {name} musi być liczbą.",
                         f"Parameter {name} must be a number.")
    return value


def point(lat_raw: str, lon_raw: str) -> tuple[float, float]:
    lat, lon = _float(lat_raw.strip(), "lat"), _float(lon_raw.strip(), "lon")
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise ParamError("invalid_point", "Współrzędne poza zakresem (szerokość −90…90, długość −180…180).",
                         "Coordinates out of range (lat -90..90, lon -180..180).")
    return lat, lon


def near(r: _Reader) -> tuple[float, float] | None:
    raw = r.first("near")
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) != 2:
        raise _bad_near()
    at = point(*parts)
    if r.strict and not re.fullmatch(NEAR_PATTERN, r.raw("near")):
        raise _bad_near()   # e.g. "+52,20" or "52.,20": numbers, but not in the documented form
    return at


def _bad_near() -> ParamError:
    return ParamError("invalid_near", "Parametr near ma postać szerokość,długość, np. 53.13,23.16.",
                      "Parameter near must be lat,lon, e.g. 53.13,23.16.")


def _radius(r: _Reader, at: tuple[float, float] | None) -> float | None:
    raw = r.first("radius_km")
    if not raw:
        return None
    if at is None:
        raise ParamError("radius_without_near", "Parametr radius_km wymaga parametru near.",
                         "Parameter radius_km requires near.")
    value = _float(raw, "radius_km")
    if not 0 < value <= MAX_RADIUS_KM:
        raise ParamError("invalid_radius_km",
                         f"Promień musi być większy od 0 i nie większy niż {MAX_RADIUS_KM:g} km.",
                         f"radius_km must be greater than 0 and at most {MAX_RADIUS_KM:g}.")
    return value


def _code(r: _Reader, key: str, digits: tuple[int, ...], exists: Callable[[str], object]) -> str | None:
    raw = r.first(key)
    if not raw:
        return None
    if r.strict and raw != r.raw(key):
        raw = r.raw(key)   # the API checks the code as sent: " 02" is not a documented code
    if not re.fullmatch(r"[0-9]+", raw) or len(raw) not in digits:
        size = " lub ".join(str(d) for d in digits)
        raise ParamError(f"invalid_{key}", f"Kod TERYT ({key}) musi mieć {size} cyfr.",
                         f"TERYT code ({key}) must have {' or '.join(str(d) for d in digits)} digits.")
    code = raw[: digits[0]]
    # A 7-digit gmina code may carry any kind digit (clients send the 2/3 of an urban-rural gmina alike).
    if exists(code) is None:
        raise ParamError(f"unknown_{key}", f"Nie ma jednostki TERYT ({key}) o kodzie {raw}.",
                         f"No TERYT unit ({key}) with code {raw}.")
    return code


def woj_code(params: Params) -> str | None:
    return _code(_Reader(params, API_NAMES), "woj", (2,), teryt.wojewodztwo)


def powiat_code(params: Params) -> str | None:
    return _code(_Reader(params, API_NAMES), "powiat", (4,), teryt.powiat)


def _status(r: _Reader) -> str | None:
    raw = r.first("status") if r.strict else r.first("status").lower()
    if not raw:
        return None
    valid = [s.value for s in Status]
    if raw not in valid:
        raise ParamError("invalid_status", f"Nieznany status: {raw}. Dozwolone: {', '.join(valid)}.",
                         f"Unknown status: {raw}. Allowed: {', '.join(valid)}.")
    return raw


def _sort(r: _Reader, at: tuple[float, float] | None) -> str:
    raw = (r.first("sort") if r.strict else r.first("sort").lower()) or "relevance"
    if raw not in ("relevance", "distance"):
        raise ParamError("invalid_sort", "Parametr sort przyjmuje wartości relevance lub distance.",
                         "Parameter sort must be relevance or distance.")
    if raw == "distance" and at is None:
        raise ParamError("sort_without_near", "Sortowanie po odległości wymaga parametru near.",
                         "sort=distance requires near.")
    return raw


def _flag(r: _Reader, key: str) -> bool:
    raw = r.first(key) if r.strict else r.first(key).lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise ParamError(f"invalid_{key}", f"Parametr {key} przyjmuje wartości true lub false.",
                     f"Parameter {key} must be true or false.")


def modified_after(params: Params) -> datetime | None:
    """ISO date or datetime as an aware UTC datetime (a value without a zone is taken as UTC).
    Only the exports filter on it: it is a catalog column, not part of the search index."""
    raw = _Reader(params, API_NAMES).first("modified_after")
    if not raw:
        return None
    # An unencoded "+02:00" arrives as " 02:00": read it as the offset it was meant to be. RFC 3339 also
    # allows a lower-case "t" and "z", which fromisoformat does not read.
    raw = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw).upper()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
        value = datetime.fromisoformat(raw)
        # Converting to UTC overflows at the ends of the calendar (0001-01-01T00:00+01:00).
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ParamError("invalid_modified_after",
                         "Parametr modified_after musi być datą ISO (RRRR-MM-DD) lub datą z godziną.",
                         "Parameter modified_after must be an ISO date (YYYY-MM-DD) or datetime.") from None


# --- the query --------------------------------------------------------------------------------------

def parse(params: Params, *, names: Mapping[str, str] = API_NAMES, strict: bool = True,
          per_page: int = DEFAULT_PER_PAGE, max_page: int = MAX_PAGE) -> SearchQuery:
    """The SearchQuery these parameters ask for. Strict: the first bad value raises ParamError.
    Lenient: a bad value is left out (and so is what depends on it: radius without a point)."""
    r = _Reader(params, names, strict)

    def value(read: Callable[[], T], default: T) -> T:
        if strict:
            return read()
        try:
            return read()
        except ParamError:
            return default

    at = value(lambda: near(r), None)
    page = value(lambda: _int(r, "page", 1, 1, max_page), 1)
    size = value(lambda: _int(r, "per_page", per_page, 1, MAX_PER_PAGE), per_page)
    if strict and page * size > MAX_RESULT_WINDOW:
        raise ParamError("page_beyond_results",
                         f"Za daleka strona wyników: page × per_page może wynosić najwyżej {MAX_RESULT_WINDOW}. "
                         "Zawęź wyszukiwanie filtrami.",
                         f"page × per_page may be at most {MAX_RESULT_WINDOW}; narrow the search with filters.")
    types = value(lambda: _types(r), ())
    if not types and names.get("need"):
        types = types_for_need(value(lambda: need(r), None))
    return SearchQuery(
        text=value(lambda: text(r), r.first("q")[:MAX_TEXT]),
        types=types,
        target_groups=_target_groups(r, strict),
        woj=value(lambda: _code(r, "woj", (2,), teryt.wojewodztwo), None),
        powiat=value(lambda: _code(r, "powiat", (4,), teryt.powiat), None),
        gmina=value(lambda: _code(r, "gmina", (6, 7), teryt.gmina), None),
        status=value(lambda: _status(r), None),
        near=at,
        radius_km=value(lambda: _radius(r, at), None),
        sort=value(lambda: _sort(r, at), "relevance"),
        page=page,
        per_page=size,
        free_places=value(lambda: _flag(r, "free_places"), False),
    )


def parse_page(params: Params, *, per_page: int = DEFAULT_PER_PAGE, max_page: int = 500) -> SearchQuery:
    """The query of an HTML page (Polish parameter names, lenient, fixed page size)."""
    fixed = {k: v for k, v in params.items() if k != "per_page"}   # pages do not let the URL set it
    return parse(fixed, names=PAGE_NAMES, strict=False, per_page=per_page, max_page=max_page)


def page_need(params: Params) -> str | None:
    """The page's `potrzeba` (need), when it is a known one."""
    try:
        return need(_Reader(params, PAGE_NAMES))
    except ParamError:
        return None
