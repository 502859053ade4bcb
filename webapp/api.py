"""The public JSON API (`/api/...`), documented in webapp/openapi.py (served at /api/openapi.json).

Read-only, CORS-open, short-cached. Every bad parameter is a 4xx JSON error {"error": {"code",
"message" (Polish), "message_en"}}; unexpected failures are JSON too, never an HTML page.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from sqlmodel import select
from werkzeug.exceptions import RequestEntityTooLarge

from catalog.db import session_scope
from catalog.models import FieldProvenance, Institution, SourceRecord
from catalog.spreadsheet import XLSX_MIMETYPE, xlsx_bytes
from catalog.types import info
from geo import resolve as geo_resolve
from geo import teryt
from index import fallback, params
from index.api import QueryError, SearchQuery
from index.params import ParamError
from webapp import lookup, serializers
from webapp.db import session as _session
from webapp.db import settings as _settings
from webapp.routing import ID_CONVERTER

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _refuse_large_bodies() -> None:
    """The API reads no body, so werkzeug would never notice one over the limit: refuse it up front
    (webapp/errors.py answers 413 in the API's shape, with a Polish message)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()

CACHE_SECONDS = 60
ApiError = ParamError   # the API's 4xx: code, Polish message, English message (errors.py answers it)


def _args() -> dict[str, list[str]]:
    return params.as_params(request.args)


@bp.after_app_request
def _headers(response: Response) -> Response:
    # App-wide hook so routing-level answers (404/405 for unknown /api/ URLs) carry the headers too.
    if not request.path.startswith(bp.url_prefix + "/"):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("Cache-Control", f"public, max-age={CACHE_SECONDS}")
    if request.method == "GET" and response.status_code == 200 and not response.is_streamed:
        response.add_etag()
        response.make_conditional(request)
    return response


# --- search ---------------------------------------------------------------------------------------

def _query(**fixed: object) -> SearchQuery:
    query = params.parse(_args())
    params.modified_after(_args())   # accepted everywhere (exports filter on it), so refused everywhere
    return SearchQuery(**{**query.__dict__, **fixed}) if fixed else query


def _refused(exc: QueryError) -> ParamError:
    if isinstance(exc, ParamError):
        return exc
    return ParamError("invalid_query", str(exc), "The search query was refused.")


@bp.get("/institutions")
def institutions():
    query = _query()
    try:
        result = lookup.search(_session(), _settings(), query)
    except QueryError as exc:
        raise _refused(exc) from exc
    items = [serializers.search_item(inst, hit) for inst, hit in _with_hits(result)]
    return jsonify({"items": items, "total": result.total, "page": query.page, "per_page": query.per_page,
                    "facets": dict(result.facets or {}), "note": result.note})


def _with_hits(result) -> list:
    by_id = {inst.id: inst for inst in lookup.by_ids(_session(), [h.id for h in result.hits])}
    # The index may briefly lag behind the catalog: hits without a row are left out.
    return [(by_id[h.id], h) for h in result.hits if h.id in by_id]


@bp.get(f"/institutions/<{ID_CONVERTER}:institution_id>")
def institution(institution_id: int):
    session = _session()
    inst = session.get(Institution, institution_id)
    if inst is None:
        raise ApiError("not_found", f"Nie ma instytucji o identyfikatorze {institution_id}.",
                       f"No institution with id {institution_id}.", 404)
    provenance = session.exec(select(FieldProvenance).where(FieldProvenance.institution_id == inst.id)).all()
    records = session.exec(select(SourceRecord).where(SourceRecord.institution_id == inst.id)).all()
    type_info = info(inst.type)
    out = serializers.institution_to_dict(inst)
    out["type_info"] = {"what": type_info.what, "who": type_info.who, "how_to_get_in": type_info.how_to_get_in,
                        "level": type_info.level.value}
    out["teryt_names"] = teryt.names_for(inst.gmina_id6, inst.powiat_teryt, inst.woj_teryt)
    out["provenance"] = serializers.provenance_to_dict(provenance)
    out["sources"] = [{"source": r.source, "source_key": r.source_key, "first_seen": serializers.iso(r.first_seen),
                       "last_seen": serializers.iso(r.last_seen),
                       "source_updated_at": serializers.iso(r.source_updated_at),
                       "missing_runs": r.missing_runs} for r in sorted(records, key=lambda r: r.source)]
    return jsonify(out)


# --- places ---------------------------------------------------------------------------------------

@bp.get("/resolve")
def resolve():
    text = params.clean(request.args.get("q", ""))
    lat, lon = request.args.get("lat", "").strip(), request.args.get("lon", "").strip()
    if text and (lat or lon):
        raise ApiError("ambiguous_place", "Podaj albo q, albo lat i lon.", "Give either q or lat and lon.")
    if not text and not (lat and lon):
        raise ApiError("missing_place", "Podaj adres, miejscowość lub kod pocztowy (q) albo lat i lon.",
                       "Give an address, town or postal code (q), or lat and lon.")
    if len(text) > params.MAX_TEXT:
        raise ApiError("query_too_long", f"Zapytanie może mieć najwyżej {params.MAX_TEXT} znaków.",
                       f"The query may have at most {params.MAX_TEXT} characters.")
    point = params.point(lat, lon) if not text else None
    resolution = geo_resolve.resolve(_session(), _settings(), text=text or None, point=point)
    if resolution is None:
        raise ApiError("place_not_found", "Nie znaleziono takiego miejsca w Polsce.",
                       "No such place found in Poland.", 404)
    return jsonify(_public_resolution(resolution))


def _public_resolution(resolution: geo_resolve.Resolution) -> dict:
    """geo.resolve's dict with the API's publishing rules: http(s)-only `www`, an explicit `is_demo`."""
    out = resolution.to_dict()
    entries = [*out["competent"], *out["nearby"]]
    for entry, source in zip(entries, [*resolution.competent, *resolution.nearby], strict=False):
        entry["institution"]["www"] = serializers.web_url(entry["institution"].get("www"))
        entry["institution"]["is_demo"] = bool(source.institution.is_demo)
    return out


@bp.get("/wojewodztwa")
def wojewodztwa():
    return jsonify({"items": [{"code": w.code, "name": w.name} for w in teryt.wojewodztwa()]})


@bp.get("/powiaty")
def powiaty():
    woj = params.woj_code(_args())
    return jsonify({"items": [
        {"code": p.code, "name": p.name, "label": p.label, "kind": p.kind,
         "city_with_powiat_rights": p.city_with_powiat_rights, "woj": p.woj_code}
        for p in teryt.powiaty(woj)
    ]})


@bp.get("/gminy")
def gminy():
    powiat = params.powiat_code(_args())
    return jsonify({"items": [
        {"code": g.id6, "teryt7": g.teryt7, "name": g.name, "kind": g.kind, "powiat": g.powiat_code,
         "woj": g.woj_code, "lat": g.lat, "lon": g.lon}
        for g in teryt.gminy(powiat)
    ]})


# --- map ------------------------------------------------------------------------------------------

@bp.get("/map.geojson")
def map_geojson():
    query = _query(page=1)
    session = _session()
    try:
        located = lookup.locate(session, _settings(), query)
    except QueryError as exc:
        raise _refused(exc) from exc
    rows = lookup.by_ids(session, [p.id for p in located.points], serializers.GEOJSON_COLUMNS)
    response = jsonify({"type": "FeatureCollection", "features": [serializers.geojson_feature(r) for r in rows]})
    response.mimetype = "application/geo+json"
    return response


# --- bulk export ----------------------------------------------------------------------------------

def _stream(query: SearchQuery, render: Callable[[Institution], str], head: str = "", tail: str = "") -> Iterator[str]:
    """Render institutions one by one from a session that lives as long as the response."""
    settings = _settings()

    def generate() -> Iterator[str]:
        if head:
            yield head
        with session_scope(settings.database_url) as session:
            yield from (render(inst) for inst in fallback.iter_institutions(
                session, query, modified_after=params.modified_after(_args())))
        if tail:
            yield tail
    return stream_with_context(generate())


def _export_filters() -> SearchQuery:
    params.modified_after(_args())   # refused here, before the response starts
    f = _query(page=1)
    if f.text:
        raise ApiError("text_not_supported", "Eksport nie obsługuje parametru q; użyj filtrów.",
                       "Exports do not support q; use the filters.")
    return f


def _export_response(body: Iterator[str], mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-cache"
    return response


def _json_line(inst: Institution) -> str:
    return serializers.json_line(inst)


def _csv_line(inst: Institution) -> str:
    return serializers.csv_line(inst)


def _csv_header() -> str:
    return serializers.csv_header()


@bp.get("/export.jsonl")
def export_jsonl():
    f = _export_filters()
    return _export_response(_stream(f, _json_line), "application/x-ndjson", "instytucje.jsonl")


@bp.get("/export.csv")
def export_csv():
    f = _export_filters()
    return _export_response(_stream(f, _csv_line, head=_csv_header()), "text/csv", "instytucje.csv")


@bp.get("/export.xlsx")
def export_xlsx():
    """The CSV's columns as a workbook: opens as columns in Polish Excel, whose CSV separator is ';'."""
    f = _export_filters()
    with session_scope(_settings().database_url) as session:
        rows = [serializers.institution_to_csv_row(inst) for inst in fallback.iter_institutions(
            session, f, modified_after=params.modified_after(_args()))]
    body = xlsx_bytes(list(serializers.CSV_COLUMNS), rows, "instytucje")
    response = Response(body, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="instytucje.xlsx"'
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/export/hsds.json")
def export_hsds():
    # The HSDS API's own mapping (webapp/hsds.py): compiled organizations, placeholders left out.
    from webapp.hsds_api import export_stream
    return _export_response(export_stream(_export_filters(), _args()), "application/json", "hsds.json")


# --- documentation --------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document():
    from webapp.openapi import spec
    return jsonify(spec())
