"""Word 97–2003 binary .doc via Debian's antiword (`antiword -x db`: DocBook XML that keeps the tables).

Offices still publish .doc lists. The whole document becomes one Table: paragraphs between tables (a
title, "KLUB SAMOPOMOCY") and one-column table groups (a "POWIAT BRZOZOWSKI" band) become full-width rows,
the way a merged cell reads in a spreadsheet, so the section rules of registers.py apply to them."""
from __future__ import annotations

import shutil
import subprocess
import tempfile

from lxml import etree

from scrapers.documents.tables import Table, UnreadableDocument, clean_cell, finish_table

ANTIWORD = "antiword"
MISSING_MESSAGE = ("do odczytu plików DOC (Word 97–2003) potrzebny jest program antiword — zainstaluj pakiet "
                   "Debiana 'antiword' (apt-get install antiword) / antiword is required to read .doc files")
_TIMEOUT_S = 60


def read_doc(data: bytes) -> list[Table]:
    xml = _antiword_docbook(data)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(xml, parser)
    rows: list[list[str]] = []
    for element in root.iter("para", "tgroup"):
        if element.tag == "para":
            if element.getparent() is not None and element.getparent().tag == "entry":
                continue
            if element.find(".//informaltable") is not None:
                continue
            text = clean_cell(" ".join(element.itertext()))
            if text:
                rows.append([text])
        else:
            rows.extend(_tgroup_rows(element))
    width = max((len(row) for row in rows), default=0)
    table = [row * width if len(row) == 1 else row for row in rows]   # a lone cell spans the width
    table = finish_table(table)
    return [table] if table else []


def _tgroup_rows(tgroup) -> list[list[str]]:
    out = []
    for row in tgroup.iter("row"):
        out.append([clean_cell("\n".join(line.strip() for line in "".join(entry.itertext()).splitlines()))
                    for entry in row.findall("entry")])
    return out


def _antiword_docbook(data: bytes) -> bytes:
    binary = shutil.which(ANTIWORD)
    if binary is None:
        raise UnreadableDocument(MISSING_MESSAGE)
    # antiword reads a file (not stdin); -m UTF-8.txt keeps Polish letters.
    with tempfile.NamedTemporaryFile(suffix=".doc") as handle:
        handle.write(data)
        handle.flush()
        try:
            done = subprocess.run([binary, "-x", "db", "-m", "UTF-8.txt", handle.name], capture_output=True,
                                  timeout=_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise UnreadableDocument("antiword nie odczytał pliku DOC w wyznaczonym czasie") from exc
    if done.returncode != 0 or not done.stdout.strip():
        reason = done.stderr.decode("utf-8", "replace").strip()[:200] or f"kod {done.returncode}"
        raise UnreadableDocument(f"uszkodzony lub nieczytelny plik DOC: {reason}")
    return done.stdout
