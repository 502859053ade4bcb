"""The plain item every source adapter emits: no HTML, no HTTP, just fields and their raw strings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class SourceItem:
    source: str                     # Source.key, e.g. "rjps"
    source_key: str                 # identity within the source, e.g. RJPS unit id "3499"
    fields: dict[str, Any]          # keys from catalog.models.INSTITUTION_DATA_FIELDS, normalised values
    raw: dict[str, str] = field(default_factory=dict)   # raw strings as found in the source
    capture_id: int | None = None   # RawCapture the item was parsed from
    source_updated_at: date | None = None
    # Fields this run did not observe (e.g. a taxonomy request failed): the merge keeps this source's
    # previous value instead of reading their absence as "the source stopped giving them".
    keep_fields: frozenset[str] = frozenset()
    # Names of TERYT units as the source writes them ("powiat", "gmina", "service_area"): adapters know no
    # TERYT; the geo stage (geo.units.resolve_units) turns them into codes in `fields` before the merge.
    units: dict[str, str] = field(default_factory=dict)


@dataclass
class FetchResult:
    """What one adapter run produced.

    listed_keys: every key the source's listing announced (also those whose details failed), so that
    a unit whose detail request failed is neither updated nor counted as missing.
    complete: the listing is the whole register (absences then count towards "possibly closed").
    """
    items: list[SourceItem] = field(default_factory=list)
    listed_keys: set[str] = field(default_factory=set)
    complete: bool = False
    errors: list[dict[str, str]] = field(default_factory=list)   # {"where": ..., "message": ...}
    fatal: str | None = None        # the run cannot be trusted at all (source down, garbage listing)
