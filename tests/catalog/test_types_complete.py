"""Every institution type is complete in catalog/types.py, so adding a type touches that file only."""
from __future__ import annotations

import re
import unicodedata

import pytest

from catalog.text import fold_spaces
from catalog.types import (
    NEEDS,
    TYPES,
    InstitutionType,
    Level,
    codes_where,
    contrast_on_white,
    info,
    type_from_label,
)
from scrapers.documents.institutions import classify

_HEX = re.compile(r"#[0-9a-f]{6}")
_POLISH_SENTENCE = re.compile(r"^[A-ZĄĆĘŁŃÓŚŹŻ]")


def test_every_code_has_its_info():
    assert set(TYPES) == set(InstitutionType)
    assert all(code is ti.code for code, ti in TYPES.items())


@pytest.mark.parametrize("code", list(InstitutionType), ids=lambda c: c.value)
def test_type_is_complete(code):
    ti = TYPES[code]
    for text in (ti.label, ti.plural, ti.what, ti.who, ti.how_to_get_in):
        assert text.strip() and _POLISH_SENTENCE.match(text), (code, text)
        assert unicodedata.is_normalized("NFC", text)
    assert ti.plural != ti.label or code is InstitutionType.OHP   # "Ochotnicze Hufce Pracy" is plural already
    assert isinstance(ti.level, Level)
    assert _HEX.fullmatch(ti.colour), ti.colour
    # A marker sits on light tiles with a white outline: WCAG 1.4.11 asks 3:1 for graphical objects.
    assert contrast_on_white(ti.colour) >= 3.0, (code, ti.colour)
    assert ti.icon and len(ti.icon) == 1 and not ti.icon.isalnum()
    assert set(ti.needs) <= set(NEEDS)
    if code is not InstitutionType.OTHER:
        assert ti.needs, code            # "Inna jednostka" is the only type no need filter offers
        assert ti.abbreviations, code    # the badge and the search "kind" terms use them
    assert ti.search_boost >= 0
    assert ti.badge and contrast_on_white(ti.badge_colour) >= 4.5, (code, ti.badge_colour)
    if code is not InstitutionType.OTHER:
        # Document readers and registry labels must recognise the type by its own name.
        assert ti.name_patterns and ti.label_phrases, code
        assert all(phrase == fold_spaces(phrase) for phrase in ti.label_phrases), code
        assert classify(ti.label) == code.value, (code, ti.label)
        assert type_from_label(ti.label) is code, (code, ti.label)
    else:
        assert ti.name_patterns, code    # the catch-all of units no type covers ("Poradnia …")
    for source in ti.name_patterns:
        re.compile(source)
    assert ti.name_tier in (0, 1, 2, 3)


def test_colour_and_icon_tell_every_type_apart():
    pairs = [(ti.colour, ti.icon) for ti in TYPES.values()]
    assert len(set(pairs)) == len(pairs)
    icons = [ti.icon for ti in TYPES.values()]
    assert len(set(icons)) == len(icons)


def test_behaviour_flags_are_read_from_the_types():
    assert codes_where("reintegration") == ("cis", "kis", "zaz", "wtz")
    assert set(codes_where("needs_referral")) >= {"cis", "kis", "zaz", "wtz", "dps", "sds", "klub-samopomocy"}
    assert "ops" not in codes_where("needs_referral") and "policja" not in codes_where("needs_referral")
    competent = {code.value for code, ti in TYPES.items() if ti.competent_label}
    assert competent == {"ops", "cus", "pcpr", "pup", "owes"}
    assert info("gkrpa").level is Level.GMINA and info("punkt-konsultacyjny").level is Level.GMINA


@pytest.mark.parametrize(("label", "code"), [
    ("Komisariat Policji w Alwerni", "policja"),
    ("Komenda Powiatowa Policji w Myślenicach", "policja"),
    ("Gminna Komisja Rozwiązywania Problemów Alkoholowych", "gkrpa"),
    ("Punkt Konsultacyjny dla Osób Doznających Przemocy", "punkt-konsultacyjny"),
    ("Klub Samopomocy „Integra”", "klub-samopomocy"),
    ("Stowarzyszenie Sursum Corda", "organizacja-pozarzadowa"),
    ("Fundacja Brata Alberta — Warsztat Terapii Zajęciowej", "wtz"),   # the foundation runs the WTZ
    ("Środowiskowy Dom Samopomocy", "sds"),
])
def test_registry_labels_name_the_new_types(label, code):
    assert type_from_label(label).value == code


@pytest.mark.parametrize(("label", "code"), [
    ("Wojewódzki Urząd Pracy w Krakowie", "wup"),              # also contains "urząd pracy"
    ("Powiatowy Urząd Pracy w Bochni", "pup"),
    ("Gminny Ośrodek Pomocy Społecznej – Punkt Konsultacyjny", "ops"),   # the attached unit loses
    ("Stowarzyszenie „Dom” — Dom Pomocy Społecznej", "dps"),  # the operator loses to the unit it runs
    ("Miejski Ośrodek Pomocy Rodzinie w Toruniu", "ops"),      # a city MOPR is registered as its OPS
])
def test_label_rule_is_tier_then_earliest(label, code):
    assert type_from_label(label).value == code


def test_consumers_read_badges_and_roles_from_the_types():
    from geo.resolve import ROLE_LABELS

    for code, ti in TYPES.items():
        if ti.competent_label:
            assert ROLE_LABELS[code.value] == ti.competent_label
    assert info("unknown-code").badge == "Inna jednostka"
