"""folium map documents: the directory map's base document (tiles, controls, optional powiat
choropleth, legend; its clusters and pins are fetched per viewport, webapp/map_clusters.py) and the
small map of one institution (its one pin embedded).

Both return a complete HTML document, served on its own route and embedded in the pages with a
same-origin <iframe> (/mapa/ramka and /instytucja/<id>/mapa in webapp/views_info.py): folium writes
inline scripts and styles, and a separate document lets only that response relax the CSP (per-request
script nonces, inline styles) while the pages keep a strict policy. The pages stay usable without
JavaScript; the map is an addition. All JS/CSS come from /static/vendor (webapp/assets.py).

No scraped string is ever given to folium/branca: they re-render their output as a Jinja template
(a name "{{7*7}}" would print 49, worse ones run code) and build popups in JavaScript template literals.
folium draws only the base document (tiles, controls, the powiat choropleth of reference geometry, the
legend of fixed labels); the data travels after rendering as a JSON data block (escaped for the
HTML/script context, assets.data_block) read by the static webapp/static/js/map-markers.js, which builds
markers and popups with DOM APIs (text nodes only). The directory map embeds no marker: its data block
holds the type colours, labels and the data URL; webapp/static/js/map-clusters.js fetches the clusters
and pins of each viewport as JSON and draws them with the same DOM-only code.
"""
from __future__ import annotations

import html
import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Protocol

import folium
from branca.colormap import LinearColormap
from branca.element import MacroElement
from flask import current_app, has_app_context
from flask_babel import gettext as _
from folium.template import Template
from markupsafe import escape
from shapely.geometry import mapping, shape
from sqlalchemy import func
from sqlmodel import Session, select

from catalog.db import session_scope
from catalog.models import Institution
from catalog.settings import REFERENCE_DATA_DIR, Settings, load
from catalog.types import TYPES, InstitutionType, Precision, Status, codes_where, info
from webapp import assets
from webapp.i18n import N_, vocab

POWIATY_GEOJSON = REFERENCE_DATA_DIR / "boundaries" / "powiaty.geojson"
POLAND_CENTRE = (52.07, 19.48)
APPROXIMATE = {Precision.POSTCODE.value, Precision.LOCALITY.value, Precision.GMINA.value}
# Radius (m) of the uncertainty circle on the small map for an approximate point.
UNCERTAINTY_M = {Precision.POSTCODE.value: 2000, Precision.LOCALITY.value: 3000, Precision.GMINA.value: 8000}
COVERAGE_KEY = "brak-reintegracji"   # "powiaty bez CIS/KIS/ZAZ/WTZ"
COVERAGE_TYPES = codes_where("reintegration")
TYPE_ORDER: list[str] = [t.value for t in TYPES]
DEFAULT_TITLE = "Mapa Wsparcia"
APPROXIMATE_LABEL = N_("położenie przybliżone")   # translated where shown (webapp/i18n.py)
# A demo placeholder (Institution.is_demo) marks where the catalog has no record: never an office's pin.
PLACEHOLDER_LABEL = N_("brak danych — rekord demonstracyjny")
# The marker row's kind (row[3]), read by MARKER_SCRIPT.
EXACT, APPROXIMATE_KIND, PLACEHOLDER = 0, 1, 2
DATA_ELEMENT_ID = "map-data"                           # read by MARKER_SCRIPT
MARKER_SCRIPT = "/static/js/map-markers.js"
CLUSTER_SCRIPT = "/static/js/map-clusters.js"     # the directory map: clusters fetched per viewport


class MapPoint(Protocol):
    id: int
    name: str
    type: str
    lat: float | None
    lon: float | None
    geo_precision: str | None
    is_demo: bool


def is_approximate(precision: str | None) -> bool:
    """Pins placed by postcode/locality/gmina (or with unknown precision) are only approximate."""
    return precision is None or precision in APPROXIMATE


