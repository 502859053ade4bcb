"""Parse Polish postal addresses as registries write them into street / building / flat / postal code /
locality, keeping the raw string.

Handled shapes: "ul. Józefińska 14, 30-529 Kraków", "Kraków, ul. Józefińska 14", "Rynek 8, 16-060 Zabłudów",
rural "Bytoń 72, 88-231 Bytoń" or just "Bytoń 72", "al."/"pl."/"os." prefixes with or without the dot,
"12/3", "14 lok. 5", "8a", administrative hints ("gm. Zabłudów", "pow. białostocki", "woj. podlaskie").
A name followed by a number next to a different post town ("Wólka 5, 16-060 Zabłudów") is read as a
street; it may be a village served by that post office, so geocoders also try it as a locality.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from catalog.text import fold
from catalog.voivodeships import voivodeships

POSTAL_RE = re.compile(r"(?<!\d)(\d{2})\s?[-‐–]\s?(\d{3})(?!\d)")
_PREFIXES = {
    "ul": "ul.", "ulica": "ul.", "al": "al.", "aleja": "al.", "aleje": "al.",
    "pl": "pl.", "plac": "pl.", "os": "os.", "osiedle": "os.",
}
_PREFIX_RE = re.compile(r"^(ulica|ul|aleja|aleje|al|plac|pl|osiedle|os)(?:\.\s*|\s+)(?=\S)", re.IGNORECASE)
# A street prefix in the middle of a segment ("Kraków ul. Józefińska 14"): only the dotted forms, to
# avoid splitting names such as "Stare Pole".
_MID_PREFIX_RE = re.compile(r"\s(?=(?:ul|al|pl|os)\.)", re.IGNORECASE)
_NUMBER_RE = re.compile(
    r"\s+(?:nr\.?\s*)?(\d+\s?[a-zA-Z]?(?:\s?[-–]\s?\d+[a-zA-Z]?)?)"
    r"(?:\s*(?:/|\s(?:m|lok|lokal|mieszk)\.?\s*)\s*(\d+[a-zA-Z]?))?\s*$",
    re.IGNORECASE,
)
_HINT_RE = re.compile(
    r"^(gm|gmina|pow|powiat|woj|województwo|wojewodztwo)\.?\s+(.+)$", re.IGNORECASE
)
_COUNTRY = {"polska", "poland", "pl", "rp", "rzeczpospolita polska"}
MAX_INPUT = 500   # longer strings are not addresses; parse a prefix instead of burning time on them


@dataclass
class ParsedAddress:
    raw: str
    street: str | None = None        # "ul. Józefińska" (canonical prefix) or "Rynek" (no prefix)
    building: str | None = None      # "14", "8a", "7-9"
    flat: str | None = None
    postal_code: str | None = None   # "30-529"
    locality: str | None = None      # the place itself ("Bytoń"); the post town when nothing better
    post_town: str | None = None     # the town after the postal code
    gmina_hint: str | None = None
    powiat_hint: str | None = None
    woj_hint: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.street or self.postal_code or self.locality or self.gmina_hint)

    def key(self) -> str:
        """Normalised form used as a cache key: folded parts, in a fixed order."""
        parts = (self.street, self.building, self.postal_code, self.locality, self.post_town,
                 self.gmina_hint, self.woj_hint)
        return "|".join(fold(p) for p in parts)


def normalise_postal_code(text: str | None) -> str | None:
    match = POSTAL_RE.search(text or "")
    return f"{match.group(1)}-{match.group(2)}" if match else None


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).strip(" ,;.-")


def _split_segments(text: str) -> list[str]:
    segments = []
    for part in re.split(r"[,;\n]+", text):
        segments.extend(_MID_PREFIX_RE.split(part))
    return [s for s in (_clean(p) for p in segments) if s]


def _street_name(text: str) -> tuple[str, bool]:
    """'ul.Józefińska' -> ('ul. Józefińska', True); 'Rynek' -> ('Rynek', False)."""
    match = _PREFIX_RE.match(text)
    if not match:
        return text, False
    rest = text[match.end():].strip()
    return f"{_PREFIXES[match.group(1).lower()]} {rest}", True


def _split_number(text: str) -> tuple[str, str | None, str | None]:
    match = _NUMBER_RE.search(text)
    if not match or not text[: match.start()].strip():
        return text, None, None
    building = re.sub(r"\s+", "", match.group(1))
    return text[: match.start()].strip(), building, match.group(2)


def _take_postal(segments: list[str], out: ParsedAddress) -> list[str]:
    """Find the postal code; the words after it (or before it) in its segment are the post town."""
    rest: list[str] = []
    for seg in segments:
        match = POSTAL_RE.search(seg) if out.postal_code is None else None
        if not match:
            rest.append(seg)
            continue
        out.postal_code = f"{match.group(1)}-{match.group(2)}"
        before, after = _clean(seg[: match.start()]), _clean(seg[match.end():])
        if after:
            town, building, _flat = _split_number(after)
            out.post_town = town
            if before:
                rest.append(before)
            if building:
                rest.append(after)          # "88-231 Bytoń 72": the town with a house number
        elif before and not _NUMBER_RE.search(" " + before) and not _PREFIX_RE.match(before):
            out.post_town = before          # "Kraków 30-529"
        elif before:
            rest.append(before)
    return rest


def _apply_hint(seg: str, out: ParsedAddress) -> bool:
    match = _HINT_RE.match(seg)
    if not match:
        return False
    kind, value = match.group(1).lower(), match.group(2).strip()
    if kind.startswith("gm"):
        out.gmina_hint = value
    elif kind.startswith("pow"):
        out.powiat_hint = value
    else:
        out.woj_hint = value
    return True


@lru_cache(maxsize=1)
def _wojewodztwa() -> frozenset[str]:
    return frozenset(fold(w.name) for w in voivodeships())


def _is_wojewodztwo(seg: str) -> bool:
    return fold(seg) in _wojewodztwa()


def _apply_segment(seg: str, out: ParsedAddress) -> None:
    if _is_wojewodztwo(seg):
        out.woj_hint = out.woj_hint or seg          # "Bolesławiec, dolnośląskie"
        return
    name, building, flat = _split_number(seg)
    name, prefixed = _street_name(name)
    if building is None and not prefixed:
        if out.locality is None and not out.post_town:
            out.locality = name
        elif out.street is None and fold(name) not in (fold(out.locality), fold(out.post_town)):
            out.street = name
        return
    town = out.locality or out.post_town
    if not prefixed and (town is None or fold(name) == fold(town)):
        out.locality = out.locality or name          # rural "Bytoń 72"
    elif out.street is None:
        out.street = name
    else:
        return                                       # a second street: keep the first one
    if building and out.building is None:
        out.building, out.flat = building, flat


def parse_address(raw: str | None) -> ParsedAddress:
    """Split a Polish address into parts. Never raises; unknown parts stay None."""
    raw = raw or ""
    out = ParsedAddress(raw=raw)
    segments = [s for s in _split_segments(raw[:MAX_INPUT]) if fold(s) not in _COUNTRY]
    for seg in _take_postal(segments, out):
        if not _apply_hint(seg, out) and re.search(r"\w", seg):
            _apply_segment(seg, out)
    if out.locality is None:
        out.locality = out.post_town
    return out


# -- formatting: the one way every output (pages, API, resolve, HSDS, CSV) writes an address -------------

class AddressParts(Protocol):
    street: str | None
    building: str | None
    flat: str | None
    postal_code: str | None
    locality: str | None
    address_raw: str | None


def street_line(a: AddressParts) -> str:
    """'ul. Rynek 8', '12/3'; a rural address without a street is written 'Bytoń 72' (village + number)."""
    first = a.street or (a.locality if a.building else None)
    line = " ".join(p for p in (first, a.building) if p)
    return f"{line}/{a.flat}" if a.flat and line else line


def format_address(a: AddressParts) -> str:
    """'ul. Rynek 8, 15-950 Białystok', 'Bytoń 72, 88-231 Bytoń'; the source's raw text when no part is known."""
    town = " ".join(p for p in (a.postal_code, a.locality) if p)
    parts = [p for p in (street_line(a), town) if p]
    return ", ".join(parts) if parts else (a.address_raw or "")
