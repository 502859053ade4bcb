"""The per-office list sources (scrapers/official_list_config.py) fetched over loopback from a local
server holding the real documents (data/registries/real/wojewoda, SOURCE.md), and the pieces they share
with import-document: stable keys, powiat/gmina codes, placement of a list without addresses."""
from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import select

from catalog import priority
from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import Institution, SourceRecord
from geo.units import resolve_gmina, resolve_listed_powiat
from orchestration import pipeline
from scrapers.official_list import institution_key
from scrapers.official_list_config import CONFIGS
from scrapers.registry import ADAPTERS, GROUPS, expand

REAL = Path(__file__).resolve().parents[2] / "data" / "registries" / "real" / "wojewoda"
KP_SHEETS = ("2026-06-20", "2026-07-05", "2026-08-05")
XLS = "application/vnd.ms-excel"


@pytest.fixture
def lists_env(data_dir, httpserver, monkeypatch):
    base = httpserver.url_for("").rstrip("/")
    for key in ("dps_04", "ops_24", "sds_18"):
        monkeypatch.setenv(f"{key.upper()}_BASE_URL", base)
        monkeypatch.setenv(f"{key.upper()}_RATE_LIMIT", "0")
    return settings_mod.load()


def _serve_kp(httpserver) -> None:
    """The KPUW page with the three monthly sheets, newest first as BIP pages list them."""
    links = "".join(
        f'<li><a href="/files/dps_wolne_miejsca_{d}.xls">Wykaz wolnych miejsc w domach pomocy społecznej '
        f'({d})</a></li>' for d in reversed(KP_SHEETS))
    page = f"<html><body><h1>Domy pomocy społecznej</h1><ul>{links}</ul><a href='/kontakt'>Kontakt</a></body></html>"
    httpserver.expect_request(CONFIGS["dps-04"].landing_paths[0]).respond_with_data(page, content_type="text/html")
    for d in KP_SHEETS:
        body = (REAL / "kujawsko-pomorskie" / f"dps_wolne_miejsca_{d}.xls").read_bytes()
        httpserver.expect_request(f"/files/dps_wolne_miejsca_{d}.xls").respond_with_data(body, content_type=XLS)


def test_every_office_has_a_dps_register_and_the_groups_expand():
    assert {c.woj for c in CONFIGS.values() if c.kind == "dps"} == {
        "02", "04", "06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28", "30", "32"}
    assert GROUPS["dps"] == sorted(k for k in CONFIGS if k.startswith("dps-")) and len(GROUPS["dps"]) == 16
    assert set(expand(["sds"])) == {"sds-12", "sds-18"}
    assert set(expand(["ops-lists"])) == {"ops-24", "przemoc-12"}
    assert all(k in ADAPTERS for k in CONFIGS)
    assert all(c.base_url.startswith("https://") for c in CONFIGS.values())
    # only addresses recorded next to a real file are marked verified
    assert {k for k, c in CONFIGS.items() if c.verified} == {"ops-24", "dps-12", "sds-18"}
    assert all((REAL.parent / rel).exists() for c in CONFIGS.values() for rel in c.bundled)


def test_landing_page_with_monthly_sheets_reads_the_newest(lists_env, httpserver):
    _serve_kp(httpserver)
    [summary] = pipeline.scrape(lists_env, ["dps-04"], post_process=False)
    assert summary.status == "ok" and summary.n_new == 47, summary.message
    with session_scope(lists_env.database_url) as session:
        homes = session.exec(select(Institution)).all()
        records = session.exec(select(SourceRecord)).all()
    assert {i.places_as_of for i in homes} == {date(2026, 6, 30)}
    assert all(i.type == "dps" and i.powiat_teryt and i.woj_teryt == "04" for i in homes)
    assert {r.raw["_document"].rsplit("/", 1)[1] for r in records} == {"dps_wolne_miejsca_2026-08-05.xls"}


def test_direct_document_links_of_two_offices(lists_env, httpserver):
    ops = (REAL / "slaskie" / "ops_wykaz_2023-07-18.pdf").read_bytes()
    httpserver.expect_request("/download/441").respond_with_data(ops, content_type="application/pdf")
    sds = (REAL / "podkarpackie" / "sds_wykaz_2024-10.doc").read_bytes()
    httpserver.expect_request(CONFIGS["sds-18"].document_paths[0]).respond_with_data(sds, content_type="application/msword")
    summaries = pipeline.scrape(lists_env, ["ops-24", "sds-18"], post_process=False)
    assert [(s.source, s.status, s.n_new) for s in summaries] == [("ops-24", "ok", 167), ("sds-18", "ok", 71)]
    with session_scope(lists_env.database_url) as session:
        ops_rows = session.exec(select(Institution).where(Institution.woj_teryt == "24")).all()
    assert Counter(i.type for i in ops_rows) == {"ops": 164, "cus": 3}
    # every gmina of the voivodeship, each with its own gmina code from the list's Powiat/Gmina columns
    assert len({i.gmina_id6 for i in ops_rows}) == 167
    bobrowniki = next(i for i in ops_rows if i.name == "Ośrodek Pomocy Społecznej w Bobrownikach")
    assert (bobrowniki.locality, bobrowniki.gmina_id6, bobrowniki.email) == ("Dobieszowice", "240104", "ops@bobrowniki.pl")


