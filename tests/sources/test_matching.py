"""catalog.matching on institutions inserted directly into a real (migrated) SQLite file."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from catalog.db import get_engine
from catalog.matching import distinctive_words, find_match, normalise_name
from catalog.models import Institution, SourceRecord
from catalog.records import SourceItem


@pytest.fixture
def session(env):
    with Session(get_engine(env.database_url)) as s:
        yield s


def add(session: Session, source: str = "rjps", **fields) -> Institution:
    inst = Institution(**fields)
    session.add(inst)
    session.flush()
    session.add(SourceRecord(source=source, source_key=f"{source}-{inst.id}", institution_id=inst.id))
    session.flush()
    return inst


def item(source: str = "cis-kis-20", **fields) -> SourceItem:
    return SourceItem(source=source, source_key=fields.get("name", "x"), fields=fields)


CIS_RJPS = {"name": "Centrum Integracji Społecznej „Przykład” w Zabłudowie", "type": "cis",
            "postal_code": "16-060", "locality": "Zabłudów", "lat": 53.0137, "lon": 23.3366}


def test_normalisation_expands_abbreviations_and_drops_the_place():
    assert normalise_name("CIS „Przykład” w Zabłudowie") == "centrum integracji spolecznej przyklad w zabludowie"
    assert distinctive_words(normalise_name("MOPS w Zabłudowie"), ("Zabłudów",)) == {"miejski"}
    assert distinctive_words(normalise_name("Centrum Integracji Społecznej Zabłudów"), ("Zabłudów",)) == set()


def test_identifiers_first(session):
    target = add(session, **CIS_RJPS, nip="5420000000")
    add(session, name="CIS Przykład", type="cis", postal_code="16-060", locality="Zabłudów")
    m = find_match(session, item(name="Zupełnie inna nazwa", type="cis", nip="542-000-00-00",
                                 postal_code="16-060", locality="Zabłudów"))
    assert m and m.institution_id == target.id and m.method == "identifier"
    assert m.detail["identifier"] == "nip"


def test_different_spelling_same_place_matches_with_explanation(session):
    target = add(session, **CIS_RJPS)
    m = find_match(session, item(name='CIS "Przykład" w Zabłudowie', type="cis", postal_code="16-060",
                                 locality="Zabłudów"))
    assert m and m.institution_id == target.id and m.method == "name-place" and m.score == 100
    m = find_match(session, item(name="Centrum Integracji Społecznej w Zabłudowie", type="cis",
                                 postal_code="16-060", locality="Zabłudów"))
    assert m and m.method == "fuzzy" and m.detail["rule"].startswith("jedna nazwa bez słów")
    assert m.detail["distance_basis"] == "postcode/coordinates"


def test_no_merge_across_types(session):
    add(session, **CIS_RJPS)
    assert find_match(session, item(name="Klub Integracji Społecznej „Przykład” w Zabłudowie", type="kis",
                                    postal_code="16-060", locality="Zabłudów")) is None


def test_ops_and_cus_are_compatible(session):
    target = add(session, name="Miejski Ośrodek Pomocy Społecznej w Zabłudowie", type="ops",
                 postal_code="16-060", locality="Zabłudów")
    m = find_match(session, item(name="MOPS w Zabłudowie", type="cus", postal_code="16-060", locality="Zabłudów"))
    assert m and m.institution_id == target.id


def test_no_merge_across_distant_places(session):
    add(session, **CIS_RJPS, nip="5420000000")
    # Same name and NIP, but a point 40 km away: a different unit of the same operator.
    far = item(name=CIS_RJPS["name"], type="cis", nip="5420000000", postal_code="16-060", locality="Zabłudów",
               lat=53.4, lon=23.5)
    assert find_match(session, far) is None
    other_area = item(name=CIS_RJPS["name"], type="cis", postal_code="30-001", locality="Zabłudów")
    assert find_match(session, other_area) is None


def test_two_units_of_one_type_in_one_town_are_not_merged(session):
    add(session, name="Miejski Ośrodek Pomocy Społecznej w Bolesławcu", type="ops", postal_code="59-700",
        locality="Bolesławiec")
    assert find_match(session, item(name="Gminny Ośrodek Pomocy Społecznej w Bolesławcu", type="ops",
                                    postal_code="59-700", locality="Bolesławiec")) is None
    assert find_match(session, item(name="CIS Nadzieja", type="cis", postal_code="16-060",
                                    locality="Zabłudów")) is None


def test_institution_already_holding_a_record_of_that_source_is_skipped(session):
    add(session, source="cis-kis-20", **CIS_RJPS)
    assert find_match(session, item(name=CIS_RJPS["name"], type="cis", postal_code="16-060",
                                    locality="Zabłudów")) is None


def test_locality_with_a_polish_capital_is_a_candidate_without_postcode_or_point(session):
    target = add(session, name="Centrum Integracji Społecznej Próba", type="cis", locality="Łapy")
    m = find_match(session, item(name="CIS „Próba” w Łapach", type="cis", locality="Łapy"))
    assert m and m.institution_id == target.id and m.detail["place_agrees_on"] == ["locality"]
