"""KRS / NIP / REGON: checked with python-stdnum; an invalid value is kept raw with a warning."""
from __future__ import annotations

import re

from stdnum.pl import nip as stdnum_nip
from stdnum.pl import regon as stdnum_regon

_VALIDATORS = {
    "nip": lambda digits: len(digits) == 10 and stdnum_nip.is_valid(digits),
    "regon": lambda digits: len(digits) in (9, 14) and stdnum_regon.is_valid(digits),
}
# "NIP: 123-456-32-18", "KRS 0000123456", "REGON 123456785" inside free text.
_LABELLED = re.compile(r"\b(KRS|NIP|REGON)\b[\s:.\-]*(?:nr\.?\s*)?((?:PL)?[\d][\d\s\-]{5,20}\d)", re.IGNORECASE)


def check_identifier(kind: str, raw: str | None) -> tuple[str | None, str | None]:
    """(value, warning). Valid -> compact digits; invalid -> the raw text and a warning in Polish."""
    if not raw or not raw.strip():
        return None, None
    digits = re.sub(r"\D", "", raw)
    if kind == "krs" and digits and len(digits) <= 10:   # KRS has no checksum; leading zeros are often lost
        return digits.zfill(10), None
    if kind in _VALIDATORS and _VALIDATORS[kind](digits):
        return digits, None
    return raw.strip(), f"nieprawidłowy numer {kind.upper()}: {raw.strip()}"


def find_labelled(text: str | None) -> dict[str, str]:
    """Identifiers named in free text: {"krs": "...", "nip": "...", "regon": "..."} (raw strings)."""
    found: dict[str, str] = {}
    for label, value in _LABELLED.findall(text or ""):
        found.setdefault(label.lower(), value.strip())
    return found


def strip_labelled(text: str) -> str:
    """The text without its "NIP: ..." / "KRS ..." parts (they are kept in their own fields)."""
    return " ".join(_LABELLED.sub(" ", text).split()).strip(" ,;")
