"""The needs thesaurus: everyday words (Polish, Ukrainian, English) -> need family -> ranked institution types.

The vocabulary is data, not code: data/needs/thesaurus.toml (its wording's sources in data/needs/SOURCE.md).
A phrase is analysed like a query (index.analysis: words, folding, morfeusz lemmas, stop words dropped) and
matches a run of consecutive query words, each meeting one of its words by folded form or lemma, or by
prefix for a word written with `*`. Longer phrases win over the shorter ones inside them.

Public API (used by the search planner, index/plan.py, and by the pages: crisis banners, zero-result
suggestions):

* `detect(text) -> NeedMatch`: the needs, ranked types, crisis flag and phrases found in a text;
* `suggest(text, limit) -> list[Suggestion]`: the nearest need phrases for a query that found nothing;
* `need_label(key)`, `CRISIS_NEEDS`, `family_types(key)`, `is_soft(alternatives)`, `find(alternatives)`,
  `typo_terms(folded)` (a misspelt one-word need phrase, for the planner's words found nowhere).
"""
from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from catalog.types import NEEDS, InstitutionType
from index import analysis

THESAURUS_FILE = Path(__file__).resolve().parent.parent / "data" / "needs" / "thesaurus.toml"
LANGUAGES = ("pl", "uk", "en")
MIN_PREFIX = 2
SUGGEST_MIN_SCORE = 72.0     # rapidfuzz ratio (0-100) on folded words: below it a phrase is not "near"
MAX_TEXT = 200


@dataclass(frozen=True)
class Token:
    """One word of a phrase: the terms that meet it exactly, or a folded prefix (word written with `*`)."""
    terms: frozenset[str]
    prefix: str | None = None
    surface_only: bool = False     # `word=`: only the query word's own folded form counts, not its lemmas

    def matches(self, alternatives: Sequence[str]) -> bool:
        if self.prefix is not None:
            return any(a.startswith(self.prefix) for a in alternatives)
        if self.surface_only:
            return bool(alternatives) and alternatives[0] in self.terms
        return not self.terms.isdisjoint(alternatives)


@dataclass(frozen=True)
class Phrase:
    text: str                      # as written in the data file (without `=` marks; `*` kept)
    lang: str
    tokens: tuple[Token, ...]
    folded: str                    # folded words, `*` dropped: what suggestions compare with
    need: str
    types: tuple[str, ...]         # ranked type codes
    crisis: bool
    display_pl: str                # the Polish phrase shown for it (itself when Polish)
    order: int                     # position in the file: ties between equal-length phrases


@dataclass(frozen=True)
class Span:
    start: int                     # query word positions [start, end)
    end: int
    phrase: Phrase


@dataclass(frozen=True)
class NeedMatch:
    needs: tuple[str, ...] = ()    # need family keys, in order of appearance
    types: tuple[str, ...] = ()    # ranked type codes (the first phrase's types first)
    crisis: bool = False           # a violence, suicide or acute-crisis phrase was found
    phrases: tuple[str, ...] = ()  # the thesaurus phrases found, as written in the data file

    def __bool__(self) -> bool:
        return bool(self.needs)


@dataclass(frozen=True)
class Suggestion:
    phrase: str                    # Polish display form: what to search for
    need: str                      # need family key
    label: str                     # the need family's Polish label (catalog.types.NEEDS)
    matched: str = ""              # the phrase that was near the query, in its own language
    lang: str = "pl"
    score: float = 0.0


@dataclass(frozen=True)
class Thesaurus:
    phrases: tuple[Phrase, ...]
    crisis_needs: frozenset[str]
    soft_words: frozenset[str]
    fold_map: dict[str, tuple[str, ...]]          # folded inflected form -> folded lemmas (phrase words)
    by_term: dict[str, tuple[Phrase, ...]]        # first token term -> phrases
    by_prefix: tuple[Phrase, ...]                 # phrases whose first token is a prefix


def _content_words(text: str) -> list[str]:
    return analysis.content_words(text)


def _tokens(text: str) -> tuple[Token, ...]:
    """A phrase's words as tokens: stop words dropped as in a query; `word*` a prefix, `word=` exact
    (its folded form only, no lemmas: "długi=" is debts, not the adjective of "ul. Długa")."""
    marked: list[tuple[str, str]] = []
    for chunk in text.split():
        found = analysis.words(chunk)
        mark = chunk[-1] if chunk[-1] in "*=" else ""
        marked += [(word, mark if i == len(found) - 1 else "") for i, word in enumerate(found)]
    kept = [m for m in marked if analysis.fold(m[0]) not in analysis.STOPWORDS] or marked
    out: list[Token] = []
    for word, mark in kept:
        if mark == "*":
            out.append(Token(frozenset(), analysis.fold(word)))
        elif mark == "=":
            out.append(Token(frozenset({analysis.fold(word)}), surface_only=True))
        else:
            out.append(Token(frozenset(analysis.word_terms(word))))
    return tuple(out)


def _display(text: str) -> str:
    return text.replace("=", "")


