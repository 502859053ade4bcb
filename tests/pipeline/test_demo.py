"""The offline first run: the bundled demo snapshot, and its replacement by real data."""
from __future__ import annotations

from collections import Counter

from click.testing import CliRunner
from sqlmodel import select

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import Institution
from catalog.records import FetchResult, SourceItem
from scrapers import pipeline
from scrapers.base import SourceMeta
from webapp.cli import cli


class StaticAdapter:
    """A source whose listing is given in memory (stands for a live register in this test)."""

    def __init__(self, items):
        self.meta = SourceMeta(key="rjps", name="RJPS", url="https://example.invalid", licence="-",
                               attribution="-")
        self.items = items

    def fetch(self, client, settings):
        return FetchResult(items=self.items, listed_keys={i.source_key for i in self.items}, complete=True)


def test_demo_snapshot_covers_every_unit_without_contact_data(demo_data_dir):
    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        rows = session.exec(select(Institution)).all()
    real = [i for i in rows if not i.is_demo]
    placeholders = [i for i in rows if i.is_demo]
    assert {i.name for i in real} == {"Miejski Ośrodek Pomocy Społecznej w Zabłudowie",
                                      "Gminny Ośrodek Pomocy Społecznej w Bytoniu"}
    counts = Counter(i.type for i in placeholders)
    # one OPS per gmina (2 479) less the two gminy covered by the real RJPS captures; PCPR per powiat
    # except the 66 cities with powiat rights (their MOPS does it); a PUP per powiat.
    assert counts == {"ops": 2477, "pcpr": 314, "pup": 380}
    assert all("rekord demonstracyjny" in i.name for i in placeholders)
    assert not any(i.phones or i.email or i.www or i.street for i in placeholders)
    assert all(i.woj_teryt and i.powiat_teryt and i.lat and i.lon for i in rows)
    assert all(i.gmina_id6 for i in rows if i.type == "ops")
    # The real units got their gmina from the address, not from the demo.
    zab = next(i for i in real if "Zabłudowie" in i.name)
    assert (zab.gmina_id6, zab.powiat_teryt, zab.woj_teryt) == ("200214", "2002", "20")
    again = CliRunner().invoke(cli, ["load-demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output


def test_real_records_replace_placeholders_of_their_type(demo_data_dir):
    s = settings_mod.load()
    items = [
        SourceItem(source="rjps", source_key=str(1000 + n), fields={
            "name": f"Gminny Ośrodek Pomocy Społecznej nr {n} (test)", "type": "ops"})
        for n in range(pipeline.PLACEHOLDER_REPLACEMENT_MIN)
    ]
    summary = pipeline.run_adapter(s, StaticAdapter(items))
    assert summary.ok
    with session_scope(s.database_url) as session:
        left = Counter(i.type for i in session.exec(select(Institution).where(Institution.is_demo == True)))
    assert left == {"pcpr": 314, "pup": 380}


def test_loading_the_demo_over_real_data_marks_nothing_missing(demo_data_dir):
    from scrapers import demo

    s = settings_mod.load()
    items = [SourceItem(source="rjps", source_key=str(5000 + n), fields={"name": f"Jednostka {n}", "type": "dps"})
             for n in range(3)]
    assert pipeline.run_adapter(s, StaticAdapter(items)).ok
    loaded = demo.load_demo(s, only_if_empty=False)
    assert loaded.ok
    rjps_run = next(x for x in loaded.summaries if x.source == "rjps")
    assert rjps_run.n_missing == 0 and not rjps_run.complete


def test_coverage_report_does_not_count_placeholders(demo_data_dir):
    from catalog import coverage

    s = settings_mod.load()
    with session_scope(s.database_url) as session:
        report = coverage.report(session)
    by_key = {t["key"]: t for t in report["types"]}
    ops = next(t for t in report["types"] if "ops" in t["key"].lower() or t["label"].startswith("OPS"))
    assert ops["active"] == 2 and not by_key.get("pup", {"active": 0})["active"]
    assert report["demo_placeholders"] == 3171
    assert len(report["gminy_without_ops"]) == 2477


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
