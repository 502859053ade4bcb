"""gzip for HTML, JSON, GeoJSON and exports; ETag/Last-Modified of API answers tied to the catalog state."""
from __future__ import annotations

import gzip
import json

from tests.hsds.conftest import apply, rjps_items


def test_json_geojson_html_and_streamed_exports_are_gzipped_when_accepted(client):
    for path in ("/api/hsds/services?per_page=200", "/api/map.geojson", "/zrodla", "/api/export/hsds.json",
                 "/api/export.jsonl", "/api/export.csv"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip, br"})
        assert plain.status_code == packed.status_code == 200, path
        assert "Content-Encoding" not in plain.headers, path
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in packed.headers["Vary"], path
        assert gzip.decompress(packed.get_data()) == plain.get_data(), path
    body = json.loads(gzip.decompress(client.get("/api/export/hsds.json",
                                                 headers={"Accept-Encoding": "gzip"}).get_data()))
    assert len(body["organizations"]) == 5


def test_exports_answer_304_until_the_catalog_changes(client, settings):
    first = client.get("/api/export/hsds.json")
    first.get_data()   # a streamed body is read to its end, so its session closes within the request
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/api/export/hsds.json", headers={"If-None-Match": tag}).status_code == 304
    other = client.get("/api/export/hsds.json?type=ops", headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.get_data()
    listed = client.get("/api/hsds/services")
    assert "Last-Modified" in listed.headers and "ETag" in listed.headers
    changed = rjps_items()[1:2]
    changed[0].fields["postal_code"] = "16-061"
    apply(settings, "rjps", changed)
    again = client.get("/api/export/hsds.json", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.get_data() and again.headers["ETag"] != tag
    assert again.headers["Last-Modified"] != modified or again.headers["ETag"] != tag


def test_files_sent_as_they_are_pass_through_uncompressed(app):
    """A server's file wrapper (gunicorn, waitress) sends static files with direct_passthrough: reading
    their body in the hook raised, and every /static/ asset became a 500 in the browser."""
    from flask import Response

    from webapp import http_cache

    with app.test_request_context("/static/site.css", headers={"Accept-Encoding": "gzip"}):
        response = Response(iter([b"body {}" * 400]), mimetype="text/css", direct_passthrough=True)
        out = http_cache._after(response)
    assert out is response and "Content-Encoding" not in out.headers


def test_static_text_assets_are_gzipped_and_still_revalidate(client):
    from webapp import STATIC_DIR

    path = "/static/vendor/leaflet/leaflet.js"
    on_disk = (STATIC_DIR / "vendor" / "leaflet" / "leaflet.js").read_bytes()
    plain = client.get(path)
    assert plain.get_data() == on_disk and "Content-Encoding" not in plain.headers
    plain.close()
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == on_disk
    assert len(packed.get_data()) < len(on_disk) / 2
    assert packed.headers["ETag"].startswith("W/") and int(packed.headers["Content-Length"]) == len(packed.data)
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    again.close()
    localised = client.get("/uk" + path, headers={"Accept-Encoding": "gzip"})
    assert localised.headers["Content-Encoding"] == "gzip"
    localised.close()
    ranged = client.get(path, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.get_data() == on_disk[:10]
    ranged.close()
    small = client.get("/static/favicon.svg", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    small.close()
