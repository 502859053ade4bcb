"""How catalog values read on a page: Polish labels, addresses, dates in local time, call and map links.

Registered as Jinja filters/globals so templates stay free of logic (and of type knowledge, which lives
in catalog.types)."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Flask

from catalog.address import format_address, street_line
from catalog.models import FieldProvenance, Institution
from catalog.priority import choose
from catalog.types import (
    NEEDS,
    PRECISION_LABELS,
    SERVICE_TAGS,
    STATUS_LABELS,
    TARGET_GROUPS,
    TYPES,
    Precision,
    Status,
    info,
    tag_label,
)
from geo import teryt

LOCAL_TZ = ZoneInfo("Europe/Warsaw")

FIELD_LABELS = {
    "name": "Nazwa", "type": "Rodzaj", "type_raw": "Rodzaj (wg źródła)", "operator_name": "Podmiot prowadzący",
    "operator_krs": "KRS podmiotu prowadzącego", "operator_nip": "NIP podmiotu prowadzącego",
    "operator_regon": "REGON podmiotu prowadzącego", "rjps_id": "Identyfikator RJPS", "krs": "KRS",
    "nip": "NIP", "regon": "REGON", "register_number": "Numer w rejestrze", "street": "Ulica",
    "building": "Numer budynku", "flat": "Numer lokalu", "postal_code": "Kod pocztowy",
    "locality": "Miejscowość", "address_raw": "Adres (wg źródła)", "woj_teryt": "Województwo (TERYT)",
    "powiat_teryt": "Powiat (TERYT)", "gmina_id6": "Gmina (TERYT)", "lat": "Szerokość geograficzna",
    "lon": "Długość geograficzna", "geo_precision": "Dokładność położenia", "geo_source": "Źródło położenia",
    "phones": "Telefony", "phones_raw": "Telefony (wg źródła)", "email": "E-mail", "www": "Strona www",
    "service_tags": "Usługi", "target_groups": "Dla kogo", "service_area": "Obszar działania",
    "status": "Status", "valid_from": "Ważny od", "valid_until": "Ważny do",
    "decision_number": "Numer decyzji", "decision_date": "Data decyzji",
    "source_updated_at": "Aktualizacja w źródle", "partners": "Partnerzy", "parent_id": "Jednostka macierzysta",
    "notes": "Uwagi", "places_total": "Liczba miejsc", "places_free": "Wolne miejsca",
    "places_as_of": "Miejsca — stan na", "epuap": "Skrzynka ePUAP", "home_types": "Typ domu", "head": "Kierownik",
}

def type_label(code: str | None) -> str:
    return info(code or "other").label


def group_label(code: str) -> str:
    return tag_label(TARGET_GROUPS, code)


def service_label(code: str) -> str:
    return tag_label(SERVICE_TAGS, code)


_TAG_LABELS = {**TARGET_GROUPS, **SERVICE_TAGS}   # the two code sets are disjoint


def status_label(code: str | None) -> str:
    try:
        return STATUS_LABELS[Status(code)]
    except ValueError:
        return code or "brak danych"


def precision_label(code: str | None) -> str:
    try:
        return PRECISION_LABELS[Precision(code)]
    except ValueError:
        return "położenie nieznane"


def is_approximate(code: str | None) -> bool:
    """A pin placed at a postcode, locality or unit centre, not at the building."""
    return bool(code) and code not in {Precision.SOURCE.value, Precision.ADDRESS.value, Precision.STREET.value}


def place_names(inst: Institution) -> str:
    names = teryt.names_for(inst.gmina_id6, inst.powiat_teryt, inst.woj_teryt)
    parts = []
    if names["gmina"]:
        parts.append(f"gmina {names['gmina']}")
    if names["powiat_label"]:
        parts.append(names["powiat_label"])
    if names["wojewodztwo"]:
        parts.append(f"woj. {names['wojewodztwo']}")
    return ", ".join(parts)


def area_name(code: str) -> str:
    """A TERYT code of any level as a readable unit name."""
    code = str(code)
    if len(code) == 2 and (w := teryt.wojewodztwo(code)):
        return f"województwo {w.name}"
    if len(code) == 4 and (p := teryt.powiat(code)):
        return p.label
    if len(code) >= 6 and (g := teryt.gmina(code)):
        return f"gmina {g.name}"
    return code


_TEL_PREFIX = re.compile(r"^\s*(tel\.?|telefon)\s*:?\s*", re.IGNORECASE)


def phones(inst: Institution) -> list[dict]:
    """Phones with a dialable tel: target when the number is valid, shown in the national format
    ("54 285 13 27"); an invalid number is shown as the source wrote it (its "tel." prefix dropped)."""
    return [{"raw": _national(p.get("e164")) or _TEL_PREFIX.sub("", p.get("raw") or ""), "tel": p.get("e164")}
            for p in inst.phones or []]


def _national(e164: str | None) -> str | None:
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, "PL")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def geo_uri(inst: Institution) -> str:
    label = quote(inst.name)
    return f"geo:{inst.lat:.6f},{inst.lon:.6f}?q={inst.lat:.6f},{inst.lon:.6f}({label})"


def osm_url(inst: Institution) -> str:
    return (f"https://www.openstreetmap.org/?{urlencode({'mlat': f'{inst.lat:.6f}', 'mlon': f'{inst.lon:.6f}'})}"
            f"#map=17/{inst.lat:.6f}/{inst.lon:.6f}")


def local_dt(value: datetime | date | None, with_time: bool = False) -> str:
    """UTC from the DB shown in Polish local time, dd.mm.rrrr."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.replace(tzinfo=value.tzinfo or UTC).astimezone(LOCAL_TZ)
        return value.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")
    return value.strftime("%d.%m.%Y")


