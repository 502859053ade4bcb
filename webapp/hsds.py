"""Institution -> Open Referral HSDS 3.0 objects (organization, service, location, service_at_location,
taxonomy, taxonomy_term), validated in tests against the official compiled schemas.

Pure: an `HsdsInput` (the institution, its source identity, its change log) in, plain dicts out; no Flask,
no database. The HSDS API (webapp/hsds_api.py) and the bulk export share this one mapping.

Rules of the mapping:
* ids are uuid5 of the institution's *source identity* (its first source record, e.g. "rjps:3499"), so
  they survive a rebuild of the catalog, in which our integer ids change;
* HSDS types are strict (a string is never null): whatever is unknown is left out, never sent as null;
* demo placeholders are not institutions and are never mapped (callers filter them; `to_service` refuses).
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from shapely.geometry import mapping, shape
from shapely.ops import unary_union

from catalog.address import street_line
from catalog.models import ChangeLog, Institution
from catalog.settings import REFERENCE_DATA_DIR
from catalog.types import NEEDS, SERVICE_TAGS, TARGET_GROUPS, TYPES, Level, Status, info
from geo import teryt

HSDS_VERSION = "3.0"
# Namespace of every uuid5 we publish; fixed forever, or every consumer's joins break.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mapa-wsparcia.pl/hsds/3.0")
PROFILE_URL = "https://docs.openreferral.org/en/v3.0/"
METADATA_LIMIT = 50        # newest change log entries per service: history lives in the catalog

STATUS = {Status.ACTIVE.value: "active", Status.EXPIRED.value: "inactive", Status.CLOSED.value: "defunct",
          Status.POSSIBLY_CLOSED.value: "inactive"}
CHANGE_ACTIONS = {"new": "create", "changed": "update", "missing": "update", "reappeared": "update",
                  "status": "update", "merged": "update", "unmerged": "update"}
SOURCE_LABELS = {"user-report": "zgłoszenie użytkownika, zweryfikowane", "operator": "operator katalogu"}
# Points this coarse are a unit's centre, not the office: HSDS has no precision field to say so.
COARSE_PRECISIONS = {"gmina", "powiat"}
# The statutory language of Polish public bodies (ustawa o języku polskim, art. 4).
POLISH = {"name": "polski", "code": "pl", "note": "Język urzędowy jednostki."}
IDENTIFIER_SCHEMES = (  # (Institution field, HSDS identifier_type, org-id.guide scheme or ours)
    ("regon", "REGON", "PL-REGON"), ("krs", "KRS", "PL-KRS"), ("nip", "NIP", "PL-NIP"),
    ("rjps_id", "RJPS", "PL-RJPS"),
)


@dataclass(frozen=True)
class Taxonomy:
    key: str
    name: str
    description: str
    terms: dict[str, str]          # code -> Polish name
    other: str                     # name of the catch-all term for values outside the vocabulary


TAXONOMIES: tuple[Taxonomy, ...] = (
    Taxonomy("typ-jednostki", "Typy jednostek", "Rodzaje instytucji wsparcia społecznego w Polsce.",
             {t.value: i.label for t, i in TYPES.items()}, "Inna jednostka"),
    Taxonomy("potrzeba", "Potrzeby", "W czym instytucja pomaga (potrzeby osób szukających wsparcia).",
             dict(NEEDS), "Inna potrzeba"),
    Taxonomy("grupa-docelowa", "Grupy docelowe", "Do kogo kierowana jest pomoc (według źródeł danych).",
             dict(TARGET_GROUPS), "Inna grupa docelowa (opis źródła)"),
    Taxonomy("rodzaj-uslugi", "Rodzaje usług", "Formy pomocy według Rejestru Jednostek Pomocy Społecznej.",
             dict(SERVICE_TAGS), "Inna usługa (opis źródła)"),
)
OTHER_CODE = "inne"


@dataclass
class HsdsInput:
    """What the mapping needs about one institution."""
    institution: Institution
    identity: str                                   # "rjps:3499": the first source record's identity
    parent_identity: str | None = None              # the seat's identity for a branch (filia)
    changes: list[ChangeLog] = field(default_factory=list)


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def organization_id(identity: str) -> str:
    return uid("organization", identity)


def service_id(identity: str) -> str:
    return uid("service", identity)


def location_id(identity: str) -> str:
    return uid("location", identity)


def service_at_location_id(identity: str) -> str:
    return uid("service_at_location", identity)


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    """HSDS strings are never null: unknown values are left out (an empty list says nothing either)."""
    return {k: v for k, v in d.items() if v not in (None, "", [])}


# --- safe values ------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s<>\"';,]+@[^@\s<>\"';,]+\.[A-Za-z]{2,}$")


def email(value: str | None) -> str | None:
    """The first plausible address of a scraped email field ("a@x.pl; b@y.pl" gives a@x.pl)."""
    for part in re.split(r"[\s;,]+", value or ""):
        if _EMAIL.match(part):
            return part
    return None


def web_uri(value: str | None) -> str | None:
    """A scraped www field as an absolute ASCII http(s) URI (RFC 3986), or None.
    Polish letters in the host become IDNA, elsewhere percent-escapes; any other scheme is dropped."""
    value = (value or "").strip()
    if not value or any(c.isspace() for c in value) or any(ord(c) < 32 for c in value):
        return None
    if not re.match(r"(?i)^https?://", value):
        if "://" in value or ":" in value.split("/")[0]:
            return None
        value = "https://" + value
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return None
    if "." not in host or not re.fullmatch(r"[A-Za-z0-9.-]+", host):
        return None
    netloc = host + (f":{parts.port}" if parts.port else "")
    safe = "/%:@!$&'()*+,;=-._~"
    return urlunsplit((parts.scheme.lower(), netloc, quote(parts.path, safe=safe),
                       quote(parts.query, safe=safe + "?"), quote(parts.fragment, safe=safe + "?")))


# --- service areas ----------------------------------------------------------------------------------

@lru_cache(maxsize=3)
def _boundaries(layer: str) -> dict[str, Any]:
    """TERYT code -> shapely geometry of one boundary layer (gminy by id6, powiaty, wojewodztwa)."""
    path = REFERENCE_DATA_DIR / "boundaries" / f"{layer}.geojson"
    with path.open(encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    size = {"gminy": 6, "powiaty": 4, "wojewodztwa": 2}[layer]
    return {f["properties"]["teryt"][:size]: shape(f["geometry"]) for f in features}


def _unit(code: str) -> tuple[str, Any] | None:
    """(Polish name, geometry) of a TERYT unit given by a 2-, 4-, 6- or 7-digit code."""
    if len(code) == 2 and (woj := teryt.wojewodztwo(code)):
        return f"województwo {woj.name}", _boundaries("wojewodztwa").get(code)
    if len(code) == 4 and (pow_ := teryt.powiat(code)):
        return pow_.label, _boundaries("powiaty").get(code)
    if len(code) in (6, 7) and (gm := teryt.gmina(code[:6])):
        return f"gmina {gm.name}", _boundaries("gminy").get(gm.id6)
    return None


def _area_codes(inst: Institution) -> list[str]:
    """The units the institution serves: the source's list, else its own unit at its type's level."""
    if inst.service_area:
        return [str(c) for c in inst.service_area]
    level = info(inst.type).level
    own = {Level.GMINA: inst.gmina_id6, Level.POWIAT: inst.powiat_teryt, Level.WOJEWODZTWO: inst.woj_teryt}
    code = own.get(level)
    return [code] if code else []


def _geojson(geometries: list[Any]) -> str:
    geom = unary_union(geometries) if len(geometries) > 1 else geometries[0]
    return json.dumps(_rounded(mapping(geom)), separators=(",", ":"))


def _rounded(obj: Any) -> Any:
    # 5 decimals (~1 m) is far finer than the generalised boundaries themselves.
    if isinstance(obj, float):
        return round(obj, 5)
    if isinstance(obj, (list, tuple)):
        return [_rounded(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


def service_area(inst: Institution, identity: str) -> dict[str, Any] | None:
    units = [u for u in (_unit(c) for c in _area_codes(inst)) if u]
    if not units:
        return None
    names = [name for name, _g in units]
    geometries = [g for _n, g in units if g is not None]
    level = info(inst.type).level
    description = "Subregion OWES: " + ", ".join(names) if level is Level.SUBREGION else None
    return _drop_empty({
        "id": uid("service_area", identity), "service_id": service_id(identity),
        "name": ", ".join(names), "description": description,
        "extent": _geojson(geometries) if geometries else None,
        "extent_type": "geojson" if geometries else None,
    })


# --- taxonomy ---------------------------------------------------------------------------------------

def taxonomy_id(tax: Taxonomy) -> str:
    return uid("taxonomy", tax.key)


def term_id(tax: Taxonomy, code: str) -> str:
    return uid("taxonomy_term", tax.key, code)


def taxonomy_to_dict(tax: Taxonomy) -> dict[str, Any]:
    return {"id": taxonomy_id(tax), "name": tax.name, "description": tax.description, "version": "1"}


def taxonomy_terms(tax: Taxonomy) -> list[dict[str, Any]]:
    terms = [*tax.terms.items(), (OTHER_CODE, tax.other)]
    return [{
        "id": term_id(tax, code), "code": code, "name": name,
        "description": f"{tax.name}: {name}.", "taxonomy": tax.key, "taxonomy_id": taxonomy_id(tax),
        "language": "pl",
    } for code, name in terms]


def all_taxonomy_terms() -> list[dict[str, Any]]:
    return [term for tax in TAXONOMIES for term in taxonomy_terms(tax)]


def _attribute(tax: Taxonomy, value: str, link_id: str, identity: str) -> dict[str, Any]:
    """One service classification; a value outside the vocabulary keeps its text under the catch-all."""
    code = value if value in tax.terms else OTHER_CODE
    name = tax.terms.get(code, tax.other)
    term = {"id": term_id(tax, code), "code": code, "name": name, "description": f"{tax.name}: {name}.",
            "taxonomy": tax.key, "taxonomy_id": taxonomy_id(tax)}
    return _drop_empty({
        "id": uid("attribute", identity, tax.key, value), "link_id": link_id, "link_type": tax.key,
        "link_entity": "service", "taxonomy_term_id": term["id"], "taxonomy_term": term,
        "value": None if code == value else value,
    })


def _attributes(inst: Institution, identity: str) -> list[dict[str, Any]]:
    by_key = {t.key: t for t in TAXONOMIES}
    sid = service_id(identity)
    values = ([("typ-jednostki", inst.type)] + [("potrzeba", n) for n in info(inst.type).needs]
              + [("grupa-docelowa", str(g)) for g in inst.target_groups or []]
              + [("rodzaj-uslugi", str(t)) for t in inst.service_tags or []])
    seen: dict[tuple[str, str], None] = dict.fromkeys(values)
    return [_attribute(by_key[key], value, sid, identity) for key, value in seen if value]


# --- change log -> metadata -------------------------------------------------------------------------

def _change_text(value: str | None) -> str:
    """A change log value (JSON-encoded by the merge) as plain text for humans."""
    if value is None:
        return ""
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else json.dumps(decoded, ensure_ascii=False)


def metadata(changes: Iterable[ChangeLog], resource_id: str, identity: str) -> list[dict[str, Any]]:
    newest = sorted(changes, key=lambda c: (c.changed_at, c.id or 0), reverse=True)[:METADATA_LIMIT]
    return [{
        "id": uid("metadata", identity, str(c.id), c.kind),
        "resource_id": resource_id, "resource_type": "service",
        "last_action_date": iso_datetime(c.changed_at) or "",
        "last_action_type": CHANGE_ACTIONS.get(c.kind, "update"),
        "field_name": c.field or "",
        "previous_value": _change_text(c.old_value),
        "replacement_value": _change_text(c.new_value) or (c.kind if c.kind != "changed" else ""),
        "updated_by": _updated_by(c.source),
    } for c in newest]


def _updated_by(source: str | None) -> str:
    if not source:
        return "Mapa Wsparcia"
    return SOURCE_LABELS.get(source, f"źródło: {source}")


# --- contacts, phones, addresses --------------------------------------------------------------------

def _phones(inst: Institution, identity: str) -> list[dict[str, Any]]:
    out = []
    for i, phone in enumerate(inst.phones or []):
        number = (phone.get("e164") or phone.get("raw") or "").strip()
        if not number:
            continue
        out.append(_drop_empty({
            "id": uid("phone", identity, str(i)), "organization_id": organization_id(identity),
            "service_id": service_id(identity), "location_id": location_id(identity), "number": number,
            "type": "voice", "description": phone.get("raw") if phone.get("raw") != number else None,
            "languages": [],
        }))
    return out


def _contacts(inst: Institution, identity: str) -> list[dict[str, Any]]:
    address = email(inst.email)
    if not (inst.head or address):
        return []
    return [_drop_empty({
        "id": uid("contact", identity), "organization_id": organization_id(identity),
        "service_id": service_id(identity), "location_id": location_id(identity),
        "name": inst.head, "title": "Kierownik jednostki" if inst.head else None,
        "department": None if inst.head else "Sekretariat", "email": address,
    })]


def _address_line(inst: Institution) -> str | None:
    return street_line(inst) or None   # a rural address: "Zabłudów 12" (catalog.address)


def _address(inst: Institution, identity: str) -> dict[str, Any] | None:
    """The postal address, only when HSDS's required parts (line, city, region, postcode) are all known."""
    woj = teryt.wojewodztwo(inst.woj_teryt)
    line, city = _address_line(inst), inst.locality
    if not (line and city and inst.postal_code and woj):
        return None
    powiat = teryt.powiat(inst.powiat_teryt)
    return _drop_empty({
        "id": uid("address", identity), "location_id": location_id(identity), "address_1": line,
        "city": city, "region": powiat.label if powiat else None, "state_province": woj.name,
        "postal_code": inst.postal_code, "country": "PL", "address_type": "physical",
    })


