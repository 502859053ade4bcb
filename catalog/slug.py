"""The one slug: 'Ośrodek Wsparcia — Łódź (subregion 2)' -> 'osrodek-wsparcia-lodz-subregion-2'.

Source identities (`SourceRecord.source_key`) are built from slugs, so the rule must never change
quietly: lower case, Polish letters without diacritics (ł -> l), every other run of characters one '-'."""
from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slug(text: str | None) -> str:
    text = (text or "").replace("ł", "l").replace("Ł", "L")
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub("-", plain).strip("-")