# Data a registry has not touched for this long may well be out of date (RJPS keeps 2013 entries).
STALE_AFTER_DAYS = 3 * 365


def is_stale(inst: Institution, today: date | None = None) -> bool:
    """The source's own "updated at" date is old: warn before a resident travels there."""
    updated = inst.source_updated_at
    return bool(updated) and ((today or date.today()) - updated).days > STALE_AFTER_DAYS


def km(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} km".replace(".", ",") if value >= 1 else f"{round(value * 1000)} m"


def provenance_value(raw: str | None) -> str:
    """FieldProvenance.value is JSON-encoded: show lists and dicts as plain text."""
    if raw is None:
        return "—"
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(value, list):
        return ", ".join(v.get("raw") or v.get("name") or str(v) if isinstance(v, dict)
                         else _TAG_LABELS.get(str(v), str(v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if field_value_is_type(value):
        return type_label(value)
    if isinstance(value, str) and value in _PRECISIONS:
        return precision_label(value)
    return "—" if value in (None, "") else str(value)


_PRECISIONS = {p.value for p in Precision}


def field_value_is_type(value: object) -> bool:
    return isinstance(value, str) and value in {t.value for t in TYPES}


def web_url(value: str | None) -> str | None:
    """A scraped www field as a safe http(s) link target, or None (never javascript: or other schemes)."""
    value = (value or "").strip()
    if not value or " " in value:
        return None
    if not value.lower().startswith(("http://", "https://")):
        if "://" in value or ":" in value.split("/")[0] or "." not in value:
            return None
        value = "https://" + value
    return value


def placeholder_area(inst: Institution) -> str:
    """The TERYT unit a demo placeholder stands for ("gmina Zabłudów", "powiat białostocki")."""
    code = inst.gmina_id6 or inst.powiat_teryt or inst.woj_teryt
    return area_name(code) if code else ""


# Provenance fields whose source is named next to the places line ("źródło: ..."), in order of preference.
_PLACES_SOURCE_FIELDS = ("places_free", "places_total", "places_as_of")


def places_source(rows: list[FieldProvenance], names: dict[str, str]) -> str | None:
    """The readable name of the source whose places the catalog shows: the winner among the current
    provenance rows by the merge's own rule (catalog.priority.choose: the newest observation)."""
    best = choose([r for r in rows if r.field in _PLACES_SOURCE_FIELDS and r.superseded_at is None])
    for wanted in _PLACES_SOURCE_FIELDS:
        if wanted in best:
            return names.get(best[wanted].source, best[wanted].source)
    return None


def places_text(inst: Institution, source: str | None = None) -> str:
    """'Miejsca: 120, wolne: 7 (stan na 30.06.2026, źródło: PUW)'; empty when the catalog knows no places."""
    total, free, as_of = (getattr(inst, k, None) for k in ("places_total", "places_free", "places_as_of"))
    counts = [f"Miejsca: {total}" if total is not None else "",
              f"wolne: {free}" if free is not None else ""]
    line = ", ".join(c for c in counts if c)
    if not line:
        return ""
    line = line[0].upper() + line[1:]
    notes = [f"stan na {local_dt(as_of)}" if as_of else "", f"źródło: {source}" if source else ""]
    note = ", ".join(n for n in notes if n)
    return f"{line} ({note})" if note else line


def pairs(items, value_attr: str, label_attr: str) -> list[tuple[str, str]]:
    """Objects as (value, label) pairs for a <select>."""
    return [(getattr(i, value_attr), getattr(i, label_attr)) for i in items]


RUN_LABELS = {"running": "w toku", "ok": "udane", "partial": "częściowo udane", "failed": "nieudane",
              "interrupted": "przerwane", "degraded": "niepełne dane źródła — usunięcia wstrzymane"}


def now_local() -> str:
    return datetime.now(LOCAL_TZ).strftime("%d.%m.%Y")


STATUS_OPTIONS = [(s.value, label) for s, label in STATUS_LABELS.items()]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        type_label=type_label, status_label=status_label, precision_label=precision_label, address=format_address,
        place_names=place_names, area_name=area_name, phones=phones, geo_uri=geo_uri, osm_url=osm_url,
        local_dt=local_dt, km=km, provenance_value=provenance_value, street_line=street_line, pairs=pairs,
        web_url=web_url, is_stale=is_stale, placeholder_area=placeholder_area,
        places_text=places_text, group_label=group_label, service_label=service_label,
    )
    app.jinja_env.globals.update(
        TYPES=TYPES, NEEDS=NEEDS, TARGET_GROUPS=TARGET_GROUPS, FIELD_LABELS=FIELD_LABELS, type_info=info,
        is_approximate=is_approximate, status_options=STATUS_OPTIONS,
        run_labels=RUN_LABELS, now_local=now_local,
    )
