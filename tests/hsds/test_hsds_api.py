"""The HSDS 3.0 API and the bulk export, validated against the official compiled schemas (format checks on),
over a catalog built by the real merge. What each test proves is in its name."""
from __future__ import annotations

import json
import uuid
from typing import Any

from shapely.geometry import shape
from sqlmodel import select

from catalog import db
from catalog.models import Institution
from tests.hsds.conftest import HOSTILE, apply, build_catalog, errors, rjps_items
from webapp import hsds
from webapp.hsds_api import identities

PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"}
DEMO_NAME = "miejsce na dane"


def _nulls(obj: Any, path: str = "") -> list[str]:
    if obj is None:
        return [path]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _nulls(v, f"{path}/{k}")]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _nulls(v, f"{path}/{i}")]
    return []


def _all(client, path: str) -> list[dict]:
    items, page = [], 1
    while page <= 50:
        body = client.get(path, query_string={"page": page, "per_page": 2}).get_json()
        assert set(body) == PAGE_KEYS, body
        items.extend(body["contents"])
        if body["last_page"]:
            return items
        page += 1
    raise AssertionError("paging never ended")


def _services(client) -> list[dict]:
    return [client.get(f"/api/hsds/services/{s['id']}").get_json() for s in _all(client, "/api/hsds/services")]


def _by_name(services: list[dict], fragment: str) -> dict:
    return next(s for s in services if fragment in s["name"])


def test_every_list_page_and_object_validates_against_the_official_schemas(client, schemas):
    lists = {"/api/hsds/services": schemas.service_list, "/api/hsds/organizations": schemas.organization_list,
             "/api/hsds/service_at_locations": schemas.service_at_location_list,
             "/api/hsds/taxonomies": schemas.taxonomy, "/api/hsds/taxonomy_terms": schemas.taxonomy_term}
    for path, validator in lists.items():
        contents = _all(client, path)
        assert contents, path
        for item in contents:
            assert errors(validator, item) == [], (path, item)
    singles = {"services": schemas.service, "organizations": schemas.organization,
               "service_at_locations": schemas.service_at_location}
    for kind, validator in singles.items():
        for item in _all(client, f"/api/hsds/{kind}"):
            response = client.get(f"/api/hsds/{kind}/{item['id']}")
            assert response.status_code == 200
            body = response.get_json()
            assert errors(validator, body) == [], (kind, body["id"])
            assert _nulls(body) == [], (kind, _nulls(body))


def test_bulk_export_validates_and_never_carries_a_placeholder(client, schemas):
    response = client.get("/api/export/hsds.json")
    assert response.status_code == 200
    body = json.loads(response.get_data(as_text=True))
    assert body["version"] == "3.0"
    organizations = body["organizations"]
    assert len(organizations) == 5          # 4 RJPS units + 1 OWES; the demo placeholder is not one
    for org in organizations:
        assert errors(schemas.organization, org) == [], org["id"]
        assert _nulls(org) == []
    assert DEMO_NAME not in response.get_data(as_text=True)


def test_no_placeholder_anywhere_in_the_hsds_api(client, settings):
    with db.session_scope(settings.database_url) as session:
        assert session.exec(select(Institution).where(Institution.is_demo.is_(True))).first() is not None
    for path in ("/api/hsds/services", "/api/hsds/organizations", "/api/hsds/service_at_locations"):
        body = client.get(path, query_string={"per_page": 200}).get_json()
        assert body["total_items"] == 5, path
        assert DEMO_NAME not in json.dumps(body, ensure_ascii=False)


def test_ids_are_uuid5_of_the_source_identity_and_survive_a_rebuild(client, settings, tmp_path):
    first = {s["name"]: s["id"] for s in _all(client, "/api/hsds/services")}
    rebuilt = build_catalog(tmp_path, order=("demo", "owes", "rjps"))   # other order: other integer ids
    with db.session_scope(rebuilt.database_url) as session:
        rows = session.exec(select(Institution).where(Institution.is_demo.is_(False))).all()
        known = identities(session, [r.id for r in rows])
        again = {r.name: hsds.service_id(known[r.id]) for r in rows}
    with db.session_scope(settings.database_url) as session:
        old_ids = {r.name: r.id for r in session.exec(select(Institution)).all()}
    assert again == first
    assert {n: i for n, i in ((r.name, r.id) for r in rows)} != {n: old_ids[n] for n in again}
    assert all(uuid.UUID(i).version == 5 for i in first.values())


def test_services_link_to_locations_with_address_point_phones_and_contacts(client):
    mops = _by_name(_services(client), "Miejski Ośrodek")
    sal = mops["service_at_locations"][0]
    assert sal["service_id"] == mops["id"] and sal["location_id"] == sal["location"]["id"]
    location = sal["location"]
    assert (location["latitude"], location["longitude"]) == (53.1325, 23.1688)
    assert location["addresses"][0] == {**location["addresses"][0], "address_1": "ul. Malmeda 1", "city": "Białystok",
                                        "postal_code": "15-440", "state_province": "podlaskie", "country": "PL"}
    assert mops["phones"][0]["number"] == "+48856780100"
    assert mops["contacts"][0]["name"] == "Anna Kowalska"
    assert mops["email"] == "mops@mops.bialystok.pl"                   # the first of two addresses
    assert mops["url"] == "https://mops.xn--biaystok-8ob.pl/o%C5%9Brodek"   # IDNA host, escaped path
    assert mops["application_process"].startswith("Wystarczy przyjść")
    assert mops["languages"][0]["code"] == "pl"


