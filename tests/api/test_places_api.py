"""Places in the public API and exports: `places: {"total", "free", "as_of"}` (null when unknown) on the list,
the detail and JSON lines, the CSV columns, HSDS capacities; `free_places=true` filters through the index
and through the SQL fallback alike; OpenAPI documents `places`, `free_places` and `is_demo`."""
from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from catalog import db
from catalog.settings import load
from index import api as index_api
from tests.api.conftest import institutions
from tests.web.test_placeholders import add_placeholders
from tests.web.test_places import add_dps

FREE = {"total": 120, "free": 7, "as_of": "2026-06-30"}


@pytest.fixture(scope="module")
def places_catalog(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("api-places")
    settings = dataclasses.replace(
        load(), data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'wsparcie.db'}",
        index_dir=data_dir / "index", captures_dir=data_dir / "captures", secret_key="test-secret",
    )
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        session.add_all(institutions())
    ids = {**add_dps(settings), "demo": add_placeholders(settings)["ops"]}
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    return settings, ids


@pytest.fixture(scope="module")
def places_client(places_catalog):
    from webapp import create_app

    return create_app({"SETTINGS": places_catalog[0], "TESTING": True}).test_client()


@pytest.fixture
def ids(places_catalog):
    return places_catalog[1]


def test_detail_and_list_carry_places(places_client, ids):
    assert places_client.get(f"/api/institutions/{ids['free']}").get_json()["places"] == FREE
    assert places_client.get(f"/api/institutions/{ids['full']}").get_json()["places"] == {
        "total": 60, "free": 0, "as_of": "2026-06-30"}
    assert places_client.get(f"/api/institutions/{ids['unknown']}").get_json()["places"] is None
    items = places_client.get("/api/institutions?type=dps").get_json()["items"]
    assert {i["id"]: i["places"] for i in items} == {
        ids["free"]: FREE, ids["full"]: {"total": 60, "free": 0, "as_of": "2026-06-30"}, ids["unknown"]: None}


def test_free_places_filter_through_the_index(places_client, ids):
    body = places_client.get("/api/institutions?free_places=true").get_json()
    assert body["note"] is None                                     # the index answered, not the fallback
    assert [i["id"] for i in body["items"]] == [ids["free"]] and body["total"] == 1
    body = places_client.get("/api/institutions?q=dom+pomocy&free_places=1").get_json()
    assert [i["id"] for i in body["items"]] == [ids["free"]]
    assert places_client.get("/api/institutions?type=dps&free_places=false").get_json()["total"] == 3


def test_free_places_filter_through_the_sql_fallback(places_catalog, tmp_path):
    from webapp import create_app

    settings = dataclasses.replace(places_catalog[0], index_dir=tmp_path / "no-index")
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    body = client.get("/api/institutions?free_places=true").get_json()
    assert body["note"] and "awaryjnym" in body["note"]            # the SQL path answered
    assert [i["id"] for i in body["items"]] == [places_catalog[1]["free"]]
    features = client.get("/api/map.geojson?free_places=true").get_json()["features"]
    assert [f["id"] for f in features] == [places_catalog[1]["free"]]


def test_free_places_value_is_validated(places_client):
    resp = places_client.get("/api/institutions?free_places=maybe")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_free_places"


def test_exports_carry_places(places_client, ids):
    lines = places_client.get("/api/export.jsonl?type=dps").get_data(as_text=True).splitlines()
    assert {r["id"]: r["places"] for r in map(json.loads, lines)}[ids["free"]] == FREE
    body = places_client.get("/api/export.csv?type=dps").get_data(as_text=True).lstrip("\ufeff")
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(body))}
    free, unknown = rows[ids["free"]], rows[ids["unknown"]]
    assert (free["places_total"], free["places_free"], free["places_as_of"]) == ("120", "7", "2026-06-30")
    assert (unknown["places_total"], unknown["places_free"], unknown["places_as_of"]) == ("", "", "")
    only_free = places_client.get("/api/export.jsonl?free_places=true").get_data(as_text=True).splitlines()
    assert [json.loads(line)["id"] for line in only_free] == [ids["free"]]
    # HSDS 3.0 has no capacity object (it came with 3.1): the HSDS export lists the homes without places.
    orgs = places_client.get("/api/export/hsds.json?type=dps").get_json()["organizations"]
    assert len(orgs) == len(ids) - 1 and all(   # the demo placeholder is never published
        "capacities" not in s for o in orgs for s in o["services"])


def test_openapi_documents_places_free_places_and_is_demo(places_client):
    spec = places_client.get("/api/openapi.json").get_json()
    institution = spec["components"]["schemas"]["Institution"]
    assert {"places", "is_demo"} <= set(institution["required"])
    places = institution["properties"]["places"]["anyOf"][0]
    assert set(places["properties"]) == {"total", "free", "as_of"}
    assert "demonstracyjny" in institution["properties"]["is_demo"]["description"]
    search_params = {p["name"] for p in spec["paths"]["/api/institutions"]["get"]["parameters"]}
    assert "free_places" in search_params
    geojson = spec["components"]["schemas"]["FeatureCollection"]["properties"]["features"]["items"]
    assert "is_demo" in geojson["properties"]["properties"]["properties"]


def test_responses_match_the_documented_institution_schema(places_client, ids):
    jsonschema = pytest.importorskip("jsonschema")
    spec = places_client.get("/api/openapi.json").get_json()
    schema = {**spec["components"]["schemas"]["Institution"], "components": spec["components"]}
    for inst_id in (ids["free"], ids["unknown"], ids["demo"]):
        jsonschema.validate(places_client.get(f"/api/institutions/{inst_id}").get_json(), schema)
