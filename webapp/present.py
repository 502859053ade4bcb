"""How catalog values read on a page: labels in the page's language, addresses, dates in local time, call
and map links.

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
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
    InstitutionType,
    Precision,
    Status,
    TypeInfo,
    info,
    tag_label,
)
from geo import teryt
from webapp.i18n import TranslatedMapping, vocab

LOCAL_TZ = ZoneInfo("Europe/Warsaw")

FIELD_LABELS = {
    "name": _l("Nazwa"), "type": _l("Rodzaj"), "type_raw": _l("Rodzaj (wg źródła)"), "operator_name": _l("Podmiot prowadzący"),
    "operator_krs": _l("KRS podmiotu prowadzącego"), "operator_nip": _l("NIP podmiotu prowadzącego"),
    "operator_regon": _l("REGON podmiotu prowadzącego"), "rjps_id": _l("Identyfikator RJPS"), "krs": _l("KRS"),
    "nip": _l("NIP"), "regon": _l("REGON"), "register_number": _l("Numer w rejestrze"), "street": _l("Ulica"),
    "building": _l("Numer budynku"), "flat": _l("Numer lokalu"), "postal_code": _l("Kod pocztowy"),
    "locality": _l("Miejscowość"), "address_raw": _l("Adres (wg źródła)"), "woj_teryt": _l("Województwo (TERYT)"),
    "powiat_teryt": _l("Powiat (TERYT)"), "gmina_id6": _l("Gmina (TERYT)"), "lat": _l("Szerokość geograficzna"),
    "lon": _l("Długość geograficzna"), "geo_precision": _l("Dokładność położenia"), "geo_source": _l("Źródło położenia"),
    "phones": _l("Telefony"), "phones_raw": _l("Telefony (wg źródła)"), "email": _l("E-mail"), "www": _l("Strona www"),
    "service_tags": _l("Usługi"), "target_groups": _l("Dla kogo"), "service_area": _l("Obszar działania"),
    "status": _l("Status"), "valid_from": _l("Ważny od"), "valid_until": _l("Ważny do"),
    "decision_number": _l("Numer decyzji"), "decision_date": _l("Data decyzji"),
    "source_updated_at": _l("Aktualizacja w źródle"), "partners": _l("Partnerzy"), "parent_id": _l("Jednostka macierzysta"),
    "notes": _l("Uwagi"), "places_total": _l("Liczba miejsc"), "places_free": _l("Wolne miejsca"),
    "places_as_of": _l("Miejsca — stan na"), "epuap": _l("Skrzynka ePUAP"), "home_types": _l("Typ domu"), "head": _l("Kierownik"),
}

class LocalTypeInfo:
    """A TypeInfo whose texts read in the page's language (catalog.types keeps the Polish msgids)."""

    TEXTS = ("label", "plural", "what", "who", "how_to_get_in", "competent_label")

    def __init__(self, type_info: TypeInfo) -> None:
        self._info = type_info

    def __getattr__(self, name: str):
        value = getattr(self._info, name)
        return vocab(value) if name in self.TEXTS else value

    @property
    def badge(self) -> str:
        return self._info.abbreviations[0] if self._info.abbreviations else vocab(self._info.label)


def type_info(code: str | InstitutionType | None) -> LocalTypeInfo:
    return LocalTypeInfo(info(code or "other"))


def type_label(code: str | None) -> str:
    return vocab(info(code or "other").label)


def group_label(code: str) -> str:
    return vocab(tag_label(TARGET_GROUPS, code))


def service_label(code: str) -> str:
    return vocab(tag_label(SERVICE_TAGS, code))


_TAG_LABELS = {**TARGET_GROUPS, **SERVICE_TAGS}   # the two code sets are disjoint


def status_label(code: str | None) -> str:
    try:
        return vocab(STATUS_LABELS[Status(code)])
    except ValueError:
        return code or _("brak danych")


def precision_label(code: str | None) -> str:
    try:
        return vocab(PRECISION_LABELS[Precision(code)])
    except ValueError:
        return _("położenie nieznane")


