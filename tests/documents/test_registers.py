"""parse_register on every fixture: the normalised rows, CIS validity and expiry, KIS closure."""
from __future__ import annotations

from datetime import date

import pytest

from scrapers.documents import RegisterRow, UnreadableDocument, parse_register
from scrapers.documents.registers import rows_from_tables, split_decision

from .conftest import TODAY


def _by_name(rows: list[RegisterRow]) -> dict[str, RegisterRow]:
    return {row.name: row for row in rows}


def test_html_cis_register(fixture_bytes):
    rows = parse_register(fixture_bytes("cis_register.html"), "cis_register.html", "cis", TODAY)
    assert [r.name for r in rows] == [
        "Centrum Integracji Społecznej w Przykładowie",
        "Centrum Integracji Społecznej w Wzorcowie",
        "Centrum Integracji Społecznej w Makietowie",
    ]   # the KIS section of the same table is not a CIS
    first, second, third = rows
    assert first.operator_name == "Stowarzyszenie „Przykład”"
    assert (first.operator_nip, first.operator_krs) == ("1111111111", "0000000001")
    assert (first.decision_number, first.decision_date) == ("PS-II.9421.1.2021", date(2021, 3, 12))
    assert first.valid_until == date(2026, 3, 12) and first.status == "active"
    assert (first.postal_code, first.locality, first.building) == ("00-000", "Przykładowo", "1")
    assert first.phones == [{"raw": "12 345 67 89", "e164": "+48123456789"}]
    assert first.email == "cis.przykladowo@example.invalid"
    # The operator cell spans two rows: the second CIS has the same operator.
    assert second.operator_name == first.operator_name and second.operator_nip == "1111111111"
    assert second.decision_date == date(2018, 1, 15)            # "15 stycznia 2018 r."
    assert second.valid_until == date(2023, 1, 15) and second.status == "expired"
    # "status do 01.09.2027 r." in the notes overrides the 5-year rule.
    assert third.valid_until == date(2027, 9, 1) and third.status == "active"
    assert third.operator_nip == "1234567890" and any("NIP" in w for w in third.warnings)
    assert third.raw["Instytucja tworząca / NIP"] == "1234567890"


def test_html_kis_section_only(fixture_bytes):
    rows = parse_register(fixture_bytes("cis_register.html"), "cis_register.html", "kis", TODAY)
    assert [r.name for r in rows] == ["Klub Integracji Społecznej w Przykładowie"]
    assert rows[0].valid_until is None and rows[0].status == "active"   # no 5-year rule for KIS


def test_pdf_kis_register(fixture_bytes):
    rows = _by_name(parse_register(fixture_bytes("kis_register.pdf"), "kis_register.pdf", "kis", TODAY))
    assert set(rows) == {"Klub Integracji Społecznej w Przykładowie", "Klub Integracji Społecznej w Wzorcowie",
                         "Klub Integracji Społecznej w Makietowie"}   # wrapped names joined
    first = rows["Klub Integracji Społecznej w Przykładowie"]
    assert first.entry_date == date(2015, 6, 5) and first.operator_krs == "0000000001"
    assert first.phones == [{"raw": "512 345 678", "e164": "+48512345678"}]
    assert rows["Klub Integracji Społecznej w Wzorcowie"].status == "closed"   # "wykreślono z rejestru"
    assert rows["Klub Integracji Społecznej w Makietowie"].entry_date == date(2022, 2, 1)


def test_docx_cis_register(fixture_bytes):
    rows = parse_register(fixture_bytes("cis_register.docx"), "cis_register.docx", "cis", TODAY)
    first, renewed, old = rows
    assert first.name == "Centrum Integracji Społecznej w Przykładowie"
    assert first.address_raw == "ul. Przykładowa 1, 00-000 Przykładowo"
    assert first.operator_name == "Stowarzyszenie „Przykład”" and first.operator_krs == "0000000001"
    assert (first.operator_nip, first.operator_regon) == ("1111111111", "111111110")
    assert (first.decision_number, first.decision_date) == ("PS-II.9421.1.2021", date(2021, 3, 12))
    # Two decisions in one cell: the newest one counts; the document's own end date wins.
    assert (renewed.decision_number, renewed.decision_date) == ("PS-II.9421.7.2021", date(2021, 3, 8))
    assert renewed.valid_until == date(2026, 3, 7)
    assert old.name == "Centrum Integracji Społecznej w Makietowie"       # "Makietowo 15" is the address
    assert (old.locality, old.building) == ("Makietowo", "15")
    assert old.valid_until == date(2022, 6, 20) and old.status == "expired"   # kept, not dropped


