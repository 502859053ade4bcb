"""Every export and API answer flags a demo placeholder explicitly (`is_demo`) and publishes only http(s)
links: HSDS, GeoJSON, CSV, JSON lines, `wsparcie export`, /api/resolve and the detail API."""
from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from catalog.cli import export_cmd
from tests.web.test_placeholders import add_placeholders


def _jsonl(client, url: str) -> list[dict]:
    resp = client.get(url)
    assert resp.status_code == 200
    return [json.loads(line) for line in resp.get_data(as_text=True).splitlines() if line.strip()]


def test_json_lines_and_api_flag_demo_and_filter_links(client, settings, ids):
    demo = add_placeholders(settings)
    rows = {r["id"]: r for r in _jsonl(client, "/api/export.jsonl")}
    assert rows[demo["ops"]]["is_demo"] is True and rows[ids["ops"]]["is_demo"] is False
    assert rows[ids["kis"]]["www"] is None                       # javascript:alert(1) in the catalog
    assert rows[ids["ops"]]["www"] == "https://www.zabludow.example"
    detail = client.get(f"/api/institutions/{ids['kis']}").get_json()
    assert detail["www"] is None and detail["is_demo"] is False
    listed = client.get("/api/institutions?q=Choroszcz").get_json()["items"]
    assert any(i["id"] == demo["ops"] and i["is_demo"] is True for i in listed)


def test_hsds_never_publishes_a_placeholder_and_filters_links(client, settings, ids):
    # Issue 13: placeholders were exported as active services at gmina centres; HSDS now leaves them out.
    add_placeholders(settings)
    orgs = {o["name"]: o for o in client.get("/api/export/hsds.json").get_json()["organizations"]}
    assert not any(" — " in name for name in orgs), sorted(orgs)   # "Ośrodek pomocy społecznej — gmina …"
    assert len(orgs) == len(ids)
    real = orgs["Gminny Ośrodek Pomocy Społecznej w Zabłudowie"]
    assert real["locations"][0]["latitude"] == 53.0146
    assert real["website"] == "https://www.zabludow.example"
    kis = next(o for o in orgs.values() if o["services"][0]["alternate_name"] == "Klub integracji społecznej")
    assert "website" not in kis and "url" not in kis["services"][0]     # javascript: is no link


def test_geojson_properties_flag_demo(client, settings, ids):
    demo = add_placeholders(settings)
    features = {f["id"]: f["properties"] for f in client.get("/api/map.geojson").get_json()["features"]}
    assert features[demo["ops"]]["is_demo"] is True and features[ids["ops"]]["is_demo"] is False


def test_api_csv_flags_demo_and_filters_links(client, settings, ids):
    demo = add_placeholders(settings)
    body = client.get("/api/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(body))}
    assert rows[demo["ops"]]["is_demo"] == "1" and rows[ids["ops"]]["is_demo"] == "0"
    assert "javascript:" not in body and rows[ids["kis"]]["www"] == ""


def test_resolve_flags_demo_and_filters_links(client, settings, ids):
    add_placeholders(settings)
    body = client.get("/api/resolve?q=Choroszcz").get_json()
    competent = {c["role"]: c["institution"] for c in body["competent"]}
    assert competent["ops"]["is_demo"] is True and competent["pcpr"]["is_demo"] is False
    near = client.get("/api/resolve?q=Zabłudów").get_json()
    links = {n["institution"]["name"]: n["institution"]["www"] for n in near["nearby"] + near["competent"]}
    assert links.get("Gminny Ośrodek Pomocy Społecznej w Zabłudowie") == "https://www.zabludow.example"
    assert all(not (w or "").startswith("javascript:") for w in links.values())
    assert any(n["institution"]["www"] is None and "Klub" in n["institution"]["name"] for n in near["nearby"])


def test_cli_export_carries_is_demo_and_places(settings, ids):
    demo = add_placeholders(settings)
    for fmt in ("jsonl", "csv"):
        out = CliRunner().invoke(export_cmd, ["--format", fmt], catch_exceptions=False).output
        if fmt == "jsonl":
            rows = {r["id"]: r for r in map(json.loads, out.splitlines())}
            assert rows[demo["ops"]]["is_demo"] is True and rows[ids["ops"]]["is_demo"] is False
            assert {"places_total", "places_free", "places_as_of"} <= rows[ids["ops"]].keys()
        else:
            rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(out))}
            assert rows[demo["ops"]]["is_demo"] == "True" and rows[ids["ops"]]["is_demo"] == "False"
