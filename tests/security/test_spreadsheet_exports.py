"""Every CSV and XLSX writer neutralises cells a spreadsheet would evaluate (catalog/spreadsheet.py): the API export,
the powiat sheet, and `wsparcie export --format csv`, over a real SQLite catalog built by the migration."""
from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from catalog import db
from catalog.models import Institution
from catalog.spreadsheet import is_formula_like, safe_cell, safe_mapping, safe_row

HYPERLINK = '=HYPERLINK("http://x.invalid","kliknij")'
HOSTILE = {
    "name": HYPERLINK,
    "street": "+cmd|' /C calc'!A0",
    "email": "@SUM(1+1)*cmd|' /C calc'!A0",
    "www": "-2+3+cmd|' /C calc'!A0",
    "operator_name": "\u202e=1+1",
    "locality": "Zabłudów",
}
PHONE = {"raw": "+48 85 718 81 00", "e164": "+48857188100"}
# Not a valid number: the powiat sheet shows it as the source wrote it.
ODD_PHONE = {"raw": "+48 85 718 81 00 wew. 5", "e164": None}


@pytest.mark.parametrize("text", ["=1+1", "+48 85 718 81 00", "-2", "@SUM(1)", "\t=1", "\r=1", "\n=1",
                                  " =1", "\u200b=1", "\u202e=1", "\ufeff+1", "\uff1d1+1"])
def test_formula_like_text_gets_an_apostrophe(text):
    assert is_formula_like(text)
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Ośrodek Pomocy Społecznej", "85 718 81 00", "2026-01-01", "a=b", "x+1",
                                   "", 12, -3.5, None, True])
def test_plain_values_are_left_alone(value):
    assert safe_cell(value) == value if value is not None else safe_cell(value) is None


def test_rows_and_mappings():
    assert safe_row(["=1", "ok", 3]) == ["'=1", "ok", 3]
    assert safe_mapping({"name": "@x", "lat": 52.1}) == {"name": "'@x", "lat": 52.1}


def _assert_inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not is_formula_like(cell), (cell, row)


@pytest.fixture
def hostile_catalog(settings):
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        inst = Institution(type="kis", postal_code="16-060", woj_teryt="20", powiat_teryt="2002",
                           gmina_id6="200214", lat=53.015, lon=23.34, geo_precision="postcode",
                           phones=[ODD_PHONE, PHONE], **HOSTILE)
        session.add(inst)
        session.flush()
        return inst.id


@pytest.fixture
def client(settings, hostile_catalog):
    from webapp import create_app

    return create_app({"TESTING": True, "AUTO_UPGRADE": False}).test_client()


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_api_export_csv(client):
    response = client.get("/api/export.csv")
    assert response.status_code == 200
    header, *rows = _csv(response.get_data(as_text=True))
    _assert_inert(rows)
    row = dict(zip(header, rows[0], strict=True))
    assert row["name"] == "'" + HYPERLINK
    assert row["email"] == "'" + HOSTILE["email"]
    assert row["www"] == ""          # not an http(s) link, so not published at all (present.web_url)
    assert row["phones"] == "'+48 85 718 81 00 wew. 5 | +48857188100"   # still reads as phone numbers
    assert row["locality"] == "Zabłudów"


def test_powiat_csv(client):
    response = client.get("/powiat/2002.csv")
    assert response.status_code == 200
    _header, *rows = _csv(response.get_data(as_text=True))
    _assert_inert(rows)
    (row,) = [r for r in rows if HYPERLINK in r[1]]
    assert row[1] == "'" + HYPERLINK
    assert "'+48 85 718 81 00 wew. 5; 85 718 81 00" in row   # as the source wrote it, still readable


def test_cli_export_csv(settings, hostile_catalog):
    from orchestration.cli import cli

    result = CliRunner().invoke(cli, ["export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    header, *rows = _csv(result.output)
    _assert_inert(rows)
    row = dict(zip(header, rows[0], strict=True))
    assert row["name"] == "'" + HYPERLINK
    assert row["operator_name"] == "'\u202e=1+1"
    assert row["street"] == "'" + HOSTILE["street"]


# XLSX: columns in any Excel locale; text cells are typed strings, so nothing is ever a formula.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [list(row) for row in sheet.iter_rows()]
    assert cells and all(c.data_type != "f" for row in cells for c in row), "a formula cell"
    return [[c.value for c in row] for row in cells]


def test_api_export_xlsx(client):
    response = client.get("/api/export.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    header, *rows = _rows(response.get_data())
    row = dict(zip(header, rows[0], strict=True))
    assert row["name"] == HYPERLINK and row["street"] == HOSTILE["street"]   # text as written, no apostrophe
    assert row["locality"] == "Zabłudów"


def test_powiat_xlsx_is_linked_from_the_sheet(client):
    assert "/powiat/2002.xlsx" in client.get("/powiat/2002").get_data(as_text=True)
    response = client.get("/powiat/2002.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    _header, *rows = _rows(response.get_data())
    assert [r for r in rows if r[1] == HYPERLINK]
    assert client.get("/powiat/9999.xlsx").status_code == 404


def test_cli_export_xlsx(settings, hostile_catalog, tmp_path):
    from orchestration.cli import cli

    assert CliRunner().invoke(cli, ["export", "--format", "xlsx"]).exit_code == 2   # needs a file
    out = tmp_path / "all.xlsx"
    result = CliRunner().invoke(cli, ["export", "--format", "xlsx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    header, *rows = _rows(out.read_bytes())
    row = dict(zip(header, rows[0], strict=True))
    assert row["name"] == HYPERLINK and row["operator_name"] == HOSTILE["operator_name"]
