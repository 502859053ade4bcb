"""The needs thesaurus (index/needs.py, data/needs/thesaurus.toml): its public API, its data and its
contract with the `potrzeba=<key>` pages (index.params.types_for_need)."""
from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from catalog.types import NEEDS, TYPES, InstitutionType
from index import needs
from index.needs import NeedMatch, Suggestion, detect, suggest
from index.params import types_for_need

# Every family the issue names (issue 12, "Needs vocabulary") with phrases that must mean it.
FAMILY_EXAMPLES = {
    "pomoc-spoleczna": ["zasiłek", "brak pieniędzy", "opał", "paczka żywnościowa", "długi", "eksmisja",
                        "jedzenie"],
    "praca": ["szukam pracy", "staż", "po wyjściu z więzienia"],
    "rodzina": ["rodzina zastępcza", "piecza zastępcza", "opieka nad dzieckiem"],
    "seniorzy": ["dom opieki", "dom starców", "opiekunka", "opieka całodobowa"],
    "niepelnosprawnosc": ["turnus", "wózek", "orzeczenie", "terapia zajęciowa", "zatrudnienie chronione",
                          "zajęcia dzienne"],
    "uzaleznienia": ["alkohol", "narkotyki", "hazard"],
    "przemoc": ["przemoc", "mąż mnie bije", "niebieska karta"],
    "kryzys": ["myśli samobójcze", "kryzys psychiczny", "depresja"],
    "bezdomnosc": ["nocleg", "bezdomny", "schronisko"],
}


def test_every_family_of_the_issue_is_understood():
    for need, phrases in FAMILY_EXAMPLES.items():
        for phrase in phrases:
            assert detect(phrase).needs == (need,), phrase


@pytest.mark.parametrize("text, need, first_type", [
    ("dom opieki dla mamy Żywiec", "seniorzy", "dps"),
    ("rodzina zastępcza Cieszyn", "rodzina", "pcpr"),
    ("zasiłek Będzin", "pomoc-spoleczna", "ops"),
    ("Zasiłku", "pomoc-spoleczna", "ops"),                    # inflected
    ("zasilku", "pomoc-spoleczna", "ops"),                    # inflected, typed without Polish letters
    ("domów opieki", "seniorzy", "dps"),
    ("przemoc", "przemoc", "oik"),
    ("alkohol", "uzaleznienia", "gkrpa"),
    ("zasiłek dla bezrobotnych", "praca", "pup"),             # the longer phrase wins
    ("praca dla niepełnosprawnych", "niepelnosprawnosc", "zaz"),
    ("алкоголь", "uzaleznienia", "gkrpa"),                    # Ukrainian, prefix-matched
    ("прийомна сімʼя", "rodzina", "pcpr"),                    # Ukrainian apostrophe U+02BC
    ("прийомна сім'я", "rodzina", "pcpr"),
    ("ЇЖА", "pomoc-spoleczna", "ops"),
    ("nursing home Kraków", "seniorzy", "dps"),
    ("foster family", "rodzina", "pcpr"),
])
def test_detect_names_the_need_and_ranks_its_types(text, need, first_type):
    match = detect(text)
    assert isinstance(match, NeedMatch) and match
    assert match.needs[0] == need and match.types[0] == first_type
    assert all(isinstance(code, str) for code in match.types)


def test_detect_crisis_flag():
    for text in ("mąż mnie bije", "niebieska karta", "myśli samobójcze", "nie chcę żyć", "depresja Tarnów",
                 "чоловік мене бʼє", "my husband hits me", "suicidal thoughts", "domestic violence"):
        assert detect(text).crisis, text
    for text in ("zasiłek", "dom opieki", "alkohol", "psycholog", "Tarnów", ""):
        assert not detect(text).crisis, text


def test_detect_keeps_order_of_appearance_and_phrases():
    match = detect("alkohol i przemoc w rodzinie Łódź")
    assert match.needs == ("uzaleznienia", "przemoc")
    assert match.phrases == ("alkohol", "przemoc w rodzinie")
    assert match.types[0] == "gkrpa" and "oik" in match.types
    assert len(set(match.types)) == len(match.types)


def test_detect_finds_nothing_in_places_names_and_addresses():
    for text in ("Tarnów", "Miejski Ośrodek w Bytoniu", "ul. Długa 5 Kraków", "", "   ", "🙂", "x" * 5000):
        match = detect(text)
        assert match == NeedMatch() and not match, text


