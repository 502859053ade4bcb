"""One institution with provenance, place resolution, TERYT reference lists."""
from __future__ import annotations

import pytest

MOPS = "Miejski Ośrodek Pomocy Społecznej w Białymstoku"


def test_detail_has_record_provenance_and_sources(client, catalog):
    response = client.get(f"/api/institutions/{catalog.ids[MOPS]}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == MOPS and body["type"] == "ops"
    assert body["type_info"]["how_to_get_in"].startswith("Wystarczy przyjść")
    assert body["teryt_names"]["powiat"] == "Białystok"
    postal = body["provenance"]["postal_code"]
    assert postal == [{"source": "rjps", "source_key": "3499", "value": "15-440",
                       "first_seen": "2025-01-10T08:00:00Z", "last_seen": "2026-02-01T12:00:00Z",
                       "source_updated_at": "2026-01-15"}]
    assert body["sources"][0]["source"] == "rjps" and body["sources"][0]["source_updated_at"] == "2026-01-15"
    assert body["updated_at"] == "2026-02-01T12:00:00Z"


def test_detail_dates_and_operator(client, catalog):
    body = client.get(f"/api/institutions/{catalog.ids['Centrum Integracji Społecznej w Białymstoku']}").get_json()
    assert body["valid_until"] == "2027-04-30"
    assert body["operator"]["name"] == 'Stowarzyszenie "Pomoc"'
    assert body["provenance"] == {} and body["sources"] == []


def test_detail_unknown_is_404_json(client):
    response = client.get("/api/institutions/424242")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_resolve_by_text_returns_the_place(client):
    response = client.get("/api/resolve?q=Zabłudów")
    assert response.status_code == 200
    place = response.get_json()["place"]
    assert place["gmina_id6"] == "200214"


def test_resolve_by_point(client):
    response = client.get("/api/resolve?lat=53.12&lon=23.15")
    assert response.status_code == 200
    assert response.get_json()["place"]["powiat_code"] == "2061"


@pytest.mark.parametrize("query, status, code", [
    ("", 400, "missing_place"),
    ("lat=53.1", 400, "missing_place"),
    ("lat=95&lon=20", 400, "invalid_point"),
    ("lat=x&lon=20", 400, "invalid_lat"),
    ("q=Zabłudów&lat=53&lon=23", 400, "ambiguous_place"),
    ("q=Qwxzrtplkjhg", 404, "place_not_found"),
    ("lat=48.85&lon=2.35", 404, "place_not_found"),
])
def test_resolve_errors(client, query, status, code):
    response = client.get(f"/api/resolve?{query}")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code


def test_reference_lists(client):
    woj = client.get("/api/wojewodztwa").get_json()["items"]
    assert len(woj) == 16 and {"code": "20", "name": "podlaskie"} in woj
    powiaty = client.get("/api/powiaty?woj=20").get_json()["items"]
    assert powiaty and all(p["woj"] == "20" for p in powiaty)
    assert any(p["code"] == "2061" and p["city_with_powiat_rights"] for p in powiaty)
    assert len(client.get("/api/powiaty").get_json()["items"]) == 380
    gminy = client.get("/api/gminy?powiat=2002").get_json()["items"]
    assert {"200214", "200209"} <= {g["code"] for g in gminy}
    assert all(g["powiat"] == "2002" for g in gminy)


@pytest.mark.parametrize("url, code", [
    ("/api/powiaty?woj=99", "unknown_woj"),
    ("/api/powiaty?woj=abc", "invalid_woj"),
    ("/api/gminy?powiat=20", "invalid_powiat"),
])
def test_reference_validation(client, url, code):
    response = client.get(url)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_only_get_is_allowed(client):
    response = client.post("/api/institutions")
    assert response.status_code == 405
