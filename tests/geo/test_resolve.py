import json

import pytest

from geo.resolve import resolve


@pytest.fixture
def catalog(add):
    return {
        "gops_zabludow": add("Miejsko-Gminny Ośrodek Pomocy Społecznej w Zabłudowie", "ops", gmina_id6="200214",
                             powiat_teryt="2002", woj_teryt="20", lat=53.0141, lon=23.3383),
        # A land powiat's PCPR standing in the neighbouring city: it serves powiat białostocki only.
        "pcpr_bialostocki": add("Powiatowe Centrum Pomocy Rodzinie w Białymstoku", "pcpr", gmina_id6="206101",
                                powiat_teryt="2061", woj_teryt="20", service_area=["2002"]),
        "mopr_bialystok": add("Miejski Ośrodek Pomocy Rodzinie w Białymstoku", "pcpr", gmina_id6="206101",
                              powiat_teryt="2061", woj_teryt="20"),
        "pup_bialystok": add("Powiatowy Urząd Pracy w Białymstoku", "pup", gmina_id6="206101", powiat_teryt="2061",
                             woj_teryt="20", service_area=["2061", "2002"]),
        "owes_podlasie": add("OWES Subregionu Białostockiego", "owes", gmina_id6="206101", powiat_teryt="2061",
                             woj_teryt="20", service_area=["2061", "2002", "2011"]),
        "owes_other": add("OWES Subregionu Łomżyńskiego", "owes", powiat_teryt="2062", woj_teryt="20",
                          service_area=["2062", "2007"]),
        "cis_bialystok": add("Centrum Integracji Społecznej w Białymstoku", "cis", gmina_id6="206101",
                             powiat_teryt="2061", woj_teryt="20", lat=53.1325, lon=23.1688),
        "cis_closed": add("Zamknięte CIS w Zabłudowie", "cis", gmina_id6="200214", powiat_teryt="2002",
                          woj_teryt="20", lat=53.0142, lon=23.3384, status="closed"),
        "wtz_krakow": add("Warsztat Terapii Zajęciowej w Krakowie", "wtz", gmina_id6="126101", powiat_teryt="1261",
                          woj_teryt="12", lat=50.05, lon=19.95),
        "mops_krakow": add("Miejski Ośrodek Pomocy Społecznej w Krakowie", "ops", gmina_id6="126101",
                           powiat_teryt="1261", woj_teryt="12", lat=50.0675, lon=19.9441),
        "pcpr_krakowski": add("Powiatowe Centrum Pomocy Rodzinie w Krakowie", "pcpr", gmina_id6="126101",
                              powiat_teryt="1261", woj_teryt="12", service_area=["1206"]),
        "gup_krakow": add("Grodzki Urząd Pracy w Krakowie", "pup", gmina_id6="126101", powiat_teryt="1261",
                          woj_teryt="12"),
        "pup_krakowski": add("Powiatowy Urząd Pracy dla Powiatu Krakowskiego", "pup", gmina_id6="126101",
                             powiat_teryt="1261", woj_teryt="12", service_area=["1206"]),
        "gops_byton": add("Gminny Ośrodek Pomocy Społecznej w Bytoniu", "ops", gmina_id6="041102",
                          powiat_teryt="0411", woj_teryt="04", lat=52.5576, lon=18.5952),
        "pcpr_radziejow": add("Powiatowe Centrum Pomocy Rodzinie w Radziejowie", "pcpr", gmina_id6="041103",
                              powiat_teryt="0411", woj_teryt="04"),
    }


def _roles(res):
    return [(c.role, c.institution.id) for c in res.competent]


def test_zabludow_competent_units_and_nearest_cis(session, geo_settings, catalog):
    res = resolve(session, geo_settings, "16-060 Zabłudów")
    assert (res.place.gmina_id6, res.place.powiat_code, res.place.woj_code) == ("200214", "2002", "20")
    assert _roles(res) == [("ops", catalog["gops_zabludow"].id), ("pcpr", catalog["pcpr_bialostocki"].id),
                           ("pup", catalog["pup_bialystok"].id), ("owes", catalog["owes_podlasie"].id)]
    nearest = res.nearby[0]
    assert nearest.institution.id == catalog["cis_bialystok"].id
    assert 15 < nearest.distance_km < 25          # Zabłudów -> Białystok centre, ~19 km
    assert catalog["cis_closed"].id not in [n.institution.id for n in res.nearby]
    assert res.nearby[-1].institution.id == catalog["wtz_krakow"].id   # found by widening the search


