"""Coverage report on a real SQLite catalog with a few institutions inserted directly."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from catalog.db import get_engine
from catalog.models import Institution
from geo import teryt
from geo.coverage import format_report, report


@pytest.fixture
def session(env):
    with Session(get_engine(env.database_url)) as s:
        s.add_all([
            Institution(name="MOPS w Zabłudowie", type="ops", woj_teryt="20", powiat_teryt="2002", gmina_id6="200216"),
            Institution(name="CUS", type="cus", woj_teryt="20", powiat_teryt="2061", gmina_id6="206101"),
            Institution(name="OPS zamknięty", type="ops", woj_teryt="20", gmina_id6="200201", status="closed"),
            Institution(name="PCPR w Białymstoku", type="pcpr", woj_teryt="20", powiat_teryt="2002"),
            Institution(name="PUP w Białymstoku", type="pup", woj_teryt="20", powiat_teryt="2061",
                        service_area=["2061", "2002"]),
            Institution(name="CIS", type="cis", woj_teryt="20"),
            Institution(name="CIS wygasły", type="cis", woj_teryt="20", status="expired"),
            Institution(name="OWES bez województwa", type="owes"),
        ])
        s.commit()
        yield s


def test_counts_against_national_figures_and_gaps(session):
    data = report(session)
    types = {t["key"]: t for t in data["types"]}
    assert types["ops+cus"]["active"] == 2 and types["ops+cus"]["all"] == 3
    assert types["ops+cus"]["expected_low"] == len(teryt.gminy()) and types["ops+cus"]["within"] is False
    assert types["cis"]["active"] == 2 and types["cis"]["published"]["count"] == "201"
    assert types["ps"]["within"] is None
    podlaskie = next(w for w in data["wojewodztwa"] if w["code"] == "20")
    assert podlaskie["ops+cus"] == 2 and podlaskie["counts"]["cis"] == 2
    assert data["unlocated"] == 1
    missing_gminy = {g["id6"] for g in data["gminy_without_ops"]}
    assert "200216" not in missing_gminy and "206101" not in missing_gminy
    assert "200201" in missing_gminy   # its only OPS is closed
    assert len(missing_gminy) == len(teryt.gminy()) - 2
    no_pcpr = {p["code"] for p in data["powiaty_without_pcpr"]}
    assert "2002" not in no_pcpr and "2061" not in no_pcpr   # city with powiat rights: its CUS/MOPS counts
    no_pup = {p["code"] for p in data["powiaty_without_pup"]}
    assert "2002" not in no_pup and "2061" not in no_pup and "2003" in no_pup   # served via service_area
    text = format_report(data, limit=5)
    assert "Gminy bez OPS/CUS w katalogu: " in text and "ODBIEGA" in text and "podlaskie" in text
    assert "… i " in text


def test_status_coverage_command(session):
    from click.testing import CliRunner

    from orchestration.cli import cli

    result = CliRunner().invoke(cli, ["status", "--coverage"])
    assert result.exit_code == 0, result.output
    assert "Pokrycie katalogu" in result.output and "Powiaty bez PUP" in result.output
    as_json = CliRunner().invoke(cli, ["status", "--coverage", "--json"])
    assert as_json.exit_code == 0 and '"gminy_without_ops"' in as_json.output
