from catalog.address import parse_address
from geo.assign import assign, seat_names


def test_zabludow_by_postcode():
    a = assign(parse_address("ul. Rynek 8, 16-060 Zabłudów"))
    assert (a.gmina_id6, a.powiat_code, a.woj_code, a.method) == ("200214", "2002", "20", "postcode")
    assert a.flag is None


def test_byton_by_postcode_and_by_locality():
    a = assign(parse_address("Bytoń 72, 88-231 Bytoń"))
    assert (a.gmina_id6, a.powiat_code, a.woj_code, a.method) == ("041102", "0411", "04", "postcode")
    b = assign(parse_address("Bytoń 72"))
    assert (b.gmina_id6, b.method) == ("041102", "locality")


def test_krakow_city_with_powiat_rights():
    a = assign(parse_address("Kraków, ul. Józefińska 14"))
    assert (a.gmina_id6, a.powiat_code, a.woj_code) == ("126101", "1261", "12")
    b = assign(parse_address("ul. Józefińska 14, 30-529 Kraków"), point=(50.0451, 19.9566), point_precision="source")
    assert (b.gmina_id6, b.method, b.flag) == ("126101", "postcode", None)


def test_name_based_locative_to_nominative():
    assert "Bytoń" in seat_names("GOPS w Bytoniu")
    assert "Nowy Targ" in seat_names("Miejski Ośrodek Pomocy Społecznej w Nowym Targu")
    a = assign(parse_address(""), name="GOPS w Bytoniu")
    assert (a.gmina_id6, a.powiat_code, a.woj_code, a.method) == ("041102", "0411", "04", "name")
    b = assign(parse_address(""), name="Ośrodek Pomocy Społecznej Gminy Zabłudów")
    assert (b.gmina_id6, b.method) == ("200214", "name")


def test_disagreement_beyond_tolerance_is_flagged_not_guessed():
    # Kraków's postal code, but the source's point lies near Proszowice, ~11 km outside Kraków.
    a = assign(parse_address("ul. Józefińska 14, 30-529 Kraków"), point=(50.2, 20.3), point_precision="source")
    assert a.gmina_id6 == "126101" and a.method == "postcode"
    assert a.flag and "Proszowice" in a.flag and "Kraków" in a.flag


def test_point_just_across_a_generalised_boundary_is_tolerated():
    # Zabłudów's address with a point a few hundred metres outside the town polygon (gmina miejsko-wiejska
    # covers it) or within the 2 km tolerance of the generalised line: no flag.
    a = assign(parse_address("16-060 Zabłudów"), point=(53.0182, 23.3290), point_precision="source")
    assert a.flag is None


def test_coarse_points_are_not_used_as_evidence_against_the_address():
    a = assign(parse_address("ul. Józefińska 14, 30-529 Kraków"), point=(50.2, 20.3), point_precision="locality")
    assert a.flag is None


def test_explicit_code_wins_and_pip_is_last_resort():
    a = assign(parse_address("16-060 Zabłudów"), explicit_gmina="2002162")
    assert (a.gmina_id6, a.method) == ("200216", "explicit")
    b = assign(parse_address(""), point=(52.555, 18.616), point_precision="source")
    assert (b.gmina_id6, b.method) == ("041102", "pip")
    assert assign(parse_address(""), point=(48.0, 10.0), point_precision="source") is None


def test_new_gmina_without_polygon():
    # Szczawa (2019+) lies inside the old Kamienica polygon: named by its postal town, not flagged.
    a = assign(parse_address("34-607 Szczawa"), point=(49.6099, 20.2948), point_precision="source")
    assert (a.gmina_id6, a.powiat_code, a.flag) == ("120713", "1207", None)


def test_ambiguous_locality_prefers_woj_hint():
    a = assign(parse_address("Bolesławiec"))
    assert a.gmina_id6 == "020101" and "101801" in a.alternatives
    b = assign(parse_address("Bolesławiec, łódzkie"))
    assert b.gmina_id6 == "101801"


def test_source_powiat_kept_gmina_only_when_consistent():
    # A PUP whose source gives only its powiat: the address's gmina is taken when it is in that powiat.
    a = assign(parse_address("16-060 Zabłudów"), explicit_powiat="2002")
    assert (a.gmina_id6, a.powiat_code, a.woj_code, a.flag) == ("200214", "2002", "20", None)
    # A land powiat's PCPR with its office in the neighbouring city: powiat kept, gmina left out, flagged.
    b = assign(parse_address("ul. Józefińska 14, 30-529 Kraków"), explicit_powiat="1206")
    assert (b.gmina_id6, b.powiat_code, b.woj_code, b.method) == (None, "1206", "12", "explicit")
    assert "krakowski" in b.flag
    # Only a coarse reference point (precision "powiat"): no gmina is invented from it.
    c = assign(parse_address(""), point=(50.3, 18.78), point_precision="powiat", explicit_powiat="2478")
    assert (c.gmina_id6, c.powiat_code, c.method) == (None, "2478", "explicit")


def test_village_known_only_as_post_town():
    a = assign(parse_address("Pradła, ul. Szkolna 12"))
    assert (a.gmina_id6, a.method) == ("241604", "locality")
