"""Every institution type is complete in catalog/types.py, so adding a type touches that file only."""
from __future__ import annotations

import re
import unicodedata

import pytest

from catalog.types import NEEDS, TYPES, InstitutionType, Level, codes_where, info, type_from_label

_HEX = re.compile(r"#[0-9a-f]{6}")
_POLISH_SENTENCE = re.compile(r"^[A-ZĄĆĘŁŃÓŚŹŻ]")


def _contrast_on_white(colour: str) -> float:
    """WCAG 2.x contrast ratio of the colour against white."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


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
    assert _contrast_on_white(ti.colour) >= 3.0, (code, ti.colour)
    assert ti.icon and len(ti.icon) == 1 and not ti.icon.isalnum()
    assert set(ti.needs) <= set(NEEDS)
    if code is not InstitutionType.OTHER:
        assert ti.needs, code            # "Inna jednostka" is the only type no need filter offers
        assert ti.abbreviations, code    # the badge and the search "kind" terms use them
    assert ti.search_boost >= 0


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
