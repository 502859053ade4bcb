"""Each reader on its fixture: merged cells expanded into every covered slot, text cleaned, formats detected."""
from __future__ import annotations

import io
import zipfile

import pytest
from reportlab.pdfgen import canvas

from scrapers.documents import UnreadableDocument, detect_format, read_tables
from scrapers.documents.pdf import SCAN_MESSAGE


def _row_starting(tables, first_cell: str) -> list[str]:
    return next(row for table in tables for row in table if row and row[0] == first_cell)


def test_html_rowspan_colspan_expanded(fixture_bytes):
    tables = read_tables(fixture_bytes("cis_register.html"), "cis_register.html")
    # The layout table around the title holds no rows of the register; the register is the widest one.
    register = max(tables, key=lambda t: len(t[0]))
    assert register[0][3:6] == ["Instytucja tworząca"] * 3          # colspan=3
    assert register[1][:3] == ["Lp.", "Nazwa centrum", "Adres siedziby"]  # rowspan=2 in the header
    second = _row_starting(tables, "2.")
    assert second[3:6] == ["Stowarzyszenie „Przykład”", "111-111-11-11", "0000000001"]  # rowspan=2 data
    first = _row_starting(tables, "1.")
    assert first[2].split("\n") == [
        "ul. Przykładowa 1", "00-000 Przykładowo", "tel. 12 345 67 89", "e-mail: cis.przykladowo@example.invalid"]
    assert register[2] == ["Centra integracji społecznej"] * 9   # section row spans every column


def test_pdf_text_layer_with_merged_header(fixture_bytes):
    [table] = read_tables(fixture_bytes("kis_register.pdf"), "kis_register.pdf")
    assert table[0][3] == table[0][4] == "Podmiot prowadzący"
    assert table[1][3:5] == ["nazwa", "KRS"]
    assert table[1][0] == "Lp." and table[1][5] == "Data wpisu\ndo rejestru"   # vertical span copied down
    assert table[2][1] == "Klub Integracji Społecznej\nw Przykładowie"
    assert len(table) == 5


def test_scanned_pdf_is_reported_not_skipped(fixture_bytes):
    with pytest.raises(UnreadableDocument) as excinfo:
        read_tables(fixture_bytes("scan_register.pdf"), "scan_register.pdf")
    assert str(excinfo.value) == SCAN_MESSAGE
    assert "warstwy tekstowej" in str(excinfo.value)


def test_password_protected_pdf():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt="tajne", invariant=1)
    pdf.drawString(100, 700, "Rejestr")
    pdf.save()
    with pytest.raises(UnreadableDocument, match="hasłem"):
        read_tables(buffer.getvalue(), "rejestr.pdf")


def test_docx_merged_header_cells(fixture_bytes):
    [table] = read_tables(fixture_bytes("cis_register.docx"), "cis_register.docx")
    assert table[0][2] == table[0][3] == "Podmiot prowadzący"         # horizontal merge
    assert table[1][0] == "Lp." and table[1][4] == "Numer i data decyzji"   # vertical merges
    assert table[1][2:4] == ["nazwa", "NIP / REGON"]
    assert table[2][1].startswith("Centrum Integracji Społecznej w Przykładowie\nul. Przykładowa 1")
    assert table[4][4] == "PS-II.9421.3.2017 z dnia 20.06.2017 r."
    assert table[3][5] == "do 07.03.2026 r."


def test_xlsx_title_rows_merged_header_and_dates(fixture_bytes):
    [table] = read_tables(fixture_bytes("kis_register.xlsx"), "kis_register.xlsx")
    assert table[0] == [table[0][0]] * 9 and table[0][0].startswith("Rejestr klubów")
    assert table[3][3:6] == ["Podmiot prowadzący"] * 3
    assert table[4][0] == "L.p." and table[4][3:6] == ["nazwa", "KRS", "NIP"]
    assert table[5] == ["Powiat przykładowski"] * 9
    first = table[6]
    assert first[2] == "ul. Przykładowa 3\n00-000 Przykładowo\ntel. 12 345 67 89, 512 345 678"
    assert first[5] == "1111111111"            # a number cell, not "1111111111.0"
    assert first[6] == "01.04.2016"            # a date cell, as the reader sees it


