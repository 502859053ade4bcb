"""XLSX sheets (openpyxl); merged ranges get the top-left value in every covered cell."""
from __future__ import annotations

import io
from datetime import date, datetime, time

import openpyxl

from scrapers.documents.tables import Table, clean_cell, finish_table


def read_xlsx(data: bytes) -> list[Table]:
    # Not read-only: merged ranges are only available on normal worksheets.
    workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    try:
        return [t for t in (_read_sheet(ws) for ws in workbook.worksheets) if t]
    finally:
        workbook.close()


def _read_sheet(ws) -> Table:
    # A styled cell far below the data makes max_row huge; bound the range by cells that hold values.
    filled = [key for key, cell in ws._cells.items() if cell.value is not None]
    if not filled:
        return []
    last_row = max(r for r, _ in filled)
    last_col = max(c for _, c in filled)
    rows = [[cell_text(value) for value in row]
            for row in ws.iter_rows(min_row=1, max_row=last_row, max_col=last_col, values_only=True)]
    for merged in ws.merged_cells.ranges:
        top = merged.min_row - 1
        left = merged.min_col - 1
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for r in range(top, min(merged.max_row, len(rows))):
            for c in range(left, min(merged.max_col, len(rows[r]))):
                rows[r][c] = value
    return finish_table(rows)


def cell_text(value: object) -> str:
    """Spreadsheet value as the text a reader sees: dates as dd.mm.yyyy, whole floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y") if value.time() == time(0, 0) else value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_cell(value)