def location(item: HsdsInput) -> dict[str, Any]:
    inst, identity = item.institution, item.identity
    precise = inst.lat is not None and inst.lon is not None and inst.geo_precision not in COARSE_PRECISIONS
    address = _address(inst, identity)
    return _drop_empty({
        "id": location_id(identity), "location_type": "physical", "organization_id": organization_id(identity),
        "name": inst.name, "latitude": inst.lat if precise else None, "longitude": inst.lon if precise else None,
        "external_identifier": inst.gmina_id6, "external_identifier_type": "TERYT" if inst.gmina_id6 else None,
        "description": None if address else inst.address_raw,   # an address we could not split is still useful
        "addresses": [address] if address else [], "phones": _phones(inst, identity),
        "contacts": _contacts(inst, identity), "languages": [_language(identity, "location")],
    })


def _language(identity: str, owner: str) -> dict[str, Any]:
    ids = {"service": {"service_id": service_id(identity)}, "location": {"location_id": location_id(identity)}}
    return {"id": uid("language", identity, owner), **ids[owner], **POLISH}


# --- the main objects -------------------------------------------------------------------------------

def _org_description(inst: Institution) -> str:
    type_info = info(inst.type)
    operator = f" Prowadzi: {inst.operator_name}." if inst.operator_name else ""
    return f"{type_info.label}. {type_info.what}{operator}"


