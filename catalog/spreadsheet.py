"""Cells that a spreadsheet program must read as text, never as a formula (CSV/formula injection).

Spreadsheets (Excel, LibreOffice Calc, Google Sheets) evaluate a cell that starts with `=`, `+`, `-` or `@`
(and, on import, one that starts with a tab or carriage return): a scraped name such as
`=HYPERLINK("http://x","y")` would become a live link or worse in an adviser's sheet. Following OWASP
("CSV Injection"), such a cell gets a leading apostrophe, which every spreadsheet treats as "this is text".

The choice for phones: `+48 85 718 81 00` becomes `'+48 85 718 81 00`. A person still reads it as a phone
number (Excel and Calc hide the apostrophe when it is typed, and show it harmlessly on CSV import); without
the apostrophe a spreadsheet would turn it into the number 4885718810 or the formula `+48 85…` anyway.

The trigger is looked for after leading spaces and invisible characters (zero-width, bidi controls, BOM),
because some programs trim those on import and then see the formula. Numbers, booleans and None are left
alone: only text can carry a formula.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Leading characters that are skipped (or trimmed by importers) before a spreadsheet looks for a formula.
_INVISIBLE = "\u0020\u00a0\u180e\u200b-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff"
_FORMULA_START = re.compile(f"^[{_INVISIBLE}]*[=+\\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r\n]")


def is_formula_like(value: str) -> bool:
    """True when a spreadsheet could read this text as a formula (also full-width =, +, -, @)."""
    return bool(_FORMULA_START.match(value))


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet-inert cell: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a csv.writer row made inert."""
    return [safe_cell(v) for v in values]


def safe_mapping(row: Mapping[str, Any]) -> dict[str, Any]:
    """Every value of a csv.DictWriter row made inert (keys are our own column names)."""
    return {k: safe_cell(v) for k, v in row.items()}


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(header: list[str], rows: Iterable[Iterable[Any]], title: str) -> bytes:
    """An .xlsx workbook of one sheet: opens as columns in any Excel locale (a CSV's separator depends on
    the reader's regional settings; Polish Excel expects ';').

    Every text cell is written with the string type, so a scraped `=HYPERLINK(…)` is shown exactly as
    written and can never become a formula; no apostrophe is needed. Numbers stay numbers."""
    import io

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])   # Excel's limit on sheet names

    def cell(value: Any) -> WriteOnlyCell:
        if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
            out = WriteOnlyCell(sheet, value="" if value is None else str(value))
            out.data_type = "s"   # text, whatever it starts with
            return out
        return WriteOnlyCell(sheet, value=value)

    sheet.append([cell(h) for h in header])
    for row in rows:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
