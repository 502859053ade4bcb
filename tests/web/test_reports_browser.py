"""A report sent from the form in headless Chromium shows up in `wsparcie reports list`, and the page then
says a correction is being verified."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.web.test_browser import live, page, tiles  # noqa: F401  (the live site; Chromium is the session fixture)

pytestmark = pytest.mark.browser

MESSAGE = "Warsztat ma nowy numer telefonu: 85 700 00 00."


def test_a_report_from_chromium_is_in_the_operator_queue(live, page, monkeypatch):  # noqa: F811
    from orchestration.cli import cli

    page.goto(f"{live['url']}/instytucja/{live['ids']['cis']}")
    page.get_by_label("Co jest nie tak?").fill(MESSAGE)
    page.get_by_role("button", name="Wyślij zgłoszenie").click()
    assert page.locator("h1").inner_text() == "Dziękujemy za zgłoszenie"
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(live["settings"].data_dir))
    for name in ("DATABASE_URL", "INDEX_DIR"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["reports", "list", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    queued = [r for r in json.loads(result.output) if r["institution_id"] == live["ids"]["cis"]]
    assert [r["message"] for r in queued] == [MESSAGE]
    page.goto(f"{live['url']}/instytucja/{live['ids']['cis']}")
    assert page.get_by_role("status").filter(has_text="w weryfikacji").is_visible()
