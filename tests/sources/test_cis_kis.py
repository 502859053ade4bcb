"""CIS/KIS adapters of four voivodeships with different format families plus one with a scanned PDF,
served from the local server on the configured paths (fixtures: fixtures/sources/cis_kis/SOURCE.md)."""
from __future__ import annotations

from datetime import date

import pytest

from scrapers.cis_kis import CisKisAdapter, find_documents
from scrapers.cis_kis_config import CONFIGS, WOJ_CODES
from scrapers.registry import ADAPTERS, GROUPS, expand

TODAY = date(2026, 11, 22)


@pytest.fixture
def serve_registers(serve, fixture_bytes):
    def _serve() -> None:
        f = lambda name: fixture_bytes("cis_kis", name)
        serve(CONFIGS["20"].landing_paths[0], f("20_rejestr.html"))
        serve(CONFIGS["14"].landing_paths[0], f("14_landing.html"))
        serve("/files/rejestr_cis_2026.xlsx", f("14_rejestr_cis.xlsx"),
              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        serve("/files/rejestr_kis_2026.docx", f("14_rejestr_kis.docx"), content_type="application/octet-stream")
        serve(CONFIGS["12"].landing_paths[0], f("12_landing.html"))
        serve("/e,pobierz,get.html", f("12_wykaz_cis.pdf"), content_type="application/pdf", query_string="id=101")
        serve("/e,pobierz,get.html", f("12_wykaz_kis.ods"), content_type="application/octet-stream",
              query_string="id=102")
        serve(CONFIGS["08"].landing_paths[0], f("08_landing_cis.html"))
        serve(CONFIGS["08"].landing_paths[1], f("08_landing_kis.html"))
        serve("/files/rejestr_cis_skan.pdf", f("08_rejestr_cis_skan.pdf"), content_type="application/pdf")

    return _serve


def _fetch(env, make_client, woj: str):
    with make_client(env, f"cis-kis-{woj}") as http:
        return CisKisAdapter(woj, today=TODAY).fetch(http, env)


def test_config_covers_all_16_voivodeships_and_the_group_alias():
    assert len(WOJ_CODES) == 16 and WOJ_CODES[0] == "02" and WOJ_CODES[-1] == "32"
    assert GROUPS["cis-kis"] == [f"cis-kis-{w}" for w in WOJ_CODES]
    assert expand(["cis-kis"]) == GROUPS["cis-kis"] and all(k in ADAPTERS for k in GROUPS["cis-kis"])
    assert CisKisAdapter("20").meta.name == "Rejestr CIS i KIS — Wojewoda Podlaski"


def test_html_table_on_the_page_with_sections(env, serve_registers, make_client):
    serve_registers()
    result = _fetch(env, make_client, "20")
    assert result.fatal is None and result.complete and result.errors == []
    by_name = {i.fields["name"]: i for i in result.items}
    cis = by_name["Centrum Integracji Społecznej „Przykład” w Zabłudowie"].fields
    assert cis["type"] == "cis" and cis["woj_teryt"] == "20"
    assert cis["decision_date"] == date(2024, 5, 10) and cis["valid_until"] == date(2029, 5, 10)
    assert cis["status"] == "active" and cis["operator_name"] == "Fundacja Przykładowa"
    assert cis["postal_code"] == "16-060" and cis["locality"] == "Zabłudów"
    expired = by_name["Centrum Integracji Społecznej „Próba” w Łapach"].fields
    assert expired["status"] == "expired" and expired["valid_until"] == date(2024, 2, 4)   # kept, not dropped
    kis = by_name["Klub Integracji Społecznej „Przykład” w Zabłudowie"]
    assert kis.fields["type"] == "kis" and kis.capture_id is not None
    assert len(result.items) == 3


def test_xlsx_and_docx_attachments(env, serve_registers, make_client):
    serve_registers()
    result = _fetch(env, make_client, "14")
    assert result.fatal is None and result.errors == []
    kinds = sorted((i.fields["type"], i.fields["name"]) for i in result.items)
    assert kinds == [
        ("cis", "CIS „Przykład” w Radomiu"),
        ("cis", "Centrum Integracji Społecznej „Próba” w Płocku"),
        ("kis", "Klub Integracji Społecznej „Przykład” w Radomiu"),
    ]
    radom = next(i for i in result.items if i.fields["name"] == "CIS „Przykład” w Radomiu")
    assert radom.fields["valid_until"] == date(2028, 3, 12) and radom.fields["decision_number"] == "WPS-II.9511.2.2023"
    assert radom.raw["_document"].endswith("/files/rejestr_cis_2026.xlsx")


def test_pdf_and_ods_behind_bip_links(env, serve_registers, make_client):
    serve_registers()
    result = _fetch(env, make_client, "12")
    assert result.fatal is None and result.errors == []
    by_name = {i.fields["name"]: i.fields for i in result.items}
    assert by_name["CIS „Próba” w Bochni"]["status"] == "expired"
    assert by_name["CIS „Przykład” w Wieliczce"]["postal_code"] == "32-020"
    assert by_name["Klub Integracji Społecznej „Przykład” w Wieliczce"]["type"] == "kis"


def test_scanned_pdf_is_reported_with_the_voivodeship_and_reason(env, serve_registers, make_client):
    serve_registers()
    result = _fetch(env, make_client, "08")
    assert result.items == [] and not result.complete
    assert result.fatal and "lubuskie" in result.fatal and "skan" in result.fatal
    assert result.errors[0]["where"].startswith("województwo lubuskie (cis-kis-08)")
    assert "rejestr_cis_skan.pdf" in result.errors[0]["where"]


def test_missing_landing_page_is_reported(env, make_client):
    result = _fetch(env, make_client, "32")
    assert result.fatal and "zachodniopomorskie" in result.fatal and result.items == []


def test_document_links_follow_the_rules():
    page = (b'<a href="/a/rejestr_cis.pdf">Rejestr CIS</a><a href="/a/kis.xlsx">Wykaz klub\xc3\xb3w</a>'
            b'<a href="/a/regulamin.pdf">Regulamin</a><a href="/rejestr-cis.html">Rejestr (strona)</a>')
    docs = find_documents(page, "https://uw.example/x", CONFIGS["04"])
    assert [(d.url, d.kind) for d in docs] == [
        ("https://uw.example/a/rejestr_cis.pdf", "cis"), ("https://uw.example/a/kis.xlsx", "kis"),
    ]


def test_register_without_rows_is_fatal_not_a_mass_closure(env, serve, make_client):
    empty = (b"<html><body><table><tr><th>Lp.</th><th>Nazwa</th><th>Adres</th></tr></table>"
             b"</body></html>")
    serve(CONFIGS["20"].landing_paths[0], empty)
    result = _fetch(env, make_client, "20")
    assert result.items == [] and result.fatal and "podlaskie" in result.fatal
