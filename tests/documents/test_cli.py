"""`wsparcie parse-document` through click's CliRunner: output, JSON keys, exit codes."""
from __future__ import annotations

import json

from click.testing import CliRunner

from catalog.settings import REPO_ROOT
from scrapers.documents.cli import parse_document_cmd

from .conftest import FIXTURES

JSON_KEYS = {
    "name", "operator", "postal_code", "locality", "street", "building", "flat", "address_raw", "krs", "nip",
    "regon", "operator_krs", "operator_nip", "operator_regon", "decision_number", "decision_date", "entry_date",
    "valid_until", "status", "phones", "email", "www", "warnings",
    # lists of institutions (DPS, ŚDS, OPS, mixed bases)
    "type", "operator_address", "emails", "epuap", "e_delivery", "head", "powiat_name", "gmina_name", "scope",
    "home_types", "places_total", "places_free", "residents", "waiting", "branches", "as_of",
}


def test_json_one_object_per_row():
    result = CliRunner().invoke(parse_document_cmd, [str(FIXTURES / "cis_register.docx"), "--kind", "cis",
                                                     "--json", "--today", "2024-06-01"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3
    assert all(set(row) == JSON_KEYS for row in rows)
    assert rows[0]["decision_date"] == "2021-03-12" and rows[0]["valid_until"] == "2026-03-12"
    assert [row["status"] for row in rows] == ["active", "active", "expired"]


def test_today_changes_status():
    args = [str(FIXTURES / "cis_register.docx"), "--kind", "cis", "--json", "--today", "2030-01-01"]
    result = CliRunner().invoke(parse_document_cmd, args)
    assert {json.loads(line)["status"] for line in result.stdout.splitlines()} == {"expired"}


def test_readable_listing_in_polish():
    result = CliRunner().invoke(parse_document_cmd, [str(FIXTURES / "kis_register.pdf"), "--kind", "kis",
                                                     "--today", "2024-06-01"])
    assert result.exit_code == 0
    assert "Klub Integracji Społecznej w Wzorcowie — zamknięty / wykreślony" in result.stdout
    assert "Podmiot prowadzący: Stowarzyszenie „Przykład”" in result.stdout
    assert "Wierszy: 3" in result.stdout


def test_scan_exits_2_with_reason_and_no_traceback():
    result = CliRunner().invoke(parse_document_cmd, [str(FIXTURES / "scan_register.pdf"), "--kind", "cis"])
    assert result.exit_code == 2
    assert "warstwy tekstowej" in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_corrupt_file_exits_2(tmp_path):
    broken = tmp_path / "rejestr.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    result = CliRunner().invoke(parse_document_cmd, [str(broken), "--kind", "kis"])
    assert result.exit_code == 2 and "rejestr.xlsx" in result.stderr


def test_empty_register_exits_1(tmp_path):
    empty = tmp_path / "pusty.csv"
    empty.write_text("Lp.;Nazwa klubu;Data wpisu\n", encoding="utf-8")
    result = CliRunner().invoke(parse_document_cmd, [str(empty), "--kind", "kis"])
    assert result.exit_code == 1
    assert "nie znaleziono" in result.stderr


def test_registered_on_the_wsparcie_command():
    from orchestration.cli import cli

    result = CliRunner().invoke(cli, ["parse-document", str(FIXTURES / "kis_register.csv"), "--kind", "kis",
                                      "--json", "--today", "2024-06-01"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3


def test_every_catalog_type_and_mixed_are_kinds():
    from catalog.types import InstitutionType
    from scrapers.documents.registers import KINDS
    assert {t.value for t in InstitutionType} | {"mixed", "auto"} <= set(KINDS)


def test_real_dps_list_in_polish():
    real = REPO_ROOT / "data" / "registries" / "real" / "wojewoda" / "podkarpackie" / "dps_frekwencja_2026-06-20.xls"
    result = CliRunner().invoke(parse_document_cmd, [str(real), "--kind", "dps", "--today", "2026-08-01"])
    assert result.exit_code == 0, result.output
    assert "Wierszy: 53" in result.stdout
    assert "Typ domu: dla osób w podeszłym wieku, dla osób przewlekle somatycznie chorych" in result.stdout
    assert "Miejsca: ogółem 88, wolne 16" in result.stdout and "Stan na: 31.05.2026" in result.stdout
