"""Small helpers shared by the list adapters (OWES, PUP): decoding exports, header mapping by Polish
labels, HTML/CSV tables as header->cell dicts, Polish dates. Register documents of the wojewodas go
through scrapers.documents instead; these lists are simple one-header tables."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import ftfy
from bs4 import BeautifulSoup
from charset_normalizer import from_bytes

from scrapers.service_area import fold


def decode(data: bytes) -> str:
    """UTF-8 when valid (BOM dropped), else the detected legacy encoding (CP1250 is common), mojibake fixed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(data, cp_isolation=["cp1250", "iso8859_2", "cp1252"]).best()
        text = str(best) if best is not None else data.decode("cp1250", errors="replace")
    return ftfy.fix_text(text, uncurl_quotes=False)


def looks_like_html(text: str) -> bool:
    return bool(re.match(r"\s*(<!doctype|<html|<table|<\?xml|<div|<body)", text, re.IGNORECASE))


def map_headers(headers: list[str], rules: list[tuple[str, str]]) -> dict[int, str]:
    """Column index -> field name: the first rule whose regex matches the folded header wins;
    each field is taken by its first column only."""
    out: dict[int, str] = {}
    for i, header in enumerate(headers):
        folded = fold(header)
        for name, pattern in rules:
            if name not in out.values() and re.search(pattern, folded):
                out[i] = name
                break
    return out


def csv_rows(text: str) -> list[list[str]]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]


def html_tables(text: str) -> list[list[list[str]]]:
    """Every <table> as rows of cell texts (line breaks inside a cell kept as '\\n')."""
    soup = BeautifulSoup(text, "lxml")
    tables = []
    for table in soup.find_all("table"):
        rows = []
        for tr in table.find_all("tr"):
            cells = [_cell_text(td) for td in tr.find_all(["td", "th"])]
            if any(cells):
                rows.append(cells)
        if rows:
            tables.append(rows)
    return tables


def _cell_text(cell) -> str:
    for br in cell.find_all("br"):
        br.replace_with("\n")
    for li in cell.find_all("li"):
        li.insert_after("\n")
    lines = (" ".join(line.split()) for line in cell.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


def records(rows: list[list[str]], rules: list[tuple[str, str]], required: str = "name") -> list[dict]:
    """Rows under the first row that maps `required` -> dicts field -> text, plus '_raw' (header -> text)."""
    for start, header in enumerate(rows):
        mapping = map_headers(header, rules)
        if required in mapping.values():
            break
    else:
        return []
    out = []
    for row in rows[start + 1:]:
        record = {name: row[i].strip() for i, name in mapping.items() if i < len(row) and row[i].strip()}
        if record.get(required):
            record["_raw"] = {header[i]: row[i] for i in range(min(len(header), len(row)))}
            out.append(record)
    return out


_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})|(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str | None) -> date | None:
    """'12.03.2021 r.' / '2021-03-12' -> date; None when absent or impossible."""
    m = _DATE.search(text or "")
    if not m:
        return None
    d, mth, y = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(5), m.group(4))
    try:
        return date(int(y), int(mth), int(d))
    except ValueError:
        return None


def split_list(text: str | None) -> list[str]:
    """A cell listing several names, one per line or separated by ';' / '|'."""
    return [part.strip(" ,.") for part in re.split(r"\s*(?:\n|;|\|)\s*", text or "") if part.strip(" ,.")]
