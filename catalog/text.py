"""Text folding: the one implementation of "the same Polish text typed with or without diacritics".

Three strengths, each a step on the previous one, so every caller folds letters the same way:

* `strip_diacritics`: lower case, no diacritics, nothing else changed (search analysis, type labels);
* `fold_spaces`: also single spaces, punctuation kept ("m. st. Warszawa": the dots tell a city powiat);
* `fold`: also punctuation as spaces — a pure lookup key for place names and addresses.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^\w]+")
# The Polish letters NFKD does not decompose (ł) or that are common enough for a fast path.
_POLISH = str.maketrans("ąćęłńóśźż", "acelnoszz")


def strip_diacritics(text: str | None) -> str:
    """'Łódź Bałuty' -> 'lodz baluty' (lower case; spacing and punctuation untouched)."""
    if not text:
        return ""
    text = text.lower().translate(_POLISH)   # the common case, without Unicode decomposition
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold_spaces(text: str | None) -> str:
    """'Miasto  Łódź' -> 'miasto lodz', 'm. st. Warszawa' -> 'm. st. warszawa'."""
    return " ".join(strip_diacritics(text).split())


@lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """'Zabłudów' -> 'zabludow', 'Kędzierzyn-Koźle' -> 'kedzierzyn kozle'; used only as a lookup key."""
    return " ".join(_NON_WORD.sub(" ", strip_diacritics(text)).replace("_", " ").split())
