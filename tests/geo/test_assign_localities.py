"""geo.assign reads place names through the one locality source, the SIMC register (geo.localities): a
village the older layers (GeoNames >= 500 inhabitants, PRNG towns, post towns) do not know still gets its
gmina; where they disagree with the register, the register wins; a name of many villages is not guessed."""
from __future__ import annotations

import random

import pytest

from catalog.address import parse_address
from geo import boundaries, gazetteer, localities, teryt
from geo.assign import assign


@pytest.mark.parametrize(("text", "id6"), [
    ("Kosienice 12", "181310"), ("Witówka 3", "201205"), ("Tańsk-Chorąże 7", "141302"),
])
def test_a_village_only_the_register_knows(text, id6):
    name = parse_address(text).locality
    assert not gazetteer.places_named(name) and not gazetteer.post_towns_named(name)   # the old gap
    a = assign(parse_address(text))
    assert (a.gmina_id6, a.powiat_code, a.method) == (id6, teryt.gmina(id6).powiat_code, "locality")


def test_the_register_wins_over_a_post_town_placed_in_the_wrong_gmina():
    # Jegłownik's post-town point fell in Elbląg's polygon; SIMC places the village in Gronowo Elbląskie.
    assert {p.gmina_id6 for p in gazetteer.post_towns_named("Jegłownik")} == {"286101"}
    assert assign(parse_address("Jegłownik 4")).gmina_id6 == "280403"


def test_a_part_of_a_village_is_its_parents_gmina():
    loc = localities.named("Bramki Dolne")[0]
    assert loc.is_part and localities.parent_of(loc).name == "Bramki"
    assert assign(parse_address("Bramki Dolne 2")).gmina_id6 == "143201"


def test_a_name_of_many_villages_is_not_guessed():
    assert len(localities.find(localities.PlaceQuery("Nowa Wieś")).choices) > 100
    assert assign(parse_address("Nowa Wieś 5")) is None


def test_a_precise_point_picks_among_villages_of_the_name():
    # Nowa Wieś in gmina Wadowice (121304): the source's point says which one, the name says it is a village.
    a = assign(parse_address("Nowa Wieś 5"), point=(49.9067, 19.2164), point_precision="source")
    assert (a.gmina_id6, a.method, a.flag) == ("121304", "locality", None)
    assert len(a.alternatives) > 100


def test_the_wojewodztwo_or_the_sources_powiat_narrows_the_villages():
    assert assign(parse_address("Nowa Wieś 5, zachodniopomorskie")).gmina_id6[:2] == "32"
    a = assign(parse_address("Nowa Wieś 5"), explicit_powiat="1432")
    assert (a.gmina_id6, a.powiat_code) == ("143201", "1432")


def test_every_uniquely_named_village_of_a_sample_gets_its_gmina():
    reg = localities.register()
    rng = random.Random(12)
    checked = 0
    for key in rng.sample(sorted(reg.by_name), 1500):
        locs = [reg.by_simc[s] for s in reg.by_name[key] if not reg.by_simc[s].is_part]
        if len({loc.gmina_id6 for loc in locs}) != 1 or teryt.gmina(locs[0].gmina_id6) is None:
            continue
        a = assign(parse_address(f"{locs[0].name} 1"))
        assert a is not None and boundaries.same_area(a.gmina_id6, locs[0].gmina_id6), locs[0]
        checked += 1
        if checked == 250:
            break
    assert checked == 250


def test_the_address_qualifiers_narrow_the_register_and_kolo_is_a_word():
    # "gmina Kołobrzeg" once read as "koło brzeg" (near Brzeg) and lost the qualifiers.
    q = localities.parse_query("Drzonowo, gmina Kołobrzeg, powiat kołobrzeski")
    assert (q.name, q.gmina, q.powiat, q.near) == ("Drzonowo", "Kołobrzeg", "kołobrzeski", None)
    assert localities.parse_query("Nowa Wieś koło Kęt").near == "Kęt"
    assert len({loc.gmina_id6 for loc in localities.named("Drzonowo")}) > 1
    assert assign(parse_address("Drzonowo 3, gmina Kołobrzeg")).gmina_id6 == "320804"


def test_the_offline_geocoder_places_such_a_village_at_its_own_point():
    from geo import offline

    found = offline.geocode(parse_address("Kosienice 12"))
    loc = localities.named("Kosienice")[0]
    assert (found.precision, found.geocoder, found.gmina_id6) == ("locality", "offline:simc", "181310")
    assert (found.lat, found.lon) == (loc.lat, loc.lon)
    # Several gminy with a locality of the name and nothing in the address to choose: no register point.
    assert all(c.geocoder != "offline:simc" for c in offline.candidates(parse_address("Drzonowo 3")))