def test_xlsx_kis_register(fixture_bytes):
    rows = parse_register(fixture_bytes("kis_register.xlsx"), "kis_register.xlsx", "kis", TODAY)
    assert len(rows) == 3   # title, "stan na", blank and "Powiat …" rows are not institutions
    first, second, closed = rows
    assert first.name == "Klub Integracji Społecznej „Razem” w Przykładowie"
    assert [p["e164"] for p in first.phones] == ["+48123456789", "+48512345678"]
    assert first.operator_nip == "1111111111" and first.entry_date == date(2016, 4, 1)
    assert second.operator_krs == "0000000001" and second.operator_nip == "2222222222"
    assert closed.status == "closed" and closed.entry_date == date(2018, 2, 14)


def test_xls_zaz_register(fixture_bytes):
    rows = parse_register(fixture_bytes("zaz_register.xls"), "zaz_register.xls", "zaz", TODAY)
    assert [r.name for r in rows] == ["Zakład Aktywności Zawodowej w Przykładowie",
                                      "Zakład Aktywności Zawodowej w Wzorcowie"]
    assert rows[0].decision_date == date(2012, 5, 14) and rows[0].valid_until is None   # no 5-year rule
    assert rows[0].operator_regon == "111111110"
    assert rows[1].operator_regon == "123456789" and any("REGON" in w for w in rows[1].warnings)


def test_ods_cis_register(fixture_bytes):
    rows = parse_register(fixture_bytes("cis_register.ods"), "cis_register.ods", "cis", TODAY)
    assert len(rows) == 3   # the "— —" filler row is not an institution
    first, expired, explicit = rows
    assert first.decision_date == date(2021, 3, 12) and first.valid_until == date(2026, 3, 12)
    assert expired.status == "expired"                      # "status wygasł" and the date agree
    assert explicit.valid_until == date(2027, 2, 1)         # "Status ważny do" column


def test_csv_kis_register(fixture_bytes):
    rows = parse_register(fixture_bytes("kis_register.csv"), "kis_register.csv", "kis", TODAY)
    first, second, removed = rows
    assert first.name == "Klub Integracji Społecznej w Przykładowie"
    assert first.email == "kis.przykladowo@example.invalid" and first.phones[0]["e164"] == "+48123456789"
    assert second.krs == "0000000002" and second.entry_date == date(2019, 11, 20)
    assert removed.status == "closed"


@pytest.mark.parametrize(("today", "status"), [
    (date(2026, 3, 11), "active"), (date(2026, 3, 12), "active"), (date(2026, 3, 13), "expired"),
])
def test_cis_validity_boundary(today, status):
    table = [["Lp.", "Nazwa", "Data decyzji"], ["1", "Centrum Integracji Społecznej w Przykładowie", "12.03.2021 r."]]
    [row] = rows_from_tables([table], "cis", today)
    assert row.valid_until == date(2026, 3, 12)
    assert row.status == status


def test_cis_without_decision_date_warns_and_uses_entry_date():
    table = [["Lp.", "Nazwa", "Data wpisu"], ["1", "CIS w Przykładowie", "01.02.2020"], ["2", "CIS w Wzorcowie", ""]]
    with_entry, without = rows_from_tables([table], "cis", TODAY)
    assert with_entry.valid_until == date(2025, 2, 1) and with_entry.warnings
    assert without.valid_until is None and without.status == "active"
    assert any("ważności" in w for w in without.warnings)


