"""Finding the header row(s) of a register table and telling data rows from the rest."""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from scrapers.documents import columns as col
from scrapers.documents.tables import Row, Table

_MAX_HEADER_SCAN = 25     # title rows, office letterheads, notes above the table
_MAX_HEADER_ROWS = 3
_DATA_LIKE = re.compile(r"\d{1,2}[.\-/]\d{1,2}[.\-/]\d{4}|\d{4}-\d{2}-\d{2}|@|\d{7,}|\d{2}-\d{3}\b")


@dataclass
class Header:
    start: int                 # index of the first header row
    end: int                   # index after the last header row (and after a column-number row)
    labels: list[str]          # combined label per column ("Instytucja tworząca / NIP")
    fields: list[str | None]   # mapped field per column
    rows: list[Row]            # the header rows as found, to skip their repetitions on later pages

    def column(self, field: str) -> int | None:
        return self.fields.index(field) if field in self.fields else None


def row_score(row: Row) -> int:
    """How many distinct known fields a row's cells name; a header row names several."""
    if any(_DATA_LIKE.search(cell) for cell in row):
        return 0
    fields = {col.map_label(cell) for cell in row if cell and len(cell) <= 80}
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
    if end < len(table) and is_column_numbers(table[end]):
        end += 1
    return Header(start, end, labels, col.map_header(labels), rows)


def _continues_header(parent: Row, child: Row) -> bool:
    if any(_DATA_LIKE.search(cell) for cell in child) or child == parent or not any(child):
        return False
    merged = any(a and a == b for a, b in pairwise(parent)) or any(a and a == b for a, b in zip(parent, child))
    if not merged:
        return False
    differing = [c for p, c in zip(parent, child) if c and c != p]
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