def _identifiers(inst: Institution, identity: str) -> list[dict[str, Any]]:
    out = []
    for attr, kind, scheme in IDENTIFIER_SCHEMES:
        value = (getattr(inst, attr) or "").strip()
        if value:
            out.append({"id": uid("organization_identifier", identity, kind),
                        "organization_id": organization_id(identity), "identifier_scheme": scheme,
                        "identifier_type": kind, "identifier": value})
    return out


def organization(item: HsdsInput, *, with_services: bool = True, with_locations: bool = True) -> dict[str, Any]:
    inst, identity = item.institution, item.identity
    _refuse_placeholder(inst)
    return _drop_empty({
        "id": organization_id(identity), "name": inst.name, "description": _org_description(inst),
        "email": email(inst.email), "website": web_uri(inst.www), "tax_id": inst.nip,
        "legal_status": info(inst.type).label,
        "parent_organization_id": organization_id(item.parent_identity) if item.parent_identity else None,
        "organization_identifiers": _identifiers(inst, identity),
        "locations": [location(item)] if with_locations else [],
        "services": [service(item, nested=False)] if with_services else [],
    })


def _service_at_location(item: HsdsInput, *, with_location: bool = True) -> dict[str, Any]:
    identity = item.identity
    return _drop_empty({
        "id": service_at_location_id(identity), "service_id": service_id(identity),
        "location_id": location_id(identity),
        "description": f"{info(item.institution.type).label} pod tym adresem.",
        "location": location(item) if with_location else None,
    })


