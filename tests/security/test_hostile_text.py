"""Hostile registry text, end to end: replayed over loopback through the real RJPS adapter and ingest
(`wsparcie scrape rjps`), then every output is checked: the pages and both map frames in real Chromium,
the JSON API, GeoJSON, JSON lines, the CSV exports and `wsparcie export`.

Fragments are the real RJPS capture (data/registries/samples/rjps, unit 3499) with only contents changed.
Safety is asserted, not exact preservation: the ingest may strip bidi controls/NUL or cap lengths, but
nothing may be evaluated by a template engine, run as script/markup, become a link to javascript:/data:,
or a live spreadsheet formula. Template payloads sit between "QX" markers: "QX49QX" anywhere means a
template engine computed 7*7.
"""
from __future__ import annotations

import csv
import html
import io
import json
import urllib.request
from contextlib import ExitStack

import pytest
from click.testing import CliRunner

from catalog import db
from catalog.settings import REPO_ROOT, load
from catalog.spreadsheet import is_formula_like
from tests.browser import require_chromium, served, tile_server

pytestmark = pytest.mark.browser

SAMPLES = REPO_ROOT / "data" / "registries" / "samples" / "rjps"
LISTING = "/RJPS/WJ/wyszukiwanie/zaladujDane.do"
FRAGMENT = "/RJPS/WJ/wyszukiwanie/pobierzDaneJednostki.do"

