"""Header labels as offices write them -> fields, and header detection on tables."""
from __future__ import annotations

import pytest

from scrapers.documents import columns as col
from scrapers.documents.header import find_header


@pytest.mark.parametrize(("label", "field"), [
    ("Lp.", col.LP), ("L.p.", col.LP), ("lp", col.LP), ("Nr", col.LP),
    ("Nazwa", col.NAME), ("Nazwa centrum", col.NAME), ("Pełna nazwa jednostki", col.NAME),
    ("Nazwa cetrum", col.NAME),                                       # typo
    ("Adres", col.ADDRESS), ("Adres siedziby", col.ADDRESS), ("Siedziba", col.ADDRESS),
    ("Aders siedziby", col.ADDRESS),                                  # typo
    ("Nazwa i adres", col.NAME_ADDRESS),
    ("Instytucja tworząca", col.OPERATOR), ("Podmiot prowadzący", col.OPERATOR),
    ("Podmiot prowadzacy", col.OPERATOR),                             # no diacritics
    ("Nazwa podmiotu prowadzącego", col.OPERATOR),
    ("Instytucja tworząca / nazwa", col.OPERATOR),                   # two-row header
    ("Instytucja tworząca / NIP", "operator_nip"),
    ("Podmiot prowadzący / KRS", "operator_krs"),
    ("Podmiot prowadzący / NIP / REGON", "operator_ids"),
    ("Instytucja tworzaca / adres", "operator_address"),
    ("Numer decyzji", col.DECISION_NUMBER), ("Nr decyzji", col.DECISION_NUMBER),
    ("Nr decyzij", col.DECISION_NUMBER),                              # typo
    ("Data decyzji", col.DECISION_DATE), ("Decyzja wojewody / z dnia", col.DECISION_DATE),
    ("Decyzja wojewody / numer", col.DECISION_NUMBER),
    ("Numer i data decyzji", col.DECISION), ("Data i nr dec.", col.DECISION), ("Decyzja", col.DECISION),
    ("Data nadania statusu", col.DECISION_DATE),
    ("Data wpisu", col.ENTRY_DATE), ("Data wpisu do rejestru", col.ENTRY_DATE),
    ("Nr wpisu w rejestrze", col.REGISTER_NUMBER),
    ("Okres ważności statusu", col.VALID), ("Termin waznosci", col.VALID), ("Data ważności", col.VALID),
    ("Status ważny do", col.VALID), ("Ważny od", col.VALID_FROM),
    ("KRS", col.KRS), ("Nr KRS", col.KRS), ("NIP", col.NIP), ("REGON", col.REGON), ("NIP / REGON", col.IDS),
    ("Telefon", col.PHONE), ("tel.", col.PHONE), ("Telfon", col.PHONE), ("Nr telefonu", col.PHONE),
    ("E-mail", col.EMAIL), ("e-mial", col.EMAIL), ("Adres e-mail", col.EMAIL), ("Adres poczty elektronicznej", col.EMAIL),
    ("Strona www", col.WWW),
    ("Dane teleadresowe", col.CONTACT), ("Adres i telefon", col.CONTACT),
    ("Uwagi", col.NOTES), ("Status", col.NOTES), ("Stan aktywności", col.NOTES),
    ("Data zakończenia działalności", col.CLOSED_DATE),
    ("Kod pocztowy", col.POSTAL_CODE), ("Miejscowość", col.LOCALITY), ("Ulica", col.STREET),
    ("Nr budynku", col.BUILDING), ("Nr lokalu", col.FLAT), ("Powiat", col.POWIAT), ("Województwo", col.ADMIN), ("Miasto/Gmina", col.GMINA),
    ("Zakład aktywności zawodowej / nazwa", col.NAME),
    ("Kolor", None), ("", None),
])
def test_map_label(label, field):
    assert col.map_label(label) == field


def test_first_column_keeps_a_field_claimed_twice():
    assert col.map_header(["Nazwa", "Adres", "Adres"]) == [col.NAME, col.ADDRESS, None]


def test_header_found_below_title_rows_and_combined_from_two_rows():
    table = [
        ["Rejestr klubów integracji społecznej", "", "", ""],
        ["stan na 31.12.2023 r.", "", "", ""],
        ["Lp.", "Nazwa klubu", "Podmiot prowadzący", "Podmiot prowadzący"],
        ["Lp.", "Nazwa klubu", "nazwa", "KRS"],
        ["1", "2", "3", "4"],
        ["1.", "Klub Integracji Społecznej w Przykładowie", "Gmina Przykładowo", "0000000001"],
    ]
    header = find_header(table)
    assert header is not None
    assert (header.start, header.end) == (2, 5)   # two header rows plus the column-number row
    assert header.labels == ["Lp.", "Nazwa klubu", "Podmiot prowadzący / nazwa", "Podmiot prowadzący / KRS"]
    assert header.fields == [col.LP, col.NAME, col.OPERATOR, "operator_krs"]


def test_single_header_row_does_not_swallow_the_first_data_row():
    table = [
        ["Lp.", "Nazwa", "Adres", "Adres"],
        ["1.", "Centrum Integracji Społecznej w Przykładowie", "ul. Przykładowa 1", "00-000 Przykładowo"],
    ]
    header = find_header(table)
    assert header is not None and (header.start, header.end) == (0, 1)


def test_no_header_in_a_table_of_data():
    assert find_header([["a", "b"], ["1", "2"]]) is None
