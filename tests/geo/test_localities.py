"""Every SIMC locality resolves to its gmina; ambiguous names are questions; city districts; shared points.

Runs over the real bundled register (data/gazetteer/miejscowosci.csv.gz), the real gmina polygons and a
real SQLite catalog."""
from __future__ import annotations

import csv
import gzip
import random
import re

import pytest

from catalog.geometry import haversine_km
from catalog.text import fold
from geo import localities
from geo.resolve import resolve

SAMPLE_SEED = 20260112
SAMPLE_SIZE = 200
BYTON = ("0859892", "041102", 52.557, 18.595)
MOCZARY = ("0361689", "180108", 49.3875, 22.676)


def _rows() -> list[dict[str, str]]:
    """The bundled file read independently of geo.localities."""
    with gzip.open(localities.LOCALITIES_FILE, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return _rows()


def _sample(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    villages = [r for r in rows if not r["simc_nadrz"] and r["rm"] != "96" and r["rm"] not in ("95", "98")]
    picked = random.Random(SAMPLE_SEED).sample(villages, SAMPLE_SIZE)
    by_simc = {r["simc"]: r for r in rows}
    return [*picked, by_simc[BYTON[0]], by_simc[MOCZARY[0]]]


def test_bundled_register_covers_simc_with_points(rows):
    assert len(rows) > 100_000
    assert all(r["gmina"] and r["lat"] and r["lon"] for r in rows)
    standalone = [r for r in rows if not r["simc_nadrz"]]
    place_level = [r for r in standalone if r["punkt"] in "PGA"]
    assert len(place_level) / len(standalone) > 0.95
    by_simc = {r["simc"]: r for r in rows}
    for simc, id6, lat, lon in (BYTON, MOCZARY):
        r = by_simc[simc]
        assert r["gmina"][:6] == id6
        assert haversine_km(float(r["lat"]), float(r["lon"]), lat, lon) < 1.0


def test_sampled_villages_resolve_to_their_gmina(session, geo_settings, rows):
    """Any village, with or without a post office, by name: either the place itself, or one of the choices
    offered; and the query string offered for it selects exactly its gmina."""
    for r in _sample(rows):
        want = r["gmina"][:6]
        res = resolve(session, geo_settings, r["nazwa"], nearby_limit=0)
        assert res is not None, r
        offered = ({res.place.gmina_id6} if res.place else set()) | {p.gmina_id6 for p in res.alternatives}
        assert want in offered, r
        if res.place is None or res.place.gmina_id6 != want:
            query = next(p.query for p in res.alternatives if p.gmina_id6 == want)
            chosen = resolve(session, geo_settings, query, nearby_limit=0)
            assert chosen.place is not None and chosen.place.gmina_id6 == want, (r, query)


@pytest.mark.parametrize("text", ["Bytoń", "byton", "BYTOŃ"])
def test_byton_folded(session, geo_settings, text):
    res = resolve(session, geo_settings, text, nearby_limit=0)
    assert (res.place.gmina_id6, res.place.simc, res.place.locality) == ("041102", "0859892", "Bytoń")


def test_moczary_village_without_post_office(session, geo_settings):
    res = resolve(session, geo_settings, "Moczary", nearby_limit=0)
    assert res.place.gmina_id6 == "180108" and res.place.precision == "locality"


def _rank_ok(alternatives) -> bool:
    """CHOICE_ORDER: towns first; within towns and within the rest, larger (known population) first."""
    locs = [localities.get(p.simc) for p in alternatives]
    towns = [loc.is_town for loc in locs]
    if towns != sorted(towns, reverse=True):
        return False
    for group in (True, False):
        pops = [loc.population for loc in locs if loc.is_town is group]
        if pops != sorted(pops, reverse=True):
            return False
    return True


@pytest.mark.parametrize("name", ["Nowa Wieś", "Dąbrowa", "Zalesie"])
def test_ambiguous_names_are_questions(session, geo_settings, name):
    res = resolve(session, geo_settings, name)
    assert res.ambiguous and res.place is None and res.competent == [] and res.nearby == []
    assert len(res.alternatives) > 50
    assert len({p.gmina_id6 for p in res.alternatives}) == len(res.alternatives)   # one choice per gmina
    assert all(fold(p.locality) == fold(name) for p in res.alternatives)
    assert _rank_ok(res.alternatives)
    d = res.to_dict()
    assert d["question"] == "Którą miejscowość masz na myśli?" and d["place"] is None
    first = d["alternatives"][0]
    assert {"simc", "locality", "gmina", "powiat", "wojewodztwo", "query"} <= set(first)
    assert all(a["gmina"] and a["powiat"] and a["wojewodztwo"] and a["query"] for a in d["alternatives"])


def test_every_choice_query_selects_that_choice(session, geo_settings):
    res = resolve(session, geo_settings, "Nowa Wieś")
    for alt in res.alternatives:
        chosen = resolve(session, geo_settings, alt.query, nearby_limit=0)
        assert chosen.place is not None and chosen.place.gmina_id6 == alt.gmina_id6, alt.query


@pytest.mark.parametrize(("text", "gmina"), [
    ("Nowa Wieś koło Kęt", "121304"),      # inflected: Kęty, via morfeusz2 lemmas
    ("Nowa Wieś k. Kęt", "121304"),
    ("Nowa Wieś, gmina Kęty", "121304"),
    ("Nowa Wieś (gmina Kęty)", "121304"),
    ("Dąbrowa, powiat opolski", "160902"),
    ("Dąbrowa, pow. mogileński", "040901"),
    ("Dąbrowa 88-231", "041102"),          # the postal code of Bytoń's area
    ("Bolesławiec, łódzkie", "101801"),
])
def test_qualifiers_narrow_to_one(session, geo_settings, text, gmina):
    res = resolve(session, geo_settings, text, nearby_limit=0)
    assert res.place is not None and res.place.gmina_id6 == gmina, (text, res.to_dict()["alternatives"][:3])


def test_postal_code_orders_choices_by_nearness(session, geo_settings):
    """No Zalesie lies in the gminy 05-500 (Piaseczno) serves: the nearest namesakes come first."""
    from geo import gazetteer

    res = resolve(session, geo_settings, "Zalesie 05-500")
    assert res.ambiguous
    code = gazetteer.postcode_points()["05-500"]
    distances = [haversine_km(p.lat, p.lon, code.lat, code.lon) for p in res.alternatives]
    assert distances == sorted(distances) and distances[0] < 50


def test_unknown_qualifier_does_not_hide_the_place(session, geo_settings):
    res = resolve(session, geo_settings, "Dąbrowa, gmina Nieistniejąca")
    assert res.ambiguous and len(res.alternatives) > 50


def test_single_large_town_is_taken_and_namesakes_offered(session, geo_settings):
    res = resolve(session, geo_settings, "Bolesławiec", nearby_limit=0)
    assert res.place.gmina_id6 == "020101"
    assert {"101801", "302110"} <= {p.gmina_id6 for p in res.alternatives}


@pytest.mark.parametrize(("text", "city", "district", "code"), [
    ("Warszawa Mokotów", "146501", "Mokotów", "1465058"),
    ("Mokotów", "146501", "Mokotów", "1465058"),
    ("Mokotów, Warszawa", "146501", "Mokotów", "1465058"),
    ("warszawa praga poludnie", "146501", "Praga-Południe", "1465078"),
    ("Kraków Nowa Huta", "126101", "Nowa Huta", "1261039"),
    ("Kraków-Nowa Huta", "126101", "Nowa Huta", "1261039"),
    ("Łódź Bałuty", "106101", "Bałuty", "1061029"),
    ("Poznań Jeżyce", "306401", "Jeżyce", "3064039"),
    ("Wrocław Krzyki", "026401", "Krzyki", "0264039"),
    ("Dolny Mokotów", "146501", "Mokotów", "1465058"),     # a part of the city, in the district
])
def test_city_districts_resolve_to_the_city_with_the_district(session, geo_settings, text, city, district, code):
    res = resolve(session, geo_settings, text, nearby_limit=0)
    assert (res.place.gmina_id6, res.place.district, res.place.district_code) == (city, district, code)
    assert res.place.powiat_code == city[:4]
    assert res.to_dict()["place"]["district"] == district


def test_warsaw_district_ops_is_competent_when_recorded(session, geo_settings, add):
    city = add("Centrum Usług Społecznych m.st. Warszawy", "ops", gmina_id6="146501", powiat_teryt="1465",
               woj_teryt="14")
    mokotow = add("Ośrodek Pomocy Społecznej Dzielnicy Mokotów m.st. Warszawy", "ops", gmina_id6="146505",
                  powiat_teryt="1465", woj_teryt="14")

    def ops(text):
        return [c.institution.id for c in resolve(session, geo_settings, text, nearby_limit=0).competent
                if c.role == "ops"]

    assert ops("Warszawa Mokotów") == [mokotow.id]
    assert ops("Warszawa Wola") == [city.id]           # no record for Wola's OPS: the city's
    assert ops("Warszawa") == [city.id]


def test_part_of_a_village_maps_to_its_parent(session, geo_settings, rows):
    """A name that only a part of a village has resolves to the gmina and the point of its parent."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[fold(r["nazwa"])] = counts.get(fold(r["nazwa"]), 0) + 1
    by_simc = {r["simc"]: r for r in rows}
    part = next(r for r in rows if r["simc_nadrz"] and r["rm"] == "00" and counts[fold(r["nazwa"])] == 1
                and not by_simc[r["simc_nadrz"]]["simc_nadrz"] and by_simc[r["simc_nadrz"]]["punkt"] == "P")
    parent = by_simc[part["simc_nadrz"]]
    res = resolve(session, geo_settings, part["nazwa"], nearby_limit=0)
    assert res.place.gmina_id6 == part["gmina"][:6]
    assert (res.place.lat, res.place.lon) == (float(parent["lat"]), float(parent["lon"]))
    assert parent["nazwa"] in res.place.label


@pytest.mark.parametrize(("point", "gmina", "words"), [
    ((BYTON[2], BYTON[3]), "041102", "Bytoń, gmina Bytoń"),
    ((MOCZARY[2], MOCZARY[3]), "180108", "Moczary, gmina Ustrzyki Dolne"),
])
def test_shared_point_is_named_not_shown_as_coordinates(session, geo_settings, point, gmina, words):
    res = resolve(session, geo_settings, point=point, nearby_limit=0)
    assert res.place.gmina_id6 == gmina and res.place.label == words
    assert not re.search(r"\d+\.\d+", res.place.label)


# --- the API and the home page ---------------------------------------------------------------------------

def test_api_resolve_returns_alternatives(geo_client):
    body = geo_client.get("/api/resolve", query_string={"q": "Dąbrowa"}).get_json()
    assert body["ambiguous"] is True and body["place"] is None and len(body["alternatives"]) > 50
    alt = body["alternatives"][3]
    assert re.fullmatch(r"\d{7}", alt["simc"]) and alt["gmina"] and alt["powiat"] and alt["wojewodztwo"]
    chosen = geo_client.get("/api/resolve", query_string={"q": alt["query"]}).get_json()
    assert chosen["ambiguous"] is False and chosen["place"]["gmina_id6"] == alt["gmina_id6"]


def test_api_resolve_district(geo_client):
    place = geo_client.get("/api/resolve", query_string={"q": "Kraków Nowa Huta"}).get_json()["place"]
    assert (place["gmina_id6"], place["district"]) == ("126101", "Nowa Huta")


def test_home_page_asks_which_place_with_plain_links(geo_client):
    html = geo_client.get("/", query_string={"gdzie": "Zalesie"}).get_data(as_text=True)
    assert "Którą miejscowość masz na myśli?" in html
    links = re.findall(r'<a href="(/\?gdzie=[^"]+)" data-simc="(\d{7})"', html)
    assert len(links) > 50
    href = links[10][0].replace("&amp;", "&")
    followed = geo_client.get(href).get_data(as_text=True)
    assert "Którą miejscowość" not in followed and "Urzędy i ośrodki właściwe dla: Zalesie" in followed


def test_home_page_escapes_what_the_user_typed_in_the_question(geo_client):
    html = geo_client.get("/", query_string={"gdzie": "Dąbrowa, gmina <script>x</script>{{7*7}}"}).get_data(
        as_text=True)
    assert "Którą miejscowość masz na myśli?" in html
    assert "<script>x" not in html and "&lt;script&gt;x" in html and "{{7*7}}" in html


def test_home_page_names_a_shared_location(geo_client):
    html = geo_client.get("/", query_string={"lat": "52.55700", "lon": "18.59500"}).get_data(as_text=True)
    assert "Urzędy i ośrodki właściwe dla: Bytoń, gmina Bytoń" in html
    assert "52.557" not in html.split("<footer", 1)[0].split('id="geo-lat"', 1)[1]


def test_location_button_is_rendered_hidden(geo_client):
    html = geo_client.get("/").get_data(as_text=True)
    assert re.search(r'<button[^>]*id="geo-button"[^>]*\shidden', html)
