"""Search-only vocabulary: curated domain synonyms and type aliases derived from catalog.types.

A synonym maps a phrase (a sequence of folded lemmas) to type codes; the query then also matches any
institution of those types. Type knowledge itself (labels, abbreviations) stays in catalog.types.
"""
from __future__ import annotations

from functools import lru_cache

from catalog.types import NEEDS, TYPES, InstitutionType
from index.analysis import analyze, fold

T = InstitutionType

# Folded lemma phrase -> types it means. Small on purpose: each entry is a judgement about what a
# resident means, checked against the relevance set in tests/index.
PHRASE_SYNONYMS: tuple[tuple[tuple[str, ...], tuple[InstitutionType, ...]], ...] = (
    (("urzad", "praca"), (T.PUP,)),
    (("posredniak",), (T.PUP,)),
    (("bezrobotny",), (T.PUP,)),
    (("bezrobocie",), (T.PUP,)),
    (("pomoc", "spoleczny"), (T.OPS, T.CUS)),
    (("opieka", "spoleczny"), (T.OPS, T.CUS)),
    (("zasilek",), (T.OPS, T.CUS)),
    (("niepelnosprawny",), (T.WTZ, T.ZAZ, T.PCPR)),
    (("niepelnosprawnosc",), (T.WTZ, T.ZAZ, T.PCPR)),
    (("rodzina", "zastepczy"), (T.PCPR,)),
    (("piecza", "zastepczy"), (T.PCPR,)),
    (("ekonomia", "spoleczny"), (T.OWES, T.PS, T.SPOLDZIELNIA)),
    (("spoldzielnia", "socjalny"), (T.SPOLDZIELNIA, T.OWES)),
    (("dom", "opieka"), (T.DPS,)),
    (("przemoc",), (T.OIK,)),
    (("kryzys",), (T.OIK,)),
)


@lru_cache(maxsize=64)
def _type_terms(code: str) -> tuple[str, ...]:
    """Terms put in a document's `kind` field: code, abbreviations, the analysed Polish labels and the
    needs the type serves ("praca", "niepełnosprawność"), all from catalog.types."""
    try:
        info = TYPES[InstitutionType(code)]
    except ValueError:
        info = TYPES[T.OTHER]
    terms = [fold(info.code.value)]
    terms += [fold(abbr) for abbr in info.abbreviations]
    terms += analyze(info.label) + analyze(info.plural)
    for need in info.needs:
        terms += analyze(NEEDS.get(need, ""))
    return tuple(dict.fromkeys(terms))


def type_terms(code: str) -> list[str]:
    return list(_type_terms(code))


# Folded words that say "I need help" rather than what or where: they rank but do not filter, so
# "pomoc dla bezrobotnych w Łodzi" still finds the PUP, whose record never says "pomoc".
SOFT_WORDS = frozenset({
    "pomoc", "wsparcie", "instytucja", "gdzie", "jak", "szukam", "szukac", "potrzebuje", "potrzebny",
    "chce", "moge", "najblizszy", "blisko", "okolica", "miasto", "gmina",
})


def is_soft(alternatives: tuple[str, ...]) -> bool:
    return bool(SOFT_WORDS.intersection(alternatives))


@lru_cache(maxsize=1)
def type_alias_terms() -> frozenset[str]:
    """Every abbreviation and code that names a type (e.g. 'mops', 'sds'), folded."""
    out: set[str] = set()
    for info in TYPES.values():
        out.add(fold(info.code.value))
        out.update(fold(abbr) for abbr in info.abbreviations)
    return frozenset(out)


def synonym_types(phrase_alternatives: list[tuple[str, ...]]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Find synonym phrases in a query.

    phrase_alternatives: per query word, the terms it may match. Returns (start, end, type codes)
    for each non-overlapping phrase found, longest first."""
    found: list[tuple[int, int, tuple[str, ...]]] = []
    taken: set[int] = set()
    for phrase, types in sorted(PHRASE_SYNONYMS, key=lambda item: -len(item[0])):
        n = len(phrase)
        for start in range(len(phrase_alternatives) - n + 1):
            span = range(start, start + n)
            if taken.intersection(span):
                continue
            if all(phrase[i] in phrase_alternatives[start + i] for i in range(n)):
                found.append((start, start + n, tuple(t.value for t in types)))
                taken.update(span)
    return sorted(found)
