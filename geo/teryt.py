"""TERYT reference units (TERC 2026-01-01) loaded once from data/teryt, with names in Polish.

Codes are strings with leading zeros: województwo 2 digits, powiat 4, gmina `gmina_id6` 6 digits
(the 7-digit code's RODZ digit changes when a gmina changes kind; id6 does not)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from catalog.settings import REFERENCE_DATA_DIR
from catalog.voivodeships import Voivodeship, voivodeships

TERYT_DIR = REFERENCE_DATA_DIR / "teryt"
POINTS_FILE = REFERENCE_DATA_DIR / "boundaries" / "gminy_punkty.csv"


Wojewodztwo = Voivodeship   # one list of the 16, in catalog (scrapers need it and may not import geo)


@dataclass(frozen=True)
class Powiat:
    code: str          # "2002"
    name: str          # "białostocki" or "Kraków" for a city with powiat rights
    kind: str          # "powiat", "miasto na prawach powiatu", ...
    city_with_powiat_rights: bool
    woj_code: str

    @property
    def label(self) -> str:
        """'powiat białostocki' or 'Kraków (miasto na prawach powiatu)'."""
        return f"{self.name} (miasto na prawach powiatu)" if self.city_with_powiat_rights else f"powiat {self.name}"


@dataclass(frozen=True)
class Gmina:
    id6: str           # "200216"
    teryt7: str        # "2002162"
    name: str          # "Zabłudów"
    kind_code: str     # 1 miejska, 2 wiejska, 3 miejsko-wiejska
    kind: str          # "gmina miejsko-wiejska"
    powiat_code: str
    woj_code: str
    lat: float | None = None    # a point guaranteed inside the gmina polygon (None for gminy created after 2019)
    lon: float | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.kind})"


@dataclass(frozen=True)
class Reference:
    wojewodztwa: dict[str, Wojewodztwo]
    powiaty: dict[str, Powiat]
    gminy: dict[str, Gmina]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def reference() -> Reference:
    woj = {v.code: v for v in voivodeships()}
    pow_ = {
        r["powiat_teryt"]: Powiat(
            r["powiat_teryt"], r["nazwa"], r["typ"], r["miasto_na_prawach_powiatu"] == "1", r["woj_teryt"]
        )
        for r in _rows(TERYT_DIR / "powiaty.csv")
    }
    points = {r["gmina_teryt"][:6]: r for r in _rows(POINTS_FILE)}
    gm = {}
    for r in _rows(TERYT_DIR / "gminy.csv"):
        p = points.get(r["gmina_id6"])
        gm[r["gmina_id6"]] = Gmina(
            r["gmina_id6"], r["gmina_teryt"], r["nazwa"], r["rodzaj_kod"], r["rodzaj"], r["powiat_teryt"],
            r["woj_teryt"],
            float(p["punkt_wewn_lat"]) if p else None,
            float(p["punkt_wewn_lon"]) if p else None,
        )
    return Reference(woj, pow_, gm)


def wojewodztwa() -> list[Wojewodztwo]:
    return sorted(reference().wojewodztwa.values(), key=lambda w: w.code)


def powiaty(woj_code: str | None = None) -> list[Powiat]:
    """Powiaty (optionally of one województwo), by code."""
    return sorted(
        (p for p in reference().powiaty.values() if woj_code is None or p.woj_code == woj_code),
        key=lambda p: p.code,
    )


def gminy(powiat_code: str | None = None) -> list[Gmina]:
    """Gminy (optionally of one powiat), by code."""
    return sorted(
        (g for g in reference().gminy.values() if powiat_code is None or g.powiat_code == powiat_code),
        key=lambda g: g.id6,
    )


def wojewodztwo(code: str | None) -> Wojewodztwo | None:
    return reference().wojewodztwa.get(code or "")


def powiat(code: str | None) -> Powiat | None:
    return reference().powiaty.get(code or "")


def gmina(id6: str | None) -> Gmina | None:
    """A gmina by its 6-digit id; a 7-digit TERYT code is accepted too."""
    return reference().gminy.get((id6 or "")[:6])


def names_for(gmina_id6: str | None = None, powiat_code: str | None = None, woj_code: str | None = None) -> dict:
    """Names of the units an institution is in, e.g. for display and the search index."""
    g = gmina(gmina_id6)
    p = powiat(powiat_code or (g.powiat_code if g else None))
    w = wojewodztwo(woj_code or (p.woj_code if p else None))
    return {
        "gmina": g.name if g else None,
        "gmina_kind": g.kind if g else None,
        "powiat": p.name if p else None,
        "powiat_label": p.label if p else None,
        "wojewodztwo": w.name if w else None,
    }


# --- districts of the five cities split into TERC units (Warszawa's dzielnice, the delegatury) -------------

TERC_FILE = TERYT_DIR / "TERC_2026-01-01_full.csv"
DISTRICT_KINDS = {"8": "dzielnica", "9": "delegatura"}


@dataclass(frozen=True)
class District:
    teryt7: str        # "1465058" (RODZ 8 dzielnica m.st. Warszawy, 9 delegatura)
    name: str          # "Mokotów", "Nowa Huta" (without the city's prefix)
    full_name: str     # TERC's NAZWA: "Mokotów", "Kraków-Nowa Huta"
    kind: str          # "dzielnica" / "delegatura"
    city_id6: str      # the city gmina the district is part of: "146501"

    @property
    def id6(self) -> str:
        return self.teryt7[:6]


@lru_cache(maxsize=1)
def districts() -> dict[str, District]:
    """District units (id6 -> District) of Warszawa, Kraków, Łódź, Poznań and Wrocław, from TERC 2026.
    They are not gminy (the city is), so gminy() does not list them."""
    out: dict[str, District] = {}
    with TERC_FILE.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            if r["RODZ"] not in DISTRICT_KINDS:
                continue
            code = r["WOJ"] + r["POW"] + r["GMI"] + r["RODZ"]
            city = next((g for g in gminy(r["WOJ"] + r["POW"]) if g.kind_code == "1"), None)
            if city is None:
                continue
            prefix = f"{city.name}-"
            short = r["NAZWA"].removeprefix(prefix)
            out[code[:6]] = District(code, short, r["NAZWA"], DISTRICT_KINDS[r["RODZ"]], city.id6)
    return out


def district(code: str | None) -> District | None:
    """A district by its 6- or 7-digit TERC code."""
    return districts().get((code or "")[:6])
