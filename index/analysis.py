"""Polish text analysis shared by every search backend: text in, index terms out.

Terms are folded (lower case, no diacritics, "ł" -> "l"), so "lodz" meets "Łódź". Each word is indexed
as its folded surface form plus the folded form of every candidate lemma morfeusz2 gives (keeping all
candidates was measured best: no false merges on the domain vocabulary, GUIDE §8). A query typed
without Polish letters ("osrodki") is unknown to morfeusz, so a fold map built from the indexed
vocabulary (folded inflected form -> folded lemma) brings it to the right lemma ("osrodek").
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from functools import lru_cache

import morfeusz2

from catalog.text import strip_diacritics

# Words that carry no meaning for search; only dropped from queries (documents keep them harmlessly).
STOPWORDS = frozenset({
    "w", "we", "z", "ze", "i", "oraz", "na", "do", "dla", "o", "od", "po", "przy", "u", "a", "im",
    "ul", "al", "pl", "os", "nr",
    # Ukrainian and English function words (queries in those languages; folded as fold() leaves them).
    "в", "у", "на", "для", "з", "із", "до", "і", "и", "та", "я", "мені", "мене", "мій", "моя",
    "the", "in", "for", "of", "my", "me", "s", "near", "at", "to", "with",
})

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

# One analyser per process, not per thread: each holds the whole dictionary (~44 MB; 8 threads of one
# web worker held ~150 MB). The C++ object is not documented as thread-safe, so every call into it
# holds this lock (lemmas and generated forms are cached above it, so the lock is rarely contended).
_analyser: morfeusz2.Morfeusz | None = None
_analyser_lock = threading.Lock()


def _fresh_lock_after_fork() -> None:
    global _analyser_lock
    _analyser_lock = threading.Lock()   # a lock held by another thread at fork() time would never open


os.register_at_fork(after_in_child=_fresh_lock_after_fork)


# Index terms fold exactly as the rest of the project does ('Łódź' -> 'lodz'): catalog.text is the one folding.
fold = strip_diacritics


def words(text: str | None) -> list[str]:
    """Word tokens (letters and digits) in their original spelling. Works for Cyrillic too; the
    Ukrainian apostrophe (U+02BC, a letter to Unicode) splits words like ' and ’ do ("сімʼя")."""
    return _WORD_RE.findall((text or "").replace("\u02bc", "'"))


def content_words(text: str | None) -> list[str]:
    """Word tokens without stop words (all of them when there is nothing else)."""
    found = words(text)
    return [w for w in found if fold(w) not in STOPWORDS] or found


def _morfeusz() -> morfeusz2.Morfeusz:
    """The process's one morfeusz2 analyser (created on first use); calls into it hold `_analyser_lock`
    (`_analyse`, `_generate`)."""
    global _analyser
    if _analyser is None:
        _analyser = morfeusz2.Morfeusz(expand_tags=False)
    return _analyser


def _analyse(word: str) -> list:
    with _analyser_lock:
        return _morfeusz().analyse(word)


def _generate(lemma: str) -> list:
    with _analyser_lock:
        return _morfeusz().generate(lemma)


def _clean_lemma(lemma: str) -> str:
    # morfeusz marks homonyms as "lemma:Sm1"; the suffix is not part of the word.
    return lemma.split(":", 1)[0]


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> tuple[str, ...]:
    """All candidate lemmas of one word (original spelling, no homonym tags); () when unknown."""
    if not word or word.isdigit():
        return ()
    out: list[str] = []
    for start, _end, (_form, lemma, tag, *_rest) in _analyse(word):
        if start != 0 or tag == "ign":   # later segments are agglutinates ("-em", "-ś"), not the word
            continue
        lemma = _clean_lemma(lemma)
        if lemma and lemma not in out:
            out.append(lemma)
    return tuple(out)


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> tuple[str, ...]:
    """Index terms for one word: folded surface form first, then folded lemmas (deduplicated)."""
    out = [fold(word)]
    for lemma in lemmas(word):
        term = fold(lemma)
        if term and term not in out:
            out.append(term)
    return tuple(out)


def analyze(text: str | None) -> list[str]:
    """Index terms of a text, in order (several terms per word where lemmas differ)."""
    return [term for word in words(text) for term in word_terms(word)]


def acronym(name: str | None) -> str | None:
    """'Miejski Ośrodek Pomocy Społecznej w Zabłudowie' -> 'mops': the abbreviation people type.

    Initials are taken from the capitalised words before the first lower-case word (usually the
    preposition that starts the place part), so the place itself does not enter the acronym."""
    initials = []
    for word in words(name):
        if not word[0].isupper():
            break
        if word.isupper() and len(word) > 1:   # an abbreviation already in the name ("MOPS Kraków")
            return None if initials else fold(word)
        initials.append(word[0])
    return fold("".join(initials)) if len(initials) >= 2 else None


@lru_cache(maxsize=100_000)
def _generated_forms(lemma: str) -> tuple[str, ...]:
    try:
        return tuple({form for form, *_rest in _generate(lemma)})
    except RuntimeError:   # morfeusz raises for lemmas it cannot generate from
        return ()


def fold_map_entries(words_seen: Iterable[str]) -> dict[str, set[str]]:
    """Fold map entries for a vocabulary: folded inflected form -> folded lemmas.

    Only forms that lose letters by folding are kept: a form without Polish letters is recognised
    by morfeusz at query time anyway."""
    out: dict[str, set[str]] = {}
    for lemma in {lemma for word in words_seen for lemma in lemmas(word)}:
        folded_lemma = fold(lemma)
        for form in _generated_forms(lemma):
            lowered = form.lower()
            folded = fold(form)
            if folded != lowered and folded != folded_lemma:
                out.setdefault(folded, set()).add(folded_lemma)
    return out


def query_alternatives(word: str, fold_map: dict[str, list[str]] | None = None) -> tuple[str, ...]:
    """Terms one query word may match: its folded form, its lemmas, and fold-map lemmas."""
    out = list(word_terms(word))
    for term in (fold_map or {}).get(out[0], ()):
        if term not in out:
            out.append(term)
    return tuple(out)