def test_open_ended_validity_is_not_replaced_by_the_five_year_rule():
    table = [["Nazwa", "Data decyzji", "Okres ważności"], ["CIS w Przykładowie", "12.03.2010", "bezterminowo"]]
    [row] = rows_from_tables([table], "cis", TODAY)
    assert row.valid_until is None and row.status == "active"


def test_repeated_header_on_a_new_page_and_lp_only_rows_skipped():
    header = ["Lp.", "Nazwa klubu", "Data wpisu"]
    page1 = [header, ["1", "KIS w Przykładowie", "01.02.2020"], ["2", "", ""]]
    page2 = [header, ["3", "KIS w Wzorcowie", "01.03.2021"]]
    rows = rows_from_tables([page1, page2], "kis", TODAY)
    assert [r.name for r in rows] == ["KIS w Przykładowie", "KIS w Wzorcowie"]


def test_continuation_table_without_header_uses_the_previous_one():
    first = [["Lp.", "Nazwa klubu", "Data wpisu"], ["1", "KIS w Przykładowie", "01.02.2020"]]
    rest = [["2", "KIS w Wzorcowie", "01.03.2021"]]
    assert [r.name for r in rows_from_tables([first, rest], "kis", TODAY)] == ["KIS w Przykładowie",
                                                                               "KIS w Wzorcowie"]


@pytest.mark.parametrize(("text", "number", "when"), [
    ("Decyzja nr PS-II.9421.3.2021 z dnia 12.03.2021 r.", "PS-II.9421.3.2021", date(2021, 3, 12)),
    ("PS-II.9421.3.2021 z 12 marca 2021 r.", "PS-II.9421.3.2021", date(2021, 3, 12)),
    ("12.03.2021 r., nr 15/2021", "15/2021", date(2021, 3, 12)),
    ("1) PS.1.2016 z 10.03.2016 r.; 2) PS.7.2021 z 08.03.2021 r.", "PS.7.2021", date(2021, 3, 8)),
    ("Decyzja nr 12/2023", "12/2023", None),
])
def test_split_decision(text, number, when):
    assert split_decision(text) == (number, when)


def test_json_keys_exactly(fixture_bytes):
    [row, *_] = parse_register(fixture_bytes("cis_register.docx"), "cis_register.docx", "cis", TODAY)
    data = row.to_json()
    assert list(data) == [
        "name", "operator", "type", "postal_code", "locality", "street", "building", "flat", "address_raw", "krs",
        "nip", "regon", "operator_krs", "operator_nip", "operator_regon", "operator_address", "decision_number",
        "decision_date", "entry_date", "valid_until", "status", "phones", "email", "emails", "www", "epuap",
        "e_delivery", "head", "powiat_name", "gmina_name", "scope", "home_types", "places_total", "places_free",
        "residents", "waiting", "branches", "as_of", "warnings",
    ]
    assert data["decision_date"] == "2021-03-12" and data["valid_until"] == "2026-03-12"


def test_table_without_a_recognisable_header_is_unreadable():
    data = b"a;b;c\n1;2;3\n"
    with pytest.raises(UnreadableDocument, match="nagłówka"):
        parse_register(data, "dane.csv", "kis", TODAY)


def test_unknown_kind_is_a_programming_error(fixture_bytes):
    with pytest.raises(ValueError):
        parse_register(fixture_bytes("kis_register.csv"), "kis_register.csv", "hospicjum", TODAY)


def test_section_heading_after_overflowing_text_of_the_row_above():
    from scrapers.documents.institutions import section_powiat

    assert section_powiat("Powiat bocheński") == "bocheński"
    assert section_powiat("Telefon zaufania działa 7 dni w tygodniu 18:00-20:00. Powiat limanowski") == "limanowski"
    assert section_powiat("Dyżur do 15:30. MIASTO KROSNO") == "Krosno"
    # Not a heading: a sentence that only mentions a powiat, or a powiat not after a finished sentence.
    assert section_powiat("Pomoc dla mieszkańców, powiat limanowski") is None
    assert section_powiat("Punkt obejmuje zasięgiem powiat limanowski.") is None
    assert section_powiat("Działa w godz. 8-16. Powiat o zasięgu ponadgminnym") is None
