"""Text folding for matching Polish place names typed with or without diacritics."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """'Zabłudów' -> 'zabludow', 'Kędzierzyn-Koźle' -> 'kedzierzyn kozle'; used only as a lookup key."""
    if not text:
        return ""
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(_NON_WORD.sub(" ", plain).replace("_", " ").split())
