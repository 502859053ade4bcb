"""The one list of voivodeships and the one slug, and what is derived from them."""
from __future__ import annotations

from catalog.slug import slug
from catalog.voivodeships import by_code, voivodeships
from geo import teryt
from scrapers.cis_kis_config import CONFIGS as CIS_KIS_CONFIGS
from scrapers.official_list_config import CONFIGS as LIST_CONFIGS
from scrapers.owes import WOJ_NUMBERS
from scrapers.registry import CIS_KIS_WOJ


def test_sixteen_voivodeships_in_teryt_order_shared_by_geo_and_scrapers():
    codes = [v.code for v in voivodeships()]
    assert codes == [f"{n:02d}" for n in range(2, 33, 2)]
    assert [w.code for w in teryt.wojewodztwa()] == codes and teryt.wojewodztwo("20") is by_code("20")
    assert list(CIS_KIS_WOJ) == codes == sorted(CIS_KIS_CONFIGS)
    assert WOJ_NUMBERS[1] == "02" and WOJ_NUMBERS[16] == "32" and len(WOJ_NUMBERS) == 16


def test_office_names_are_derived_from_the_voivodeship_name():
    assert by_code("10").office == "Łódzki Urząd Wojewódzki"
    assert by_code("28").wojewoda == "Wojewoda Warmińsko-Mazurski"
    assert by_code("26").office_slug == "swietokrzyski"
    # Hand-written office names in the register configuration agree with the derived ones.
    assert {c.woj: c.office for c in CIS_KIS_CONFIGS.values()} == {v.code: v.wojewoda for v in voivodeships()}
    assert LIST_CONFIGS["dps-02"].url.startswith("https://www.gov.pl/web/uw-dolnoslaski/")


def test_slug_is_the_source_key_rule():
    # Source identities are built from slugs: these values are stored in databases and must not drift.
    assert slug("Ośrodek Wsparcia — Łódź (subregion 2)") == "osrodek-wsparcia-lodz-subregion-2"
    assert slug("  ŻÓŁĆ  ") == "zolc" and slug(None) == "" and slug("—") == ""
