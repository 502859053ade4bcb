"""Local copies of the map's browser assets (webapp/static/vendor, see VERSIONS.md) wired into folium.

folium elements declare their CDN assets in `default_js` / `default_css` lists of (name, url); we replace
those lists on each element instance before rendering (nothing global is patched), drop what we do not
use (Bootstrap, Font Awesome, awesome-markers, markercluster — clusters come from the server, see
webapp/map_clusters.py — and jQuery: only folium popups call $(), and the maps build their popups
themselves in webapp/static/js/map-markers.js), rewrite the d3 address that branca's
legend hard-codes, and refuse to return a document that still points at another host.

Data for a document's scripts goes in a JSON data block (data_block), added after folium has rendered.
"""
from __future__ import annotations

import json
import re
from typing import Any

from branca.element import Element

VENDOR_URL = "/static/vendor"

LOCAL_JS: dict[str, str] = {
    "leaflet": f"{VENDOR_URL}/leaflet/leaflet.js",
    "d3": f"{VENDOR_URL}/d3/d3.min.js",
}
LOCAL_CSS: dict[str, str] = {
    "leaflet_css": f"{VENDOR_URL}/leaflet/leaflet.css",
}
# Addresses folium/branca write into the document outside the default_js/css lists.
_REWRITES = {
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": LOCAL_JS["d3"],
}
_EXTERNAL_ASSET = re.compile(
    r"<script[^>]+src\s*=\s*[\"']?(?:https?:)?//|<link[^>]+href\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


class ExternalAssetError(RuntimeError):
    """A rendered document still loads a script or stylesheet from another host."""


def localise(root: Element) -> None:
    """Point every element's asset lists (the whole tree under `root`) at the local copies."""
    stack = [root]
    while stack:
        element = stack.pop()
        if hasattr(element, "default_js"):
            element.default_js = [(n, LOCAL_JS[n]) for n, _ in element.default_js if n in LOCAL_JS]
        if hasattr(element, "default_css"):
            element.default_css = [(n, LOCAL_CSS[n]) for n, _ in element.default_css if n in LOCAL_CSS]
        stack.extend(getattr(element, "_children", {}).values())


def finish(html: str) -> str:
    """Rewrite the known hard-coded CDN addresses; fail if any external script/stylesheet remains."""
    for remote, local in _REWRITES.items():
        html = html.replace(remote, local)
    found = external_assets(html)
    if found:
        raise ExternalAssetError(f"external assets left in map HTML: {found[:3]}")
    return html


def external_assets(html: str) -> list[str]:
    """The <script src> / <link href> tags that load from another host (tile images are not tags)."""
    out = []
    for match in _EXTERNAL_ASSET.finditer(html):
        end = html.find(">", match.start())
        out.append(html[match.start():end + 1])
    return out


# Characters that could end the <script> element or start markup/an entity, and the JavaScript line
# terminators: as \u escapes they are the same JSON text but inert in the HTML/script context.
_SCRIPT_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(value: Any) -> str:
    """JSON text safe inside a <script> element: no '<', '>', '&', U+2028/2029 (or non-ASCII) left raw."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).translate(_SCRIPT_UNSAFE)


def data_block(element_id: str, value: Any) -> str:
    """A <script type="application/json"> element holding value: data the browser never executes."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", element_id):
        raise ValueError(f"not a plain element id: {element_id!r}")
    return f'<script type="application/json" id="{element_id}">{script_json(value)}</script>'
