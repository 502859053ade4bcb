"""Source key -> adapter factory. Adding a source = one module in scrapers/ and one line here."""
from __future__ import annotations

import importlib
from typing import Callable

from scrapers.base import Adapter


def _lazy(module: str, attr: str, *args) -> Callable[[], Adapter]:
    # Import on use so a broken or missing optional dependency of one adapter never stops the others.
    def factory() -> Adapter:
        return getattr(importlib.import_module(module), attr)(*args)

    return factory


ADAPTERS: dict[str, Callable[[], Adapter]] = {
    "rjps": _lazy("scrapers.rjps", "RjpsAdapter"),
}

# Aliases that expand to several sources on the command line, e.g. `wsparcie scrape cis-kis`.
GROUPS: dict[str, list[str]] = {}


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
