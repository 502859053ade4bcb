"""Bulk exports (JSON lines, CSV, HSDS) and the map GeoJSON."""
from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from webapp.serializers import CSV_COLUMNS


def _jsonl(client, query: str = "") -> list[dict]:
    response = client.get(f"/api/export.jsonl?{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_jsonl_exports_every_record_in_full(client, catalog):
    records = _jsonl(client)
    assert sorted(r["id"] for r in records) == sorted(catalog.ids.values())
    assert all("identifiers" in r and "updated_at" in r for r in records)


@pytest.mark.parametrize("value", ["2025-06-01", "2025-06-01T00:00:00Z", "2025-06-01T02:00:00%2B02:00",
                                   "2025-06-01T02:00:00+02:00"])
def test_modified_after_keeps_only_newer_records(client, value):
    records = _jsonl(client, f"modified_after={value}")
    assert records and all(r["updated_at"] > "2025-06-01" for r in records)
    assert "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" not in {r["name"] for r in records}
    assert len(_jsonl(client, "modified_after=2026-03-01")) == 0


def test_export_filters_and_validation(client):
    assert {r["type"] for r in _jsonl(client, "type=cis")} == {"cis"}
    assert client.get("/api/export.jsonl?modified_after=yesterday").status_code == 400
    assert client.get("/api/export.csv?q=cis").get_json()["error"]["code"] == "text_not_supported"


def test_csv_has_header_bom_and_one_row_per_record(client, catalog):
    response = client.get("/api/export.csv?modified_after=2025-06-01")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == len(_jsonl(client, "modified_after=2025-06-01"))
    mops = next(r for r in body if r["name"].startswith("Miejski Ośrodek"))
    # A leading + would start a formula: catalog/spreadsheet.py keeps it text with an apostrophe.
    assert mops["phones"] == "'+48856780100" and mops["powiat"] == "2061"
    assert mops["target_groups"] == "bezdomni | rodziny"


def test_hsds_export_shape(client, catalog):
    """The bulk export is the HSDS API's own mapping (webapp/hsds.py): UUIDs, linked service and location,
    the OWES subregion as a GeoJSON service area; tests/hsds validates it against the official schemas."""
    response = client.get("/api/export/hsds.json?type=owes")
    assert response.status_code == 200
    body = json.loads(response.get_data(as_text=True))
    (org,) = body["organizations"]
    assert uuid.UUID(org["id"]).version == 5 and org["services"][0]["organization_id"] == org["id"]
    assert org["locations"][0]["latitude"] is not None
    (area,) = org["services"][0]["service_areas"]
    assert json.loads(area["extent"])["type"] in {"Polygon", "MultiPolygon"}
    assert "powiat białostocki" in area["name"]
    full = json.loads(client.get("/api/export/hsds.json").get_data(as_text=True))
    assert len(full["organizations"]) == len(catalog.ids)


def test_geojson_is_a_valid_feature_collection_of_located_institutions(client, catalog):
    response = client.get("/api/map.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == len(catalog.ids) - 1   # one has no coordinates
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert 14 < lon < 24.5 and 49 < lat < 55          # [lon, lat] order, inside Poland
        assert set(feature["properties"]) >= {"id", "name", "type", "precision", "url"}


def test_geojson_filters(client):
    types = {f["properties"]["type"] for f in client.get("/api/map.geojson?type=wtz,zaz").get_json()["features"]}
    assert types == {"wtz", "zaz"}
    near = client.get("/api/map.geojson?near=50.05,19.99&radius_km=20").get_json()["features"]
    assert {f["properties"]["type"] for f in near} == {"wtz", "zaz"}
    text = client.get("/api/map.geojson?q=integracji").get_json()["features"]
    assert text and any("Integracji" in f["properties"]["name"] for f in text)
    assert client.get("/api/map.geojson?near=1000,1").status_code == 400
