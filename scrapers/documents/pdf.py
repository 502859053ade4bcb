"""PDF tables from the text layer (pdfplumber). A PDF without any text is a scan: we say so, never skip it."""
from __future__ import annotations

import io

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from scrapers.documents.tables import Table, UnreadableDocument, clean_cell, finish_table

SCAN_MESSAGE = "PDF nie ma warstwy tekstowej (skan) — wymaga ręcznego przepisania / OCR"


def read_pdf(data: bytes) -> list[Table]:
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        if _is_password_error(exc):
            raise UnreadableDocument("PDF jest chroniony hasłem") from exc
        raise
    with pdf:
        tables: list[Table] = []
        has_text = False
        for page in pdf.pages:
            has_text = has_text or bool(page.chars)
            tolerance = _line_tolerance(page)
            for found in page.find_tables():
                tables.append(_expand(found, tolerance))
            page.flush_cache()   # keeps memory flat on long registers
        if not has_text:
            raise UnreadableDocument(SCAN_MESSAGE)
    return _join_continuations([t for t in tables if t])


def pdf_leading_text(data: bytes) -> str:
    """The first page's text above its first table (titles, "wg stanu na 27.03.2026")."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        if not pdf.pages:
            return ""
        page = pdf.pages[0]
        tables = page.find_tables()
        top = min((t.bbox[1] for t in tables), default=page.height)
        if top < 1:
            return ""
        return page.crop((0, 0, page.width, top)).extract_text() or ""


def _is_password_error(exc: Exception) -> bool:
    return any(isinstance(arg, PDFPasswordIncorrect) for arg in exc.args) or "password" in str(exc).lower()


def _line_tolerance(page) -> float:
    """How far apart (pt) two characters may sit vertically and still be one line.

    pdfplumber's default (3 pt) suits 10 pt text; offices squeeze whole sheets onto a page in 2 pt type,
    where 3 pt spans two lines and their letters get interleaved ("Intwer wBeoncchjni")."""
    sizes = sorted(char["size"] for char in page.chars[:5000])
    if not sizes:
        return 3.0
    return max(0.5, min(3.0, 0.4 * sizes[len(sizes) // 2]))


def _expand(table, tolerance: float = 3.0) -> Table:
    """pdfplumber gives None for slots covered by a merged cell: copy the merged cell's text into them."""
    # Text flow keeps each cell's characters in the order the PDF wrote them, so a wrapped line is not
    # sorted into its neighbour; the tolerances follow the type size.
    texts = table.extract(x_tolerance=tolerance, y_tolerance=tolerance, use_text_flow=True)
    xs = sorted({cell[0] for cell in table.cells})
    tops = sorted({cell[1] for cell in table.cells})
    grid = [["" for _ in xs] for _ in tops]
    for row, row_texts in zip(table.rows, texts, strict=False):
        for bbox, text in zip(row.cells, row_texts, strict=False):
            if bbox is None:
                continue
            x0, top, x1, bottom = bbox
            value = clean_cell(text)
            for r, row_top in enumerate(tops):
                if top <= row_top < bottom - 0.5:
                    for c, col_x in enumerate(xs):
                        if x0 <= col_x < x1 - 0.5:
                            grid[r][c] = value
    return finish_table(grid)


def _join_continuations(tables: list[Table]) -> list[Table]:
    """A register that runs over several pages comes out as one table per page: glue equal-width ones."""
    joined: list[Table] = []
    for table in tables:
        if joined and len(joined[-1][0]) == len(table[0]):
            joined[-1].extend(table)
        else:
            joined.append(table)
    return joined
