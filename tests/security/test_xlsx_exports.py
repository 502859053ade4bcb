"""XLSX exports (API, powiat sheet, `wsparcie export --format xlsx`): columns in any Excel locale, and no cell
is ever a formula — hostile text is a string cell, shown exactly as the source wrote it."""
from __future__ import annotations

import io

from click.testing import CliRunner
from openpyxl import load_workbook

from tests.security.test_spreadsheet_exports import HOSTILE, HYPERLINK, client, hostile_catalog  # noqa: F401

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


def test_cli_export_xlsx(settings, hostile_catalog, tmp_path):  # noqa: F811
    from orchestration.cli import cli

    assert CliRunner().invoke(cli, ["export", "--format", "xlsx"]).exit_code == 2   # needs a file
    out = tmp_path / "all.xlsx"
    result = CliRunner().invoke(cli, ["export", "--format", "xlsx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    header, *rows = _rows(out.read_bytes())
    row = dict(zip(header, rows[0], strict=True))
    assert row["name"] == HYPERLINK and row["operator_name"] == HOSTILE["operator_name"]