def test_krakow_mops_acts_as_pcpr(session, geo_settings, catalog):
    res = resolve(session, geo_settings, "Kraków, ul. Józefińska 14")
    assert (res.place.gmina_id6, res.place.powiat_code, res.place.woj_code) == ("126101", "1261", "12")
    assert _roles(res) == [("ops", catalog["mops_krakow"].id), ("pcpr", catalog["mops_krakow"].id),
                           ("pup", catalog["gup_krakow"].id)]
    assert "miasto na prawach powiatu" in res.competent[1].role_label


def test_city_mopr_preferred_over_land_powiat_pcpr(session, geo_settings, catalog):
    res = resolve(session, geo_settings, "15-950 Białystok")
    pcpr = [c for c in res.competent if c.role == "pcpr"]
    assert [c.institution.id for c in pcpr] == [catalog["mopr_bialystok"].id]


def test_byton_by_name_only(session, geo_settings, catalog):
    res = resolve(session, geo_settings, "Bytoń")
    assert (res.place.gmina_id6, res.place.powiat_code, res.place.woj_code) == ("041102", "0411", "04")
    assert _roles(res) == [("ops", catalog["gops_byton"].id), ("pcpr", catalog["pcpr_radziejow"].id)]


def test_point_and_ambiguous_names(session, geo_settings, catalog):
    res = resolve(session, geo_settings, point=(53.0141, 23.3383), nearby_types=("cis",), nearby_limit=1)
    assert res.place.gmina_id6 == "200214" and len(res.nearby) == 1
    amb = resolve(session, geo_settings, "Bolesławiec")
    assert amb.place.gmina_id6 == "020101"
    assert "101801" in {p.gmina_id6 for p in amb.alternatives}
    hinted = resolve(session, geo_settings, "Bolesławiec, łódzkie")
    assert hinted.place.gmina_id6 == "101801"


def test_to_dict_is_json_ready(session, geo_settings, catalog):
    d = resolve(session, geo_settings, "16-060 Zabłudów").to_dict()
    text = json.dumps(d, ensure_ascii=False)
    assert d["place"]["gmina"] == "Zabłudów" and d["place"]["powiat"] == "powiat białostocki"
    assert d["competent"][0]["role"] == "ops" and "Zabłudowie" in text


@pytest.mark.parametrize("text", ["", "   ", "!!!", "x" * 5000, "Xqzzyvw", "99.0,99.0", "0000000"])
def test_garbage_gives_none(session, geo_settings, text):
    assert resolve(session, geo_settings, text) is None
    assert resolve(session, geo_settings, None, point=(10.0, 10.0)) is None


def test_postal_code_picks_among_same_named_places(session, geo_settings):
    res = resolve(session, geo_settings, "98-430 Bolesławiec")
    assert res.place.gmina_id6 == "101801" and res.place.woj_code == "10"


def test_nominatim_point_used_for_distances(session, geo_settings, catalog, httpserver, monkeypatch):
    from catalog import settings as settings_mod

    monkeypatch.setenv("GEOCODER", "nominatim")
    monkeypatch.setenv("NOMINATIM_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("NOMINATIM_RATE_LIMIT", "0")
    httpserver.expect_request("/search").respond_with_json([{
        "lat": "50.0471", "lon": "19.9482", "class": "place", "type": "house", "display_name": "Józefińska 14",
        "address": {"house_number": "14", "road": "Józefińska", "city": "Kraków"}}])
    res = resolve(session, settings_mod.load(), "Kraków, ul. Józefińska 14", nearby_types=("wtz",))
    assert (res.place.precision, res.place.gmina_id6) == ("address", "126101")
    assert res.nearby[0].distance_km < 1.0