def test_an_unreachable_list_changes_nothing(lists_env, httpserver):
    httpserver.expect_request("/download/441").respond_with_data("nie ma", status=404)
    [summary] = pipeline.scrape(lists_env, ["ops-24"], post_process=False)
    assert summary.status == "failed" and "ops-24" in summary.message
    with session_scope(lists_env.database_url) as session:
        assert session.exec(select(Institution)).all() == []


def test_keys_survive_the_small_edits_of_monthly_versions():
    row = lambda name, **kw: SimpleNamespace(name=name, locality=kw.get("locality"), powiat_name=kw.get("powiat"),
                                             gmina_name=None)
    a = institution_key(row("Dom Pomocy Społecznej w Zakrzewie", powiat="Aleksandrowski"), "dps")
    b = institution_key(row("DPS  w Zakrzewie,", powiat="aleksandrowski"), "dps")
    assert a == b == "dps:dom-pomocy-spolecznej-w-zakrzewie:aleksandrowski"
    assert institution_key(row("DPS w Zakrzewie", locality="Zakrzewo"), "dps") != a   # a locality wins


def test_powiat_and_gmina_names_as_lists_write_them():
    assert resolve_listed_powiat("m. Tarnów", "12") == "1263"
    assert resolve_listed_powiat("tarnowki", "12") == "1216"            # a typo in the violence base
    assert resolve_listed_powiat("Golubsko - Dobrzyński", "04") == "0405"
    assert resolve_listed_powiat("brzeski", "12") == "1202" and resolve_listed_powiat("brzeski", None) is None   # two in PL
    assert resolve_gmina("Bochnia", "1201", "Miejski Ośrodek Pomocy Społecznej w Bochni") == "120101"
    assert resolve_gmina("Bochnia", "1201", "Gminny Ośrodek Pomocy Społecznej w Bochni") == "120102"


def test_places_are_one_dated_observation_across_sources():
    row = lambda field, source, as_of, seen: SimpleNamespace(
        field=field, source=source, source_key="k", source_updated_at=as_of,
        last_seen=SimpleNamespace(timestamp=lambda: seen))
    rows = [row("places_free", "rjps", date(2026, 3, 1), 9.0), row("places_total", "rjps", date(2026, 3, 1), 9.0),
            row("places_free", "dps-04", date(2026, 6, 30), 1.0), row("places_total", "dps-04", date(2026, 6, 30), 1.0),
            row("phones", "rjps", None, 9.0), row("phones", "dps-04", None, 1.0)]
    best = priority.choose(rows)
    # RJPS outranks the list for contacts, but the newer places win — both fields from the same record
    assert best["phones"].source == "rjps"
    assert best["places_free"].source == best["places_total"].source == "dps-04"
    assert priority.keeps_newer("places_free", date(2026, 6, 30), date(2026, 5, 31))
    assert not priority.keeps_newer("places_free", date(2026, 5, 31), date(2026, 6, 30))
    assert not priority.keeps_newer("phones", date(2026, 6, 30), date(2026, 5, 31))


def test_a_list_without_addresses_is_placed_by_name_within_its_powiat(data_dir):
    from click.testing import CliRunner

    from orchestration.cli import cli

    sheet = REAL / "kujawsko-pomorskie" / "dps_wolne_miejsca_2026-08-05.xls"
    result = CliRunner().invoke(cli, ["import-document", str(sheet), "--kind", "dps", "--source", "dps-04"])
    assert result.exit_code == 0, result.output
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        homes = session.exec(select(Institution)).all()
    zakrzewo = next(i for i in homes if i.name == "Dom Pomocy Społecznej w Zakrzewie")
    # Zakrzewo is a gmina in powiat aleksandrowski (0401) and a village name in half of Poland
    assert (zakrzewo.powiat_teryt, zakrzewo.gmina_id6, zakrzewo.teryt_method) == ("0401", "040109", "name")
    assert all(i.powiat_teryt and i.woj_teryt == "04" and i.lat is not None for i in homes)
    # a seat the gazetteer does not know stays in its powiat, shown at the powiat's point, never elsewhere
    assert all(i.gmina_id6 is None or i.gmina_id6.startswith(i.powiat_teryt) for i in homes)
    # the one flag is the sheet's own: Pruszcz (świecki, 86-120) is written with 89-120, a code of Nakło
    assert [i.name for i in homes if i.teryt_flag] == ["Międzygminny Ośrodek Opiekuńczy w Pruszczu"]
    nakło = next(i for i in homes if i.name == "Dom Pomocy Społecznej w Nakle nad Notecią")
    assert nakło.gmina_id6 and nakło.gmina_id6[:4] == "0410"    # "nad Notecią" read as part of the seat
    bydgoszcz = [i for i in homes if i.powiat_teryt == "0461"]   # a city with powiat rights: its one gmina
    assert bydgoszcz and all(i.gmina_id6 == "046101" for i in bydgoszcz)
    assert {i.geo_precision for i in homes if i.gmina_id6 is None and not i.teryt_flag} == {"powiat"}
