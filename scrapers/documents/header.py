"""Finding the header row(s) of a register table and telling data rows from the rest."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from scrapers.documents import columns as col
from scrapers.documents.tables import Row, Table

_MAX_HEADER_SCAN = 25     # title rows, office letterheads, notes above the table
_MAX_HEADER_ROWS = 3
_AS_OF_DATE = re.compile(r"\b(?:wg\.?|według|stan\w*\s+na(?:\s+dzień)?|na\s+dzień)\s*\d{1,2}[.\-/]\d{1,2}[.\-/]\d{4}",
                         re.IGNORECASE)
_DATA_LIKE = re.compile(r"\d{1,2}[.\-/]\d{1,2}[.\-/]\d{4}|\d{4}-\d{2}-\d{2}|@|\d{7,}|\d{2}-\d{3}\b"
                        r"|\b\d{2,3}[ -]\d{3}[ -]\d{2,3}\b|\b\d{2}\s?-\s\d{3}\b")   # phones, "32- 436" postcodes


@dataclass
class Header:
    start: int                 # index of the first header row
    end: int                   # index after the last header row (and after a column-number row)
    labels: list[str]          # combined label per column ("Instytucja tworząca / NIP")
    fields: list[str | None]   # mapped field per column
    rows: list[Row]            # the header rows as found, to skip their repetitions on later pages
    groups: dict[str, list[int]] = field(default_factory=dict)   # count field -> its month columns

    def column(self, field: str) -> int | None:
        return self.fields.index(field) if field in self.fields else None


def row_score(row: Row) -> int:
    """How many distinct known fields a row's cells name; a header row names several."""
    row = [_AS_OF_DATE.sub(" ", cell) for cell in row]   # "wolne miejsca wg. 31.05.2026" is still a label
    if any(_DATA_LIKE.search(cell) for cell in row):
        return 0
    fields = {col.map_label(cell) for cell in row if cell}
    fields.discard(None)
    return len(fields) if fields & col.ENTITY_FIELDS else 0


def find_header(table: Table, start: int = 0, limit: int = _MAX_HEADER_SCAN) -> Header | None:
    for index in range(start, min(len(table), start + limit)):
        if row_score(table[index]) >= 2:
            return _grow(table, index)
    return None


def _grow(table: Table, start: int) -> Header:
    """Take the child rows of a multi-row header: merged parent cells repeat across or down."""
    end = start + 1
    while end < len(table) and end - start < _MAX_HEADER_ROWS and _continues_header(table[end - 1], table[end]):
        end += 1
    rows = table[start:end]
    labels = [_combine([row[c] for row in rows]) for c in range(len(table[start]))]
    while end < len(table) and (is_column_numbers(table[end]) or is_numbering_row(table[end], table[end - 1])):
        rows = rows + [table[end]]   # "I II III … XII" under a merged "Liczba mieszkańców": month columns
        end += 1
    return Header(start, end, labels, col.map_header(labels), rows, _groups(labels))


def _groups(labels: list[str]) -> dict[str, list[int]]:
    """Columns under one merged parent label ("Liczba wolnych miejsc" over months I–XII) per count field."""
    groups: dict[str, list[int]] = {}
    first: dict[str, str] = {}
    for index, label in enumerate(labels):
        name = col.map_label(label) if label else None
        if name in col.COUNT_FIELDS and first.setdefault(name, label) == label:
            groups.setdefault(name, []).append(index)
    return groups


_ROMAN_OR_NUMBER = re.compile(r"(?:[IVXLC]{1,5}|\d{1,2})\.?", re.IGNORECASE)


def is_numbering_row(row: Row, above: Row) -> bool:
    """A row under the header that numbers columns (1 2 3 or I II III), repeating merged labels elsewhere."""
    numbered = [cell for cell, parent in zip(row, above, strict=False) if cell and cell != parent]
    return len(numbered) >= 2 and all(_ROMAN_OR_NUMBER.fullmatch(cell) for cell in numbered)


def _continues_header(parent: Row, child: Row) -> bool:
    if any(_DATA_LIKE.search(cell) for cell in child) or child == parent or not any(child):
        return False
    merged = any(a and a == b for a, b in pairwise(parent)) or any(a and a == b for a, b in zip(parent, child, strict=False))
    if not merged:
        return False
    differing = [c for p, c in zip(parent, child, strict=False) if c and c != p]
    if not differing or any(len(c) > 60 or re.fullmatch(r"[\d.\s]+", c) for c in differing):
        return False
    # Child labels are short words ("nazwa", "NIP", "z dnia"); most of them name a field.
    return 2 * sum(1 for c in differing if col.map_label(c)) >= len(differing)


def _combine(labels: list[str]) -> str:
    parts: list[str] = []
    for label in labels:
        label = " ".join(label.split())
        if label and label not in parts:
            parts.append(label)
    return " / ".join(parts)


def is_column_numbers(row: Row) -> bool:
    """The "1 2 3 4 …" row many offices put under the header."""
    values = [cell for cell in row if cell]
    return len(values) >= 2 and all(re.fullmatch(r"\d{1,2}\.?", v) for v in values) and len(set(values)) == len(values)


_EMAIL_LIKE = re.compile(r"[\w.+\-]+@[\w\-]+\.\w")
_POSTAL_LIKE = re.compile(r"\b\d{2}\s?-\s?\d{3}\s+\w")
_HEAD_LIKE = re.compile(r"\((?:p\.?\s?o\.?\s*)?(?:kierownik|dyrektor)\w*\)", re.IGNORECASE)
_MIN_DATA_ROWS = 3


def infer_header(table: Table) -> Header | None:
    """A table with no header row (a .doc list: lp | name and address | phone | e-mail | head): each column's
    field from what its cells hold. Needs a column of names with postal addresses to be a list at all."""
    data = [(i, row) for i, row in enumerate(table) if len({cell for cell in row if cell}) >= 3]
    if len(data) < _MIN_DATA_ROWS:
        return None
    width = len(table[0])
    fields: list[str | None] = []
    for c in range(width):
        values = [row[c] for _, row in data if row[c]]
        fields.append(_field_by_content(values, len(data)) if values else None)
    if col.NAME_ADDRESS not in fields:
        return None
    start = data[0][0]
    seen: set[str] = set()
    fields = [f if f and not (f in seen or seen.add(f)) else None for f in fields]
    return Header(start, start, [""] * width, fields, [])


def _field_by_content(values: list[str], rows: int) -> str | None:
    def share(pattern: re.Pattern[str]) -> float:
        return sum(1 for v in values if pattern.search(v)) / rows
    if share(_EMAIL_LIKE) >= 0.5:
        return col.EMAIL
    if share(_POSTAL_LIKE) >= 0.5:
        return col.NAME_ADDRESS
    if share(_HEAD_LIKE) >= 0.5:
        return col.HEAD
    phone_like = sum(1 for v in values if len(re.sub(r"\D", "", v)) >= 9 and not re.search(r"[a-zA-Z]{4}", v))
    if phone_like / rows >= 0.5:
        return col.PHONE
    if all(re.fullmatch(r"\d{1,4}\.?", v) for v in values):
        return col.LP
    return None
