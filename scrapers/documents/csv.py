"""CSV / plain-text exports: encoding (UTF-8, BOM, CP1250, ISO-8859-2) and delimiter are sniffed."""
from __future__ import annotations

import csv
import io

from scrapers.documents.tables import Table, clean_cell, finish_table
from scrapers.documents.textfix import decode_bytes

_DELIMITERS = ";,\t|"


def read_csv(data: bytes) -> list[Table]:
    text, _ = decode_bytes(data)
    if "\x00" in text:
        raise ValueError("plik zawiera dane binarne, a nie tekst")
    delimiter = sniff_delimiter(text)
    rows = [[clean_cell(value) for value in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    table = finish_table(rows)
    return [table] if table else []


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line when it is clear there (addresses hold commas, headers rarely)."""
    sample = text[:20_000]
    first = next((line for line in sample.splitlines() if line.strip()), "")
    counts = sorted(((first.count(d), d) for d in _DELIMITERS), reverse=True)
    if counts[0][0] >= 2 and counts[0][0] > counts[1][0]:
        return counts[0][1]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # Sniffer gives up on quoted multi-line cells: take the delimiter most frequent in the first line.
        first = sample.split("\n", 1)[0]
        return max(_DELIMITERS, key=first.count)