TEMPLATES = "QX{{7*7}}QX QX${7*7}QX QX#{7*7}QX QX<%= 7*7 %>QX"
EVALUATED = ("QX49QX", "QX7777777QX")
MARKUP = "<script>alert('skrypt')</script><img src=x onerror=alert('img')><svg onload=alert('svg')>"
HYPERLINK = '=HYPERLINK("http://x.invalid","kliknij")'
LONG = "Ośrodek " + "bardzo długiej nazwy " * 500          # > 10 kB
# (unit id, name, street line, e-mail, website, phone text); the postcode line stays real (16-060 Zabłudów).
UNITS = [
    (9101, f"Ośrodek {TEMPLATES}", f"ul. {TEMPLATES} 8", "QX{{7*7}}QX@example.invalid",
     "javascript:alert(document.domain)", "tel. 85 7188100"),
    (9102, f"Klub {MARKUP}", f"ul. {MARKUP} 1", "\"><svg onload=alert('mail')>@example.invalid",
     "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "tel. 85 7188101"),
    (9103, "Centrum ${alert('literal')} `${alert(1)}` \u202eynzsjarwdo\u202c </script><b>", "ul. Rynek 3",
     "javascript:alert(1)", " JaVaScRiPt:alert(1)", "tel. 85 7188102"),
    (9104, HYPERLINK, "+cmd|' /C calc'!A0", "@SUM(1+1)@example.invalid", "-2+3", "+48 85 718 81 00"),
    (9105, LONG, "ul. Rynek 5", "dlugi@example.invalid", "vbscript:msgbox(1)", "tel. 85 7188104"),
    (9106, "Klub\x00 z NUL {{ cycler.__init__.__globals__.os.popen('id').read() }}", "ul. Rynek\x00 6",
     "nul@example.invalid", "http://example.invalid/ok", "tel. 85 7188105"),
    (9107, "Klub {%raw%} bez końca QX{{7*'7'}}QX", "ul. {% raw %} 7", "raw@example.invalid", "www.example.invalid",
     "tel. 85 7188106"),
]
IDS = [u[0] for u in UNITS]

require_chromium()
sync_api = pytest.importorskip("playwright.sync_api")


def hostile_fragment(uid: int, name: str, street: str, email: str, www: str, phone: str) -> bytes:
    """The real 3499 fragment with these contents (escaped as the registry's own HTML would carry them)."""
    real = (SAMPLES / "pobierzDaneJednostki_3499_list_fragment.html").read_text(encoding="utf-8")
    text = lambda s: html.escape(s, quote=False)
    attr = lambda s: html.escape(s, quote=True)
    out = real.replace("3499", str(uid))
    out = out.replace("Miejski Ośrodek Pomocy Społecznej w Zabłudowie", text(name))
    out = out.replace("<span> ul. Rynek 8</span>", f"<span> {text(street)}</span>")
    out = out.replace('href="mailto:biuro@mops-zabludow.pl"', f'href="mailto:{attr(email)}"')
    out = out.replace(">biuro@mops-zabludow.pl<", f">{text(email)}<")
    out = out.replace('href="http://bip.mops.um.zabludow.wrotapodlasia.pl"', f'href="{attr(www)}"')
    out = out.replace("http://bip.mops.um.zabludow.wrotapodlasia.pl", text(www))
    out = out.replace("tel:85 7188100", f"tel:{attr(phone)}").replace("tel. 85 7188100", text(phone))
    assert out.count(str(uid)) >= 4 and text(name) in out
    return out.encode("utf-8")


def _serve_rjps():
    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    fragments = {uid: hostile_fragment(*unit) for unit in UNITS for uid in [unit[0]]}
    listing = [{"id": uid, "x": 23.337 + i * 0.002, "y": 53.0146 + i * 0.001} for i, uid in enumerate(IDS)]
    server = HTTPServer(host="127.0.0.1", port=0)

    def listing_handler(request):
        filters = json.loads(request.data)["filtry"]
        return Response("[]" if filters else json.dumps(listing), content_type="application/json")

    def fragment_handler(request):
        uid = int(request.args["jednostkiIds"])
        return Response(fragments[uid], content_type="text/html;charset=UTF-8")

    server.expect_request(LISTING, method="POST").respond_with_handler(listing_handler)
    server.expect_request(FRAGMENT, method="GET").respond_with_handler(fragment_handler)
    server.start()
    return server


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Ingest the hostile units through the CLI, then serve the site under waitress on loopback."""

    from orchestration.cli import cli
    from webapp import create_app

    data_dir = tmp_path_factory.mktemp("hostile")
    tiles = ExitStack()
    tile_url = tiles.enter_context(tile_server())
    rjps = _serve_rjps()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSPARCIE_DATA_DIR", str(data_dir))
        mp.setenv("TILE_URL", tile_url)
        mp.setenv("RJPS_BASE_URL", rjps.url_for("/").rstrip("/"))
        mp.setenv("RJPS_EXPECTED_MIN", "1")
        mp.setenv("RJPS_RATE_LIMIT", "0")
        mp.setenv("HTTP_RETRIES", "1")
        mp.setenv("HTTP_TIMEOUT", "5")
        mp.setenv("WSPARCIE_OFFLINE", "1")
        for name in ("DATABASE_URL", "INDEX_DIR", "SECRET_KEY"):
            mp.delenv(name, raising=False)
        settings = load()
        scraped = CliRunner().invoke(cli, ["scrape", "rjps", "--no-progress"])
        exports = {fmt: CliRunner().invoke(cli, ["export", "--format", fmt]) for fmt in ("csv", "jsonl")}
    rjps.stop()
    assert scraped.exit_code == 0, scraped.output
    for fmt, result in exports.items():
        assert result.exit_code == 0, (fmt, result.output)
    from sqlmodel import select

    from catalog.models import Institution, SourceRecord

    with db.session_scope(settings.database_url) as session:
        keys = dict(session.exec(select(SourceRecord.source_key, SourceRecord.institution_id)).all())
        ids = {int(k): v for k, v in keys.items()}
        powiaty = {i.powiat_teryt for i in session.exec(select(Institution)).all()}
    assert sorted(ids) == IDS
    with served(create_app({"SETTINGS": settings})) as url:
        yield {"url": url, "ids": ids, "powiaty": powiaty,
               "cli_csv": exports["csv"].output, "cli_jsonl": exports["jsonl"].output}
    tiles.close()


@pytest.fixture
def page(browser):
    """A page whose dialogs (alert/confirm/prompt, also from frames) are recorded and dismissed."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pl-PL")
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


# Runs in every frame: links to dangerous schemes, event-handler attributes, elements the payload would
# create, and scripts that are neither ours (src) nor nonce'd inline ones.
_DOM_AUDIT = r"""() => {
  const bad = [];
  const scheme = v => v.replace(/[\u0000-\u0020\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
                        .toLowerCase();
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      if (n.startsWith('on')) bad.push(`handler ${el.tagName} ${n}`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'srcdoc'].includes(n)) {
        const v = scheme(a.value);
        if (/^(javascript|vbscript|data):/.test(v) && !(el.tagName === 'IMG' && v.startsWith('data:image/')))
          bad.push(`${el.tagName} ${n}=${a.value.slice(0, 60)}`);
      }
    }
  }
  for (const el of document.querySelectorAll('img[src="x"], svg[onload], iframe[srcdoc]')) bad.push(el.outerHTML);
  for (const s of document.querySelectorAll('script')) {
    if (s.type === 'application/json') continue;
    if (!s.src && !s.nonce) bad.push('inline script without nonce: ' + s.textContent.slice(0, 60));
    if (/alert\(/.test(s.textContent)) bad.push('payload in a script: ' + s.textContent.slice(0, 60));
  }
  return {bad, text: document.documentElement.innerText || '', html: document.documentElement.outerHTML};
}"""


