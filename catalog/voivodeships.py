"""The 16 województwa, read once from the TERYT reference (data/teryt/wojewodztwa.csv, TERC 2026-01-01).

Everything that lists voivodeships uses this module: `geo.teryt` for the reference units, the scrapers
for per-office sources (one register per wojewoda), the OWES list's numbering. Names of offices are
derived from the voivodeship's name, never typed out a second time."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from catalog.settings import REFERENCE_DATA_DIR
from catalog.slug import slug

VOIVODESHIPS_FILE = REFERENCE_DATA_DIR / "teryt" / "wojewodztwa.csv"


@dataclass(frozen=True)
class Voivodeship:
    code: str          # "20"
    name: str          # "podlaskie"

    @property
    def adjective(self) -> str:
        """The masculine adjective offices use: 'dolnośląskie' -> 'Dolnośląski', 'kujawsko-pomorskie' ->
        'Kujawsko-Pomorski' (every voivodeship name is a neuter adjective ending in '-kie')."""
        stem = self.name[:-1] if self.name.endswith("ie") else self.name
        return "-".join(part[:1].upper() + part[1:] for part in stem.split("-"))

    @property
    def wojewoda(self) -> str:
        return f"Wojewoda {self.adjective}"

    @property
    def office(self) -> str:
        return f"{self.adjective} Urząd Wojewódzki"

    @property
    def office_slug(self) -> str:
        """'dolnoslaski': the office's part of gov.pl addresses (/web/uw-dolnoslaski)."""
        return slug(self.adjective)

    @property
    def number(self) -> int:
        """1..16 in alphabetical order, which is the TERYT order (code / 2): the OWES list numbers them so."""
        return int(self.code) // 2


@lru_cache(maxsize=1)
def _all() -> tuple[Voivodeship, ...]:
    with VOIVODESHIPS_FILE.open(encoding="utf-8", newline="") as fh:
        rows = [Voivodeship(r["woj_teryt"], r["nazwa"]) for r in csv.DictReader(fh)]
    return tuple(sorted(rows, key=lambda v: v.code))


def voivodeships() -> tuple[Voivodeship, ...]:
    """All 16, in TERYT order."""
    return _all()


def codes() -> tuple[str, ...]:
    return tuple(v.code for v in _all())


def voivodeship(code: str | None) -> Voivodeship | None:
    return next((v for v in _all() if v.code == code), None)


def by_code(code: str) -> Voivodeship:
    """The voivodeship of a known code; KeyError for anything else (a configuration mistake)."""
    found = voivodeship(code)
    if found is None:
        raise KeyError(f"no voivodeship with TERYT code {code!r}")
    return found
