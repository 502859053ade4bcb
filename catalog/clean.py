"""Ingest-time text cleaning: every textual value of every SourceItem passes here once, before the merge.

What a source says is untrusted. Before it reaches the catalog (and from there pages, the API, exports,
maps and the search index) each string is:

* NFC-normalised (a decomposed "a" + ogonek becomes "ą"; Polish letters are never removed);
* stripped of C0/C1 control characters (NUL included) and of lone surrogates; in single-line fields
  line breaks and tabs become spaces, in multi-line fields (MULTILINE_FIELDS) they are kept;
* stripped of invisible bidirectional controls (embeddings, overrides, isolates, marks) and of
  zero-width/BOM characters, which can make a name display as something else;
* whitespace-collapsed (any run of Unicode spaces is one space; trimmed);
* capped at a sensible length per field (CAPS, else DEFAULT_CAP), with a warning for the run.

The raw bytes stay untouched in the stored capture (RawCapture); SourceItem.raw only loses NUL, which
PostgreSQL cannot store in text."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from typing import Any

from catalog.records import SourceItem

# Bidi embeddings/overrides (U+202A–U+202E), isolates (U+2066–U+2069), LRM/RLM/ALM marks, and
# zero-width space, word joiner, BOM and soft hyphen: invisible characters with no place in a directory.
INVISIBLE = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c", "\u200b", "\u2060", "\ufeff", "\u00ad"]
)
_LINE_BREAKS = frozenset("\n\r\t\v\f\x85\u2028\u2029")

MULTILINE_FIELDS = frozenset({"notes"})

# Longest value kept per field (characters). The longest real Polish institution names are ~200
# characters; anything far beyond is garbage or an attack, not a name.
CAPS: dict[str, int] = {
    "name": 300, "operator_name": 300, "type_raw": 200, "register_number": 100, "decision_number": 200,
    "street": 200, "building": 30, "flat": 30, "postal_code": 20, "locality": 120, "address_raw": 500,
    "phones_raw": 500, "email": 254, "www": 2048, "notes": 5000,
    "rjps_id": 40, "krs": 40, "nip": 40, "regon": 40, "operator_krs": 40, "operator_nip": 40,
    "operator_regon": 40, "woj_teryt": 10, "powiat_teryt": 10, "gmina_id6": 10,
}
DEFAULT_CAP = 300    # other fields and strings nested in lists/dicts (phones, partners, tags)
ELLIPSIS = "…"

_SPACES_IN_LINE = re.compile(r"[^\S\n]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(value: str, field: str = "", multiline: bool | None = None) -> tuple[str, list[str]]:
    """The cleaned string and what was done to it (short English notes for the operator; empty: nothing)."""
    multiline = field in MULTILINE_FIELDS if multiline is None else multiline
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n")
    kept: list[str] = []
    removed: set[str] = set()
    for ch in text:
        if ch in _LINE_BREAKS:
            kept.append(_line_break(ch, multiline))
        elif ch in INVISIBLE:
            removed.add("bidi/invisible")
        elif unicodedata.category(ch) in ("Cc", "Cs"):
            removed.add("control")
        else:
            kept.append(ch)
    text = _collapse("".join(kept), multiline)
    notes = [f"removed {kind} characters" for kind in sorted(removed)]
    cap = CAPS.get(field, DEFAULT_CAP)
    if len(text) > cap:
        notes.append(f"cut from {len(text)} to {cap} characters")
        text = text[: cap - 1].rstrip() + ELLIPSIS
    return text, notes


def _line_break(ch: str, multiline: bool) -> str:
    """Single-line fields: a space (so "ul. Rynek\\n8" stays two words). Multi-line: tab or newline."""
    if not multiline:
        return " "
    return "\t" if ch == "\t" else "\n"


def _collapse(text: str, multiline: bool) -> str:
    if not multiline:
        return " ".join(text.split())
    lines = [_SPACES_IN_LINE.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_value(value: Any, field: str) -> tuple[Any, list[str]]:
    """Strings anywhere inside a field value (lists, dicts) cleaned; other types returned as they are."""
    if isinstance(value, str):
        return clean_text(value, field)
    if isinstance(value, list):
        out, notes = [], []
        for element in value:
            cleaned, element_notes = clean_value(element, f"{field}[]")
            if cleaned != "":   # a tag that was only invisible characters is no tag
                out.append(cleaned)
            notes += element_notes
        return out, notes
    if isinstance(value, dict):
        out_dict, notes = {}, []
        for key, element in value.items():
            cleaned, element_notes = clean_value(element, f"{field}.{key}")
            out_dict[key] = cleaned
            notes += element_notes
        return out_dict, notes
    return value, []


def clean_item(item: SourceItem) -> tuple[SourceItem, list[dict[str, str]]]:
    """A copy of the item with every textual field cleaned, and one note per field that was altered
    beyond whitespace ({"where": "<source> <key>", "message": "<field>: ..."}) for the run."""
    fields: dict[str, Any] = {}
    notes: list[dict[str, str]] = []
    where = f"{item.source} {item.source_key}"
    for name, value in item.fields.items():
        cleaned, field_notes = clean_value(value, name)
        fields[name] = cleaned
        for note in dict.fromkeys(field_notes):   # once per kind per field
            notes.append({"where": where, "message": f"{name}: {note}"})
    raw = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in item.raw.items()}
    return replace(item, fields=fields, raw=raw), notes
