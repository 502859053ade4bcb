"""The interface every source adapter implements."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from catalog.records import FetchResult
from catalog.settings import Settings

if TYPE_CHECKING:   # the client imports the database layer; adapters only need its type here
    from scrapers.http import HttpClient


@dataclass(frozen=True)
class SourceMeta:
    key: str                      # Source.key and the prefix of its settings (<KEY>_BASE_URL, <KEY>_RATE_LIMIT)
    name: str                     # shown on the sources page
    url: str                      # public page of the register
    licence: str
    attribution: str
    # A complete listing with fewer records than this is treated as a broken source, not as closures.
    expected_min: int = 1


class Adapter(Protocol):
    meta: SourceMeta

    def fetch(self, client: HttpClient, settings: Settings) -> FetchResult:
        """Fetch and parse the whole source through `client` (scrapers.http.HttpClient).

        Must not raise for per-record problems: report them in FetchResult.errors. Set FetchResult.fatal
        when the source as a whole is unusable (down, garbage listing)."""
        ...