class ClusterStyle(MacroElement):
    """The look of the server's clusters (count badges drawn by CLUSTER_SCRIPT) and of the status box."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .mapa-cluster { background: transparent; border: 0; }
          .mapa-cluster .mapa-badge { box-sizing: border-box; width: 100%; height: 100%; border-radius: 50%;
            display: flex; align-items: center; justify-content: center; font: bold 13px/1 sans-serif;
            color: #fff; background: #1d4f91; border: 3px solid #fff; box-shadow: 0 0 0 1px #1d4f91; }
          .mapa-cluster:focus { outline: none; }
          .mapa-cluster:focus-visible .mapa-badge, .mapa-cluster:hover .mapa-badge {
            outline: 3px solid #000; outline-offset: 1px; }
          .mapa-status { background: #fff; padding: 4px 8px; font: 13px/1.4 sans-serif; border: 1px solid #777;
            border-radius: 4px; max-width: min(260px, calc(100vw - 80px)); }
          @media (max-width: 480px) { .mapa-status { font-size: 12px; padding: 3px 6px; } }
          .mapa-status p { margin: 0 0 2px; }
          .mapa-status a { color: #1d4f91; }
        </style>
        {% endmacro %}""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "ClusterStyle"


class Legend(MacroElement):
    """A static HTML legend (no script) in the map's corner."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .mapa-legend { position: absolute; z-index: 1000; bottom: 24px; left: 8px; background: #fff;
            padding: 6px 8px; font: 13px/1.4 sans-serif; border: 1px solid #777; border-radius: 4px;
            max-height: 45%; overflow-y: auto; }
          .mapa-legend ul { list-style: none; margin: 0; padding: 0; }
          .mapa-legend .dot { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
            margin-right: 5px; vertical-align: -1px; border: 2px solid #fff; }
          .mapa-legend .approx { background: #fff !important; border: 2px dashed #333; }
          .mapa-legend .placeholder { background: transparent !important; border: 2px solid #777; }
          .mapa-legend .cluster { background: #1d4f91; box-shadow: 0 0 0 1px #1d4f91; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <section class="mapa-legend" aria-label="{{ this.label }}">{{ this.body }}</section>
        {% endmacro %}""")

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.label = escape(_("Legenda mapy"))


def _legend_html(types_present: list[str], choropleth: dict | None, placeholders: bool = False,
                 clusters: bool = False) -> str:
    # Texts outside the f-strings: Babel's extractor reads only plain calls (webapp/i18n_catalogs.py).
    approximate, cluster = escape(_(APPROXIMATE_LABEL)), escape(_("grupa instytucji (liczba w kółku)"))
    placeholder, not_office = escape(_(PLACEHOLDER_LABEL)), escape(_("(nie urząd)"))
    without, with_one = escape(_("powiat bez CIS, KIS, ZAZ i WTZ")), escape(_("powiat z co najmniej jedną"))
    items = "".join(
        f'<li><span class="dot" style="background:{info(code).colour}"></span>'
        f'<span aria-hidden="true">{info(code).icon}</span> {escape(vocab(info(code).label))}</li>'
        for code in types_present
    )
    items += f'<li><span class="dot approx"></span>{approximate}</li>'
    if clusters:
        items += f'<li><span class="dot cluster"></span>{cluster}</li>'
    if placeholders:
        items += f'<li><span class="dot placeholder"></span>{placeholder} {not_office}</li>'
    if choropleth and choropleth.get("kind") == "coverage":
        items += (f'<li><span class="dot" style="background:#d7301f"></span>{without}</li>'
                  f'<li><span class="dot" style="background:#a1d99b"></span>{with_one}</li>')
    return f"<ul>{items}</ul>"


def _base_map(settings: Settings, location: tuple[float, float], zoom: int) -> folium.Map:
    """Tiles and controls only: nothing scraped is ever handed to folium (it re-renders its output as a
    Jinja template, so a name like "{{7*7}}" would be evaluated)."""
    fmap = folium.Map(location=location, zoom_start=zoom, tiles=None, prefer_canvas=True,
                      control_scale=True)
    folium.TileLayer(tiles=settings.tile_url, attr=settings.tile_attribution, name="OpenStreetMap",
                     max_zoom=19, control=False).add_to(fmap)
    fmap.get_root().title = DEFAULT_TITLE
    return fmap


def _render(fmap: folium.Map, data: dict[str, Any], title: str | None = None,
            scripts: tuple[str, ...] = (MARKER_SCRIPT,)) -> str:
    """folium's document, then (outside any template engine) the marker data and the static script."""
    assets.localise(fmap.get_root())
    document = fmap.get_root().render().replace("<html>", '<html lang="pl">', 1)
    if title is not None:
        document = _retitle(document, title)
    head, end, tail = document.rpartition("</html>")
    tags = "".join(f'\n<script src="{src}"></script>' for src in scripts)
    document = head + assets.data_block(DATA_ELEMENT_ID, data) + tags + "\n" + end + tail
    return assets.finish(document)


def _retitle(document: str, title: str) -> str:
    """Our own escaped <title> in place of folium's fixed one."""
    fixed = f"<title>{DEFAULT_TITLE}</title>"
    if fixed not in document:
        raise ValueError("folium's document has no title to replace")
    return document.replace(fixed, f"<title>{html.escape(title, quote=False)}</title>", 1)


def _settings(settings: Settings | None) -> Settings:
    """Explicit settings, else the running app's, else the environment's."""
    if settings is not None:
        return settings
    if has_app_context() and "SETTINGS" in current_app.config:
        return current_app.config["SETTINGS"]
    return load()


def marker_kind(inst: MapPoint) -> int:
    """EXACT, APPROXIMATE_KIND, or PLACEHOLDER (a demo record: drawn hollow and grey, never as an office)."""
    if getattr(inst, "is_demo", False):
        return PLACEHOLDER
    return APPROXIMATE_KIND if is_approximate(inst.geo_precision) else EXACT


def marker_rows(institutions: Iterable[MapPoint]) -> tuple[list[list[Any]], list[str]]:
    """Compact marker rows [lat, lon, type index, kind (marker_kind), id, name] and the type codes with
    a real (non-placeholder) pin, in TYPE_ORDER. Names are raw text: the browser puts them in text
    nodes (MARKER_SCRIPT)."""
    rows, present = [], set()
    for inst in institutions:
        if inst.lat is None or inst.lon is None:
            continue
        code = inst.type if inst.type in TYPE_ORDER else InstitutionType.OTHER.value
        kind = marker_kind(inst)
        if kind != PLACEHOLDER:
            present.add(code)
        rows.append([round(inst.lat, 5), round(inst.lon, 5), TYPE_ORDER.index(code), kind, int(inst.id),
                     str(inst.name or "")])
    return rows, [c for c in TYPE_ORDER if c in present]


def _marker_data(rows: list[list[Any]], **extra: Any) -> dict[str, Any]:
    """What MARKER_SCRIPT reads: the rows, the fixed type colours/labels and UI labels."""
    return {"markers": rows, "types": [{"colour": info(c).colour, "label": vocab(info(c).label)} for c in TYPE_ORDER],
            "approximate_label": _(APPROXIMATE_LABEL),
            "placeholder_label": _(PLACEHOLDER_LABEL), **extra}


def full_map_html(*, choropleth: dict | str | None = None, types_present: list[str] | None = None,
                  placeholders: bool = False, clusters: dict[str, Any] | None = None, title: str | None = None,
                  settings: Settings | None = None) -> str:
    """The directory map's base document: tiles, controls, the optional choropleth and the legend, and
    no institution. Its markers are fetched per viewport by CLUSTER_SCRIPT from `clusters["url"]`
    (webapp/map_clusters.py), so its size does not grow with the catalog.

    choropleth: {"kind": "count" | "coverage", "label": str, "values": {powiat_code: count}}; "count"
    shades powiaty by count, "coverage" marks powiaty whose count is 0. A string is a key understood
    by choropleth_spec (a type code, or COVERAGE_KEY) whose counts are read from the catalog.
    types_present: the legend's types (default: all); placeholders: whether the legend explains them.
    clusters: map-clusters.js's configuration (data URL, street zoom, UI texts; views_map builds it).
    """
    settings = _settings(settings)
    if isinstance(choropleth, str):
        with session_scope(settings.database_url) as session:
            choropleth = choropleth_spec(session, choropleth)
    fmap = _base_map(settings, POLAND_CENTRE, 6)
    if choropleth:
        _add_choropleth(fmap, choropleth)
    ClusterStyle().add_to(fmap)
    present = TYPE_ORDER if types_present is None else [c for c in TYPE_ORDER if c in types_present]
    Legend(_legend_html(present, choropleth, placeholders, clusters=True)).add_to(fmap)
    if choropleth:
        folium.LayerControl(collapsed=True).add_to(fmap)
    data = _marker_data([], link=True, fit=False, cluster=None, clusters=clusters or {})
    return _render(fmap, data, title, scripts=(MARKER_SCRIPT, CLUSTER_SCRIPT))


def small_map_html(institution: MapPoint, *, settings: Settings | None = None) -> str:
    """A small map of one institution; "" when it has no point."""
    if institution.lat is None or institution.lon is None:
        return ""
    settings = _settings(settings)
    approx = is_approximate(institution.geo_precision)
    fmap = _base_map(settings, (institution.lat, institution.lon), 12 if approx else 16)
    rows, _present = marker_rows([institution])
    radius = UNCERTAINTY_M.get(institution.geo_precision or "", 3000) if approx else None
    data = _marker_data(rows, link=False, fit=False, cluster=None, uncertainty_m=radius)
    return _render(fmap, data, _("Mapa: %(name)s", name=institution.name))


@lru_cache(maxsize=1)
def powiat_shapes() -> dict:
    """Powiat boundaries simplified (~1 km, enough at country zoom) and rounded: 380 polygons, ~0.25 MB."""
    with POWIATY_GEOJSON.open(encoding="utf-8") as fh:
        source = json.load(fh)
    features = []
    for feature in source["features"]:
        geometry = shape(feature["geometry"]).simplify(0.01, preserve_topology=True)
        features.append({"type": "Feature", "properties": {"teryt": feature["properties"]["teryt"],
                                                            "nazwa": feature["properties"]["nazwa"]},
                         "geometry": _rounded(mapping(geometry))})
    return {"type": "FeatureCollection", "features": features}


def _rounded(geometry: dict) -> dict:
    def walk(value):
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], float):
                return [round(v, 3) for v in value]
            return [walk(v) for v in value]
        return value
    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def powiat_counts(session: Session, types: Iterable[str]) -> dict[str, int]:
    """Institutions of these types (not closed) per powiat code."""
    stmt = (select(Institution.powiat_teryt, func.count(Institution.id))
            .where(Institution.type.in_(list(types)), Institution.powiat_teryt.is_not(None),
                   Institution.status != Status.CLOSED.value)
            .group_by(Institution.powiat_teryt))
    return {code: int(n) for code, n in session.exec(stmt).all()}


def choropleth_spec(session: Session, key: str) -> dict | None:
    """The choropleth for a key: a type code (count per powiat) or COVERAGE_KEY; None when unknown."""
    if key == COVERAGE_KEY:
        return {"kind": "coverage", "label": _("Liczba CIS, KIS, ZAZ i WTZ w powiecie"),
                "values": powiat_counts(session, COVERAGE_TYPES)}
    if key not in TYPE_ORDER:
        return None
    return {"kind": "count", "label": _("%(types)s: liczba w powiecie", types=vocab(info(key).plural)),
            "values": powiat_counts(session, (key,))}


def _add_choropleth(fmap: folium.Map, choropleth: dict) -> None:
    values: dict[str, int] = choropleth.get("values", {})
    label = str(choropleth.get("label") or _("Liczba instytucji w powiecie"))   # fixed labels only
    collection = powiat_shapes()
    features = [{**f, "properties": {**f["properties"], "count": values.get(f["properties"]["teryt"], 0)}}
                for f in collection["features"]]
    data = {"type": "FeatureCollection", "features": features}
    if choropleth.get("kind") == "coverage":
        def style(feature: dict) -> dict:
            empty = feature["properties"]["count"] == 0
            return {"fillColor": "#d7301f" if empty else "#a1d99b", "color": "#555", "weight": 0.6,
                    "fillOpacity": 0.55 if empty else 0.3}
    else:
        top = max(values.values(), default=0) or 1
        colormap = LinearColormap(["#fff5eb", "#fd8d3c", "#7f2704"], vmin=0, vmax=top, caption=label)
        colormap.add_to(fmap)

        def style(feature: dict) -> dict:
            count = feature["properties"]["count"]
            return {"fillColor": colormap(count) if count else "#f7f7f7", "color": "#555", "weight": 0.6,
                    "fillOpacity": 0.6}
    folium.GeoJson(
        data, name=label, style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["nazwa", "count"], aliases=[_("Powiat"), label]),
    ).add_to(fmap)
