"""Schemathesis fuzzes every documented API operation in-process (WSGI, no network) against the app's own
OpenAPI document with **all** its checks (as `schemathesis run --checks all`), positive and negative data:
no 5xx, every answer matches the documented status codes, headers, content types and schemas, every
schema-valid request is accepted and every schema-violating one refused.

OpenAPI cannot state a rule between two query parameters (radius_km and sort=distance need near;
page × per_page has a ceiling; the resolver takes q or the pair lat/lon). Those rules are in the operations' descriptions; a positive case
that breaks one must get exactly that rule's 400 instead of being accepted (every other check still runs)."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import load_all_checks, positive_data_acceptance

from index.api import MAX_RESULT_WINDOW
from index.params import DEFAULT_PER_PAGE
from webapp.openapi import spec

load_all_checks()
CHECKS = REGISTRY.get_all()   # every registered check: `--checks all`
MAX_EXAMPLES = 15     # per operation and mode; the coverage phase adds its own deterministic cases

# The document is loaded at collection time (schemathesis needs the operations to parametrize the test);
# test_fuzzed_document_is_the_served_one proves it is byte-for-byte what the app serves.
schema = schemathesis.openapi.from_dict(spec())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                max_examples=MAX_EXAMPLES, deterministic=True, database="none")


def test_fuzzed_document_is_the_served_one(client):
    assert client.get("/api/openapi.json").get_json() == spec()


def broken_dependency(path: str, query: dict) -> str | None:
    """The error code a documented cross-parameter rule gives these parameters, or None."""
    given = {k for k, v in (query or {}).items() if v not in (None, "", [])}
    if path == "/api/resolve":
        if "q" in given and given & {"lat", "lon"}:
            return "ambiguous_place"
        if "q" not in given and not {"lat", "lon"} <= given:
            return "missing_place"
        return None
    # In the parser's order (index/params.py parse): the result window is checked before the radius.
    page, size = (query or {}).get("page", 1), (query or {}).get("per_page", DEFAULT_PER_PAGE)
    if path == "/api/institutions" and int(page) * int(size) > MAX_RESULT_WINDOW:
        return "page_beyond_results"
    if "near" not in given and "radius_km" in given:
        return "radius_without_near"
    if "near" not in given and (query or {}).get("sort") == "distance":
        return "sort_without_near"
    return None


def _is_positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_documentation(case, app):
    # The in-process WSGI transport does not undo Content-Encoding as an HTTP client does: ask for identity
    # (compression has its own tests in tests/hsds/test_http_cache.py).
    headers = {"Accept-Encoding": "identity"}
    rule = broken_dependency(case.operation.path, case.query) if _is_positive(case) else None
    if rule is None:
        case.call_and_validate(checks=CHECKS, app=app, headers=headers)
        return
    response = case.call_and_validate(checks=CHECKS, excluded_checks=[positive_data_acceptance], app=app,
                                      headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == rule, response.text

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
