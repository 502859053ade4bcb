"""DOCX tables (python-docx); merged cells (gridSpan / vMerge) come back repeated in every grid slot."""
from __future__ import annotations

import io

import docx

from scrapers.documents.tables import Table, clean_cell, finish_table


def read_docx(data: bytes) -> list[Table]:
    document = docx.Document(io.BytesIO(data))
    return [t for t in (_read_table(table) for table in document.tables) if t]


def _read_table(table) -> Table:
    # One text per underlying <w:tc>, however many slots it covers. Keyed by the element itself (not
    # id()): holding the key keeps lxml's proxy alive, so the same <w:tc> always gives the same key.
    texts: dict[object, str] = {}
    rows: list[list[str]] = []
    for row in table.rows:
        values = [""] * row.grid_cols_before
        for cell in row.cells:
            key = cell._tc
            if key not in texts:
                texts[key] = clean_cell("\n".join(p.text for p in cell.paragraphs))
            values.append(texts[key])
        rows.append(values)
    return finish_table(rows)
