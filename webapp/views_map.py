"""Map pages: the directory map (a page with the filters and a same-origin frame holding the folium
document), its data endpoint, and the small map of one institution.

How the directory map's first view is drawn (the benchmark's hook; these URLs are stable):
1. `GET /mapa?<filters>`: the page (filters form, list link, <noscript> note, the frame). Its size does
   not depend on the catalog.
2. `GET /mapa/ramka?<filters>`: the folium base document (tiles, controls, optional powiat choropleth
   `kartogram=`, legend). It holds no institution: it is rendered once per (kartogram, language, catalog
   state) and cached; every other query string (`?v=1`, the filters) is served from that copy. Static
   scripts: /static/js/map-markers.js (pins, popups) and /static/js/map-clusters.js.
3. `GET /mapa/dane.json?<filters>&bbox=w,s,e,n&zoom=z`, sent by map-clusters.js for the first viewport
   (and, when filters narrow the matches, once more after fitting the map to their bounds), then on every
   pan/zoom (debounced, the previous request aborted): clusters and, at street zoom, pins
   (webapp/map_clusters.py). ETag from the catalog state and the URL (a repeat is a 304), gzip
   (webapp/http_cache.py). The frame flags `data-markers` (pins drawn), `data-clusters` and
   `data-map-state="drawn"` on <html> after each draw.
The markers are exactly the located matches of the page's SearchQuery (index.params), so the map shows
what the list lists."""
from __future__ import annotations

import hashlib
from collections import OrderedDict

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request, url_for
from sqlmodel import select

from catalog.models import Institution
from catalog.types import TYPES
from geo import teryt
from index import params
from index.api import MAX_RADIUS_KM, QueryError
from index.params import ParamError
from webapp import http_cache, i18n, map_clusters, maps, page_queries
from webapp.db import session, settings
from webapp.routing import ID_CONVERTER
from webapp.security import nonce_scripts, relax_styles_for_frame

bp = Blueprint("map", __name__)

FRAME_CACHE = "wsparcie.map_frames"
FRAME_CACHE_SIZE = 32
DATA_CACHE_SECONDS = 60
# Not filters of the map's matches: the frame's own choice and the data endpoint's viewport.
NOT_FILTERS = ("kartogram", "bbox", "zoom")


def init_app(app: Flask) -> None:
    # Rendered base documents per (choropleth, language, catalog state): owned by the app, not the module.
    app.extensions[FRAME_CACHE] = OrderedDict()
    map_clusters.init_app(app)


def _query():
    args = {k: v for k, v in params.as_params(request.args).items() if k not in NOT_FILTERS}
    return params.parse_page(args)


def _legend_facts() -> tuple[list[str], bool]:
    """Types with a real institution in the catalog (legend entries), and whether placeholders exist."""
    s = session()
    present = set(s.exec(select(Institution.type).where(Institution.is_demo.is_(False)).distinct()).all())
    return [code for code in maps.TYPE_ORDER if code in present], page_queries.has_demo(s)


def _cached_map_html() -> str:
    cache: OrderedDict = current_app.extensions.setdefault(FRAME_CACHE, OrderedDict())
    choropleth = _choropleth()
    key = (choropleth, i18n.current_locale(), http_cache.catalog_state())
    html = cache.get(key)
    if html is None:
        types_present, placeholders = _legend_facts()
        html = maps.full_map_html(choropleth=choropleth, types_present=types_present,
                                  placeholders=placeholders, clusters=_cluster_config())
        cache[key] = html
        while len(cache) > FRAME_CACHE_SIZE:
            cache.popitem(last=False)
    return html


def _cluster_config() -> dict:
    """What map-clusters.js needs: where to ask, when pins start, and its (translated) UI texts."""
    from flask_babel import gettext as _

    return {
        "url": url_for("map.map_data"), "list_url": url_for("public.institutions"),
        "street_zoom": map_clusters.STREET_ZOOM, "max_radius_km": MAX_RADIUS_KM,
        "labels": {
            "cluster": _("Liczba instytucji w tym miejscu: %(n)s. Przybliż mapę, aby zobaczyć każdą z nich.",
                         n="{n}"),
            "status": _("Instytucje widoczne na mapie: %(n)s (wszystkich pasujących: %(total)s).",
                        n="{n}", total="{total}"),
            "loading": _("Wczytywanie punktów mapy…"),
            "error": _("Nie udało się wczytać punktów mapy. Spróbuj ponownie albo skorzystaj z listy."),
            "list": _("Pokaż listę instytucji z tego obszaru"),
        },
    }


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


def _error(error: ParamError) -> Response:
    response = jsonify(error.to_dict())
    response.status_code = error.status
    return response


def map_data():
    """Clusters and pins of one viewport of the page's query (webapp/map_clusters.py), as JSON."""
    try:
        view = map_clusters.parse_view(params.as_params(request.args))
    except ParamError as error:
        return _error(error)
    state = http_cache.catalog_state()
    tag = hashlib.sha256(f"{state}|{i18n.current_locale()}|{request.full_path}".encode()).hexdigest()[:32]
    if tag in request.if_none_match:
        response = Response(status=304)
    else:
        try:
            body = map_clusters.viewport(session(), settings(), _query(), view, state, i18n.notes)
        except ParamError as error:
            return _error(error)
        except QueryError as error:
            return _error(ParamError("invalid_query", str(error), "The search query was refused."))
        response = jsonify(body)
    response.set_etag(tag)
    if state[0] is not None:
        response.last_modified = state[0]
    response.headers["Cache-Control"] = f"public, max-age={DATA_CACHE_SECONDS}"
    return response


def small_map_frame(inst_id: int):
    inst = session().get(Institution, inst_id)
    if inst is None or inst.lat is None:
        abort(404)
    return _frame(maps.small_map_html(inst))


bp.add_url_rule("/mapa", "map", map_page)
bp.add_url_rule("/mapa/ramka", "map_frame", map_frame)
bp.add_url_rule("/mapa/dane.json", "map_data", map_data)
bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>/mapa", "small_map", small_map_frame)
