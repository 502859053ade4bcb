"""What a list of institutions says about each one beyond name and address: its type, the types of a
home (DPS / ŚDS), its places, its branches, the unit a section row names, and the date of the list.

Everything here works on folded text and on the shapes offices use in general ("z filią w …", "dla osób
w podeszłym wieku 90 miejsc", "Powiat bocheński", "stan na 30 czerwca 2026"), never on one document."""
from __future__ import annotations

import re
from datetime import date
from functools import cache

from catalog.types import TYPES
from scrapers.documents.columns import fold
from scrapers.documents.dates import find_dates

# Type patterns come from catalog/types.py (TypeInfo.name_patterns), one compiled regex per type, grouped
# by name tier. In a tier the pattern matching earliest in a name wins, so "Powiatowe Centrum Pomocy
# Rodzinie (Ośrodek Interwencji Kryzysowej)" is a PCPR and "GOPS … Punkt Konsultacyjny" an OPS.
_Tiers = tuple[tuple[tuple[str, re.Pattern[str]], ...], ...]


@cache
def _compile_tiers() -> _Tiers:
    tiers: dict[int, list[tuple[str, re.Pattern[str]]]] = {}
    for code, type_info in TYPES.items():
        if type_info.name_patterns:
            pattern = re.compile("|".join(f"(?:{source})" for source in type_info.name_patterns))
            tiers.setdefault(type_info.name_tier, []).append((code.value, pattern))
    return tuple(tuple(tiers[tier]) for tier in sorted(tiers))


_RELATION = re.compile(r"\b(?:przy|dzialajac\w*|w strukturach|prowadzon\w*)\b")


def classify(text: str | None) -> str | None:
    """The institution type a name (or a section heading) states, or None when it states none.

    The earliest main type wins ("PCPR (Ośrodek Interwencji Kryzysowej)" is a PCPR). A unit that is
    usually part of another ("Punkt konsultacyjny", "Fundacja", "Komisariat Policji") wins only when no
    main type is named or it is attached to it ("Punkt … działający przy GOPS"); "Bonifraterska Fundacja
    … Dom Pomocy Społecznej" is a DPS."""
    folded = fold(text or "")
    # Tier 0 types are units of their own; later tiers are units that are often part of, or run by, one
    # of them: they win only when nothing earlier is named or when attached to it. Earlier tiers first.
    main, *attached = _compile_tiers()
    specific = _earliest(main, folded)
    for group in attached:
        found = _earliest(group, folded)
        if found is None:
            continue
        if specific is None:
            return found[1]
        if found[0] < specific[0] and _RELATION.search(folded, found[0], specific[0]):
            return found[1]
    return specific[1] if specific else None


def _earliest(patterns: tuple[tuple[str, re.Pattern[str]], ...], folded: str) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for code, pattern in patterns:
        match = pattern.search(folded)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), code)
    return best


# DPS types (ustawa o pomocy społecznej, art. 56) and the short-term stay; folded, spaces removed, so
# "d l a o s ó b d o r o s ły c h" (letter-spaced in a PDF) still matches.
HOME_TYPES: dict[str, tuple[str, ...]] = {
    "podeszly-wiek": ("podeszlymwieku", "podeszlegowieku", "osobstarszych"),
    "przewlekle-somatycznie-chorzy": ("somatyczniechor",),
    "przewlekle-psychicznie-chorzy": ("psychiczniechor", "psyczicznie"),
    "dorosli-niepelnosprawni-intelektualnie": ("doroslych", "doroslychniepelnosprawnych"),
    "dzieci-niepelnosprawne-intelektualnie": ("dzieciimlodziezy", "dzieciimlodziez", "dladzieci"),
    "niepelnosprawni-fizycznie": ("niepelnosprawnychfizycznie", "niepelnosprawnoscfizyczna"),
    "uzaleznieni-od-alkoholu": ("uzaleznionychodalkoholu", "uzaleznionych"),
    "krotkoterminowy": ("krotkoterminow",),
}
HOME_TYPE_LABELS = {
    "podeszly-wiek": "dla osób w podeszłym wieku",
    "przewlekle-somatycznie-chorzy": "dla osób przewlekle somatycznie chorych",
    "przewlekle-psychicznie-chorzy": "dla osób przewlekle psychicznie chorych",
    "dorosli-niepelnosprawni-intelektualnie": "dla dorosłych niepełnosprawnych intelektualnie",
    "dzieci-niepelnosprawne-intelektualnie": "dla dzieci i młodzieży niepełnosprawnych intelektualnie",
    "niepelnosprawni-fizycznie": "dla osób niepełnosprawnych fizycznie",
    "uzaleznieni-od-alkoholu": "dla osób uzależnionych od alkoholu",
    "krotkoterminowy": "usługi wsparcia krótkoterminowego (pobyt całodobowy)",
}
_SDS_TYPES = re.compile(r"^\s*([A-D](?:\s*[,.;i/]\s*[A-D])*)\b\.?")


