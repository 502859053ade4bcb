"""No page the app serves (map frames included) loads a script or stylesheet from another host, and
every local asset those pages reference exists."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from webapp.assets import external_assets

MAX_PAGES = 40
_REFS = re.compile(r"""<(?:a|iframe)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"'#]+)""", re.IGNORECASE)
_ASSETS = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)""", re.IGNORECASE)


def _seeds(catalog) -> list[str]:
    some = catalog.ids["Centrum Integracji Społecznej w Białymstoku"]
    xss = catalog.ids[next(n for n in catalog.ids if n.startswith("<script>"))]
    return ["/", "/instytucje?q=integracji", "/mapa", "/mapa/ramka", "/mapa/ramka?kartogram=cis",
            "/mapa/ramka?kartogram=brak-reintegracji", f"/instytucja/{some}", f"/instytucja/{some}/mapa",
            f"/instytucja/{xss}", f"/instytucja/{xss}/mapa", "/powiat/2061", "/zrodla", "/powiaty"]


def _same_origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/api/export"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_no_external_script_or_stylesheet_in_any_page(client, catalog):
    queue, seen, checked, local_assets = deque(_seeds(catalog)), set(), 0, set()
    while queue and checked < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            response.close()
            continue
        html = response.get_data(as_text=True)
        checked += 1
        assert external_assets(html) == [], url
        local_assets.update(a for a in _ASSETS.findall(html) if _same_origin(a))
        queue.extend(u for ref in _REFS.findall(html) if (u := _same_origin(urljoin(url, ref))))
    assert checked >= 5, f"only {checked} pages could be crawled"
    assert any(a.startswith("/static/vendor/leaflet/") for a in local_assets), "no map frame was crawled"
    for asset in local_assets:
        response = client.get(asset)
        response.close()   # a static file is sent from an open file handle
        assert response.status_code == 200, asset