def test_organization_identifiers_for_regon_krs_nip_and_rjps(client):
    orgs = _all(client, "/api/hsds/organizations")
    mops = next(o for o in orgs if o["name"].startswith("Miejski"))
    full = client.get(f"/api/hsds/organizations/{mops['id']}").get_json()
    got = {i["identifier_type"]: i["identifier"] for i in full["organization_identifiers"]}
    assert got == {"REGON": "000985437", "KRS": "0000123456", "NIP": "9661234567", "RJPS": "3499"}
    assert full["services"][0]["organization_id"] == full["id"]


def test_service_areas_are_geojson_of_the_gmina_powiat_or_owes_subregion(client):
    services = _services(client)
    gops = _by_name(services, "Zabłudowie")["service_areas"][0]
    assert gops["extent_type"] == "geojson" and gops["name"] == "gmina Zabłudów"
    assert shape(json.loads(gops["extent"])).contains(shape({"type": "Point", "coordinates": [23.3384, 53.0146]}))
    pcpr = _by_name(services, "Powiatowe Centrum")["service_areas"][0]
    assert pcpr["name"] == "powiat białostocki"
    owes = _by_name(services, "Ekonomii")["service_areas"][0]
    assert owes["description"].startswith("Subregion OWES") and owes["name"].count(",") == 2
    area = shape(json.loads(owes["extent"]))
    assert area.area > shape(json.loads(pcpr["extent"])).area


def test_unknown_values_are_omitted_and_hostile_text_is_only_data(client):
    services = _services(client)
    gops = _by_name(services, "Zabłudowie")
    assert "url" not in gops                                    # javascript: is no website
    assert gops["service_at_locations"][0]["location"]["addresses"][0]["address_1"] == "Zabłudów 8"
    pcpr = _by_name(services, "Powiatowe Centrum")
    location = pcpr["service_at_locations"][0]["location"]
    assert "latitude" not in location                         # a gmina centre is not the office
    kis = _by_name(services, "{{ 7*7 }}")
    # Text as data: no template ran ({{ 7*7 }} is not 49), markup is a string, the bidi override is cleaned.
    assert kis["name"] == HOSTILE.replace(" \u202e", "") and kis["status"] == "defunct"
    assert "email" not in kis and "addresses" not in kis["service_at_locations"][0]["location"]
    assert kis["service_at_locations"][0]["location"]["description"] == "Supraśl, bez adresu"


def test_taxonomy_terms_classify_services(client):
    terms = {t["id"]: t for t in _all(client, "/api/hsds/taxonomy_terms")}
    mops = _by_name(_services(client), "Miejski Ośrodek")
    codes = {(a["link_type"], a["taxonomy_term"]["code"], a.get("value")) for a in mops["attributes"]}
    assert ("typ-jednostki", "ops", None) in codes and ("potrzeba", "pomoc-spoleczna", None) in codes
    assert ("grupa-docelowa", "seniorzy", None) in codes and ("grupa-docelowa", "inne", "bezdomni") in codes
    assert all(a["taxonomy_term_id"] in terms for a in mops["attributes"])


def test_metadata_is_the_change_log_and_modified_after_filters(client, settings):
    before = client.get("/api/hsds/services", query_string={"modified_after": "2999-01-01"}).get_json()
    assert before["total_items"] == 0 and before["empty"] is True
    changed = rjps_items()[:1]
    changed[0].fields["email"] = "nowy@mops.bialystok.pl"
    apply(settings, "rjps", changed)
    mops = _by_name(_services(client), "Miejski Ośrodek")
    entries = [m for m in mops["metadata"] if m["field_name"] == "email"]
    assert entries and entries[0]["replacement_value"] == "nowy@mops.bialystok.pl"
    assert entries[0]["last_action_type"] == "update" and entries[0]["resource_id"] == mops["id"]
    latest = mops["last_modified"]
    after = client.get("/api/hsds/services", query_string={"modified_after": latest[:10]}).get_json()
    assert [s["name"] for s in after["contents"]] == [mops["name"]] or mops["name"] in {
        s["name"] for s in after["contents"]}


def test_bad_paging_and_unknown_ids_are_documented_errors(client):
    for query in ({"per_page": "0"}, {"per_page": "201"}, {"page": "x"}, {"page": ""}, {"modified_after": ""}):
        response = client.get("/api/hsds/services", query_string=query)
        assert response.status_code == 400, query
        assert set(response.get_json()["error"]) >= {"code", "message", "message_en"}
    missing = client.get(f"/api/hsds/services/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/hsds/services/not-a-uuid").status_code == 404


def test_root_names_the_version_and_the_openapi_document(client):
    body = client.get("/api/hsds/").get_json()
    assert body["version"] == "3.0" and body["openapi_url"].endswith("/api/openapi.json")
