"""The offline first run: the bundled demo snapshot, and its replacement by real data."""
from __future__ import annotations

from collections import Counter
from datetime import date

from click.testing import CliRunner
from sqlmodel import select

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import ChangeLog, Institution, ScrapeRun, SourceRecord
from catalog.records import FetchResult, SourceItem
from geo import teryt
from orchestration import pipeline
from orchestration.cli import cli
from scrapers.base import SourceMeta


class StaticAdapter:
    """A source whose listing is given in memory (stands for a live register in this test)."""

    def __init__(self, items):
        self.meta = SourceMeta(key="rjps", name="RJPS", url="https://example.invalid", licence="-",
                               attribution="-")
        self.items = items

    def fetch(self, client, settings):
        return FetchResult(items=self.items, listed_keys={i.source_key for i in self.items}, complete=True)


REAL_SOURCES = {"rjps", "ops-24", "dps-04", "dps-12", "dps-18", "sds-12", "sds-18", "przemoc-12"}


def _institutions(s) -> list[Institution]:
    with session_scope(s.database_url) as session:
        return list(session.exec(select(Institution)).all())


def test_demo_snapshot_is_the_real_documents_plus_placeholders_where_nothing_real_is(demo_data_dir):
    s = settings_mod.load()
    rows = _institutions(s)
    real = [i for i in rows if not i.is_demo]
    placeholders = [i for i in rows if i.is_demo]
    names = {i.name for i in real}
    assert {"Miejski Ośrodek Pomocy Społecznej w Zabłudowie", "Gminny Ośrodek Pomocy Społecznej w Bytoniu",
            "Ośrodek Pomocy Społecznej w Bobrownikach", "Dom Pomocy Społecznej w Zakrzewie"} <= names
    assert sum(1 for i in real if i.phones or i.email) >= 650
    with session_scope(s.database_url) as session:
        sources = set(session.exec(select(SourceRecord.source).where(SourceRecord.source != "demo")).all())
    assert sources == REAL_SOURCES
    # one placeholder OPS per gmina with no real OPS/CUS, PCPR per land powiat without a real PCPR, a PUP per powiat
    real_ops_gminy = {i.gmina_id6 for i in real if i.type in ("ops", "cus") and i.gmina_id6}
    real_pcpr = {i.powiat_teryt for i in real if i.type == "pcpr"}
    counts = Counter(i.type for i in placeholders)
    assert counts["ops"] == 2479 - len(real_ops_gminy) and len(real_ops_gminy) > 300
    land_pcpr = {p for p in real_pcpr if p and not teryt.powiat(p).city_with_powiat_rights}
    assert counts["pcpr"] == 314 - len(land_pcpr) and counts["pup"] == 380
    assert not {i.gmina_id6 for i in placeholders if i.type == "ops"} & real_ops_gminy
    assert all("rekord demonstracyjny" in i.name for i in placeholders)
    assert not any(i.phones or i.email or i.www or i.street for i in placeholders)
    assert all(i.woj_teryt and i.powiat_teryt and i.lat and i.lon for i in rows)
    assert all(i.gmina_id6 for i in placeholders if i.type == "ops")
    # The real units got their gmina from the address or the list, not from the demo.
    zab = next(i for i in real if "Zabłudowie" in i.name)
    assert (zab.gmina_id6, zab.powiat_teryt, zab.woj_teryt) == ("200214", "2002", "20")
    again = CliRunner().invoke(cli, ["load-demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output


def test_ops_bobrowniki_finds_the_real_office_in_dobieszowice_with_its_phone(demo_data_dir):
    from index import api as index_api
    from webapp import create_app

    s = settings_mod.load()
    found = index_api.search(s, index_api.SearchQuery(text="ops bobrowniki", per_page=5))
    top = found.hits[0].fields
    assert top["name"] == "Ośrodek Pomocy Społecznej w Bobrownikach"
    [office] = [i for i in _institutions(s) if i.name == top["name"]]
    assert office.locality == "Dobieszowice" and office.phones[0]["e164"] == "+48322877863"
    html = create_app({"SETTINGS": s, "TESTING": True}).test_client().get(
        "/instytucje?q=ops+bobrowniki").get_data(as_text=True)
    first = html.index("Ośrodek Pomocy Społecznej w Bobrownikach")
    assert "Dobieszowice" in html[first:first + 2000] and "287 78 63" in html[first:first + 2000]


def test_monthly_sheets_of_the_snapshot_changed_only_places(demo_data_dir):
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        runs = session.exec(select(ScrapeRun.id).where(ScrapeRun.source == "dps-04").order_by(ScrapeRun.id)).all()
        assert len(runs) == 3
        later = session.exec(select(ChangeLog).where(ChangeLog.run_id.in_(runs[1:]))).all()
        chelmno = session.exec(select(Institution).where(Institution.name == "Dom Pomocy Społecznej w Chełmnie")).one()
    assert later and {c.field for c in later} <= {"places_total", "places_free", "places_as_of"}
    assert (chelmno.places_free, chelmno.places_as_of) == (3, date(2026, 6, 30))


def test_a_multi_type_list_yields_each_institution_with_its_own_type(demo_data_dir):
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        types = Counter(session.exec(select(Institution.type).join(
            SourceRecord, SourceRecord.institution_id == Institution.id).where(SourceRecord.source == "przemoc-12")).all())
    assert {"ops", "pcpr", "oik", "cus", "other"} <= set(types) and types["ops"] > 150 and types["oik"] >= 10


class RegionalAdapter(StaticAdapter):
    """A complete regional list (like ops-24, Śląskie only) of many OPS."""

    def __init__(self, items):
        super().__init__(items)
        self.meta = SourceMeta(key="ops-30", name="OPS (test)", url="https://example.invalid", licence="-",
                               attribution="-")


def test_a_regional_list_replaces_only_the_placeholders_of_the_gminy_it_covers(demo_data_dir):
    s = settings_mod.load()
    before = _institutions(s)
    placeholder_gminy = sorted(i.gmina_id6 for i in before if i.is_demo and i.type == "ops")
    wielkopolska = [g for g in placeholder_gminy if g.startswith("30")][:120]
    elsewhere = [g for g in placeholder_gminy if not g.startswith("30")]
    assert len(wielkopolska) == 120 and len(elsewhere) > 1000
    items = [SourceItem(source="ops-30", source_key=f"ops:{g}", fields={
        "name": f"Gminny Ośrodek Pomocy Społecznej {g} (test)", "type": "ops", "woj_teryt": "30",
        "powiat_teryt": g[:4], "gmina_id6": g}) for g in wielkopolska]
    summary = pipeline.run_adapter(s, RegionalAdapter(items))
    assert summary.ok and summary.n_new == 120
    # Before the geo stage nothing is replaced: placeholders go when a real record covers their unit.
    assert sum(i.is_demo and i.type == "ops" for i in _institutions(s)) == len(placeholder_gminy)
    summaries: list[pipeline.RunSummary] = []
    pipeline.later_stages(s, sorted(summary.touched_ids), summaries)
    assert summaries == []
    after = _institutions(s)
    left = {i.gmina_id6 for i in after if i.is_demo and i.type == "ops"}
    # Every other voivodeship keeps its placeholders, and so do the gminy of this one the list does not cover.
    assert left == set(placeholder_gminy) - set(wielkopolska) and set(elsewhere) <= left
    assert Counter(i.type for i in after if i.is_demo)["pcpr"] == Counter(
        i.type for i in before if i.is_demo)["pcpr"]
    with session_scope(s.database_url) as session:
        notes = session.exec(select(ChangeLog).where(ChangeLog.kind == "replaced-placeholder")).all()
    assert len(notes) == 120 and {n.old_value for n in notes} == {f"ops-{g}" for g in wielkopolska}


def test_loading_the_demo_over_real_data_marks_nothing_missing(demo_data_dir):
    from orchestration import demo

    s = settings_mod.load()
    items = [SourceItem(source="rjps", source_key=str(5000 + n), fields={"name": f"Jednostka {n}", "type": "dps"})
             for n in range(3)]
    assert pipeline.run_adapter(s, StaticAdapter(items)).ok
    loaded = demo.load_demo(s, only_if_empty=False)
    assert loaded.ok
    rjps_run = next(x for x in loaded.summaries if x.source == "rjps")
    assert rjps_run.n_missing == 0 and not rjps_run.complete


def test_coverage_report_does_not_count_placeholders(demo_data_dir):
    from geo import coverage

    s = settings_mod.load()
    rows = _institutions(s)
    with session_scope(s.database_url) as session:
        report = coverage.report(session)
    ops = next(t for t in report["types"] if t["key"] == "ops+cus")
    assert ops["active"] == sum(1 for i in rows if not i.is_demo and i.type in ("ops", "cus") and i.status == "active")
    assert report["demo_placeholders"] == sum(1 for i in rows if i.is_demo)
    assert len(report["gminy_without_ops"]) == sum(1 for i in rows if i.is_demo and i.type == "ops")
    # the RJPS 2022 universe: the two bundled RJPS units are known by name, the documents carry no RJPS ids
    assert report["rjps"] == {"listed": 2809, "named": 2, "outside_universe": 0}
    out = CliRunner().invoke(cli, ["status", "--coverage"])
    assert out.exit_code == 0 and "RJPS (mapa z czerwca 2022) wymienia 2809 jednostek; nazwy mamy dla 2." in out.output


def test_stale_real_record_is_flagged_on_its_page(demo_data_dir):
    from webapp import create_app

    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        byton = session.exec(select(Institution).where(Institution.rjps_id == "2321")).one()
    client = create_app({"SETTINGS": s, "TESTING": True}).test_client()
    html = client.get(f"/instytucja/{byton.id}").get_data(as_text=True)
    assert "Rejestr nie aktualizował tych danych od 13.12.2013" in html
    assert "Bytoń 72, 88-231 Bytoń" in html and "54 285 13 27" in html


def test_rjps_target_groups_are_searchable_and_filterable(demo_data_dir):
    from index import api as index_api

    s = settings_mod.load()
    tagged = index_api.search(s, index_api.SearchQuery(target_groups=("niepelnosprawnosc",), per_page=10))
    names = {h.fields["name"] for h in tagged.hits}
    assert names == {"Miejski Ośrodek Pomocy Społecznej w Zabłudowie", "Gminny Ośrodek Pomocy Społecznej w Bytoniu"}
    by_label = index_api.search(s, index_api.SearchQuery(text="niepełnosprawność zabłudów", per_page=3))
    assert by_label.hits[0].fields["name"] == "Miejski Ośrodek Pomocy Społecznej w Zabłudowie"


def test_a_unit_with_an_rjps_id_and_no_coordinates_gets_its_rjps_2022_point(data_dir):
    from geo import coverage

    s = settings_mod.load()
    lat, lon = coverage.rjps_point("4266")
    items = [SourceItem(source="rjps", source_key="4266", fields={
        "name": "Ośrodek Pomocy Społecznej (bez adresu)", "type": "ops", "rjps_id": "4266"})]
    summary = pipeline.run_adapter(s, StaticAdapter(items))
    pipeline.later_stages(s, sorted(summary.touched_ids), [summary], stages=("geo",))
    [unit] = _institutions(s)
    assert (unit.lat, unit.lon, unit.geo_precision, unit.geo_source) == (lat, lon, "source", "rjps-2022")
    assert unit.gmina_id6   # placed in its gmina by the point
