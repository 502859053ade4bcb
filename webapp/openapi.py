"""The OpenAPI 3.1 description of the public API (served at /api/openapi.json), built in code so that
enumerations (types, statuses) and limits come from the same constants the API validates with."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from catalog.spreadsheet import XLSX_MIMETYPE
from catalog.types import InstitutionType, Precision, Status
from geo import teryt
from index.api import MAX_PER_PAGE, MAX_RADIUS_KM, MAX_RESULT_WINDOW
from index.params import (
    GMINA_PATTERN,
    MAX_PAGE,
    MAX_TEXT,
    NEAR_PATTERN,
    POWIAT_PATTERN,
    WOJ_PATTERN,
)
from webapp.routing import MAX_ID
from webapp.serializers import CSV_COLUMNS

NULL_STR = {"type": ["string", "null"]}
NULL_NUM = {"type": ["number", "null"]}
DATE = {"type": ["string", "null"], "format": "date"}
DATETIME = {"type": ["string", "null"], "format": "date-time"}
IS_DEMO = {"type": "boolean", "description": (
    "Rekord demonstracyjny (miejsce na dane, źródło demo): bez adresu i kontaktu, punkt to środek gminy lub "
    "powiatu, status nie pochodzi ze źródła — nie pokazuj go jako urzędu. / A demo placeholder (source demo): "
    "no address or contacts, the point is a unit centre, the status is no source's word.")}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(name: str, description: str, schema: dict, *, required: bool = False, explode: bool | None = None) -> dict:
    out = {"name": name, "in": "query", "required": required, "description": description, "schema": schema}
    if explode is not None:
        out["explode"] = explode
    return out


TYPE_CODES = [t.value for t in InstitutionType]
# The API also takes a comma list in one value (?type=cis,kis): documented, or a fuzzer is right to call it
# a violation that was accepted.
_TYPE_ANY_CASE = "|".join("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in code) for code in TYPE_CODES)
# Any letter case is accepted (?type=CIS): the pattern says so, the enum lists the canonical codes.
TYPE_ITEM = {"type": "string", "anyOf": [{"enum": TYPE_CODES},
                                         {"pattern": f"^(?:{_TYPE_ANY_CASE})(?:,(?:{_TYPE_ANY_CASE}))*$"}]}
EMPTY_NOTE = " Pusta wartość (np. woj=) jest błędem 400: pomiń parametr. / An empty value is a 400: leave it out."
TERYT_NOTE = " Kod musi istnieć w TERYT (geo/teryt.py), inaczej 400 unknown_*. / The code must exist."


def _teryt_schemas() -> dict[str, Any]:
    """TERYT codes: the shape as a pattern and the "must exist" rule as the list of real codes (an enum of
    the 16 województwa; the 380 powiaty and ~2500 gminy (6 digits, or 7 with a kind digit) as
    an alternation pattern: the same set, but a fuzzer's coverage phase does not send every member). A
    valid code is never refused, an unknown one is never a surprise. Referenced, not repeated."""
    gminy = teryt.gminy()
    return {
        "TerytWoj": {"type": "string", "pattern": WOJ_PATTERN, "enum": [w.code for w in teryt.wojewodztwa()]},
        "TerytPowiat": {"type": "string", "pattern": POWIAT_PATTERN, "allOf": [{"pattern": "^(?:" + "|".join(
            p.code for p in teryt.powiaty()) + ")$"}]},
        # ~5000 gmina codes as an enum would make a fuzzer's coverage phase send each one: the same set as
        # a pattern (each real 6-digit code, optionally followed by a kind digit) says it compactly.
        "TerytGmina": {"type": "string", "pattern": GMINA_PATTERN, "allOf": [{"pattern": "^(?:" + "|".join(
            g.id6 for g in sorted(gminy, key=lambda g: g.id6)) + ")[0-9]?$"}]},
    }


FILTER_PARAMS = [
    _param("q", "Szukany tekst (nazwa, usługa, miejscowość). / Free text.", {"type": "string", "maxLength": MAX_TEXT}),
    _param("type", "Typ jednostki; powtarzalny lub lista po przecinku. / Institution type, repeatable or comma list.",
           {"type": "array", "items": TYPE_ITEM}, explode=True),
    _param("woj", "Kod TERYT województwa (2 cyfry)." + TERYT_NOTE + EMPTY_NOTE, _ref("TerytWoj")),
    _param("powiat", "Kod TERYT powiatu (4 cyfry)." + TERYT_NOTE + EMPTY_NOTE, _ref("TerytPowiat")),
    _param("gmina", "Kod TERYT gminy (6 cyfr albo 7 cyfr z rodzajem gminy)." + TERYT_NOTE + EMPTY_NOTE,
           _ref("TerytGmina")),
    _param("status", "Status jednostki (małe litery)." + EMPTY_NOTE,
           {"type": "string", "enum": [s.value for s in Status]}),
    _param("target_group", "Grupa docelowa; powtarzalna lub lista po przecinku.",
           {"type": "array", "items": {"type": "string"}}, explode=True),
    _param("near", "Punkt odniesienia: szerokość,długość (WGS84, −90…90, −180…180), np. 53.13,23.16." + EMPTY_NOTE,
           {"type": "string", "pattern": NEAR_PATTERN}),
    _param("radius_km", "Promień wokół near w km. Wymaga near: bez niego 400 radius_without_near. "
           "/ Requires near (else 400 radius_without_near)." + EMPTY_NOTE,
           {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM}),
    _param("free_places", "Tylko instytucje z wolnymi miejscami (places.free > 0 w najnowszym odczycie); "
           "true/false albo 1/0. / Only institutions whose latest places observation has free places." + EMPTY_NOTE,
           {"type": "string", "enum": ["true", "false", "1", "0"], "default": "false"}),
]
PAGING_PARAMS = [
    _param("sort", "Kolejność: trafność albo odległość (distance wymaga near: bez niego 400 sort_without_near)."
           + EMPTY_NOTE,
           {"type": "string", "enum": ["relevance", "distance"], "default": "relevance"}),
    _param("page", f"Numer strony (od 1). page × per_page najwyżej {MAX_RESULT_WINDOW}, inaczej 400 "
           f"page_beyond_results. / page × per_page at most {MAX_RESULT_WINDOW}." + EMPTY_NOTE, {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
    _param("per_page", "Wyników na stronie." + EMPTY_NOTE, {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                                "default": 20}),
]
MODIFIED_AFTER = _param(
    "modified_after", "Tylko rekordy zmienione w katalogu po tej chwili (data lub data z godziną ISO 8601, UTC).",
    {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
     "examples": ["2026-01-31", "2026-01-31T12:00:00Z"]})

def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


ERRORS = {"400": _error("Nieprawidłowy parametr. / Invalid parameter.")}
NOT_FOUND = {"404": _error("Nie znaleziono. / Not found.")}
# What any API URL can answer besides its own codes (webapp/errors.py, webapp/api.py): a body over the
# limit, a method other than GET, an unknown URL.
COMMON = {
    "404": _error("Nie znaleziono. / Not found."),
    "405": {**_error("Tylko GET. / GET only."),
            "headers": {"Allow": {"schema": {"type": "string"}, "description": "Dozwolone metody."}}},
    "413": _error("Zapytanie jest za duże. / The request is too large."),
}
# Answers with an ETag (everything but the streamed exports) also answer a matching If-None-Match.
NOT_MODIFIED = {"304": {"description": "Bez zmian (If-None-Match / If-Modified-Since); bez treści. "
                                       "/ Not modified; no body."}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


def _op(summary: str, responses: dict, parameters: list | None = None, description: str = "") -> dict:
    out: dict[str, Any] = {"summary": summary, "responses": {**COMMON, **NOT_MODIFIED, **responses}}
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    return {"get": out}


def _schemas() -> dict[str, Any]:
    obj = lambda props, required=None: {"type": "object", "properties": props,
                                        **({"required": required} if required else {})}
    institution = obj({
        "id": {"type": "integer"}, "name": {"type": "string"},
        "type": {"type": "string", "enum": [t.value for t in InstitutionType]}, "type_label": {"type": "string"},
        "operator": obj({k: NULL_STR for k in ("name", "krs", "nip", "regon")}),
        "identifiers": obj({k: NULL_STR for k in ("rjps_id", "krs", "nip", "regon", "register_number")}),
        "address": obj({k: NULL_STR for k in ("street", "building", "flat", "postal_code", "locality", "raw")}),
        "teryt": obj({k: NULL_STR for k in ("woj", "powiat", "gmina")}),
        "location": obj({"lat": NULL_NUM, "lon": NULL_NUM,
                         "precision": {"type": ["string", "null"], "enum": [p.value for p in Precision] + [None]},
                         "precision_label": NULL_STR, "source": NULL_STR}),
        "phones": {"type": "array", "items": obj({"raw": NULL_STR, "e164": NULL_STR})},
        "email": NULL_STR, "www": NULL_STR,
        "service_tags": {"type": "array", "items": {"type": "string"}},
        "target_groups": {"type": "array", "items": {"type": "string"}},
        "service_area": {"type": "array", "items": {"type": "string"}, "description": "Kody TERYT obsługiwanych jednostek."},
        "partners": {"type": "array", "items": {"type": "object"}},
        "status": {"type": "string"}, "status_label": NULL_STR,
        "valid_from": DATE, "valid_until": DATE, "decision_number": NULL_STR, "decision_date": DATE,
        "source_updated_at": DATE, "first_seen": DATETIME, "last_seen": DATETIME, "updated_at": DATETIME,
        "is_demo": IS_DEMO,
        "places": {"anyOf": [obj({
            "total": {"type": ["integer", "null"], "description": "Liczba miejsc. / Places."},
            "free": {"type": ["integer", "null"], "description": "Wolne miejsca. / Free places."},
            "as_of": {**DATE, "description": "Stan na dzień (data podana przez źródło). / As of (source's date)."},
        }, ["total", "free", "as_of"]), {"type": "null"}],
            "description": "Miejsca i wolne miejsca jako jeden odczyt z datą (DPS, ŚDS); null, gdy źródła ich "
                           "nie podają. / Places and free places as one dated observation; null when unknown."},
    }, ["id", "name", "type", "address", "teryt", "location", "status", "updated_at", "is_demo", "places"])
    provenance_entry = obj({"source": {"type": "string"}, "source_key": {"type": "string"}, "value": {},
                            "first_seen": DATETIME, "last_seen": DATETIME, "source_updated_at": DATE})
    return {
        "Error": obj({"error": obj({"code": {"type": "string"}, "message": {"type": "string"},
                                    "message_en": {"type": "string"}}, ["code", "message"])}, ["error"]),
        "Institution": institution,
        "SearchItem": {"allOf": [_ref("Institution"), obj({"distance_km": NULL_NUM, "score": NULL_NUM})]},
        "SearchResponse": obj({
            "items": {"type": "array", "items": _ref("SearchItem")}, "total": {"type": "integer"},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "facets": {"type": "object", "additionalProperties": {"type": "object",
                                                                  "additionalProperties": {"type": "integer"}}},
            "note": NULL_STR,
        }, ["items", "total", "page", "per_page", "facets"]),
        "InstitutionDetail": {"allOf": [_ref("Institution"), obj({
            "type_info": obj({k: {"type": "string"} for k in ("what", "who", "how_to_get_in", "level")}),
            "teryt_names": {"type": "object"},
            "provenance": {"type": "object", "description": "Pole katalogu -> wartości według źródeł.",
                           "additionalProperties": {"type": "array", "items": provenance_entry}},
            "sources": {"type": "array", "items": obj({
                "source": {"type": "string"}, "source_key": {"type": "string"}, "first_seen": DATETIME,
                "last_seen": DATETIME, "source_updated_at": DATE, "missing_runs": {"type": "integer"}})},
        })]},
        "Place": obj({
            "label": {"type": "string"}, "lat": NULL_NUM, "lon": NULL_NUM, "precision": {"type": "string"},
            "precision_label": NULL_STR, "simc": NULL_STR, "locality": NULL_STR, "locality_kind": NULL_STR,
            "district_code": NULL_STR, "district": NULL_STR, "gmina_id6": NULL_STR, "gmina": NULL_STR,
            "gmina_kind": NULL_STR, "powiat_code": NULL_STR, "powiat": NULL_STR, "woj_code": NULL_STR,
            "wojewodztwo": NULL_STR, "query": NULL_STR,
        }, ["label", "lat", "lon", "precision"]),
        "ResolvedInstitution": obj({
            "id": {"type": "integer"}, "name": {"type": "string"},
            "type": {"type": "string", "enum": TYPE_CODES}, "type_label": {"type": "string"},
            "address": NULL_STR, "phones": {"type": ["array", "null"], "items": {"type": "object"}},
            "email": NULL_STR, "www": {**NULL_STR, "description": "Tylko adresy http(s). / http(s) only."},
            "lat": NULL_NUM, "lon": NULL_NUM, "geo_precision": NULL_STR, "status": {"type": "string"},
            "gmina_id6": NULL_STR, "powiat_teryt": NULL_STR, "woj_teryt": NULL_STR, "is_demo": IS_DEMO,
        }, ["id", "name", "type", "is_demo"]),
        "Resolution": obj({
            "query": NULL_STR,
            "ambiguous": {"type": "boolean", "description": "Nazwa pasuje do kilku miejscowości: place jest null, "
                                                            "wybierz z alternatives. / Several places match."},
            "question": {**NULL_STR, "description": "Pytanie do użytkownika, gdy ambiguous. / Question to ask."},
            "choice_order": {"type": ["string", "null"]},
            "place": {"anyOf": [_ref("Place"), {"type": "null"}]},
            "alternatives": {"type": "array", "items": _ref("Place")},
            "competent": {"type": "array", "items": obj({
                "role": {"type": "string"}, "role_label": {"type": "string"},
                "institution": _ref("ResolvedInstitution")}, ["role", "role_label", "institution"])},
            "nearby": {"type": "array", "items": obj({
                "distance_km": {"type": "number"}, "institution": _ref("ResolvedInstitution")},
                ["distance_km", "institution"])},
        }, ["ambiguous", "question", "place", "alternatives", "competent", "nearby"]),
        "Items": obj({"items": {"type": "array", "items": {"type": "object"}}}, ["items"]),
        **_teryt_schemas(),
        "FeatureCollection": obj({
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": obj({
                "type": {"const": "Feature"}, "id": {"type": "integer"},
                "geometry": obj({"type": {"const": "Point"},
                                 "coordinates": {"type": "array", "items": {"type": "number"},
                                                 "minItems": 2, "maxItems": 2}}),
                "properties": obj({"id": {"type": "integer"}, "name": {"type": "string"},
                                   "type": {"type": "string"}, "colour": {"type": "string"},
                                   "precision": NULL_STR, "locality": NULL_STR, "url": {"type": "string"},
                                   "is_demo": IS_DEMO}),
            })},
        }, ["type", "features"]),
    }


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    code = {"type": "string"}
    paths = {
        "/api/institutions": _op("Wyszukiwanie instytucji / Search institutions",
                                 {**_json(_ref("SearchResponse")), **ERRORS}, FILTER_PARAMS + PAGING_PARAMS),
        "/api/institutions/{institution_id}": {"get": {
            "summary": "Instytucja ze źródłami każdego pola / One institution with per-field provenance",
            "parameters": [{"name": "institution_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}],
            "responses": {**COMMON, **NOT_MODIFIED, **_json(_ref("InstitutionDetail")), **NOT_FOUND},
        }},
        "/api/resolve": _op(
            "Jednostki właściwe dla miejsca / Competent units for a place",
            {**_json(_ref("Resolution")), **ERRORS, **NOT_FOUND},
            [_param("q", "Adres, miejscowość lub kod pocztowy.", {"type": "string", "maxLength": MAX_TEXT}),
             _param("lat", "Szerokość geograficzna (z lon).", {"type": "number", "minimum": -90, "maximum": 90}),
             _param("lon", "Długość geograficzna (z lat).", {"type": "number", "minimum": -180, "maximum": 180})],
            "Podaj q albo parę lat, lon: oba naraz to 400 ambiguous_place, żadnego (albo samo lat lub lon) to 400 "
            "missing_place. Nazwa kilku miejscowości daje ambiguous=true, place=null, question i alternatives. "
            "/ Give q or both lat and lon (400 otherwise); an ambiguous name answers alternatives and a question.",
        ),
        "/api/wojewodztwa": _op("Województwa (TERYT)", _json(_ref("Items"))),
        "/api/powiaty": _op("Powiaty (TERYT)", {**_json(_ref("Items")), **ERRORS},
                            [_param("woj", "Kod województwa." + TERYT_NOTE + EMPTY_NOTE, _ref("TerytWoj"))]),
        "/api/gminy": _op("Gminy (TERYT)", {**_json(_ref("Items")), **ERRORS},
                          [_param("powiat", "Kod powiatu." + TERYT_NOTE + EMPTY_NOTE, _ref("TerytPowiat"))]),
        "/api/map.geojson": {"get": {
            "summary": "Punkty na mapę (GeoJSON) / Map points",
            "description": "Te same filtry co wyszukiwanie; z parametrem q najwyżej 2000 najlepszych wyników.",
            "parameters": FILTER_PARAMS,
            "responses": {**COMMON, **NOT_MODIFIED, "200": {"description": "OK", "content": {
                "application/geo+json": {"schema": _ref("FeatureCollection")}}}, **ERRORS},
        }},
        "/api/export.jsonl": _export("Eksport JSON Lines (jeden rekord Institution w wierszu)",
                                     "application/x-ndjson", code),
        "/api/export.csv": _export(f"Eksport CSV (UTF-8 z BOM); kolumny: {', '.join(CSV_COLUMNS)} "
                                   "(is_demo: 1 = rekord demonstracyjny)", "text/csv", code),
        "/api/export.xlsx": _export(f"Eksport XLSX (arkusz Excel: kolumny w każdej wersji językowej Excela); "
                                    f"kolumny jak w CSV: {', '.join(CSV_COLUMNS)}; komórki tekstowe nigdy nie są "
                                    "formułami", XLSX_MIMETYPE, {"type": "string", "contentMediaType": XLSX_MIMETYPE}),
        "/api/export/hsds.json": _export(
            "Eksport HSDS 3.0 (skompilowane organizacje z usługami i lokalizacjami, zgodne z oficjalnymi "
            "schematami); rekordy demonstracyjne nie są publikowane",
            "application/json", {"type": "object"}),
        "/api/openapi.json": _op("Ten dokument / This document", _json({"type": "object"})),
    }
    from webapp.hsds_api import openapi_paths  # HSDS 3.0 endpoints (webapp/hsds_api.py)
    paths.update(openapi_paths(_ref("Error")))
    for path in paths.values():   # the HSDS operations answer the same 304/404/405/413 as the rest
        path["get"]["responses"] = {**COMMON, **NOT_MODIFIED, **path["get"]["responses"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mapa Wsparcia — publiczne API",
            "version": "1.0.0",
            "description": "Katalog instytucji wsparcia społecznego w Polsce (OPS, PCPR, PUP, CIS, KIS, ZAZ, WTZ, "
                           "OWES, PS). Tylko odczyt, CORS otwarty. Błędy: {\"error\": {\"code\", \"message\", "
                           "\"message_en\"}}. Nazwy pól są stabilne.",
            "license": {"name": "Dane: zobacz /zrodla (licencje źródeł)", "url": "https://www.openstreetmap.org/copyright"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": _schemas()},
    }


def _export(summary: str, mimetype: str, schema: dict) -> dict:
    return {"get": {
        "summary": summary,
        "description": "Strumień wszystkich pól; filtry jak w wyszukiwaniu (bez q) oraz modified_after.",
        "parameters": [p for p in FILTER_PARAMS if p["name"] != "q"] + [MODIFIED_AFTER],
        "responses": {**COMMON, **NOT_MODIFIED, "200": {"description": "OK", "content": {mimetype: {"schema": schema}}},
                      **ERRORS},
    }}