def _audit(pg) -> str:
    """Audit the page and all its frames; returns all their visible text."""
    texts = []
    for frame in pg.frames:
        found = frame.evaluate(_DOM_AUDIT)
        assert found["bad"] == [], (frame.url, found["bad"][:5])
        for evaluated in EVALUATED:
            assert evaluated not in found["html"], (frame.url, evaluated)
        texts.append(found["text"])
    assert pg.dialogs == [], pg.dialogs
    return "\n".join(texts)


def _visit(pg, url: str) -> str:
    response = pg.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (url, response and response.status)
    pg.wait_for_timeout(300)      # give any injected handler (onerror, onload, timers) the chance to fire
    return _audit(pg)


def test_pages_show_hostile_text_as_text(hostile, page):
    base, ids = hostile["url"], hostile["ids"]
    texts = {}
    for path in ("/", "/?q=O%C5%9Brodek&gdzie=Zab%C5%82ud%C3%B3w", "/instytucje?woj=20", "/instytucje?q=Klub",
                 "/zrodla", *(f"/powiat/{p}" for p in sorted(hostile["powiaty"]) if p)):
        texts[path] = _visit(page, base + path)
    for uid, iid in ids.items():
        texts[uid] = _visit(page, f"{base}/instytucja/{iid}")
    # Shown exactly as written (not evaluated, not swallowed as markup).
    assert "QX{{7*7}}QX" in texts[9101] and "QX${7*7}QX" in texts[9101] and "QX<%= 7*7 %>QX" in texts[9101]
    assert "<script>alert('skrypt')</script>" in texts[9102] and "<svg onload=alert('svg')>" in texts[9102]
    assert "${alert('literal')}" in texts[9103]
    assert HYPERLINK in texts[9104]
    assert "{{ cycler.__init__" in texts[9106]
    # A javascript:/data: website is shown as text only (the audit found no such href).
    assert "javascript:alert(document.domain)" in texts[9101]
    assert any("Klub <script>" in t for k, t in texts.items() if isinstance(k, str) and k.startswith("/powiat/"))


def _open_popups(frame) -> list[dict]:
    """Every marker's popup content as the map builds it (text and the element names it contains)."""
    return frame.evaluate("""() => {
      const map = window[document.querySelector('.folium-map').id];
      const out = [];
      const seen = new Set();   // a group's members are on the map too: each pin once
      const visit = layer => {
        if (seen.has(layer)) return;
        seen.add(layer);
        if (layer.getLayers) { layer.getLayers().forEach(visit); return; }
        const popup = layer.getPopup && layer.getPopup();
        if (!popup) return;
        let content = popup.getContent();
        if (typeof content === 'function') content = content(layer);
        out.push({text: content.textContent,
                  tags: [...content.querySelectorAll('*')].map(e => e.tagName.toLowerCase()),
                  hrefs: [...content.querySelectorAll('[href]')].map(e => e.getAttribute('href'))});
      };
      map.eachLayer(visit);
      return out;
    }""")


def _check_popups(popups: list[dict], link: bool) -> None:
    for popup in popups:
        assert set(popup["tags"]) <= {"a", "br", "em", "strong"}, popup
        for href in popup["hrefs"]:
            assert link and href.startswith("/instytucja/") and href.split("/")[-1].isdigit(), popup
    joined = "\n".join(p["text"] for p in popups)
    for shown in ("QX{{7*7}}QX", "<img src=x onerror=alert('img')>", "${alert('literal')}", HYPERLINK):
        assert any(shown in p["text"] for p in popups), (shown, joined[:500])