def home_types(text: str | None) -> list[str]:
    """Home type codes a cell or section row names, in the order it names them."""
    squashed = fold(text or "").replace(" ", "")
    found: list[tuple[int, str]] = []
    for code, stems in HOME_TYPES.items():
        positions = [squashed.find(stem) for stem in stems if stem in squashed]
        if positions:
            found.append((min(positions), code))
    # "dzieci i młodzieży niepełnosprawnych intelektualnie" also contains "niepełnosprawnych": only the
    # adult type needs "dorosłych", so no further disambiguation is needed.
    return [code for _, code in sorted(found)]


def sds_types(text: str | None) -> list[str]:
    """ŚDS types A–D from a "Typ domu (A,B,C,D)" cell: 'A, B,C z 4 miejscami całodobowymi' -> [A, B, C]."""
    match = _SDS_TYPES.match(text or "")
    if not match:
        return []
    return sorted(set(re.findall(r"[A-D]", match.group(1))))


_PLACES_WORD = re.compile(r"(\d+)\s*(?:-\s*)?miejsc", re.IGNORECASE)
_TOTAL = re.compile(r"(?:łącznie|razem|ogółem)\s*:?\s*(\d+)", re.IGNORECASE)


def places(text: str | None) -> int | None:
    """'101' -> 101; 'dla osób w podeszłym wieku 90 miejsc dla osób … 67 miejsc' -> 157; '(łącznie 100)' wins."""
    if not text:
        return None
    text = text.replace("\n", " ")
    if re.fullmatch(r"\s*\d+\s*", text):
        return int(text)
    total = _TOTAL.search(text)
    if total:
        return int(total.group(1))
    counted = [int(n) for n in _PLACES_WORD.findall(text)]
    if counted:
        return sum(counted)
    numbers = re.findall(r"(?<![\d.,/])\d+(?![\d.,/])", text)
    return int(numbers[0]) if len(numbers) == 1 else None


def count(text: str | None) -> int | None:
    match = re.fullmatch(r"\s*(\d+)\s*", text or "")
    return int(match.group(1)) if match else None


# A branch: "z filią w Gorlicach", "z filiami w …", "z flilią" (sic), "Sucharskiego - Filia".
BRANCH_LINE = re.compile(r"^\s*(?:z\s+)?fl?ili(?:a|ą|ami|i)\b|[\s-]filia\b", re.IGNORECASE)
_BRANCH_LEAD = re.compile(r"^\s*(?:z\s+)?fl?ili(?:a|ą|ami|i)\b\s*(?:(?:w|we|przy)\s+)?", re.IGNORECASE)


def branch_lead(line: str) -> str:
    """'z filią w Komornikach 98,' -> 'Komornikach 98,'; 'z filią przy' -> ''."""
    return _BRANCH_LEAD.sub("", line, count=1).strip()


# Section rows: "Powiat bocheński", "POWIAT BRZOZOWSKI", "o zasięgu powiatowym".
_POWIAT_SECTION = re.compile(r"^\s*powiat\s+(?!.*\bzasi)(.{3,60}?)\s*$", re.IGNORECASE)
_SCOPE = re.compile(r"\bzasiegu\s+(gminnym|powiatowym|ponadgminnym|regionalnym|wojewodzkim)\b")
_SCOPES = {"gminnym": "gmina", "ponadgminnym": "powiat", "powiatowym": "powiat", "regionalnym": "wojewodztwo",
           "wojewodzkim": "wojewodztwo"}


