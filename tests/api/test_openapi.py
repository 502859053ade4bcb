"""The OpenAPI document is valid 3.1 and documents every route of the API blueprint."""
from __future__ import annotations

import re

from openapi_spec_validator import validate


def _rule_to_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_openapi_document_is_valid(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_is_documented(app, client):
    documented = set(client.get("/api/openapi.json").get_json()["paths"])
    routes = {_rule_to_path(rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(("api.", "hsds."))}
    assert routes, "the API blueprint is not registered"
    assert routes == documented


def test_documented_enums_match_validation(client):
    document = client.get("/api/openapi.json").get_json()
    params = {p["name"]: p for p in document["paths"]["/api/institutions"]["get"]["parameters"]}
    assert "cis" in params["type"]["schema"]["items"]["anyOf"][0]["enum"]
    assert params["per_page"]["schema"]["maximum"] == 100
    assert client.get("/api/institutions?per_page=100").status_code == 200
    assert client.get("/api/institutions?per_page=101").status_code == 400


def test_documented_teryt_rules_are_the_parser_rules(client):
    """What schemathesis found on the old main: valid codes refused, empty codes accepted."""
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    gmina = re.compile(schemas["TerytGmina"]["allOf"][0]["pattern"])
    assert gmina.fullmatch("020101") and gmina.fullmatch("0201011") and not gmina.fullmatch("029901")
    assert client.get("/api/institutions?powiat=0201&gmina=0201011").status_code == 200
    assert client.get("/api/institutions?gmina=0299011").get_json()["error"]["code"] == "unknown_gmina"
    for query in ("/api/powiaty?woj=", "/api/gminy?powiat=", "/api/institutions?status=",
                  "/api/institutions?type=cis,", "/api/export.csv?woj=", "/api/institutions?page=%201"):
        response = client.get(query)
        assert response.status_code == 400, query
    assert client.get("/api/institutions?q=&target_group=").status_code == 200   # documented as free text
