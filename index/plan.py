"""Query text -> query tree. The ranking policy lives here, shared by every backend:

* each query word becomes a group matching any of its terms (folded form, lemmas, fold-map lemmas)
  in any text field, weighted by field; all groups must match (AND);
* need phrases of the thesaurus (index/needs.py: "urząd pracy", "dom opieki", "mąż mnie bije") may be
  satisfied by the institution types they name instead, and those types rank in the thesaurus's order:
  the first type's boost beats the first-contact priors, so where a town has an OPS, a PCPR, a DPS and a
  PUP, the need decides which comes first;
* the last word, while still being typed (no trailing space) and not yet a known word, matches as
  a prefix;
* only a word found nowhere in the index is expanded to similar words (typo tolerance as a
  fallback), so fuzzy matches never push exact ones down; such a word near a one-word need phrase
  ("alkohl", "bezdomy") also counts as that phrase;
* generic words ("pomoc", "gdzie") only add to the score, they do not filter;
* when AND finds nothing, a relaxed OR query ranks documents by how many words they match.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from catalog.types import TYPES
from index import analysis
from index.documents import TEXT_FIELDS
from index.needs import find as find_needs
from index.needs import is_soft
from index.needs import typo_terms as need_typo_terms
from index.query import AllOf, AnyOf, Const, Fuzzy, MatchAll, Node, Prefix, SomeOf, Term, WithOptional

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
MIN_PREFIX = 2
PREFIX_FIELDS = ("name", "place")
FUZZY_FIELDS = ("name", "place", "other")
SYNONYM_SCORE = 2.0           # a need phrase's type match counts like a good single-word match, no more
# Added to matches of the types a need phrase names, by their rank there (later ranks get the last score).
# The need decides the order of kinds; text decides within a kind. So each step must beat the second
# plus the largest TYPE_PRIORS difference, and also how much better one institution's text may match
# than another's (the town in its name or only in its address): whoosh's BM25F scores are several
# times tantivy's, and this margin must hold on both (measured on the judged set, bench/relevance.py).
NEED_RANK_SCORES = (40.0, 20.0, 12.0, 8.0, 5.0, 3.0)
# Added to every match of these types: the first-contact offices of a place come first among
# otherwise similar matches (GUIDE §1: "the competent office first").
TYPE_PRIORS: tuple[tuple[tuple[str, ...], float], ...] = tuple(
    (tuple(code.value for code, ti in TYPES.items() if ti.search_boost == boost), boost)
    for boost in sorted({ti.search_boost for ti in TYPES.values() if ti.search_boost > 0}, reverse=True)
)


class Vocabulary(Protocol):
    def doc_freq(self, field: str, term: str) -> int: ...
    def prefix_exists(self, field: str, prefix: str) -> bool: ...


@dataclass
class Plan:
    node: Node
    relaxed: Node | None      # OR fallback when the strict query finds nothing
    fuzzy: bool               # a typo expansion was used
    empty: bool               # no searchable words: browse everything


def clean_words(text: str) -> tuple[list[str], bool]:
    """Searchable words of a query (capped) and whether the last one is still being typed."""
    text = (text or "")[:MAX_QUERY_CHARS]
    typing = bool(text) and not text[-1].isspace()
    found = analysis.words(text)[:MAX_WORDS]
    meaningful = [w for w in found if analysis.fold(w) not in analysis.STOPWORDS]
    if meaningful and found and meaningful[-1] is not found[-1]:
        typing = False      # the word being typed is a stop word: no prefix expansion
    return (meaningful or found), typing


def _fuzzy_distance(term: str) -> int:
    return 0 if len(term) < 4 else 1 if len(term) < 8 else 2


def _word_group(word: str, alternatives: tuple[str, ...], prefix: bool, vocab: Vocabulary) -> tuple[Node, bool]:
    clauses: list[Node] = [Term(f, t, w) for f, w in TEXT_FIELDS.items() for t in alternatives]
    known = any(vocab.doc_freq(f, t) > 0 for f in TEXT_FIELDS for t in alternatives)
    folded = alternatives[0]
    # A complete word needs no completion ("kraków" must not also mean "krakowski").
    if prefix and not known and len(folded) >= MIN_PREFIX:
        clauses += [Prefix(f, folded, TEXT_FIELDS[f] * 0.5) for f in PREFIX_FIELDS]
        known = any(vocab.prefix_exists(f, folded) for f in PREFIX_FIELDS)
    used_fuzzy = False
    distance = _fuzzy_distance(folded)
    if not known and distance and not folded.isdigit():
        clauses += [Fuzzy(f, folded, distance, TEXT_FIELDS[f] * 0.5) for f in FUZZY_FIELDS]
        used_fuzzy = True
    return AnyOf(tuple(clauses)), used_fuzzy


def build_plan(text: str, vocab: Vocabulary, fold_map: dict[str, list[str]]) -> Plan:
    found, typing = clean_words(text)
    if not found:
        return Plan(MatchAll(), None, False, True)
    alternatives = [analysis.query_alternatives(w, fold_map) for w in found]
    groups: list[Node] = []
    used_fuzzy = False
    for i, word in enumerate(found):
        group, fuzzy = _word_group(word, alternatives[i], typing and i == len(found) - 1, vocab)
        groups.append(group)
        used_fuzzy = used_fuzzy or fuzzy
        if fuzzy:   # a word found nowhere may be a misspelt need word ("alkohl"): it means that need too
            alternatives[i] = alternatives[i] + need_typo_terms(alternatives[i][0])
    soft = [is_soft(a) for a in alternatives]
    groups, soft, need_boosts = _apply_needs(groups, alternatives, soft)
    relaxed = SomeOf(tuple(groups)) if len(groups) > 1 else None
    required = [g for g, s in zip(groups, soft, strict=False) if not s]
    optional = tuple(g for g, s in zip(groups, soft, strict=False) if s)
    if not required:                      # only generic words: they are all there is to match
        required, optional = list(optional), ()
    node = required[0] if len(required) == 1 else AllOf(tuple(required))
    priors = tuple(Const(AnyOf(tuple(Term("type", t) for t in types)), score) for types, score in TYPE_PRIORS)
    node = WithOptional(node, optional + need_boosts + priors)
    # Not in the relaxed query: there a type boost would outrank the institutions that match the place.
    relaxed = WithOptional(relaxed, priors) if relaxed is not None else None
    return Plan(node, relaxed, used_fuzzy, False)


def need_rank_score(rank: int) -> float:
    return NEED_RANK_SCORES[min(rank, len(NEED_RANK_SCORES) - 1)]


def _apply_needs(
    groups: list[Node], alternatives: list[tuple[str, ...]], soft: list[bool],
) -> tuple[list[Node], list[bool], tuple[Node, ...]]:
    """Replace each need phrase's word groups by one group (a phrase is never a soft word) that its words
    or its types satisfy; returns the groups, their softness and the rank boosts of the named types."""
    out: list[Node] = []
    out_soft: list[bool] = []
    boosts: list[Node] = []
    position = 0
    for span in find_needs(alternatives):
        start, end, types = span.start, span.end, span.phrase.types
        out += groups[position:start]
        out_soft += soft[position:start]
        words_part = groups[start] if end - start == 1 else AllOf(tuple(groups[start:end]))
        # Matched by its words or by a type, the phrase scores the same: the rank boosts below decide, so
        # a name that happens to say the need ("Punkt … dla Osób Doznających Przemocy") does not outrank
        # the kind the need means (an OIK for "przemoc"); the words still find what the types do not.
        words_part = Const(words_part, SYNONYM_SCORE)
        by_type = tuple(Const(Term("type", code), SYNONYM_SCORE) for code in types)
        out.append(AnyOf((words_part, *by_type)))
        out_soft.append(False)
        boosts += [Const(Term("type", code), need_rank_score(rank)) for rank, code in enumerate(types)]
        position = end
    return out + groups[position:], out_soft + soft[position:], tuple(boosts)