def test_xls_biff_merged_cells(fixture_bytes):
    data = fixture_bytes("zaz_register.xls")
    assert data.startswith(b"\xd0\xcf\x11\xe0")   # a genuine BIFF/OLE2 file, not a renamed XLSX
    [table] = read_tables(data, "zaz_register.xls")
    assert table[1][1:3] == ["Zakład aktywności zawodowej"] * 2
    assert table[2][0] == "Lp." and table[2][1:3] == ["nazwa", "adres"]
    assert table[3][5] == "14.05.2012"
    assert table[3][2] == "ul. Przykładowa 9\n00-000 Przykładowo"


def test_ods_repeated_and_spanned_cells(fixture_bytes):
    [table] = read_tables(fixture_bytes("cis_register.ods"), "cis_register.ods")
    assert len(table) == 8 and len(table[0]) == 8   # 1 000+ repeated empty columns/rows trimmed
    assert table[2][3:5] == ["Instytucja tworząca"] * 2
    assert table[3][:3] == ["Lp.", "Nazwa", "Adres"] and table[3][3:5] == ["nazwa", "KRS"]
    assert table[4][2] == "ul. Przykładowa 1\n00-000 Przykładowo"   # two paragraphs -> one cell, two lines
    assert table[7][:3] == ["—", "—", ""]                            # number-columns-repeated with text


def test_csv_cp1250_semicolon_and_mojibake(fixture_bytes):
    [table] = read_tables(fixture_bytes("kis_register.csv"), "kis_register.csv")
    assert table[0][3] == "Podmiot prowadzacy"
    assert table[1][1] == "Klub Integracji Społecznej w Przykładowie"   # "SpoĹ‚ecznej" repaired
    assert table[1][2] == "ul. Przykładowa 3\n00-000 Przykładowo"       # quoted multi-line cell
    assert table[3][8] == "wykreślony 30.06.2023"


@pytest.mark.parametrize("data", [
    b"",
    b"\x00\x01\x02\x03garbage\xff\xfe" * 10,
    b"%PDF-1.4\n%broken file without objects",
    b"PK\x03\x04 this is not really a zip",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
])
def test_corrupt_bytes_are_unreadable_not_a_crash(data):
    with pytest.raises(UnreadableDocument) as excinfo:
        read_tables(data, "rejestr.bin")
    assert str(excinfo.value)


def test_zip_without_office_document_is_unsupported():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "nic")
    with pytest.raises(UnreadableDocument, match="nieobsługiwany format"):
        read_tables(buffer.getvalue(), "rejestr.zip")


def test_legacy_word_doc_is_named():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "WordDocument".encode("utf-16-le")
    with pytest.raises(UnreadableDocument, match="DOC"):
        read_tables(data, "rejestr.doc")


@pytest.mark.parametrize(("name", "expected"), [
    ("cis_register.html", "html"), ("kis_register.pdf", "pdf"), ("cis_register.docx", "docx"),
    ("kis_register.xlsx", "xlsx"), ("zaz_register.xls", "xls"), ("cis_register.ods", "ods"),
    ("kis_register.csv", "csv"),
])
def test_magic_bytes_win_over_a_wrong_name(fixture_bytes, name, expected):
    assert detect_format(fixture_bytes(name), "zalacznik.bin", "application/octet-stream") == expected


def test_html_without_markers_detected_by_content_type():
    data = b"  <tr><td>Lp.</td><td>Nazwa</td></tr>"
    assert detect_format(data, "", "text/html; charset=utf-8") == "html"


def test_document_served_over_loopback_is_detected_without_a_file_name(httpserver, fixture_bytes):
    """As an adapter receives it: bytes and a (here misleading) content type from a local HTTP server."""
    import httpx

    httpserver.expect_request("/bip/zalacznik").respond_with_data(
        fixture_bytes("cis_register.ods"), content_type="application/octet-stream")
    response = httpx.get(httpserver.url_for("/bip/zalacznik"))
    tables = read_tables(response.content, "", response.headers["content-type"])
    assert tables[0][4][1] == "Centrum Integracji Społecznej w Przykładowie"


def test_xhtml_with_xml_declaration_and_cp1250():
    page = '<?xml version="1.0" encoding="windows-1250"?><html><body><table><tr><td>Łódź, ul. Źródlana</td>' \
           "</tr></table></body></html>"
    assert read_tables(page.encode("cp1250"), "rejestr.html") == [[["Łódź, ul. Źródlana"]]]


def test_xlsx_styled_cell_far_below_data_does_not_blow_up_the_table():
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Nazwa", "Adres"])
    sheet.cell(row=1_000_000, column=40).font = Font(bold=True)   # formatting only, no value
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_tables(buffer.getvalue(), "rejestr.xlsx") == [[["Nazwa", "Adres"]]]
