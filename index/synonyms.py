"""Search terms derived from catalog.types: the terms of a type's `kind` field and the type aliases.

What residents' words mean (need phrases -> types, soft words) is the needs thesaurus, index/needs.py
with data/needs/thesaurus.toml; type knowledge itself (labels, abbreviations) stays in catalog.types.
"""
from __future__ import annotations

from functools import lru_cache

from catalog.types import NEEDS, TYPES, InstitutionType
from index.analysis import analyze, fold

T = InstitutionType


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


@lru_cache(maxsize=1)
def type_alias_terms() -> frozenset[str]:
    """Every abbreviation and code that names a type (e.g. 'mops', 'sds'), folded."""
    out: set[str] = set()
    for info in TYPES.values():
        out.add(fold(info.code.value))
        out.update(fold(abbr) for abbr in info.abbreviations)
    return frozenset(out)
