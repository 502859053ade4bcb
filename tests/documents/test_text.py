"""Encodings and mojibake, dates, identifiers."""
from __future__ import annotations

from datetime import date

import pytest

from scrapers.documents.dates import add_years, parse_date, parse_period
from scrapers.documents.identifiers import check_identifier, find_labelled
from scrapers.documents.tables import clean_cell
from scrapers.documents.textfix import decode_bytes, fix_mojibake

POLISH = "Centrum Integracji Społecznej w Łodzi, ul. Źródlana 5 - ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250", "iso8859_2"])
def test_decode_polish_encodings(encoding):
    text, _ = decode_bytes(((POLISH + "\n") * 5).encode(encoding))
    assert text.lstrip("\ufeff").startswith(POLISH)


@pytest.mark.parametrize(("broken", "fixed"), [
    ("SpoĹ‚ecznej", "Społecznej"),                      # UTF-8 read as CP1250
    ("spo┼éecznej", "społecznej"),                      # UTF-8 read as CP437 (file names in ZIPs)
    ("SpoÅ‚ecznej", "Społecznej"),                      # UTF-8 read as Latin-1 / CP1252
    ("Klub Integracji SpoĹ‚ecznej w Przykładowie", "Klub Integracji Społecznej w Przykładowie"),  # mixed
])
def test_mojibake_repaired(broken, fixed):
    assert fix_mojibake(broken) == fixed


def test_clean_text_untouched_and_lost_letters_left_alone():
    assert fix_mojibake("Stowarzyszenie „Przykład” — Łódź") == "Stowarzyszenie „Przykład” — Łódź"
    # "spoéecznej": the byte that carried "ł" is gone; nothing can restore it safely.
    assert fix_mojibake("spoéecznej") == "spoéecznej"


def test_clean_cell_whitespace_and_lines():
    assert clean_cell("  ul.\u00a0Przykładowa   1 \r\n\r\n 00-000   Przykładowo ") == "ul. Przykładowa 1\n00-000 Przykładowo"
    assert clean_cell(None) == "" and clean_cell(5) == "5"


@pytest.mark.parametrize(("text", "expected"), [
    ("12.03.2021 r.", date(2021, 3, 12)),
    ("12.03.2021", date(2021, 3, 12)),
    ("2021-03-12", date(2021, 3, 12)),
    ("12 marca 2021 r.", date(2021, 3, 12)),
    ("3 października 2023 roku", date(2023, 10, 3)),
    ("12 III 2021", date(2021, 3, 12)),
    ("z dnia 5.1.2021r.", date(2021, 1, 5)),
    ("PS-II.9421.3.2021 z dnia 12/03/2021", date(2021, 3, 12)),   # the number is not a date
    ("31.02.2021", None),
    ("PS-II.9421.3.2021", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("12.03.2021 r. – 11.03.2026 r.", (date(2021, 3, 12), date(2026, 3, 11), False)),
    ("12.03.2021-11.03.2026", (date(2021, 3, 12), date(2026, 3, 11), False)),
    ("od 12.03.2021 do 11.03.2026", (date(2021, 3, 12), date(2026, 3, 11), False)),
    ("do 11.03.2026 r.", (None, date(2026, 3, 11), False)),
    ("11.03.2026", (None, date(2026, 3, 11), False)),
    ("bezterminowo", (None, None, True)),
    ("od 01.02.2020 na czas nieokreślony", (date(2020, 2, 1), None, True)),
])
def test_parse_period(text, expected):
    assert parse_period(text) == expected


def test_add_years_leap_day():
    assert add_years(date(2020, 2, 29), 5) == date(2025, 2, 28)
    assert add_years(date(2021, 3, 12), 5) == date(2026, 3, 12)


@pytest.mark.parametrize(("kind", "raw", "value", "warns"), [
    ("nip", "111-111-11-11", "1111111111", False),
    ("nip", "PL 2222222222", "2222222222", False),
    ("nip", "1234567890", "1234567890", True),
    ("regon", "111111110", "111111110", False),
    ("regon", "123456789", "123456789", True),
    ("krs", "12345", "0000012345", False),
    ("krs", "KRS 0000000001", "0000000001", False),
    ("krs", "123456789012", "123456789012", True),
    ("nip", "", None, False),
])
def test_identifiers(kind, raw, value, warns):
    got, warning = check_identifier(kind, raw)
    assert got == value
    assert bool(warning) is warns
    if warns:
        assert kind.upper() in warning


def test_labelled_identifiers_in_free_text():
    found = find_labelled("Stowarzyszenie X, KRS: 0000000001, NIP 111-111-11-11\nREGON 111111110")
    assert found == {"krs": "0000000001", "nip": "111-111-11-11", "regon": "111111110"}


def test_one_decoder_for_documents_and_http_bodies():
    from scrapers.documents import UnreadableDocument, read_tables
    from scrapers.http import Response, UndecodableBody

    utf16 = "Nazwa;Adres\nŚDS w Łodzi;ul. Źródlana 5\n".encode("utf-16")   # BOM + UTF-16 LE
    assert read_tables(utf16, "lista.csv") == [[["Nazwa", "Adres"], ["ŚDS w Łodzi", "ul. Źródlana 5"]]]
    assert Response(200, utf16, url="u").text.startswith("Nazwa;Adres\nŚDS w Łodzi")
    # No Polish charset reads these bytes: a reported failure, never U+FFFD in a name.
    junk = b"Nazwa;Adres\nDom \x81\x98 Pomocy;ul. \x83\x88 1\n"
    with pytest.raises(UnreadableDocument):
        read_tables(junk, "lista.csv")
    with pytest.raises(UndecodableBody):
        Response(200, junk, url="u").text   # noqa: B018 - the property decodes