def _valid_type(code: str, where: str) -> str:
    try:
        return InstitutionType(code).value
    except ValueError:
        raise ValueError(f"{where}: unknown institution type {code!r}") from None


def parse(data: dict) -> Thesaurus:
    """Build the thesaurus from the parsed TOML document (validated: unknown needs or types fail)."""
    crisis_needs = frozenset(data.get("crisis_needs", ()))
    if not crisis_needs <= set(NEEDS):
        raise ValueError(f"crisis_needs: unknown need keys {sorted(crisis_needs - set(NEEDS))}")
    soft = frozenset(analysis.fold(w) for w in data.get("soft", {}).get("words", ()))
    phrases: list[Phrase] = []
    seen: dict[tuple[str, str, tuple[Token, ...]], str] = {}
    for n, entry in enumerate(data.get("entry", ())):
        where = f"entry {n + 1}"
        need = entry.get("need")
        if need not in NEEDS:
            raise ValueError(f"{where}: unknown need {need!r} (add it to catalog.types.NEEDS first)")
        types = tuple(_valid_type(code, where) for code in entry.get("types", ()))
        if not types:
            raise ValueError(f"{where}: no types")
        unknown = set(entry) - {"need", "types", "crisis", *LANGUAGES}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        crisis = bool(entry.get("crisis", need in crisis_needs))
        polish = entry.get("pl") or ()
        if not polish:
            raise ValueError(f"{where}: no Polish phrase")
        for lang in LANGUAGES:
            for text in entry.get(lang, ()):
                tokens = _tokens(text)
                if not tokens:
                    raise ValueError(f"{where}: phrase {text!r} has no words")
                if any(t.prefix is not None and len(t.prefix) < MIN_PREFIX for t in tokens):
                    raise ValueError(f"{where}: prefix too short in {text!r}")
                folded = " ".join(analysis.fold(w) for w in analysis.content_words(text))
                key = (lang, folded, tokens)
                if key in seen:
                    raise ValueError(f"{where}: phrase {text!r} repeats {seen[key]!r}")
                seen[key] = text
                phrases.append(Phrase(_display(text), lang, tokens, folded, need, types, crisis,
                                      _display(text if lang == "pl" else polish[0]), len(phrases)))
    polish_words = [w for p in phrases if p.lang == "pl" for w in analysis.content_words(p.text)]
    fold_map = {k: tuple(sorted(v)) for k, v in analysis.fold_map_entries(polish_words).items()}
    by_term: dict[str, list[Phrase]] = {}
    by_prefix: list[Phrase] = []
    for phrase in phrases:
        first = phrase.tokens[0]
        if first.prefix is not None:
            by_prefix.append(phrase)
        for term in first.terms:
            by_term.setdefault(term, []).append(phrase)
    built = Thesaurus(tuple(phrases), crisis_needs, soft, fold_map,
                      {k: tuple(v) for k, v in by_term.items()}, tuple(by_prefix))
    shadowed: list[str] = []
    for phrase in phrases:   # a phrase that an earlier one always takes is never used: refuse it
        if any(t.prefix is not None for t in phrase.tokens):
            continue
        spans = _find(built, [analysis.query_alternatives(w) for w in analysis.content_words(phrase.text)])
        if len(spans) == 1 and spans[0].phrase is not phrase and spans[0].end - spans[0].start == len(phrase.tokens):
            shadowed.append(f"{phrase.text!r} ({phrase.lang}) repeats {spans[0].phrase.text!r}")
    if shadowed:
        raise ValueError("phrases that an earlier phrase always takes: " + "; ".join(shadowed))
    return built


@lru_cache(maxsize=1)
def thesaurus() -> Thesaurus:
    with THESAURUS_FILE.open("rb") as handle:
        return parse(tomllib.load(handle))


def _crisis_needs() -> frozenset[str]:
    # Read at import without building the phrases (that needs morfeusz); parse() validates the keys.
    with THESAURUS_FILE.open("rb") as handle:
        return frozenset(tomllib.load(handle).get("crisis_needs", ()))


# Need families whose queries and pages show the crisis helplines first (violence, acute crisis).
CRISIS_NEEDS: frozenset[str] = _crisis_needs()


def need_label(key: str) -> str:
    """The need family's Polish label (catalog.types.NEEDS); KeyError for an unknown key."""
    return NEEDS[key]


def family_types(key: str) -> tuple[str, ...]:
    """Every type the thesaurus names for a need family, best rank first (first appearance)."""
    ranked: dict[str, tuple[int, int]] = {}
    for phrase in thesaurus().phrases:
        if phrase.need == key:
            for rank, code in enumerate(phrase.types):
                ranked[code] = min(ranked.get(code, (rank, phrase.order)), (rank, phrase.order))
    return tuple(sorted(ranked, key=ranked.__getitem__))


def is_soft(alternatives: Sequence[str]) -> bool:
    """A word that says "I need help" (or for whom, or where) rather than what: it ranks, never filters."""
    return not thesaurus().soft_words.isdisjoint(alternatives)


