"""Phone numbers: split a registry's phone text into numbers, normalise each to E.164, keep the raw text."""
from __future__ import annotations

import re

import phonenumbers

# Polish numbers are 9 digits; registries write them with spaces, dashes, a trunk "0", "tel." prefixes,
# several per field and extensions ("wew. 12").
# An area code in brackets, "(32) 296-21-31", keeps its opening bracket in the raw text.
_CANDIDATE = re.compile(r"(?:\+|00|\()?\d[\d\s\-/().]{6,}\d")


def split_phone_text(text: str | None) -> list[str]:
    """'tel. 85 7188100 85 7188118' -> ['85 7188100', '85 7188118']."""
    if not text:
        return []
    numbers: list[str] = []
    for match in _CANDIDATE.finditer(text):
        numbers.extend(_split_run(match.group(0).strip()))
    return numbers


def _split_run(run: str) -> list[str]:
    digits = re.sub(r"\D", "", run)
    if run.startswith(("+", "00")) or len(digits) <= 11:
        return [run]
    # A run of several numbers separated only by spaces: cut it at group boundaries into 9/10-digit pieces.
    pieces, current = [], ""
    for group in run.split():
        candidate = (current + " " + group).strip()
        if len(re.sub(r"\D", "", candidate)) > 10 and current:
            pieces.append(current)
            current = group
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def normalise_phones(text: str | None) -> list[dict[str, str | None]]:
    """Each number as {"raw": ..., "e164": ... or None when it is not a valid Polish/international number}."""
    out = []
    for raw in split_phone_text(text):
        e164 = None
        digits = re.sub(r"\D", "", raw)
        # An old trunk prefix ("024 356 29 09") is not part of a Polish number today.
        candidate = digits[1:] if len(digits) == 10 and digits.startswith("0") and not raw.startswith("00") else raw
        try:
            parsed = phonenumbers.parse(candidate, "PL")
            if phonenumbers.is_valid_number(parsed):
                e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
        out.append({"raw": raw, "e164": e164})
    return out
