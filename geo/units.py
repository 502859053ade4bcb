"""Service areas written as Polish powiat names ("m. Kraków, powiat krakowski, wielicki") -> TERYT codes.

Used by the OWES (subregions) and PUP (powiaty served) adapters. A city with powiat rights and the
land powiat around it are different units ("Kraków" 1261 vs "krakowski" 1206), so the spelling decides:
"m." / "miasto" / "m. st." or a capitalised town name means the city, "powiat" or an adjective the
land powiat."""
from __future__ import annotations

import re
import unicodedata

from geo import teryt


def fold(text: str | None) -> str:
    """Lower-case, no Polish diacritics, single spaces: 'Miasto  Łódź' -> 'miasto lodz'."""
    text = (text or "").replace("ł", "l").replace("Ł", "L")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.lower().split())


_CITY_PREFIX = re.compile(
    r"^(m\.\s*st\.|miasto\s+stoleczne|miasto\s+na\s+prawach\s+powiatu|m\.|miasto|mnpp|gmina\s+miejska)\s*"
)
_LAND_PREFIX = re.compile(r"^(powiaty?|pow\.|ziemski)\s+")
_CITY_SUFFIX = re.compile(r"\s*\((miasto[^)]*|m\.?\s*n\.?\s*p\.?\s*p\.?)\)\s*$")
_SPLIT = re.compile(r"\s*(?:[,;\n/]|\s+i\s+|\s+oraz\s+)\s*")


def split_names(text: str | None) -> list[str]:
    """'subregion południowy (powiaty: człuchowski, chojnicki)' -> ['człuchowski', 'chojnicki']."""
    text = (text or "").strip()
    inner = re.search(r"\(([^()]*powiat[^()]*)\)", text, re.IGNORECASE)
    if inner:
        text = inner.group(1)
    text = re.sub(r"^.*?powiaty?\s*:\s*", "", text, flags=re.IGNORECASE)
    return [part.strip(" .") for part in _SPLIT.split(text) if part.strip(" .")]


def resolve_powiat(name: str, woj: str | None = None) -> str | None:
    """One powiat name (any usual spelling) -> its 4-digit TERYT code, or None."""
    raw = name.strip()
    folded = fold(raw)
    city = bool(_CITY_SUFFIX.search(folded) or _CITY_PREFIX.match(folded))
    folded = _CITY_PREFIX.sub("", _CITY_SUFFIX.sub("", folded)).strip()
    land = bool(_LAND_PREFIX.match(folded))
    folded = _LAND_PREFIX.sub("", folded).strip()
    if _CITY_PREFIX.match(folded):   # "powiat m. Białystok"
        city, land, folded = True, False, _CITY_PREFIX.sub("", folded).strip()
    if not city and not land:
        # A capitalised noun is a town; an adjective ("krakowski") is a land powiat.
        bare = _LAND_PREFIX.sub("", _CITY_PREFIX.sub("", raw.lower())).strip()
        land = bool(re.search(r"(ski|cki|dzki)$", folded)) or (bare[:1].islower() and raw[:1].islower())
        city = not land
    matches = [
        p for p in teryt.powiaty(woj)
        if fold(p.name) == folded and p.city_with_powiat_rights == city
    ]
    return matches[0].code if len(matches) == 1 else None


def resolve_powiaty(text: str | None, woj: str | None = None) -> tuple[list[str], list[str]]:
    """All powiat names in `text` -> (codes in order of appearance, names that did not resolve)."""
    codes: list[str] = []
    unresolved: list[str] = []
    for name in split_names(text):
        code = resolve_powiat(name, woj)
        if code is None:
            unresolved.append(name)
        elif code not in codes:
            codes.append(code)
    return codes, unresolved