def is_approximate(code: str | None) -> bool:
    """A pin placed at a postcode, locality or unit centre, not at the building."""
    return bool(code) and code not in {Precision.SOURCE.value, Precision.ADDRESS.value, Precision.STREET.value}


def place_names(inst: Institution) -> str:
    names = teryt.names_for(inst.gmina_id6, inst.powiat_teryt, inst.woj_teryt)
    parts = []
    if names["gmina"]:
        parts.append(_("gmina %(name)s", name=names["gmina"]))
    if names["powiat_label"]:
        parts.append(names["powiat_label"])
    if names["wojewodztwo"]:
        parts.append(_("woj. %(name)s", name=names["wojewodztwo"]))
    return ", ".join(parts)


def area_name(code: str) -> str:
    """A TERYT code of any level as a readable unit name."""
    code = str(code)
    if len(code) == 2 and (w := teryt.wojewodztwo(code)):
        return _("województwo %(name)s", name=w.name)
    if len(code) == 4 and (p := teryt.powiat(code)):
        return p.label
    if len(code) >= 6 and (g := teryt.gmina(code)):
        return _("gmina %(name)s", name=g.name)
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
    if value < 1:
        return f"{round(value * 1000)} m"
    return f"{format_decimal(round(value, 1), format='0.0')} km"   # 1,5 km in Polish and Ukrainian, 1.5 km in English


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
                         else vocab(_TAG_LABELS[str(v)]) if str(v) in _TAG_LABELS else str(v) for v in value)
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
    if total is not None and free is not None:
        line = _("Miejsca: %(total)s, wolne: %(free)s", total=total, free=free)
    elif total is not None:
        line = _("Miejsca: %(total)s", total=total)
    elif free is not None:
        line = _("Wolne miejsca: %(free)s", free=free)
    else:
        return ""
    notes = [_("stan na %(date)s", date=local_dt(as_of)) if as_of else "",
             _("źródło: %(source)s", source=source) if source else ""]
    note = ", ".join(n for n in notes if n)
    return f"{line} ({note})" if note else line


def pairs(items, value_attr: str, label_attr: str) -> list[tuple[str, str]]:
    """Objects as (value, label) pairs for a <select>."""
    return [(getattr(i, value_attr), getattr(i, label_attr)) for i in items]


RUN_LABELS = {"running": _l("w toku"), "ok": _l("udane"), "partial": _l("częściowo udane"),
              "failed": _l("nieudane"), "interrupted": _l("przerwane"),
              "degraded": _l("niepełne dane źródła — usunięcia wstrzymane")}


def now_local() -> str:
    return datetime.now(LOCAL_TZ).strftime("%d.%m.%Y")


class TranslatedPairs:
    """(value, Polish label) pairs for a <select>, read in the page's language when iterated."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __iter__(self):
        return iter([(value, vocab(label)) for value, label in self._pairs])


STATUS_OPTIONS = TranslatedPairs([(s.value, label) for s, label in STATUS_LABELS.items()])


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        type_label=type_label, status_label=status_label, precision_label=precision_label, address=format_address,
        place_names=place_names, area_name=area_name, phones=phones, geo_uri=geo_uri, osm_url=osm_url,
        local_dt=local_dt, km=km, provenance_value=provenance_value, street_line=street_line, pairs=pairs,
        web_url=web_url, is_stale=is_stale, placeholder_area=placeholder_area,
        places_text=places_text, group_label=group_label, service_label=service_label,
    )
    app.jinja_env.globals.update(
        TYPES=TranslatedMapping(TYPES, LocalTypeInfo), NEEDS=TranslatedMapping(NEEDS),
        TARGET_GROUPS=TranslatedMapping(TARGET_GROUPS), FIELD_LABELS=FIELD_LABELS, type_info=type_info,
        is_approximate=is_approximate, status_options=STATUS_OPTIONS,
        run_labels=RUN_LABELS, now_local=now_local,
    )
