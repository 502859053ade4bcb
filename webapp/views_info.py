"""Map pages (folium documents shown in same-origin frames), sources and licences, powiat index, health."""
from __future__ import annotations

from datetime import UTC

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import func, select

from catalog.models import Institution
from catalog.types import TYPES
from geo import teryt
from webapp import lookup, maps
from webapp import page_queries as pq
from webapp.api_params import ID_CONVERTER
from webapp.security import nonce_scripts, relax_styles_for_frame
from webapp.views import session, settings
from webapp.views_public import list_filters

# Reference data shipped with the project (data/*/SOURCE.md): credited on the sources page.
REFERENCE_SOURCES = (
    ("TERYT (TERC) — rejestr jednostek podziału terytorialnego", "Główny Urząd Statystyczny",
     "https://eteryt.stat.gov.pl", "dane publiczne; źródło: GUS, TERYT"),
    ("PRG — granice gmin, powiatów i województw", "Główny Urząd Geodezji i Kartografii",
     "https://www.geoportal.gov.pl", "dane otwarte; źródło: GUGiK, PRG (uproszczone granice)"),
    ("Kody pocztowe — punkty (osobna warstwa)", "projekt countries-states-cities-database",
     "https://github.com/dr5hn/countries-states-cities-database", "ODbL 1.0; © countries-states-cities-database"),
    ("Kody pocztowe × gminy (z punktów adresowych PRG)", "GUGiK; opracowanie GML22/PostCodesMaps (MIT)",
     "https://www.geoportal.gov.pl", "dane otwarte; źródło: GUGiK, PRG"),
    ("PRNG — państwowy rejestr nazw geograficznych", "Główny Urząd Geodezji i Kartografii",
     "https://www.geoportal.gov.pl", "CC BY 4.0; źródło: GUGiK, PRNG"),
    ("GeoNames — miejscowości powyżej 500 mieszkańców", "GeoNames", "https://www.geonames.org",
     "CC BY 4.0; © GeoNames"),
    ("Podkład mapy", "współtwórcy OpenStreetMap", "https://www.openstreetmap.org/copyright",
     "ODbL 1.0; kafelki © współtwórcy OpenStreetMap"),
)


# Only what a marker needs: loading whole records made the 10 000-institution map frame slow.
_MARKER_COLUMNS = (Institution.id, Institution.name, Institution.type, Institution.lat, Institution.lon,
                   Institution.geo_precision, Institution.target_groups)


def _map_institutions() -> list:
    f, _need = list_filters()
    stmt = pq.apply_filters(select(*_MARKER_COLUMNS), f).where(Institution.lat.is_not(None))
    group = request.args.get("grupa", "").strip()
    rows = list(session().exec(stmt))
    return [r for r in rows if group in (r.target_groups or [])] if group else rows


_FRAME_CACHE: dict[tuple, str] = {}
_FRAME_CACHE_SIZE = 32


def _catalog_stamp() -> tuple:
    """Changes whenever the catalog does: the cached map documents are then rebuilt."""
    return tuple(session().exec(select(func.count(), func.max(Institution.updated_at))).one())


def _cached_map_html() -> str:
    key = (request.query_string, _catalog_stamp())
    html = _FRAME_CACHE.get(key)
    if html is None:
        html = maps.full_map_html(_map_institutions(), choropleth=_choropleth())
        if len(_FRAME_CACHE) >= _FRAME_CACHE_SIZE:
            _FRAME_CACHE.pop(next(iter(_FRAME_CACHE)))
        _FRAME_CACHE[key] = html
    return html


def _choropleth() -> str | None:
    value = request.args.get("kartogram", "")
    return value if value in {t.value for t in TYPES} or value == "brak-reintegracji" else None


def map_page():
    f, need = list_filters()
    woj = f.woj or (f.powiat[:2] if f.powiat else None)
    return render_template(
        "map.html", f=f, need=need, choropleth=_choropleth(),
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


def sources_page():
    return render_template("sources.html", sources=pq.sources_overview(session()), reference=REFERENCE_SOURCES)


def powiaty_page():
    groups = [(w, teryt.powiaty(w.code)) for w in teryt.wojewodztwa()]
    return render_template("powiaty.html", groups=groups)


# A degraded run kept old values instead of applying mass removals: the source needs a look as much as
# a failed one does, so monitoring sees both.
RUN_NEEDS_ATTENTION = frozenset({"failed", "interrupted", "degraded"})


def health():
    """For the operator and monitoring: 200 when the catalog and the search index answer, else 503
    with the reason (a site without its index still serves pages, in the degraded mode)."""
    def utc(value):   # stored naive-UTC or aware: ISO 8601 with one "Z", never "+00:00Z"
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat().replace("+00:00", "Z")

    problem = lookup.index_problem(settings())
    out: dict = {"database": False, "index": problem is None, "sources": []}
    if problem is not None:
        out["index_error"] = problem
    try:
        s = session()
        s.exec(text("SELECT 1"))
        out["database"] = True
        for src, run, count in pq.sources_overview(s):
            out["sources"].append({
                "key": src.key, "records": count,
                "last_success_at": utc(src.last_success_at),
                "last_run": None if run is None else {
                    "status": run.status, "started_at": utc(run.started_at),
                    "errors": run.n_errors, "failed": run.status in RUN_NEEDS_ATTENTION},
            })
    except SQLAlchemyError as exc:  # the health page reports the failure instead of raising it
        out["error"] = type(exc).__name__
    out["ok"] = out["database"] and out["index"]
    return jsonify(out), 200 if out["ok"] else 503


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/mapa", "map", map_page)
    bp.add_url_rule("/mapa/ramka", "map_frame", map_frame)
    bp.add_url_rule(f"/instytucja/<{ID_CONVERTER}:inst_id>/mapa", "small_map", small_map_frame)
    bp.add_url_rule("/zrodla", "sources", sources_page)
    bp.add_url_rule("/o-danych", "about", lambda: redirect(url_for("site.sources") + "#o-danych"))
    bp.add_url_rule("/powiaty", "powiaty", powiaty_page)
    bp.add_url_rule("/zdrowie", "health", health)
    bp.add_url_rule("/health", "health_en", health)
