"""OpenDocument tables (ODS sheets, and tables inside ODT) via odfpy.

Spreadsheets compress runs with number-columns-repeated / number-rows-repeated (often a trailing
run of 1 000+ empty cells); merged cells are number-*-spanned plus covered-table-cell placeholders."""
from __future__ import annotations

import io

from odf import opendocument, teletype
from odf.namespaces import TABLENS, TEXTNS

from scrapers.documents.tables import Table, clean_cell, expand_spans

_ROW = (TABLENS, "table-row")
_CELL = (TABLENS, "table-cell")
_COVERED = (TABLENS, "covered-table-cell")
_ROW_GROUPS = {(TABLENS, n) for n in ("table-header-rows", "table-rows", "table-row-group")}
_MAX_REPEAT = 10_000   # a repeat that large is always filler


def read_ods(data: bytes) -> list[Table]:
    document = opendocument.load(io.BytesIO(data))
    tables = [_read_table(t) for t in _tables(document.body)]
    return [t for t in tables if t]


def _tables(element) -> list:
    found = []
    for child in element.childNodes:
        if getattr(child, "qname", None) == (TABLENS, "table"):
            found.append(child)
        elif child.nodeType == child.ELEMENT_NODE:
            found.extend(_tables(child))
    return found


def _row_elements(element) -> list:
    rows = []
    for child in element.childNodes:
        qname = getattr(child, "qname", None)
        if qname == _ROW:
            rows.append(child)
        elif qname in _ROW_GROUPS:
            rows.extend(_row_elements(child))
    return rows


def _read_table(table) -> Table:
    cells: list[tuple[int, int, int, int, str]] = []
    row_index = 0
    pending_rows = 0   # empty repeated rows, materialised only if content follows
    for row in _row_elements(table):
        repeat = _int(row.getAttrNS(TABLENS, "number-rows-repeated"))
        row_cells = _read_row(row)
        if not row_cells:
            pending_rows += repeat
            continue
        row_index += pending_rows
        pending_rows = 0
        for _ in range(min(repeat, _MAX_REPEAT)):
            cells.extend((row_index, col, rs, cs, text) for col, rs, cs, text in row_cells)
            row_index += 1
    return expand_spans(cells)


def _read_row(row) -> list[tuple[int, int, int, str]]:
    """Non-empty cells of one row as (column, rowspan, colspan, text)."""
    out = []
    col = 0
    for cell in row.childNodes:
        if getattr(cell, "qname", None) not in (_CELL, _COVERED):
            continue
        repeat = _int(cell.getAttrNS(TABLENS, "number-columns-repeated"))
        text = _cell_text(cell) if cell.qname == _CELL else ""
        if text:
            rowspan = _int(cell.getAttrNS(TABLENS, "number-rows-spanned"))
            colspan = _int(cell.getAttrNS(TABLENS, "number-columns-spanned"))
            for offset in range(min(repeat, _MAX_REPEAT)):
                out.append((col + offset, rowspan, colspan, text))
        col += repeat
    return out


def _cell_text(cell) -> str:
    paragraphs = [teletype.extractText(p) for p in cell.childNodes if getattr(p, "qname", None) in ((TEXTNS, "p"), (TEXTNS, "h"))]
    return clean_cell("\n".join(paragraphs))


def _int(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1
