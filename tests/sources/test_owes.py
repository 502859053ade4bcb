"""OWES adapter against synthetic-layout fixtures served over loopback (see fixtures/sources/owes/SOURCE.md)."""
from __future__ import annotations

from datetime import date

import pytest

from catalog.records import FetchResult
from geo.units import resolve_units
from scrapers.owes import OwesAdapter, parse_document, row_to_item


@pytest.fixture
def serve_owes(serve, fixture_bytes):
    def _serve_owes(failing: tuple[int, ...] = ()) -> None:
        for n in failing:   # registered first: the first matching handler answers
            serve(f"/owes/action/export/wojewodztwo/{n}.html", b"", status=500)
            serve(f"/owes/wojewodztwo/{n}.html", b"", status=500)
        serve("/owes/action/export/wojewodztwo/11.html", fixture_bytes("owes", "export_11.csv"),
              content_type="text/csv")
        serve("/owes/action/export/wojewodztwo/1.html", b"Not found", status=404)
        serve("/owes/wojewodztwo/1.html", fixture_bytes("owes", "page_1.html"))
        serve("/owes/action/export/wojewodztwo/14.html", fixture_bytes("owes", "export_14.html"))
        for n in range(1, 17):
            if n not in (1, 11, 14):
                serve(f"/owes/action/export/wojewodztwo/{n}.html", b"", content_type="text/csv")
                serve(f"/owes/wojewodztwo/{n}.html", fixture_bytes("owes", "page_empty.html"))

    return _serve_owes


def test_owes_consortia_subregions_and_decisions(env, serve_owes, make_client):
    serve_owes()
    with make_client(env, "owes") as http:
        result = OwesAdapter(expected_min=1).fetch(http, env)
    # The adapter keeps the area as the list names it; geo resolves the names before the merge.
    assert all("service_area" not in i.fields and "service_area" in i.units for i in result.items)
    resolve_units(result)
    assert result.fatal is None and result.complete
    assert result.errors == []
    by_name = {i.fields["name"]: i for i in result.items}
    assert len(by_name) == 4
    debrzno = by_name["Ośrodek Wsparcia Ekonomii Społecznej w Debrznie"]
    f = debrzno.fields
    assert f["type"] == "owes" and f["woj_teryt"] == "22"
    assert f["operator_name"] == "Stowarzyszenie „Na Rzecz Rozwoju Miasta i Gminy Debrzno”"   # CP1250 decoded
    assert f["partners"] == [{"name": "Centrum Inicjatyw Obywatelskich w Słupsku", "role": "partner"}]
    assert f["service_area"] == ["2203", "2202", "2206"]   # człuchowski, chojnicki, kościerski
    assert f["decision_number"] == "DES.III.453.5.2022.KG"
    assert f["decision_date"] == date(2022, 1, 28)
    assert debrzno.capture_id is not None
    assert "subregion-poludniowy" in debrzno.source_key
    dzierzgon = by_name["Nadwiślański Ośrodek Wsparcia Ekonomii Społecznej w Dzierzgoniu"].fields
    assert [p["name"] for p in dzierzgon["partners"]] == [
        "Stowarzyszenie na rzecz Oparcia Społecznego i Rozwoju PERSPEKTYWA",
        "Stowarzyszenie Wspierania Przedsiębiorczości w Malborku",
    ]
    assert sorted(dzierzgon["service_area"]) == ["2207", "2209", "2213", "2216"]   # kwidzyński, malborski, starogardzki, sztumski
    # Fallback to the HTML page when the export fails; partners from <li>.
    merkury = by_name["Regionalny Ośrodek Wspierania Ekonomii Społecznej"].fields
    assert merkury["woj_teryt"] == "02" and merkury["partners"][0]["name"] == "Fundacja „Jagniątków”"
    # An "export" that is really HTML, with another column order.
    nida = by_name["Ośrodek Wsparcia Ekonomii Społecznej"].fields
    assert nida["operator_name"] == "Nidzicka Fundacja Rozwoju NIDA" and nida["woj_teryt"] == "28"
    assert result.listed_keys == {i.source_key for i in result.items}


def test_unknown_powiat_is_reported_not_dropped():
    data = "Nazwa;Lider;Obszar działania\nOWES A;Fundacja A;m. Kraków, krakowski, Atlantyda\n".encode()
    rows = parse_document(data)
    result = FetchResult(items=[row_to_item(rows[0], "12", None)])
    resolve_units(result)
    assert result.items[0].fields["service_area"] == ["1261", "1206"]
    assert len(result.errors) == 1 and "Atlantyda" in result.errors[0]["message"]
    assert result.errors[0]["where"] == "OWES OWES A"


def test_one_failing_voivodeship_makes_the_run_incomplete_not_fatal(env, serve_owes, make_client):
    serve_owes(failing=(16,))
    with make_client(env, "owes", record=False) as http:
        result = OwesAdapter(expected_min=1).fetch(http, env)
    assert result.fatal is None and not result.complete
    assert any("(32)" in e["where"] for e in result.errors)
    assert len(result.items) == 4


def test_too_few_entries_is_not_a_complete_listing(env, serve_owes, make_client):
    serve_owes()
    with make_client(env, "owes", record=False) as http:
        result = OwesAdapter().fetch(http, env)
    assert not result.complete and len(result.items) == 4
