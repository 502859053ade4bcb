"""What every reader returns (a Table: rows of cell strings) and the error for documents we cannot read."""
from __future__ import annotations

import re
import unicodedata

from scrapers.documents.textfix import fix_mojibake

Row = list[str]
Table = list[Row]

_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f\u200b\ufeff]+")


class UnreadableDocument(Exception):
    """A document we cannot turn into rows; the message says why in plain Polish words."""


def clean_cell(value: object) -> str:
    """Whitespace-normalised cell text; line breaks inside the cell are kept as "\\n"."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFC", fix_mojibake(text))
    lines = (_SPACES.sub(" ", line).strip() for line in re.split(r"\r\n|\r|\n|\u2028|\v", text))
    return "\n".join(line for line in lines if line)


def finish_table(rows: list[list[str]]) -> Table:
    """Pad rows to one width and drop trailing empty rows and columns (spreadsheets report huge ranges)."""
    while rows and not any(rows[-1]):
        rows.pop()
    width = 0
    for row in rows:
        for index in range(len(row) - 1, -1, -1):
            if row[index]:
                width = max(width, index + 1)
                break
    return [(row + [""] * (width - len(row)))[:width] for row in rows]


def expand_spans(cells: list[tuple[int, int, int, int, str]]) -> Table:
    """Build a grid from (row, col, rowspan, colspan, text) cells, copying each text into every covered slot."""
    grid: dict[tuple[int, int], str] = {}
    for row, col, rowspan, colspan, text in cells:
        for r in range(row, row + max(rowspan, 1)):
            for c in range(col, col + max(colspan, 1)):
                grid[(r, c)] = text
    if not grid:
        return []
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    return finish_table([[grid.get((r, c), "") for c in range(width)] for r in range(height)])
