"""read_tables: detect a document's format (magic bytes first, then extension / content type) and read it."""
from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath

from scrapers.documents.csv import read_csv
from scrapers.documents.doc import read_doc
from scrapers.documents.docx import read_docx
from scrapers.documents.html import read_html
from scrapers.documents.ods import read_ods
from scrapers.documents.pdf import pdf_leading_text, read_pdf
from scrapers.documents.tables import Table, UnreadableDocument
from scrapers.documents.xls import read_xls
from scrapers.documents.xlsx import read_xlsx

log = logging.getLogger(__name__)

READERS: dict[str, Callable[[bytes], list[Table]]] = {
    "html": read_html, "pdf": read_pdf, "docx": read_docx, "xlsx": read_xlsx,
    "xls": read_xls, "doc": read_doc, "ods": read_ods, "odt": read_ods, "csv": read_csv,
}
FORMAT_LABELS = {
    "html": "HTML", "pdf": "PDF", "docx": "DOCX", "xlsx": "XLSX", "xls": "XLS", "doc": "DOC", "ods": "ODS",
    "odt": "ODT", "csv": "CSV",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXTENSIONS = {
    ".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx",
    ".xlsm": "xlsx", ".xls": "xls", ".doc": "doc", ".ods": "ods", ".odt": "odt", ".csv": "csv", ".txt": "csv",
    ".tsv": "csv",
}
_CONTENT_TYPES = {
    "text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf", "text/csv": "csv",
    "text/plain": "csv", "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.text": "odt",
}


def read_tables(data: bytes, filename: str = "", content_type: str = "") -> list[Table]:
    """Every table in the document, merged cells expanded; raises UnreadableDocument with the reason."""
    kind = detect_format(data, filename, content_type)
    try:
        return READERS[kind](data)
    except UnreadableDocument:
        raise
    except Exception as exc:   # any library failure on a broken file is a reason to report, not a crash
        log.debug("reading %s as %s failed", filename, kind, exc_info=True)
        raise UnreadableDocument(f"uszkodzony lub nieczytelny plik {FORMAT_LABELS[kind]}: {_reason(exc)}") from exc


def read_leading_text(data: bytes, filename: str = "", content_type: str = "") -> str:
    """Text a document prints above its first table (a PDF's title with "wg stanu na …"), or "".

    Spreadsheets and .doc files keep their titles inside the table, so only PDFs need this."""
    try:
        if detect_format(data, filename, content_type) != "pdf":
            return ""
        return pdf_leading_text(data)
    except Exception:   # the title is a nicety: a document whose tables read must not fail on it
        log.debug("no leading text from %s", filename, exc_info=True)
        return ""


def detect_format(data: bytes, filename: str = "", content_type: str = "") -> str:
    if not data.strip():
        raise UnreadableDocument("plik jest pusty")
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(data)
    if head.startswith(_OLE_MAGIC):
        return _ole_format(data)
    if head.lstrip().startswith(b"{\\rtf"):
        raise UnreadableDocument("format RTF nie jest obsługiwany — zapisz dokument jako DOCX lub PDF")
    lowered = head.lower()
    if any(tag in lowered for tag in (b"<html", b"<table", b"<!doctype html", b"<body")):
        return "html"
    by_name = _EXTENSIONS.get(PurePosixPath(filename.lower()).suffix)
    by_type = _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    guess = by_name or by_type
    if guess in ("html", "csv"):
        return guess
    if guess is None and b"\x00" not in head:
        return "csv"   # plain text with no recognisable signature: try it as delimited text
    raise UnreadableDocument(f"nieobsługiwany format pliku ({filename or content_type or 'nieznany'})")


def _zip_format(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise UnreadableDocument(f"uszkodzone archiwum ZIP (DOCX/XLSX/ODS): {_reason(exc)}") from exc
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if mimetype.endswith("opendocument.spreadsheet"):
        return "ods"
    if mimetype.endswith("opendocument.text"):
        return "odt"
    raise UnreadableDocument("nieobsługiwany format pliku: archiwum ZIP bez dokumentu DOCX/XLSX/ODS")


def _ole_format(data: bytes) -> str:
    """Old Office containers: .xls and .doc (through antiword) we read; encrypted OOXML we can only name."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise UnreadableDocument("plik jest chroniony hasłem")
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    return "xls"


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
