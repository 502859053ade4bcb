"""PUP adapter against the synthetic-layout national list (see fixtures/sources/pup/SOURCE.md)."""
from __future__ import annotations

from catalog.normalise import normalise_item
from geo.units import resolve_units
from scrapers.pup import LIST_PATH, PupAdapter


def test_offices_branches_and_areas_served(env, serve, fixture_bytes, make_client):
    serve(LIST_PATH, fixture_bytes("pup", "urzedy-pracy.html"))
    with make_client(env, "pup") as http:
        result = PupAdapter(expected_min=1).fetch(http, env)
    resolve_units(result)   # the powiaty served are names until the geo stage resolves them
    assert all("postal_code" not in i.fields and "phones" not in i.fields for i in result.items)
    result.items = [normalise_item(i) for i in result.items]   # the catalog's normalisation stage
    assert result.fatal is None and result.complete and result.errors == []
    by_name = {i.fields["name"]: i for i in result.items}
    assert len(by_name) == 4
    bialystok = by_name["Powiatowy Urząd Pracy w Białymstoku"]
    assert bialystok.fields["service_area"] == ["2061", "2002"]
    assert bialystok.fields["woj_teryt"] == "20" and bialystok.fields["type"] == "pup"
    seat = by_name["Powiatowy Urząd Pracy (przykład fikcyjny)"]
    assert seat.fields["postal_code"] == "00-950" and seat.fields["email"] == "kontakt@example.org"
    assert seat.fields["phones_raw"] == "tel. 12 345 67 89"
    assert seat.fields["service_area"] == ["2009"]   # powiat sejneński
    branch = by_name["Powiatowy Urząd Pracy (przykład fikcyjny) — Filia w Przykładowie Dolnym (fikcyjna)"]
    assert branch.fields["parent_source_key"] == seat.source_key
    assert branch.raw["parent_source_key"] == seat.source_key
    assert branch.fields["postal_code"] == "00-951" and branch.source_key != seat.source_key
    assert branch.fields["service_area"] == ["2009"]   # no list of its own: the seat's area
    plock = by_name["Miejski Urząd Pracy w Płocku"].fields
    assert plock["woj_teryt"] == "14" and plock["www"] == "mupplock.praca.gov.pl"
    assert plock["service_area"] == [] and plock.get("postal_code") is None
    assert result.listed_keys == {i.source_key for i in result.items}


def test_list_down_is_fatal(env, serve, make_client):
    serve(LIST_PATH, b"", status=503)
    with make_client(env, "pup") as http:
        result = PupAdapter(expected_min=1).fetch(http, env)
    assert result.fatal and "PUP" in result.fatal and result.items == []


def test_short_list_is_not_complete(env, serve, fixture_bytes, make_client):
    serve(LIST_PATH, fixture_bytes("pup", "urzedy-pracy.html"))
    with make_client(env, "pup") as http:
        result = PupAdapter().fetch(http, env)
    assert not result.complete and result.items


def test_undecodable_list_is_fatal_not_replaced(env, serve, make_client):
    # Bytes undefined in windows-1250 and C1 controls in ISO-8859-2: no charset reads them, nothing guesses.
    serve(LIST_PATH, b"<html><body><h3>Urz\x98d pracy \x81\x83</h3></body></html>", content_type="text/html")
    with make_client(env, "pup") as http:
        result = PupAdapter(expected_min=1).fetch(http, env)
    assert result.fatal and "PUP list unavailable" in result.fatal and result.items == []
