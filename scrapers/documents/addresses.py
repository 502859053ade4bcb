"""Address parts of a register row, through geo.address.parse_address (the project's one address parser).

geo.address is written by the geography package; until it is importable a minimal private fallback
reads the postal code, locality, street and building so the readers stay usable on their own."""
from __future__ import annotations

import re
from dataclasses import dataclass

try:
    from geo.address import parse_address as _geo_parse_address
except ImportError:   # geo.address not there yet: see _fallback_parse
    _geo_parse_address = None


@dataclass
class ParsedAddress:
    street: str | None
    building: str | None
    flat: str | None
    postal_code: str | None
    locality: str | None
    raw: str


_POSTAL_LOCALITY = re.compile(r"(\d{2})\s?-\s?(\d{3})\s+([^,\n]+)")
_STREET_PREFIX = re.compile(r"^(?:ul\.|ulica|al\.|aleja|pl\.|plac|os\.|osiedle)\s*", re.IGNORECASE)
_BUILDING = re.compile(r"^(?P<street>.*?)\s+(?P<building>\d+[a-zA-Z]?)(?:\s*(?:/|m\.|lok\.)\s*(?P<flat>\w+))?$")


def parse_address(raw: str):
    """geo.address.parse_address(raw) when available, else the fallback below."""
    if _geo_parse_address is not None:
        return _geo_parse_address(raw)
    return _fallback_parse(raw)


def _fallback_parse(raw: str) -> ParsedAddress:
    postal_code = locality = street = building = flat = None
    match = _POSTAL_LOCALITY.search(raw)
    if match:
        postal_code = f"{match.group(1)}-{match.group(2)}"
        locality = match.group(3).strip(" ,")
    rest = [part.strip() for part in re.split(r",|\n", _POSTAL_LOCALITY.sub("", raw)) if part.strip()]
    if rest:
        place = _BUILDING.match(rest[0])
        if place:
            street = _STREET_PREFIX.sub("", place.group("street")).strip() or None
            building, flat = place.group("building"), place.group("flat")
        else:
            street = _STREET_PREFIX.sub("", rest[0]).strip() or None
        if locality is None and street and not _STREET_PREFIX.match(rest[0]):
            locality, street = street, None   # rural address "Bytoń 72": the village, no street
        elif street and street == locality:
            street = None
    return ParsedAddress(street, building, flat, postal_code, locality, raw)
