"""Source key -> adapter factory. Adding a source = one module in scrapers/ and one line here."""
from __future__ import annotations

import importlib
from collections.abc import Callable

from catalog import voivodeships
from scrapers.base import Adapter
from scrapers.official_list_config import CONFIGS as LIST_CONFIGS
from scrapers.official_list_config import GROUPS as LIST_GROUPS


def _lazy(module: str, attr: str, *args) -> Callable[[], Adapter]:
    # Import on use so a broken or missing optional dependency of one adapter never stops the others.
    def factory() -> Adapter:
        return getattr(importlib.import_module(module), attr)(*args)

    return factory


ADAPTERS: dict[str, Callable[[], Adapter]] = {
    "rjps": _lazy("scrapers.rjps", "RjpsAdapter"),
    "owes": _lazy("scrapers.owes", "OwesAdapter"),
    "pup": _lazy("scrapers.pup", "PupAdapter"),
}

# The 16 wojewoda CIS/KIS registers: one source each (own ScrapeRun), configured in scrapers/cis_kis_config.py.
CIS_KIS_WOJ = voivodeships.codes()
ADAPTERS.update({f"cis-kis-{woj}": _lazy("scrapers.cis_kis", "CisKisAdapter", woj) for woj in CIS_KIS_WOJ})

# The wojewodas' lists of institutions (DPS registers, ŚDS and OPS lists, support bases), one source each,
# configured in scrapers/official_list_config.py.

ADAPTERS.update({key: _lazy("scrapers.official_list", "OfficialListAdapter", key) for key in LIST_CONFIGS})

# Aliases that expand to several sources on the command line, e.g. `wsparcie scrape cis-kis`.
GROUPS: dict[str, list[str]] = {
    "cis-kis": [f"cis-kis-{woj}" for woj in CIS_KIS_WOJ],
    **LIST_GROUPS,    # "dps", "sds", "ops-lists"
}


def expand(keys: list[str] | None) -> list[str]:
    """Expand group aliases; no keys means every registered source."""
    if not keys:
        return list(ADAPTERS)
    out: list[str] = []
    for key in keys:
        for k in GROUPS.get(key, [key]):
            if k not in out:
                out.append(k)
    return out
