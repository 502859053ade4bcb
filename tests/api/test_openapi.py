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
    assert "cis" in params["type"]["schema"]["items"]["enum"]
    assert params["per_page"]["schema"]["maximum"] == 100
    assert client.get("/api/institutions?per_page=100").status_code == 200
    assert client.get("/api/institutions?per_page=101").status_code == 400