_CITY_SECTION = re.compile(r"^\s*(?:miasto|m\.)\s+(?:na\s+prawach\s+powiatu\s+)?(\w[\w\s\-]{1,40}?)\s*$", re.IGNORECASE)
# A heading after a finished sentence: PDF text that overflows the row above is drawn inside the
# heading's band, so the heading cell reads "… 18:00-20:00. Powiat limanowski".
_TRAILING_HEADING = re.compile(r"[.;!?]\s+((?:powiat|miasto|m\.)\s+[^.;!?\n]{3,60})$", re.IGNORECASE)


def section_powiat(text: str) -> str | None:
    """'Powiat bocheński' -> 'bocheński'; 'MIASTO KROSNO' (a city with powiat rights) -> 'Krosno'."""
    text = text.strip()
    if "\n" in text:
        return None
    match = _POWIAT_SECTION.match(text)
    if match:
        return match.group(1).strip().lower()
    city = _CITY_SECTION.match(text)
    if city:
        return city.group(1).strip().title()
    trailing = _TRAILING_HEADING.search(text)
    return section_powiat(trailing.group(1)) if trailing else None


def section_scope(text: str) -> str | None:
    match = _SCOPE.search(fold(text))
    return _SCOPES[match.group(1)] if match else None


_UNIT_PREFIX = re.compile(r"^\s*(?:gmina\s*-\s*miasto|gmina\s+miejska|gmina|miasto|m\.\s*st\.|powiat)\s+",
                          re.IGNORECASE)
_POWIAT_IN_PARENS = re.compile(r"\(\s*powiat\s+([^)]+)\)", re.IGNORECASE)


def unit_name(text: str | None) -> tuple[str | None, str | None]:
    """(unit, powiat named in brackets): 'Biecz\\n(powiat gorlicki)' -> ('Biecz', 'gorlicki')."""
    if not text or text.strip() in ("-", "–", "—"):
        return None, None
    powiat = _POWIAT_IN_PARENS.search(text)
    rest = re.sub(r"(\w)-\s*\n\s*", r"\1-", _POWIAT_IN_PARENS.sub(" ", text))   # "Jerzmanowice-\nPrzeginia"
    rest = " ".join(rest.split())
    rest = _UNIT_PREFIX.sub("", rest).strip(" ,;-")
    return _unit_case(rest), (_unit_case(powiat.group(1)) if powiat else None)


def _unit_case(name: str | None) -> str | None:
    """'Aleksandrowski' / 'ŚWIECKI' -> 'aleksandrowski' (a powiat adjective); 'GRUDZIĄDZ' -> 'Grudziądz'."""
    name = (name or "").strip()
    if not name:
        return None
    if re.search(r"(?:ski|cki|dzki)(?:\s*-\s*\w+(?:ski|cki|dzki))?$", name, re.IGNORECASE) and " " not in name.strip():
        return name.lower()
    words_only = re.fullmatch(r"[^\W\d_][^\W\d_\s-]*(?:[\s-]+[^\W\d_]+)*", name)
    return name.title() if name.isupper() and words_only else name


_AS_OF = re.compile(r"(?:(?:stan\w*|aktualn\w*)\s+na(?:\s+dzien)?|\bwg\.?|\bwedlug|\bna\s+dzien)\s*$")


def as_of(texts: list[str]) -> date | None:
    """The date a list is "as of": 'stan na 30 czerwca 2026', 'wg stanu na 27.03.2026', 'wg. 31.05.2026'."""
    for text in texts:
        folded = fold_keep(text)
        for start, _end, value in find_dates(text):
            before = folded[max(0, start - 30):start]
            if _AS_OF.search(before):
                return value
    return None


def fold_keep(text: str) -> str:
    """Like dates' folding: lower case without Polish letters, punctuation kept, same length as the text."""
    return text.translate(str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ\u00a0", "acelnoszzACELNOSZZ ")).lower()


SUMMARY = re.compile(r"^\s*(?:razem|ogółem|ogolem|suma|łącznie|lacznie)\b", re.IGNORECASE)