def service(item: HsdsInput, *, nested: bool = True) -> dict[str, Any]:
    """The compiled service. `nested`: with its organization object (the /services/{id} shape); the
    organization's own `services` list carries it without (no cycle)."""
    inst, identity = item.institution, item.identity
    _refuse_placeholder(inst)
    type_info = info(inst.type)
    sid = service_id(identity)
    area = service_area(inst, identity)
    return _drop_empty({
        "id": sid, "organization_id": organization_id(identity), "name": inst.name,
        "alternate_name": type_info.label, "description": type_info.what,
        "url": web_uri(inst.www), "email": email(inst.email),
        "status": STATUS.get(inst.status, "inactive"),
        "application_process": type_info.how_to_get_in, "eligibility_description": type_info.who,
        "fees_description": None, "last_modified": iso_datetime(inst.updated_at),
        "phones": _phones(inst, identity), "service_areas": [area] if area else [],
        "service_at_locations": [_service_at_location(item)], "languages": [_language(identity, "service")],
        "contacts": _contacts(inst, identity), "attributes": _attributes(inst, identity),
        "organization": organization(item, with_services=False, with_locations=False) if nested else None,
        "metadata": metadata(item.changes, sid, identity),
    })


def service_at_location(item: HsdsInput) -> dict[str, Any]:
    """The compiled service_at_location with its location and service (the service without its own
    service_at_locations, which would repeat this object)."""
    _refuse_placeholder(item.institution)
    out = _service_at_location(item)
    svc = service(item)
    svc.pop("service_at_locations", None)
    out["service"] = svc
    return out


def service_list_item(item: HsdsInput) -> dict[str, Any]:
    """A service as HSDS list pages give it (service_list.json): the one-to-one fields only."""
    full = service(item, nested=False)
    return {k: v for k, v in full.items() if not isinstance(v, list | dict)}


def organization_list_item(item: HsdsInput) -> dict[str, Any]:
    full = organization(item, with_services=False, with_locations=False)
    return {k: v for k, v in full.items() if not isinstance(v, list | dict)}


def service_at_location_list_item(item: HsdsInput) -> dict[str, Any]:
    return _service_at_location(item, with_location=False)


def _refuse_placeholder(inst: Institution) -> None:
    if inst.is_demo:
        raise ValueError(f"institution {inst.id} is a demo placeholder: never published as HSDS")


def root(openapi_url: str) -> dict[str, Any]:
    return {"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": openapi_url}


def as_of(value: date | datetime | None) -> str | None:
    """Helper for callers that print a date next to the data (the export header)."""
    if isinstance(value, datetime):
        return iso_datetime(value)
    return value.isoformat() if value else None
