"""The public JSON API (`/api/...`), documented in webapp/openapi.py (served at /api/openapi.json).

Read-only, CORS-open, short-cached. Every bad parameter is a 4xx JSON error {"error": {"code",
"message" (Polish), "message_en"}}; unexpected failures are JSON too, never an HTML page.
"""
from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context
from sqlmodel import Session, select
from werkzeug.exceptions import HTTPException

from catalog.db import get_engine, session_scope
from catalog.models import FieldProvenance, Institution, SourceRecord
from catalog.settings import Settings
from catalog.spreadsheet import safe_row
from catalog.types import info
from geo import resolve as geo_resolve
from geo import teryt
from index import api as index_api
from webapp import api_params as params
from webapp import api_queries as queries
from webapp import lookup, present, serializers
from webapp.api_params import ApiError, Filters

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")

CACHE_SECONDS = 60
MAP_TEXT_CAP = 2000       # a text query on the map shows at most this many best matches


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _session() -> Session:
    """One read-only session per request, closed in _close_session."""
    if "api_session" not in g:
        g.api_session = Session(get_engine(_settings().database_url), expire_on_commit=False)
    return g.api_session


@bp.teardown_request
def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("api_session", None)
    if session is not None:
        session.close()


# --- errors and headers -----------------------------------------------------------------------------

@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify(exc.to_dict()), exc.status


def not_found_response() -> tuple[Response, int]:
    """The documented Error body for a 404; views.py uses it for unmatched /api/ URLs too (routing
    errors happen before any blueprint is chosen, so they never reach this blueprint's handlers)."""
    return jsonify(ApiError("not_found", "Nie znaleziono.", "Not found.", 404).to_dict()), 404


@bp.errorhandler(404)
def _not_found(_exc):
    return not_found_response()


@bp.app_errorhandler(405)
def _not_allowed(exc: HTTPException):
    # Registered app-wide for the same reason: a POST to /api/... fails in routing, outside the blueprint.
    if not request.path.startswith("/api/"):
        return exc
    response = jsonify(ApiError("method_not_allowed", "API przyjmuje tylko zapytania GET.",
                                "The API accepts GET requests only.", 405).to_dict())
    response.headers["Allow"] = ", ".join(exc.valid_methods or ("GET", "HEAD", "OPTIONS"))
    return response, 405


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):     # e.g. 413: keep the status, answer in JSON
        error = ApiError(f"http_{exc.code}", exc.name, exc.name, exc.code or 500)
        return jsonify(error.to_dict()), error.status
    log.exception("API error on %s", request.path)
    return jsonify(ApiError("internal_error", "Wewnętrzny błąd serwera.", "Internal server error.",
                            500).to_dict()), 500


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

def _index_search(f: Filters) -> tuple[list[int], dict[int, float | None], dict[int, float], int, dict, str | None]:
    settings = _settings()
    if lookup.use_index(settings):
        query = index_api.SearchQuery(
            text=f.text, types=f.types, target_groups=f.target_groups, woj=f.woj, powiat=f.powiat,
            gmina=f.gmina, status=f.status, near=f.near, radius_km=f.radius_km, sort=f.sort,
            page=f.page, per_page=f.per_page, free_places=f.free_places,
        )
        try:
            result = index_api.search(settings, query)
        except index_api.QueryError as exc:
            raise ApiError("invalid_query", str(exc), "The search query was refused.") from exc
        ids = [int(h.id) for h in result.hits]
        return (ids, {int(h.id): h.distance_km for h in result.hits},
                {int(h.id): h.score for h in result.hits}, result.total, dict(result.facets or {}), result.note)
    found = queries.db_search(_session(), f)
    return found.ids, found.distances, {}, found.total, found.facets, found.note


@bp.get("/institutions")
def institutions():
    f = params.filters(request.args)
    ids, distances, scores, total, facets, note = _index_search(f)
    by_id = queries.load_by_ids(_session(), ids)
    items = []
    for inst_id in ids:
        inst = by_id.get(inst_id)
        if inst is None:      # the index may briefly lag behind the catalog
            continue
        item = serializers.institution_to_dict(inst)
        distance = distances.get(inst_id)
        item["distance_km"] = round(distance, 3) if distance is not None else None
        item["score"] = scores.get(inst_id)
        items.append(item)
    return jsonify({"items": items, "total": total, "page": f.page, "per_page": f.per_page,
                    "facets": facets, "note": note})


