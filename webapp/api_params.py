"""Validation of the public API's query parameters: every bad input becomes an ApiError (4xx) with a
message in Polish and English, never a 500."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from werkzeug.datastructures import MultiDict

from catalog.types import InstitutionType, Status
from geo import teryt

MAX_PER_PAGE = 100
MAX_PAGE = 10_000
MAX_RADIUS_KM = 1000.0
MAX_TEXT = 200
# Ids beyond a signed 64-bit integer cannot exist (SQLite INTEGER, PostgreSQL BIGINT) and crash the driver:
# the URL converter turns them into a plain 404.
MAX_ID = 2**63 - 1
ID_CONVERTER = f"int(max={MAX_ID})"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ApiError(Exception):
    def __init__(self, code: str, message: str, message_en: str, status: int = 400) -> None:
        super().__init__(message_en)
        self.code, self.message, self.message_en, self.status = code, message, message_en, status

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "message_en": self.message_en}}


@dataclass(frozen=True)
class Filters:
    """Parsed filters shared by search, the map and exports."""
    text: str = ""
    types: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    woj: str | None = None
    powiat: str | None = None
    gmina: str | None = None
    status: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    modified_after: datetime | None = None
    free_places: bool = False      # only institutions whose latest places observation has free places
    extra: dict = field(default_factory=dict)


def clean(raw: str) -> str:
    """Typed text without control characters, trimmed. They never mean anything in a query, and a NUL makes
    PostgreSQL refuse the whole statement (a 500 instead of an answer)."""
    return _CONTROL.sub(" ", raw).strip()


def _list(args: MultiDict, name: str) -> list[str]:
    """A repeatable parameter that also accepts comma lists: ?type=cis&type=kis or ?type=cis,kis."""
    out: list[str] = []
    for raw in args.getlist(name):
        out.extend(part for part in (clean(p) for p in raw.split(",")) if part)
    return out


def _types(args: MultiDict) -> tuple[str, ...]:
    valid = {t.value for t in InstitutionType}
    values = [v.lower() for v in _list(args, "type")]
    unknown = [v for v in values if v not in valid]
    if unknown:
        raise ApiError(
            "unknown_type",
            f"Nieznany typ jednostki: {', '.join(unknown)}. Dozwolone: {', '.join(sorted(valid))}.",
            f"Unknown institution type: {', '.join(unknown)}. Allowed: {', '.join(sorted(valid))}.",
        )
    return tuple(dict.fromkeys(values))


def _int(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"invalid_{name}", f"Parametr {name} musi być liczbą całkowitą.",
                       f"Parameter {name} must be an integer.") from None
    if not low <= value <= high:
        raise ApiError(f"invalid_{name}", f"Parametr {name} musi być w zakresie {low}–{high}.",
                       f"Parameter {name} must be between {low} and {high}.")
    return value


def _float(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(f"invalid_{name}", f"Parametr {name} musi być liczbą.",
                       f"Parameter {name} must be a number.") from None
    if not math.isfinite(value):
        raise ApiError(f"invalid_{name}", f"Parametr {name} musi być liczbą.",
                       f"Parameter {name} must be a number.")
    return value


def point(lat_raw: str, lon_raw: str) -> tuple[float, float]:
    lat, lon = _float(lat_raw.strip(), "lat"), _float(lon_raw.strip(), "lon")
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise ApiError("invalid_point", "Współrzędne poza zakresem (szerokość −90…90, długość −180…180).",
                       "Coordinates out of range (lat -90..90, lon -180..180).")
    return lat, lon


def _near(args: MultiDict) -> tuple[float, float] | None:
    raw = args.get("near", "").strip()
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) != 2:
        raise ApiError("invalid_near", "Parametr near ma postać szerokość,długość, np. 53.13,23.16.",
                       "Parameter near must be lat,lon, e.g. 53.13,23.16.")
    return point(*parts)


def _radius(args: MultiDict, near: tuple[float, float] | None) -> float | None:
    raw = args.get("radius_km", "").strip()
    if not raw:
        return None
    if near is None:
        raise ApiError("radius_without_near", "Parametr radius_km wymaga parametru near.",
                       "Parameter radius_km requires near.")
    value = _float(raw, "radius_km")
    if not 0 < value <= MAX_RADIUS_KM:
        raise ApiError("invalid_radius_km", f"Promień musi być większy od 0 i nie większy niż {MAX_RADIUS_KM:g} km.",
                       f"radius_km must be greater than 0 and at most {MAX_RADIUS_KM:g}.")
    return value


def _code(args: MultiDict, name: str, digits: tuple[int, ...], exists) -> str | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"\d+", raw) or len(raw) not in digits:
        size = " lub ".join(str(d) for d in digits)
        raise ApiError(f"invalid_{name}", f"Kod TERYT ({name}) musi mieć {size} cyfr.",
                       f"TERYT code ({name}) must have {' or '.join(str(d) for d in digits)} digits.")
    code = raw[: digits[0]]
    if exists(code) is None:
        raise ApiError(f"unknown_{name}", f"Nie ma jednostki TERYT ({name}) o kodzie {raw}.",
                       f"No TERYT unit ({name}) with code {raw}.")
    return code


def woj_code(args: MultiDict) -> str | None:
    return _code(args, "woj", (2,), teryt.wojewodztwo)


def powiat_code(args: MultiDict) -> str | None:
    return _code(args, "powiat", (4,), teryt.powiat)


def gmina_code(args: MultiDict) -> str | None:
    return _code(args, "gmina", (6, 7), teryt.gmina)


def _status(args: MultiDict) -> str | None:
    raw = args.get("status", "").strip().lower()
    if not raw:
        return None
    valid = [s.value for s in Status]
    if raw not in valid:
        raise ApiError("invalid_status", f"Nieznany status: {raw}. Dozwolone: {', '.join(valid)}.",
                       f"Unknown status: {raw}. Allowed: {', '.join(valid)}.")
    return raw


def _sort(args: MultiDict, near: tuple[float, float] | None) -> str:
    raw = args.get("sort", "").strip().lower() or "relevance"
    if raw not in ("relevance", "distance"):
        raise ApiError("invalid_sort", "Parametr sort przyjmuje wartości relevance lub distance.",
                       "Parameter sort must be relevance or distance.")
    if raw == "distance" and near is None:
        raise ApiError("sort_without_near", "Sortowanie po odległości wymaga parametru near.",
                       "sort=distance requires near.")
    return raw


def modified_after(args: MultiDict) -> datetime | None:
    """ISO date or datetime as an aware UTC datetime (a value without a zone is taken as UTC)."""
    raw = args.get("modified_after", "").strip()
    if not raw:
        return None
    # An unencoded "+02:00" arrives as " 02:00": read it as the offset it was meant to be. RFC 3339 also
    # allows a lower-case "t" and "z", which fromisoformat does not read.
    raw = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw).upper()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
        value = datetime.fromisoformat(raw)  # 3.11+ reads a trailing Z
        # Converting to UTC overflows at the ends of the calendar (0001-01-01T00:00+01:00).
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ApiError("invalid_modified_after",
                       "Parametr modified_after musi być datą ISO (RRRR-MM-DD) lub datą z godziną.",
                       "Parameter modified_after must be an ISO date (YYYY-MM-DD) or datetime.") from None


def _flag(args: MultiDict, name: str) -> bool:
    raw = args.get(name, "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise ApiError(f"invalid_{name}", f"Parametr {name} przyjmuje wartości true lub false.",
                   f"Parameter {name} must be true or false.")


def _text(args: MultiDict) -> str:
    text = clean(args.get("q", ""))
    if len(text) > MAX_TEXT:
        raise ApiError("query_too_long", f"Zapytanie może mieć najwyżej {MAX_TEXT} znaków.",
                       f"The query may have at most {MAX_TEXT} characters.")
    return text


def filters(args: MultiDict, *, paging: bool = True) -> Filters:
    """All search/map/export filters from the query string."""
    near = _near(args)
    return Filters(
        text=_text(args),
        types=_types(args),
        target_groups=tuple(dict.fromkeys(_list(args, "target_group"))),
        woj=woj_code(args),
        powiat=powiat_code(args),
        gmina=gmina_code(args),
        status=_status(args),
        near=near,
        radius_km=_radius(args, near),
        sort=_sort(args, near),
        page=_int(args, "page", 1, 1, MAX_PAGE) if paging else 1,
        per_page=_int(args, "per_page", 20, 1, MAX_PER_PAGE) if paging else MAX_PER_PAGE,
        modified_after=modified_after(args),
        free_places=_flag(args, "free_places"),
    )
