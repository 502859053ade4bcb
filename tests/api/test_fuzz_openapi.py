"""Schemathesis fuzzes every documented API operation in-process (WSGI, no network) against the app's own
OpenAPI document: valid and invalid inputs must never give a 5xx, and every answer must match the
documented status codes, content types and response schemas."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webapp.openapi import spec

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25     # per operation; the whole module stays well under a minute on 2 cores

# The document is loaded at collection time (schemathesis needs the operations to parametrize the test);
# test_fuzzed_document_is_the_served_one proves it is byte-for-byte what the app serves.
schema = schemathesis.openapi.from_dict(spec())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                max_examples=MAX_EXAMPLES, deterministic=True, database="none")


def test_fuzzed_document_is_the_served_one(client):
    assert client.get("/api/openapi.json").get_json() == spec()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_documentation(case, app):
    # The in-process WSGI transport does not undo Content-Encoding as an HTTP client does: ask for identity
    # (compression has its own tests in tests/hsds/test_http_cache.py).
    case.call_and_validate(checks=CHECKS, app=app, headers={"Accept-Encoding": "identity"})


# --- what the fuzzing found, pinned as plain regression tests ------------------------------------------

def _error_code(response) -> str:
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body["error"]) >= {"code", "message", "message_en"}, body
    return body["error"]["code"]


def test_ids_beyond_64_bits_are_not_found_not_a_crash(client):
    for path in ("/api/institutions/327509290194957828096", f"/api/institutions/{2**63}",
                 "/api/institutions/abc", "/api/institutions/-1"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert _error_code(response) == "not_found"


def test_unknown_api_urls_and_methods_answer_with_the_documented_error(client):
    response = client.get("/api/nie-ma-takiego")
    assert response.status_code == 404 and _error_code(response) == "not_found"
    response = client.post("/api/institutions")
    assert response.status_code == 405 and _error_code(response) == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    assert client.post("/").status_code == 405      # pages keep their own (HTML) answer


def test_modified_after_at_the_ends_of_the_calendar_is_a_clear_error(client):
    for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-01:00"):
        response = client.get("/api/export.jsonl", query_string={"modified_after": value})
        assert response.status_code == 400, value
        assert _error_code(response) == "invalid_modified_after"
    assert client.get("/api/export.jsonl?modified_after=2026-01-01t00:00:00z").status_code == 200


def test_control_characters_are_dropped_from_query_text(client, catalog):
    plain = client.get("/api/institutions", query_string={"q": "Supraśl"}).get_json()
    noisy = client.get("/api/institutions", query_string={"q": "\x00Supraśl\x1f"}).get_json()
    assert plain["total"] >= 1
    assert [i["id"] for i in noisy["items"]] == [i["id"] for i in plain["items"]]
