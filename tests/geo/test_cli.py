import json

from click.testing import CliRunner

from orchestration.cli import cli


def test_resolve_command(session, geo_settings, add):
    add("Miejsko-Gminny Ośrodek Pomocy Społecznej w Zabłudowie", "ops", gmina_id6="200214", powiat_teryt="2002",
        woj_teryt="20", lat=53.0141, lon=23.3383)
    runner = CliRunner()
    result = runner.invoke(cli, ["resolve", "16-060 Zabłudów"])
    assert result.exit_code == 0, result.output
    assert "gmina: Zabłudów (gmina miejsko-wiejska), TERYT 200214" in result.output
    assert "powiat: powiat białostocki (2002)" in result.output
    assert "województwo: podlaskie (20)" in result.output
    assert "[ops]" in result.output and "Zabłudowie" in result.output

    as_json = runner.invoke(cli, ["resolve", "Kraków, ul. Józefińska 14", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["place"]["powiat_code"] == "1261"


def test_resolve_command_errors(session, geo_settings):
    runner = CliRunner()
    bad = runner.invoke(cli, ["resolve", "!!!"])
    assert bad.exit_code == 1 and "Nie rozpoznano miejsca" in bad.output
    assert runner.invoke(cli, ["resolve"]).exit_code == 2
    assert runner.invoke(cli, ["resolve", "--point", "abc"]).exit_code == 2
    ok = runner.invoke(cli, ["resolve", "--point", "52.555,18.616"])
    assert ok.exit_code == 0 and "Bytoń" in ok.output