def test_full_map_frame(hostile, page):
    base = hostile["url"]
    _visit(page, base + "/mapa?woj=20&kartogram=brak-reintegracji")
    frame = page.frame_locator("iframe.full-map")
    # The pins now arrive from /mapa/dane.json (map-clusters.js): fitted to the matches, all 7 are pins.
    frame.locator(f"html[data-map-state='drawn'][data-markers='{len(IDS)}']").wait_for(state="attached",
                                                                                        timeout=15000)
    map_doc = next(f for f in page.frames if "/mapa/ramka" in f.url)
    popups = _open_popups(map_doc)
    assert len(popups) == len(IDS)
    _check_popups(popups, link=True)
    # Really open one pin's popup and audit the live DOM with it.
    map_doc.evaluate("""() => {
      const map = window[document.querySelector('.folium-map').id];
      map.eachLayer(l => { if (l.getLayers) {
        const m = l.getLayers().find(x => x.getPopup && x.getPopup()
                                          && (x.getPopup().getContent()(x)).textContent.includes('<svg'));
        if (m) { m.openPopup(); }
      }});
    }""")
    content = frame.locator(".leaflet-popup-content")
    content.wait_for(timeout=10000)
    assert "<svg onload=alert('svg')>" in content.inner_text()
    page.wait_for_timeout(300)
    _audit(page)
    # The frame alone (as a browser would open it) is safe too.
    _visit(page, base + "/mapa/ramka")


def test_small_map_frames(hostile, page):
    base = hostile["url"]
    for uid, iid in hostile["ids"].items():
        _visit(page, f"{base}/instytucja/{iid}/mapa")
        page.locator("html[data-markers='1']").wait_for(state="attached", timeout=15000)
        popups = _open_popups(page.main_frame)
        assert len(popups) == 1 and set(popups[0]["tags"]) <= {"br", "em", "strong"}, popups
        assert all(e not in page.title() for e in EVALUATED)
        # Open it for real: the name shows as text.
        page.evaluate("""() => { const map = window[document.querySelector('.folium-map').id];
            map.eachLayer(l => { if (l.getPopup && l.getPopup()) l.openPopup(); }); }""")
        page.locator(".leaflet-popup-content").wait_for(timeout=10000)
        shown = page.locator(".leaflet-popup-content").inner_text()
        if uid == 9101:
            assert "QX{{7*7}}QX" in shown and "QX{{7*7}}QX" in page.title()
        if uid == 9103:
            assert "`${alert(1)}`" in shown
        page.wait_for_timeout(200)
        _audit(page)


def _get(url: str) -> tuple[str, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return response.read().decode("utf-8"), {k.lower(): v for k, v in response.headers.items()}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_json_outputs_are_data(hostile, page):
    base, ids = hostile["url"], hostile["ids"]
    documents = {}
    for path in ("/api/map.geojson", "/api/institutions?per_page=50", *(f"/api/institutions/{i}" for i in ids.values())):
        body, headers = _get(base + path)
        assert "json" in headers["content-type"] and headers["x-content-type-options"] == "nosniff", path
        documents[path] = json.loads(body)
    jsonl, headers = _get(base + "/api/export.jsonl")
    assert headers["content-type"].startswith("application/x-ndjson") and "attachment" in headers["content-disposition"]
    documents["/api/export.jsonl"] = [json.loads(line) for line in jsonl.splitlines()]
    documents["wsparcie export jsonl"] = [json.loads(line) for line in hostile["cli_jsonl"].splitlines()]
    for where, doc in documents.items():
        strings = _strings(doc)
        for evaluated in EVALUATED:
            assert not any(evaluated in s for s in strings), where
    for where in ("/api/map.geojson", "/api/institutions?per_page=50", "/api/export.jsonl", "wsparcie export jsonl"):
        strings = _strings(documents[where])
        assert any("QX{{7*7}}QX" in s for s in strings) and any(s == HYPERLINK for s in strings), where
    # Opened directly in the browser the JSON answers are inert text.
    for path in ("/api/map.geojson", f"/api/institutions/{ids[9102]}", f"/api/institutions/{ids[9103]}"):
        _visit(page, base + path)


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_outputs_have_no_live_formula(hostile):
    base = hostile["url"]
    outputs = {"/api/export.csv": _get(base + "/api/export.csv")[0], "wsparcie export csv": hostile["cli_csv"]}
    for code in sorted(p for p in hostile["powiaty"] if p):
        outputs[f"/powiat/{code}.csv"] = _get(f"{base}/powiat/{code}.csv")[0]
    for where, text in outputs.items():
        _header, *rows = _csv_rows(text)
        assert rows, where
        cells = [c for row in rows for c in row]
        assert not [c for c in cells if is_formula_like(c)], where
        assert not any(e in c for c in cells for e in EVALUATED), where
        assert "'" + HYPERLINK in cells, where
        assert any("QX{{7*7}}QX" in c for c in cells), where
