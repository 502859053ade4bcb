"""Map pages: the directory map (a page with the filters and a same-origin frame holding the folium
document) and the small map of one institution. The markers are exactly the located matches of the
page's SearchQuery (lookup.locate), so the map shows what the list lists."""
from __future__ import annotations

from collections import OrderedDict

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from sqlmodel import func, select

from catalog.models import Institution
from catalog.types import TYPES
from geo import teryt
from index import params
from webapp import lookup, maps
from webapp.db import session, settings
from webapp.routing import ID_CONVERTER
from webapp.security import nonce_scripts, relax_styles_for_frame

bp = Blueprint("map", __name__)

FRAME_CACHE = "wsparcie.map_frames"
FRAME_CACHE_SIZE = 32
# Only what a marker needs: loading whole records made the 10 000-institution map frame slow.
MARKER_COLUMNS = (Institution.id, Institution.name, Institution.type, Institution.lat, Institution.lon,
                  Institution.geo_precision, Institution.is_demo)


def init_app(app: Flask) -> None:
    # Rendered map documents per (query string, catalog state): owned by the app, not the module.
    app.extensions[FRAME_CACHE] = OrderedDict()


def _query():
    return params.parse_page(params.as_params(request.args))


def map_institutions() -> list:
    """Marker rows (MARKER_COLUMNS) of every located match of the page's query."""
    s = session()
    located = lookup.locate(s, settings(), _query())
    return lookup.by_ids(s, [p.id for p in located.points], MARKER_COLUMNS)


def _catalog_stamp() -> tuple:
    """Changes whenever the catalog does: the cached map documents are then rebuilt."""
    return tuple(session().exec(select(func.count(), func.max(Institution.updated_at))).one())


def _cached_map_html() -> str:
    cache: OrderedDict = current_app.extensions.setdefault(FRAME_CACHE, OrderedDict())
    key = (request.query_string, _catalog_stamp())
    html = cache.get(key)
    if html is None:
        html = maps.full_map_html(map_institutions(), choropleth=_choropleth())
        cache[key] = html
        while len(cache) > FRAME_CACHE_SIZE:
            cache.popitem(last=False)
    return html


def _choropleth() -> str | None:
    value = request.args.get("kartogram", "")
    return value if value in {t.value for t in TYPES} or value == maps.COVERAGE_KEY else None


def map_page():
    query = _query()
    woj = query.woj or (query.powiat[:2] if query.powiat else None)
    return render_template(
        "map.html", f=query, need=params.page_need(params.as_params(request.args)), choropleth=_choropleth(),
        wojewodztwa=teryt.wojewodztwa(), powiaty=teryt.powiaty(woj) if woj else [], woj=woj,
        frame_query=request.query_string.decode("ascii", "ignore"),
    )


def _frame(html: str) -> Response:
    relax_styles_for_frame()
    return Response(nonce_scripts(html), mimetype="text/html")


def map_frame():
    return _frame(_cached_map_html())


def small_map_frame(inst_id: int):
    inst = session().get(Institution, inst_id)
    if inst is None or inst.lat is None:
        abort(404)
    return _frame(maps.small_map_html(inst))


bp.add_url_rule("/mapa", "map", map_page)
bp.add_url_rule("/mapa/ramka", "map_frame", map_frame)
bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>/mapa", "small_map", small_map_frame)
