"""GET /api/institutions: filters, text, distance, paging, facets and validation."""
from __future__ import annotations

import pytest

BIALYSTOK = "53.1216,23.1505"


def _get(client, query: str) -> dict:
    response = client.get(f"/api/institutions?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _names(body: dict) -> list[str]:
    return [item["name"] for item in body["items"]]


def test_lists_everything_with_stable_shape(client, catalog):
    body = _get(client, "per_page=100")
    assert body["total"] == len(catalog.ids)
    assert body["page"] == 1 and body["per_page"] == 100
    assert isinstance(body["facets"], dict)
    item = next(i for i in body["items"] if i["name"].startswith("Miejski Ośrodek"))
    assert set(item) >= {"id", "name", "type", "type_label", "operator", "identifiers", "address", "teryt", "location",
                         "phones", "email", "www", "service_tags", "target_groups", "service_area", "partners",
                         "status", "valid_from", "valid_until", "decision_number", "decision_date",
                         "source_updated_at", "first_seen", "last_seen", "updated_at", "is_demo", "distance_km"}
    assert item["type_label"] == "Ośrodek pomocy społecznej"
    assert item["identifiers"]["rjps_id"] == "3499"
    assert item["address"]["postal_code"] == "15-440"
    assert item["teryt"] == {"woj": "20", "powiat": "2061", "gmina": "206101"}
    assert item["location"]["precision"] == "source"
    assert item["phones"] == [{"raw": "85 678 01 00", "e164": "+48856780100"}]


@pytest.mark.parametrize("query", ["type=cis&type=kis", "type=cis,kis", "type=CIS,kis"])
def test_type_filter_repeatable_or_comma_list(client, query):
    body = _get(client, query + "&per_page=100")
    assert {i["type"] for i in body["items"]} == {"cis", "kis"}
    assert body["total"] == 5


def test_territorial_and_status_filters(client):
    assert {i["teryt"]["woj"] for i in _get(client, "woj=12")["items"]} == {"12"}
    assert _get(client, "woj=12")["total"] == 2
    powiat = _get(client, "powiat=2002&per_page=100")
    assert {i["teryt"]["powiat"] for i in powiat["items"]} == {"2002"} and powiat["total"] == 4
    assert _names(_get(client, "gmina=2002142")) == ["Gminny Ośrodek Pomocy Społecznej w Zabłudowie"]
    closed = _get(client, "status=closed")
    assert _names(closed) == ["Centrum Integracji Społecznej w Warszawie"]


def test_target_group_filter(client):
    body = _get(client, "target_group=bezdomni")
    assert sorted(_names(body)) == ["Centrum Integracji Społecznej w Białymstoku",
                                    "Miejski Ośrodek Pomocy Społecznej w Białymstoku"]


def test_text_query_finds_by_name(client):
    body = _get(client, "q=integracji&type=cis")
    assert "Centrum Integracji Społecznej w Białymstoku" in _names(body)
    assert all(i["type"] == "cis" for i in body["items"])
    assert _get(client, "q=xyzzyqwerty")["total"] == 0


def test_near_radius_keeps_only_close_institutions_nearest_first(client):
    body = _get(client, f"near={BIALYSTOK}&radius_km=10&sort=distance&per_page=100")
    distances = [i["distance_km"] for i in body["items"]]
    assert distances and all(d is not None and d <= 10 for d in distances)
    assert distances == sorted(distances)
    assert all(i["teryt"]["woj"] == "20" for i in body["items"])
    assert "Zakład Aktywności Zawodowej w Krakowie" not in _names(body)
    wide = _get(client, f"near={BIALYSTOK}&radius_km=400&per_page=100")
    assert "Centrum Integracji Społecznej w Warszawie" in _names(wide)
    assert "Zakład Aktywności Zawodowej w Krakowie" not in _names(wide)   # ~400+ km away


def test_pagination_is_disjoint_and_complete(client, catalog):
    seen: list[int] = []
    for page in (1, 2, 3, 4, 5, 6):
        body = _get(client, f"per_page=3&page={page}")
        assert body["page"] == page and body["per_page"] == 3
        assert len(body["items"]) <= 3
        seen.extend(i["id"] for i in body["items"])
    assert len(seen) == len(set(seen)) == len(catalog.ids)
    assert _get(client, "per_page=3&page=50")["items"] == []


@pytest.mark.parametrize("query, code", [
    ("near=91,20", "invalid_point"),
    ("near=abc", "invalid_near"),
    ("near=52,nan", "invalid_lon"),
    ("near=52,20&radius_km=0", "invalid_radius_km"),
    ("near=52,20&radius_km=5000", "invalid_radius_km"),
    ("radius_km=5", "radius_without_near"),
    ("page=0", "invalid_page"),
    ("page=x", "invalid_page"),
    ("per_page=101", "invalid_per_page"),
    ("type=szpital", "unknown_type"),
    ("woj=2", "invalid_woj"),
    ("powiat=9999", "unknown_powiat"),
    ("gmina=12", "invalid_gmina"),
    ("status=open", "invalid_status"),
    ("sort=distance", "sort_without_near"),
    ("sort=name", "invalid_sort"),
    ("modified_after=2026-13-01", "invalid_modified_after"),
    ("q=" + "a" * 201, "query_too_long"),
])
def test_invalid_input_is_a_clear_400(client, query, code):
    response = client.get(f"/api/institutions?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and error["message_en"] and error["message"] != error["message_en"]


def test_cors_and_conditional_get(client):
    response = client.get("/api/institutions?type=ops")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/api/institutions?type=ops", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/institutions/999999")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_index_is_used_when_built(client):
    body = _get(client, "q=integracji")
    assert "uproszczone" not in (body["note"] or "")


def test_database_fallback_search(catalog):
    from sqlmodel import Session

    from catalog.db import get_engine
    from index import fallback
    from index.api import SearchQuery

    with Session(get_engine(catalog.settings.database_url)) as session:
        found = fallback.search(session, SearchQuery(text="integracji", types=("cis",)))
        assert found.total == 2 and found.facets["type"] == {"cis": 2}
        near = fallback.search(session, SearchQuery(near=(53.1216, 23.1505), radius_km=10, sort="distance"))
        distances = [h.distance_km for h in near.hits]
        assert distances == sorted(distances) and all(d <= 10 for d in distances)
        assert near.total == 4   # MOPS, PUP, CIS, OWES; the PCPR in Choroszcz is ~11 km away


def test_cors_header_also_on_routing_level_errors(client):
    for method, url in (("get", "/api/nie-ma-takiego"), ("post", "/api/institutions")):
        response = getattr(client, method)(url)
        assert response.status_code in (404, 405)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.get_json()["error"]["code"]
    assert "Access-Control-Allow-Origin" not in client.get("/").headers