def test_suggest_offers_the_nearest_need_phrases():
    assert suggest("alkohlo")[0] == Suggestion("alkohol", "uzaleznienia", NEEDS["uzaleznienia"],
                                               suggest("alkohlo")[0].matched, "pl", suggest("alkohlo")[0].score)
    assert suggest("bezdomy Kraków")[0].phrase == "bezdomny"
    assert suggest("niebieska kara")[0].phrase == "niebieska karta"
    top = suggest("алкоголъ")[0]                   # Ukrainian typo: suggested by its Polish phrase
    assert (top.phrase, top.need, top.lang) == ("alkohol", "uzaleznienia", "uk")
    assert suggest("xyz") == [] and suggest("") == []
    many = suggest("opieka", limit=3)
    assert 0 < len(many) <= 3 and len({s.phrase for s in many}) == len(many)
    assert all(s.label == NEEDS[s.need] for s in many)


def test_need_label_and_crisis_needs():
    assert needs.need_label("seniorzy") == "Seniorzy"
    assert needs.need_label("kryzys") == NEEDS["kryzys"]
    with pytest.raises(KeyError):
        needs.need_label("no-such-need")
    assert isinstance(needs.CRISIS_NEEDS, frozenset)
    assert needs.CRISIS_NEEDS == {"przemoc", "kryzys"}


def test_the_thesaurus_is_large_and_valid():
    phrases = needs.thesaurus().phrases
    by_lang = Counter(p.lang for p in phrases)
    assert by_lang["pl"] >= 150 and by_lang["uk"] >= 40 and by_lang["en"] >= 60
    counts = Counter(p.need for p in phrases if p.lang == "pl")
    assert set(counts) == set(NEEDS) and min(counts.values()) >= 10, counts
    for phrase in phrases:
        assert phrase.types and all(InstitutionType(code) in TYPES for code in phrase.types)
        assert len(set(phrase.types)) == len(phrase.types), phrase.text
        assert phrase.display_pl and "=" not in phrase.display_pl


def test_each_polish_phrase_means_its_own_entry():
    """A Polish phrase typed alone is found as itself (no shorter or other phrase shadows it)."""
    for phrase in needs.thesaurus().phrases:
        if phrase.lang == "pl":
            match = detect(phrase.text)
            assert match.phrases == (phrase.text,), (phrase.text, match)


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match="unknown need"):
        needs.parse({"entry": [{"need": "nope", "types": ["ops"], "pl": ["x"]}]})
    with pytest.raises(ValueError, match="unknown institution type"):
        needs.parse({"entry": [{"need": "praca", "types": ["nope"], "pl": ["praca"]}]})
    with pytest.raises(ValueError, match="repeats"):
        needs.parse({"entry": [{"need": "praca", "types": ["pup"], "pl": ["praca", "pracy"]}]})
    with pytest.raises(ValueError, match="no Polish phrase"):
        needs.parse({"entry": [{"need": "praca", "types": ["pup"], "en": ["job"]}]})
    with pytest.raises(ValueError, match="crisis_needs"):
        needs.parse({"crisis_needs": ["nope"], "entry": []})


def test_the_data_file_is_the_only_source():
    with needs.THESAURUS_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    assert len(needs.parse(data).phrases) == len(needs.thesaurus().phrases)
    assert frozenset(data["crisis_needs"]) == needs.CRISIS_NEEDS


@pytest.mark.parametrize("need", sorted(NEEDS))
def test_need_pages_agree_with_the_thesaurus(need):
    """`potrzeba=<key>` lists types_for_need(key); the thesaurus's first type of every entry of that family
    is among them (the page never leaves out what the need means), and every type the page lists is one
    the thesaurus knows for that family (a need query reaches the same kinds)."""
    page_types = set(types_for_need(need))
    assert page_types, need
    firsts = {p.types[0] for p in needs.thesaurus().phrases if p.need == need}
    assert firsts <= page_types, (need, firsts - page_types)
    assert page_types <= set(needs.family_types(need)), (need, page_types - set(needs.family_types(need)))


def test_no_ukrainian_or_english_prefix_meets_a_polish_word_of_another_need():
    """`drug*` would meet "drugi": a prefix must not catch a Polish word that alone means another need
    (inside a longer Polish phrase the longer phrase wins: "przemoc wobec seniora" stays violence)."""
    from index import analysis

    phrases = needs.thesaurus().phrases
    polish = {(p.folded, p.need) for p in phrases if p.lang == "pl" and len(p.tokens) == 1}
    assert all(analysis.fold(w) for w, _n in polish)
    for phrase in phrases:
        for token in phrase.tokens:
            if token.prefix is not None and phrase.lang != "pl":
                clash = {(w, n) for w, n in polish if w.startswith(token.prefix) and n != phrase.need}
                assert not clash, (phrase.text, clash)
