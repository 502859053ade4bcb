"""Readers for the register documents of Polish offices (HTML, PDF, DOCX, XLSX, XLS, DOC, ODS, CSV) and the
mapping of their tables to normalised register rows.

    read_tables(data, filename="", content_type="") -> list[Table]
    parse_register(data, filename, kind, today=None) -> list[RegisterRow]
    UnreadableDocument: raised with a plain-Polish reason (scan without text, password, broken file, …)

The names are loaded on first use (PEP 562): `scrapers.documents.textfix`, the one text decoder, is
imported by the HTTP client, which must not pay for the PDF and spreadsheet libraries."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapers.documents.reader import detect_format, read_tables
    from scrapers.documents.registers import KINDS, RegisterRow, parse_register
    from scrapers.documents.tables import Row, Table, UnreadableDocument

_EXPORTS = {
    "detect_format": "reader", "read_tables": "reader", "KINDS": "registers", "RegisterRow": "registers",
    "parse_register": "registers", "Row": "tables", "Table": "tables", "UnreadableDocument": "tables",
}
__all__ = [
    "KINDS", "RegisterRow", "Row", "Table", "UnreadableDocument", "detect_format", "parse_register",
    "read_tables",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
