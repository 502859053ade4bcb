"""Query planning against a real index vocabulary: when fuzzy, prefix, synonyms and soft words apply."""
from __future__ import annotations

import pytest

from index import api
from index.plan import MAX_WORDS, NEED_RANK_SCORES, TYPE_PRIORS, build_plan, clean_words
from index.query import AllOf, AnyOf, Const, Fuzzy, MatchAll, Prefix, Term, WithOptional


def walk(node):
    yield node
    for child in getattr(node, "clauses", ()) + getattr(node, "optional", ()):
        yield from walk(child)
    for attr in ("required", "inner"):
        if hasattr(node, attr):
            yield from walk(getattr(node, attr))


@pytest.fixture
def engine(built):
    settings, _ids = built
    return api._engine(settings)


def plan(engine, text):
    return build_plan(text, engine.reader, engine.fold_map)


def test_clean_words_drops_stopwords_and_caps():
    assert clean_words("ośrodek w Bytoniu ") == (["ośrodek", "Bytoniu"], False)
    assert clean_words("mops zab") == (["mops", "zab"], True)
    assert clean_words("w") == (["w"], True)                  # only stop words: keep them
    assert clean_words("mops w") == (["mops"], False)          # typing a stop word: no prefix
    assert len(clean_words("słowo " * 50)[0]) == MAX_WORDS


def test_empty_query_browses(engine):
    for text in ("", "   ", "***", "🙂"):
        result = plan(engine, text)
        assert result.empty and isinstance(result.node, MatchAll)


def test_known_words_get_neither_fuzzy_nor_prefix(engine):
    nodes = list(walk(plan(engine, "gops bytoń").node))
    assert not any(isinstance(n, (Fuzzy, Prefix)) for n in nodes)
    assert not plan(engine, "gops bytoń").fuzzy


def test_unknown_word_is_expanded_fuzzily(engine):
    result = plan(engine, "zabłodów ")
    assert result.fuzzy
    assert {n.text for n in walk(result.node) if isinstance(n, Fuzzy)} == {"zablodow"}


def test_unfinished_last_word_becomes_a_prefix(engine):
    nodes = list(walk(plan(engine, "mops zabł").node))
    assert {n.text for n in nodes if isinstance(n, Prefix)} == {"zabl"}
    assert not any(isinstance(n, Fuzzy) for n in nodes)     # the prefix exists: no typo expansion


def test_synonym_phrase_may_match_the_type(engine):
    node = plan(engine, "urząd pracy tarnów").node
    assert isinstance(node, WithOptional) and isinstance(node.required, AllOf)
    synonym_group = node.required.clauses[0]
    assert isinstance(synonym_group, AnyOf)
    assert Const(Term("type", "pup"), 2.0) in synonym_group.clauses
    assert len(node.required.clauses) == 2                  # "urząd pracy" is one group, "tarnów" another


def test_soft_words_are_optional(engine):
    node = plan(engine, "pomoc bezdomni kraków").node
    assert isinstance(node, WithOptional) and len(node.required.clauses) == 2
    texts = {n.text for n in walk(node.optional[0]) if isinstance(n, Term)}
    assert "pomoc" in texts


def test_need_phrase_boosts_its_types_in_rank_order(engine):
    node = plan(engine, "dom opieki dla mamy kraków").node
    boosts = [c for c in node.optional if isinstance(c, Const) and isinstance(c.inner, Term)]
    assert boosts[0] == Const(Term("type", "dps"), NEED_RANK_SCORES[0])
    assert [b.score for b in boosts] == sorted((b.score for b in boosts), reverse=True)
    # the first type beats the second plus the largest first-contact prior difference
    assert NEED_RANK_SCORES[0] > NEED_RANK_SCORES[1] + max(score for _types, score in TYPE_PRIORS)
    assert len(node.required.clauses) == 2             # "dom opieki" and "kraków"; "mamy" only ranks


def test_a_ukrainian_need_phrase_is_planned_like_a_polish_one(engine):
    node = plan(engine, "алкоголь Kraków").node
    boosts = [c for c in node.optional if isinstance(c, Const) and isinstance(c.inner, Term)]
    assert boosts and boosts[0].inner == Term("type", "gkrpa")


def test_a_misspelt_need_word_found_nowhere_still_means_its_need(engine):
    result = plan(engine, "alkohl kraków")
    boosts = [c for c in result.node.optional if isinstance(c, Const) and isinstance(c.inner, Term)]
    assert result.fuzzy and boosts and boosts[0].inner == Term("type", "gkrpa")
    known = plan(engine, "krakuw mops")                    # a misspelt place is no need word
    assert not [c for c in known.node.optional if isinstance(c, Const) and isinstance(c.inner, Term)]
