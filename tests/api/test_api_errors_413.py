"""An API request with a body over the limit is refused with 413 and the API's error shape: a Polish
`message` (and its English twin), never werkzeug's English HTML page."""
from __future__ import annotations

import pytest

TOO_LARGE = b"x" * (64 * 1024 + 1)   # one byte over create_app's MAX_CONTENT_LENGTH


@pytest.mark.parametrize("path", ["/api/institutions", "/api/resolve?q=Supraśl", "/api/map.geojson"])
def test_a_too_large_api_request_gets_a_polish_message(client, path):
    response = client.get(path, data=TOO_LARGE, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "http_413"
    assert error["message"] == "Zapytanie jest za duże."
    assert error["message_en"] == "The request is too large."


def test_a_request_within_the_limit_is_answered(client):
    response = client.get("/api/institutions", data=b"x" * 1024)
    assert response.status_code == 200
