"""Names of TERYT units as sources write them -> TERYT codes; the geo stage that runs before the merge.

Adapters emit the names they read (`SourceItem.units`: "powiat", "gmina", "service_area"); `resolve_units`
turns them into `woj_teryt` / `powiat_teryt` / `gmina_id6` / `service_area` before the catalog sees the
run, so adapters need no TERYT and cross-source matching already has the codes.

Two spellings of a powiat name:
* service areas ("m. Kraków, powiat krakowski, wielicki", OWES subregions, powiaty a PUP serves): a city
  with powiat rights and the land powiat around it are different units ("Kraków" 1261 vs "krakowski"
  1206), so the spelling decides: "m." / "miasto" / "m. st." or a capitalised town name means the city,
  "powiat" or an adjective the land powiat (`resolve_powiat`);
* the powiat column of an official list ("bocheński", "m. Tarnów", "Golubsko - Dobrzyński"), typos
  tolerated (`resolve_listed_powiat`), with the gmina column resolved within it (`resolve_gmina`)."""
from __future__ import annotations

import re
from collections import Counter

from rapidfuzz import fuzz, process

from catalog.records import FetchResult, SourceItem
from catalog.text import fold_spaces as fold
from geo import teryt

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


# -- the powiat and gmina columns of official lists ---------------------------------------------------

_POWIAT_NOISE = re.compile(r"^(?:m\.\s*st\.|m\.|miasto|powiat|pow\.)\s*", re.IGNORECASE)
_URBAN = re.compile(r"\b(?:miejsk|mops|mopr|mgops|miasta)", re.IGNORECASE)
_RURAL = re.compile(r"\b(?:gminn|gops|gminy)", re.IGNORECASE)


def _fold_unit(name: str) -> str:
    return re.sub(r"\s*-\s*", "-", fold(_POWIAT_NOISE.sub("", name.strip())))


def resolve_listed_powiat(name: str | None, woj: str | None) -> str | None:
    """TERYT code of the powiat a list names ("bocheński", "m. Tarnów", "Golubsko - Dobrzyński"), within
    the województwo when known; a one-letter typo ("tarnowki") is tolerated when only one powiat is close."""
    if not name or not name.strip():
        return None
    wanted = _fold_unit(name)
    powiaty = teryt.powiaty(woj) if woj else teryt.powiaty()
    exact = [p.code for p in powiaty if _fold_unit(p.name) == wanted]
    if len(exact) == 1:
        return exact[0]
    if exact:   # "Kraków" the city and no other: several only across województwa
        return None
    choices = {p.code: _fold_unit(p.name) for p in powiaty}
    best = process.extract(wanted, choices, scorer=fuzz.ratio, limit=2)
    if best and best[0][1] >= 88 and (len(best) == 1 or best[1][1] < best[0][1] - 5):
        return best[0][2]
    return None


def resolve_gmina(name: str | None, powiat: str | None, institution_name: str = "") -> str | None:
    """id6 of the gmina a list names within its powiat (or the one gmina of a city powiat); a town with a
    rural gmina of the same name is told apart by the institution's own name ("Miejski…" / "Gminny…"),
    else left to the address-based assignment (geo.assign)."""
    if not powiat:
        return None
    only = teryt.gminy(powiat)
    if len(only) == 1:   # a city with powiat rights is one gmina: listed under it, the unit is in it
        return only[0].id6
    if not name:
        return None
    wanted = _fold_unit(name)
    found = [g for g in only if _fold_unit(g.name) == wanted]
    if len(found) > 1:
        if _URBAN.search(institution_name):
            found = [g for g in found if g.kind_code in ("1", "3")] or found
        elif _RURAL.search(institution_name):
            found = [g for g in found if g.kind_code == "2"] or found
    return found[0].id6 if len(found) == 1 else None


def infer_woj(powiat_names: list[str | None]) -> str | None:
    """The województwo of a document whose source key does not say it: the one most uniquely named
    powiaty point at."""
    votes: Counter[str] = Counter()
    for name in powiat_names:
        code = resolve_listed_powiat(name, None)
        if code:
            votes[code[:2]] += 1
    return votes.most_common(1)[0][0] if votes else None


# -- the stage ----------------------------------------------------------------------------------------

def resolve_units(result: FetchResult) -> None:
    """Turn every item's unit names into codes, in place; a service-area name that resolves to nothing is
    reported as a per-record error (as the adapters did), the rest of the item is kept."""
    listed = [i for i in result.items if "powiat" in i.units or "gmina" in i.units]
    guessed = infer_woj([i.units.get("powiat") for i in listed]) if any(
        not i.fields.get("woj_teryt") for i in listed) else None
    by_key = {i.source_key: i for i in result.items}
    for item in result.items:
        if item in listed:
            _resolve_listed(item, guessed)
        elif guessed and not item.fields.get("woj_teryt"):
            item.fields["woj_teryt"] = guessed
    for item in result.items:   # after the listed units: a branch may inherit its parent's area
        if "service_area" in item.units:
            result.errors.extend(_resolve_service_area(item, by_key))


def _resolve_listed(item: SourceItem, guessed_woj: str | None) -> None:
    woj = item.fields.get("woj_teryt") or guessed_woj
    powiat = resolve_listed_powiat(item.units.get("powiat"), woj)
    gmina = resolve_gmina(item.units.get("gmina"), powiat, item.fields.get("name") or "")
    item.fields.update(woj_teryt=(powiat or "")[:2] or woj, powiat_teryt=powiat, gmina_id6=gmina)


def _resolve_service_area(item: SourceItem, by_key: dict[str, SourceItem]) -> list[dict[str, str]]:
    woj = item.fields.get("woj_teryt")
    codes, unresolved = resolve_powiaty(item.units["service_area"], woj)
    if not codes and (parent := by_key.get(item.fields.get("parent_source_key") or "")) is not None:
        codes = list(parent.fields.get("service_area") or [])
    item.fields["service_area"] = codes
    label = item.source.split("-")[0].upper()   # "OWES", "PUP"
    return [{"where": f"{label} {item.fields.get('name')}",
             "message": f"unknown powiat {name!r} in the service area (województwo {woj})"}
            for name in unresolved]
