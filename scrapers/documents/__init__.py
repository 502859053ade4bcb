"""Readers for the register documents of Polish offices (HTML, PDF, DOCX, XLSX, XLS, DOC, ODS, CSV) and the
mapping of their tables to normalised register rows.

    read_tables(data, filename="", content_type="") -> list[Table]
    parse_register(data, filename, kind, today=None) -> list[RegisterRow]
    UnreadableDocument: raised with a plain-Polish reason (scan without text, password, broken file, …)
"""
from __future__ import annotations

from scrapers.documents.reader import detect_format, read_tables
from scrapers.documents.registers import KINDS, RegisterRow, parse_register
from scrapers.documents.tables import Row, Table, UnreadableDocument

__all__ = [
    "KINDS", "RegisterRow", "Row", "Table", "UnreadableDocument", "detect_format", "parse_register",
    "read_tables",
]
