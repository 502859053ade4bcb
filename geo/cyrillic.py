"""Polish place names typed in Cyrillic ("Краків", "Жешув", "Новий Сонч") -> the Polish spellings they may stand for.

Ukrainian speakers (issue 12) often write a Polish town as they know it in Ukrainian. Two ways back:
* the curated exonyms in `data/gazetteer/exonyms-uk.csv` (names whose Ukrainian form is not a letter-by-letter
  rendering: "Білосток" -> "Białystok", "Перемишль" -> "Przemyśl");
* a transliteration that yields the few Polish spellings a Cyrillic name can come from: Ukrainian "и" is
  Polish "y" or "i", "е" is "e" or "ie", "ж" is "ż" or "rz", "у" is "u" or "ó", "-ів" is "-ów" … Each candidate is
  only looked up in the register (geo.localities), so a wrong one finds nothing rather than a wrong place.
"""
from __future__ import annotations

import csv
import itertools
import re
from functools import lru_cache

from catalog.settings import REFERENCE_DATA_DIR
from catalog.text import fold

EXONYMS_FILE = REFERENCE_DATA_DIR / "gazetteer" / "exonyms-uk.csv"
MAX_CANDIDATES = 64
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

# Letter -> Polish renderings, the usual one first; only where the folded spellings differ (names are
# compared folded, so "ł"/"l" or "ż"/"z" need no alternatives).
_LETTERS: dict[str, tuple[str, ...]] = {
    "а": ("a",), "б": ("b",), "в": ("w",), "г": ("g", "h"), "ґ": ("g",), "д": ("d",), "е": ("e", "ie"),
    "є": ("ie", "je", "e"), "ж": ("ż", "rz"), "з": ("z",), "и": ("y", "i"), "і": ("i", "o"), "ї": ("ji", "i"),
    "й": ("j", ""), "к": ("k",), "л": ("l",), "м": ("m",), "н": ("n",), "о": ("o",), "п": ("p",), "р": ("r",),
    "с": ("s",), "т": ("t",), "у": ("u", "ó"), "ф": ("f",), "х": ("ch",), "ц": ("c",), "ч": ("cz",),
    "ш": ("sz",), "щ": ("szcz",), "ь": ("",), "ю": ("iu", "u", "ju"), "я": ("ia", "a", "ja"), "'": ("",),
    "ʼ": ("",), "’": ("",), "ы": ("y",), "э": ("e",), "ё": ("io", "jo"), "ъ": ("",),
}
# A soft sign after these makes the Polish accented letter ("нь" -> "ń", "сь" -> "ś").
_SOFTENED = {"н": "ń", "с": "ś", "з": "ź", "ц": "ć", "т": "ć", "д": "dź", "л": "l"}
_ENDINGS = ((re.compile(r"ів\b"), "ów"), (re.compile(r"иці\b"), "ice"), (re.compile(r"ці\b"), "ce"), (re.compile(r"ий\b"), "y"), (re.compile(r"ій\b"), "i"),
            (re.compile(r"ська\b"), "ska"), (re.compile(r"ський\b"), "ski"), (re.compile(r"ськ\b"), "sk"))


def has_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text or ""))


@lru_cache(maxsize=1)
def exonyms() -> dict[str, str]:
    """Folded Ukrainian name -> Polish name."""
    with EXONYMS_FILE.open(encoding="utf-8", newline="") as fh:
        return {fold(row["uk"]): row["pl"] for row in csv.DictReader(fh) if row["uk"] and row["pl"]}


def polish_candidates(name: str) -> list[str]:
    """Polish spellings `name` may stand for, likeliest first (at most MAX_CANDIDATES); [] without Cyrillic."""
    if not has_cyrillic(name):
        return []
    out: list[str] = []
    if (known := exonyms().get(fold(name))) is not None:
        out.append(known)
    text = name.lower().strip()
    for pattern, polish in _ENDINGS:
        text = pattern.sub(polish, text)
    choices = _letter_choices(text)
    for parts in itertools.islice(itertools.product(*choices), MAX_CANDIDATES):
        out.append("".join(parts))
    return list(dict.fromkeys(out))


def _letter_choices(text: str) -> list[tuple[str, ...]]:
    choices: list[tuple[str, ...]] = []
    for i, ch in enumerate(text):
        following = text[i + 1] if i + 1 < len(text) else ""
        if following == "ь" and ch in _SOFTENED:
            choices.append((_SOFTENED[ch],))
        elif ch in _LETTERS:
            # Alternatives only where Polish spelling really varies; a vowel after a vowel or at the start
            # of a word keeps its "j" ("Ярослав" -> "Jarosław").
            options = _LETTERS[ch]
            if ch in "яюєї" and (i == 0 or not text[i - 1].isalpha() or text[i - 1] in "аеиіоуяюєї"):
                options = tuple(o for o in options if o.startswith("j")) or options
            choices.append(options)
        else:
            choices.append((ch,))
    return choices
