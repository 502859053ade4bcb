from __future__ import annotations

import pytest

from index import analysis, needs, synonyms


@pytest.mark.parametrize("text, folded", [
    ("Łódź", "lodz"), ("ZABŁUDÓW", "zabludow"), ("Bytoń", "byton"), ("Środowiskowy", "srodowiskowy"),
    ("żółć", "zolc"), ("Ęą", "ea"),
])
def test_fold_removes_case_and_diacritics(text, folded):
    assert analysis.fold(text) == folded


@pytest.mark.parametrize("form, lemma", [
    ("Krakowie", "krakow"), ("bezrobotnych", "bezrobotny"), ("ośrodki", "osrodek"),
    ("Bytoniu", "byton"), ("Zabłudowie", "zabludow"), ("Społecznej", "spoleczny"),
])
def test_inflected_forms_meet_their_lemma(form, lemma):
    assert lemma in analysis.word_terms(form)


def test_all_candidate_lemmas_are_kept():
    terms = analysis.word_terms("Krakowie")
    assert terms[0] == "krakowie"            # surface form first
    assert {"krakow", "krak"} <= set(terms)  # ambiguous: both candidates are indexed


def test_analyze_splits_words_and_ignores_punctuation():
    assert analysis.words("ul. Rynek 8, 16-060") == ["ul", "Rynek", "8", "16", "060"]
    terms = analysis.analyze("ul. Rynek 8, 16-060")
    assert terms[:2] == ["ul", "rynek"] and terms[-3:] == ["8", "16", "060"]
    assert analysis.analyze("") == [] and analysis.analyze(None) == []


def test_fold_map_brings_unaccented_query_to_lemma():
    entries = analysis.fold_map_entries(["Ośrodek", "Społecznej", "Łodzi"])
    assert "osrodek" in entries["osrodki"]            # typed without "ś", unknown to morfeusz
    assert "spoleczny" in entries["spolecznej"]
    assert "lodz" in entries["lodzi"]
    assert "osrodek" not in entries                    # the lemma itself needs no entry
    fold_map = {k: sorted(v) for k, v in entries.items()}
    assert "osrodek" in analysis.query_alternatives("osrodki", fold_map)
    assert analysis.query_alternatives("osrodki", {}) == ("osrodki",)


@pytest.mark.parametrize("name, expected", [
    ("Miejski Ośrodek Pomocy Społecznej w Zabłudowie", "mops"),
    ("Gminny Ośrodek Pomocy Społecznej w Bytoniu", "gops"),
    ("Miejsko-Gminny Ośrodek Pomocy Społecznej w Supraślu", "mgops"),
    ("Powiatowe Centrum Pomocy Rodzinie w Radziejowie", "pcpr"),
    ("MOPS Kraków", "mops"),
    ("Caritas", None),
])
def test_acronym_of_institution_name(name, expected):
    assert analysis.acronym(name) == expected


def test_type_terms_come_from_catalog_types():
    terms = synonyms.type_terms("ops")
    assert {"ops", "mops", "gops", "mgops", "osrodek", "pomoc", "spoleczny"} <= set(terms)
    assert "sds" in synonyms.type_terms("sds") and "sds" in synonyms.type_alias_terms()
    assert synonyms.type_terms("no-such-type") == synonyms.type_terms("other")


def test_need_phrases_are_found_in_query_alternatives():
    spans = needs.find([analysis.query_alternatives(w) for w in ["urzędy", "pracy", "Tarnów"]])
    assert [(s.start, s.end, s.phrase.types[0]) for s in spans] == [(0, 2, "pup")]
    spans = needs.find([analysis.query_alternatives("niepełnosprawni")])
    assert [(s.start, s.end, s.phrase.need) for s in spans] == [(0, 1, "niepelnosprawnosc")]
    assert needs.find([analysis.query_alternatives("Tarnów")]) == []


def test_words_split_cyrillic_and_its_apostrophes():
    assert analysis.words("сімʼя в Кракові") == ["сім", "я", "в", "Кракові"]
    assert analysis.words("сім'я") == analysis.words("сім’я") == ["сім", "я"]
    assert analysis.fold("Їжа") == analysis.fold("їжа")
    assert analysis.content_words("допомога в Кракові") == ["допомога", "Кракові"]
    assert analysis.content_words("w") == ["w"]           # only stop words: keep them
