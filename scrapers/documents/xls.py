"""Legacy XLS (BIFF) workbooks via xlrd 2, which reads .xls only; merged cells expanded."""
from __future__ import annotations

import xlrd

from scrapers.documents.tables import Table, finish_table
from scrapers.documents.xlsx import cell_text


def read_xls(data: bytes) -> list[Table]:
    book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    try:
        return [t for t in (_read_sheet(book, book.sheet_by_index(i)) for i in range(book.nsheets)) if t]
    finally:
        book.release_resources()


def _read_sheet(book: xlrd.Book, sheet: xlrd.sheet.Sheet) -> Table:
    rows = [[_value(book, sheet.cell(r, c)) for c in range(sheet.ncols)] for r in range(sheet.nrows)]
    for top, bottom, left, right in sheet.merged_cells:   # half-open ranges
        if top >= len(rows):
            continue
        value = rows[top][left]
        for r in range(top, min(bottom, len(rows))):
            for c in range(left, min(right, len(rows[r]))):
                rows[r][c] = value
    return finish_table(rows)


def _value(book: xlrd.Book, cell: xlrd.sheet.Cell) -> str:
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return cell_text(xlrd.xldate_as_datetime(cell.value, book.datemode))
        except (ValueError, OverflowError):
            return cell_text(cell.value)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    return cell_text(cell.value)
