"""HTML tables (BIP pages, gov.pl pages, HTML exports) with rowspan/colspan expanded."""
from __future__ import annotations

import re

import lxml.html
from lxml import etree

from scrapers.documents.tables import Table, clean_cell, expand_spans
from scrapers.documents.textfix import decode_bytes

_BLOCK_TAGS = ("br", "p", "div", "li", "tr")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def read_html(data: bytes) -> list[Table]:
    text, _ = decode_bytes(data)
    text = _XML_DECLARATION.sub("", text, count=1)   # lxml refuses str input that declares an encoding
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"nieczytelny HTML: {exc}") from exc
    tables = []
    for table in root.iter("table"):
        if table.find(".//table") is not None:   # layout table wrapping the real one
            continue
        parsed = _read_table(table)
        if parsed:
            tables.append(parsed)
    return tables


def _read_table(table: etree._Element) -> Table:
    cells: list[tuple[int, int, int, int, str]] = []
    taken: set[tuple[int, int]] = set()   # slots already covered by a rowspan from above
    for row_index, tr in enumerate(_rows(table)):
        col = 0
        for td in tr:
            if td.tag not in ("td", "th"):
                continue
            while (row_index, col) in taken:
                col += 1
            rowspan, colspan = _span(td.get("rowspan")), _span(td.get("colspan"))
            for r in range(row_index, row_index + rowspan):
                for c in range(col, col + colspan):
                    taken.add((r, c))
            cells.append((row_index, col, rowspan, colspan, _cell_text(td)))
            col += colspan
    return expand_spans(cells)


def _rows(table: etree._Element) -> list[etree._Element]:
    """Rows of this table only (thead/tbody/tfoot included, nested tables excluded)."""
    rows = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child if tr.tag == "tr")
    return rows


def _span(value: str | None) -> int:
    try:
        return min(max(int(value or 1), 1), 1000)   # guard against "colspan=65535" typos
    except ValueError:
        return 1


def _cell_text(td: etree._Element) -> str:
    parts: list[str] = []
    _collect(td, parts)
    return clean_cell("".join(parts))


def _collect(element: etree._Element, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        if not isinstance(child.tag, str):   # comments, processing instructions
            if child.tail:
                parts.append(child.tail)
            continue
        if child.tag in _BLOCK_TAGS:
            parts.append("\n")
        _collect(child, parts)
        if child.tag in _BLOCK_TAGS and child.tag != "br":
            parts.append("\n")
        if child.tail:
            parts.append(child.tail)
