"""Dates as Polish offices write them: "12.03.2021 r.", "2021-03-12", "12 marca 2021 r.", "12 III 2021",
and ranges "12.03.2021 r. – 11.03.2026 r."."""
from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    "styczen": 1, "stycznia": 1, "luty": 2, "lutego": 2, "marzec": 3, "marca": 3, "kwiecien": 4,
    "kwietnia": 4, "maj": 5, "maja": 5, "czerwiec": 6, "czerwca": 6, "lipiec": 7, "lipca": 7,
    "sierpien": 8, "sierpnia": 8, "wrzesien": 9, "wrzesnia": 9, "pazdziernik": 10, "pazdziernika": 10,
    "listopad": 11, "listopada": 11, "grudzien": 12, "grudnia": 12,
}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
          "xi": 11, "xii": 12}
# Digits may not touch other digits or dots, so parts of decision numbers ("PS.9421.3.2021") never match.
_NUMERIC_DMY = re.compile(r"(?<![\d.])(\d{1,2})\s?[.\-/]\s?(\d{1,2})\s?[.\-/]\s?(\d{4})(?![\d])")
_NUMERIC_YMD = re.compile(r"(?<![\d.])(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})(?![\d.])")
_WORDED = re.compile(r"(?<!\d)(\d{1,2})\s+([a-z]+)\s+(\d{4})(?!\d)")
_FOLD_TABLE = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ\u00a0", "acelnoszzACELNOSZZ ")
_OPEN_ENDED = ("bezterminow", "czas nieokreslony", "nieokreslon")
_RANGE_SEPARATOR = re.compile(r"^\s*(?:r\.?|roku)?\s*(?:[-\u2010-\u2015]|do|to)\s*$")


def find_dates(text: str | None) -> list[tuple[int, int, date]]:
    """Every date in the text with its (start, end) position in the folded text, in reading order."""
    if not text:
        return []
    folded = _fold_keep_punctuation(text)
    found: list[tuple[int, int, date]] = []
    for pattern, order in ((_NUMERIC_DMY, "dmy"), (_NUMERIC_YMD, "ymd"), (_WORDED, "worded")):
        for match in pattern.finditer(folded):
            value = _to_date(match.groups(), order)
            if value and not any(s <= match.start() < e for s, e, _ in found):
                found.append((match.start(), match.end(), value))
    return sorted(found, key=lambda item: item[0])


def parse_date(text: str | None) -> date | None:
    """The first date in the text, or None."""
    dates = find_dates(text)
    return dates[0][2] if dates else None


def parse_period(text: str | None) -> tuple[date | None, date | None, bool]:
    """(start, end, open_ended) of a validity cell: a range, "do <date>", "od <date>", or "bezterminowo"."""
    if not text:
        return None, None, False
    folded = _fold_keep_punctuation(text)
    dates = find_dates(text)
    open_ended = any(marker in folded for marker in _OPEN_ENDED)
    if len(dates) >= 2 and _RANGE_SEPARATOR.match(folded[dates[0][1]:dates[1][0]]):
        return dates[0][2], dates[1][2], False
    if not dates:
        return None, None, open_ended
    before = folded[: dates[0][0]]
    if re.search(r"\bod\s*$", before) or open_ended:
        return dates[0][2], None, open_ended
    return None, dates[-1][2], False


def add_years(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:   # 29 February in a year that has none
        return start.replace(year=start.year + years, day=28)


def _fold_keep_punctuation(text: str) -> str:
    """Lower case without Polish diacritics, punctuation kept (dates need their dots and dashes)."""
    return text.translate(_FOLD_TABLE).lower()


def _to_date(groups: tuple[str, ...], order: str) -> date | None:
    try:
        if order == "dmy":
            day, month, year = int(groups[0]), int(groups[1]), int(groups[2])
        elif order == "ymd":
            year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
        else:
            month_word = groups[1]
            month = _MONTHS.get(month_word) or _ROMAN.get(month_word) or 0
            day, year = int(groups[0]), int(groups[2])
        if not 1900 <= year <= 2100:
            return None
        return date(year, month, day)
    except ValueError:
        return None