@bp.get(f"/institutions/<{params.ID_CONVERTER}:institution_id>")
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
    for entry, source in zip(entries, [*resolution.competent, *resolution.nearby]):
        entry["institution"]["www"] = present.web_url(entry["institution"].get("www"))
        entry["institution"]["is_demo"] = bool(source.institution.is_demo)
    return out


@bp.get("/wojewodztwa")
def wojewodztwa():
    return jsonify({"items": [{"code": w.code, "name": w.name} for w in teryt.wojewodztwa()]})


@bp.get("/powiaty")
def powiaty():
    woj = params.woj_code(request.args)
    return jsonify({"items": [
        {"code": p.code, "name": p.name, "label": p.label, "kind": p.kind,
         "city_with_powiat_rights": p.city_with_powiat_rights, "woj": p.woj_code}
        for p in teryt.powiaty(woj)
    ]})


@bp.get("/gminy")
def gminy():
    powiat = params.powiat_code(request.args)
    return jsonify({"items": [
        {"code": g.id6, "teryt7": g.teryt7, "name": g.name, "kind": g.kind, "powiat": g.powiat_code,
         "woj": g.woj_code, "lat": g.lat, "lon": g.lon}
        for g in teryt.gminy(powiat)
    ]})


# --- map ------------------------------------------------------------------------------------------

def _text_ids(f: Filters) -> list[int]:
    """Ids of the best text matches (up to MAP_TEXT_CAP), page by page through the search."""
    ids: list[int] = []
    page = 1
    while len(ids) < MAP_TEXT_CAP:
        batch = Filters(**{**f.__dict__, "page": page, "per_page": params.MAX_PER_PAGE})
        found, _d, _s, total, _f, _n = _index_search(batch)
        ids.extend(found)
        if not found or len(ids) >= total:
            break
        page += 1
    return ids[:MAP_TEXT_CAP]


@bp.get("/map.geojson")
def map_geojson():
    f = params.filters(request.args, paging=False)
    session = _session()
    rows = queries.map_rows(session, f, _text_ids(f) if f.text else None)
    features = [{
        "type": "Feature",
        "id": r.id,
        "geometry": {"type": "Point", "coordinates": [round(r.lon, 6), round(r.lat, 6)]},
        "properties": {"id": r.id, "name": r.name, "type": r.type, "colour": info(r.type).colour,
                       "precision": r.geo_precision, "locality": r.locality,
                       "url": f"/instytucja/{r.id}", "is_demo": bool(r.is_demo)},
    } for r in rows]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    return response


# --- bulk export ----------------------------------------------------------------------------------

def _stream(f: Filters, render: Callable[[Institution], str], head: str = "", tail: str = "") -> Iterator[str]:
    """Render institutions one by one from a session that lives as long as the response."""
    settings = _settings()

    def generate() -> Iterator[str]:
        if head:
            yield head
        with session_scope(settings.database_url) as session:
            yield from (render(inst) for inst in queries.iter_institutions(session, f))
        if tail:
            yield tail
    return stream_with_context(generate())


def _export_filters() -> Filters:
    f = params.filters(request.args, paging=False)
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
    return json.dumps(serializers.institution_to_dict(inst), ensure_ascii=False) + "\n"


def _csv_line(inst: Institution) -> str:
    buffer = io.StringIO()
    # Scraped text must stay text when the file is opened in a spreadsheet (catalog/spreadsheet.py).
    csv.writer(buffer).writerow(safe_row(serializers.institution_to_csv_row(inst)))
    return buffer.getvalue()


def _csv_header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(serializers.CSV_COLUMNS)
    # A BOM lets spreadsheet programs read the Polish letters as UTF-8.
    return "\ufeff" + buffer.getvalue()


@bp.get("/export.jsonl")
def export_jsonl():
    f = _export_filters()
    return _export_response(_stream(f, _json_line), "application/x-ndjson", "instytucje.jsonl")


@bp.get("/export.csv")
def export_csv():
    f = _export_filters()
    return _export_response(_stream(f, _csv_line, head=_csv_header()), "text/csv", "instytucje.csv")


@bp.get("/export/hsds.json")
def export_hsds():
    f = _export_filters()
    first = [True]

    def render(inst: Institution) -> str:
        prefix = "" if first[0] else ",\n"
        first[0] = False
        return prefix + json.dumps(serializers.institution_to_hsds(inst), ensure_ascii=False)

    head = '{"profile": "HSDS 3.0 (compiled organizations), adapted by Mapa Wsparcia", "organizations": [\n'
    return _export_response(_stream(f, render, head=head, tail="\n]}\n"), "application/json", "hsds.json")


# --- documentation --------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document():
    from webapp.openapi import spec
    return jsonify(spec())