def _with_fold_map(alternatives: Sequence[str], fold_map: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    extra = fold_map.get(alternatives[0], ()) if alternatives else ()
    return tuple(dict.fromkeys((*alternatives, *extra)))


def find(alternatives: Sequence[Sequence[str]]) -> list[Span]:
    """Need phrases in a query: per query word, the terms it may match (index.analysis.query_alternatives).

    Returns non-overlapping spans in query order; longer phrases are taken first, then earlier ones."""
    return _find(thesaurus(), alternatives)


def _find(th: Thesaurus, alternatives: Sequence[Sequence[str]]) -> list[Span]:
    alts = [_with_fold_map(a, th.fold_map) for a in alternatives]
    candidates: list[Span] = []
    for start, word_alts in enumerate(alts):
        pool = {id(p): p for term in word_alts for p in th.by_term.get(term, ())}
        pool.update({id(p): p for p in th.by_prefix if p.tokens[0].matches(word_alts)})
        for phrase in pool.values():
            end = start + len(phrase.tokens)
            if end <= len(alts) and all(tok.matches(alts[start + i]) for i, tok in enumerate(phrase.tokens)):
                candidates.append(Span(start, end, phrase))
    candidates.sort(key=lambda s: (s.start - s.end, s.start, s.phrase.order))
    taken: set[int] = set()
    found: list[Span] = []
    for span in candidates:
        positions = set(range(span.start, span.end))
        if taken.isdisjoint(positions):
            taken |= positions
            found.append(span)
    return sorted(found, key=lambda s: s.start)


TYPO_MIN_SCORE = 85.0        # rapidfuzz ratio for a word found nowhere to count as a one-word need phrase
TYPO_MIN_LENGTH = 5


@lru_cache(maxsize=1)
def _single_words() -> tuple[tuple[str, ...], tuple[Phrase, ...]]:
    singles = tuple(p for p in thesaurus().phrases
                    if p.lang == "pl" and len(p.tokens) == 1 and p.tokens[0].prefix is None
                    and not p.tokens[0].surface_only and len(p.folded) >= TYPO_MIN_LENGTH)
    return tuple(p.folded for p in singles), singles


@lru_cache(maxsize=4096)
def typo_terms(folded: str) -> tuple[str, ...]:
    """The terms of the one-word Polish need phrase nearest to a misspelt folded word ("alkohl" ->
    the terms of "alkohol"); () when none is near enough. Used by the planner for words found nowhere."""
    if len(folded) < TYPO_MIN_LENGTH:
        return ()
    choices, singles = _single_words()
    best = process.extractOne(folded, choices, scorer=fuzz.ratio, score_cutoff=TYPO_MIN_SCORE)
    if best is None:
        return ()
    return tuple(sorted(singles[best[2]].tokens[0].terms))


def detect(text: str) -> NeedMatch:
    """The needs a text speaks of: family keys in order of appearance, ranked types, crisis, phrases."""
    spans = find([analysis.query_alternatives(w) for w in _content_words((text or "")[:MAX_TEXT])])
    if not spans:
        return NeedMatch()
    needs = tuple(dict.fromkeys(s.phrase.need for s in spans))
    types = tuple(dict.fromkeys(code for s in spans for code in s.phrase.types))
    return NeedMatch(needs, types, any(s.phrase.crisis for s in spans), tuple(s.phrase.text for s in spans))


def _folded_query_words(text: str) -> list[str]:
    return [analysis.fold(w) for w in _content_words((text or "")[:MAX_TEXT])]


def _score(phrase: Phrase, words: list[str]) -> float:
    n = len(phrase.tokens)
    if not words:
        return 0.0
    best = 0.0
    for start in range(max(1, len(words) - n + 1)):
        gram = words[start:start + n]
        # A prefix word compares with as much of the query word as the prefix is long (plus slack).
        cut = [w[:len(t.prefix) + 2] if t.prefix is not None else w for t, w in zip(phrase.tokens, gram, strict=False)]
        best = max(best, fuzz.ratio(phrase.folded, " ".join(cut)))
    return best


def suggest(text: str, limit: int = 5) -> list[Suggestion]:
    """The need phrases nearest to a query (fuzzy on folded words), best first, one per Polish phrase.

    For a query that found nothing: "alkohlo" -> "alkohol", "bezdomy" -> "bezdomny". A Ukrainian or
    English phrase is suggested by its entry's first Polish phrase (`matched` keeps what was near)."""
    words = _folded_query_words(text)
    if not words or limit <= 0:
        return []
    scored: list[tuple[float, int, Phrase]] = []
    for phrase in thesaurus().phrases:
        score = _score(phrase, words)
        if score >= SUGGEST_MIN_SCORE:
            scored.append((score, phrase.lang != "pl", phrase))
    scored.sort(key=lambda item: (-item[0], item[1], -len(item[2].tokens), item[2].order))
    out: list[Suggestion] = []
    shown: set[str] = set()
    for score, _not_pl, phrase in scored:
        if phrase.display_pl in shown:
            continue
        shown.add(phrase.display_pl)
        out.append(Suggestion(phrase.display_pl, phrase.need, need_label(phrase.need), phrase.text, phrase.lang,
                              round(score, 1)))
        if len(out) >= limit:
            break
    return out
