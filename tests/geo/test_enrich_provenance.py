"""The geo stage writes through the catalog (catalog.derived): every derived value has provenance "geo" and a
change-log entry, so the powiat sheet's "changes since" sees a TERYT unit the stage (re-)assigned, and a
source's own value still beats a derived one. Real SQLite built by the migration, the real merge."""
from __future__ import annotations

from sqlmodel import Session, select

from catalog import priority
from catalog.db import session_scope
from catalog.merge import apply_fetch
from catalog.models import ChangeLog, FieldProvenance, Institution, ScrapeRun, utcnow
from catalog.records import FetchResult, SourceItem
from geo.enrich import enrich
from scrapers.base import SourceMeta
from webapp.page_queries import changes_since

META = SourceMeta(key="ops-20", name="OPS (test)", url="https://example.invalid", licence="-", attribution="-")


def _run(settings, **fields) -> int:
    """One run of a source giving one OPS with these address fields; returns the institution id."""
    item = SourceItem(source="ops-20", source_key="gops-1", fields={
        "name": "Gminny Ośrodek Pomocy Społecznej (test)", "type": "ops", **fields})
    with session_scope(settings.database_url) as session:
        run = ScrapeRun(source="ops-20")
        session.add(run)
        session.flush()
        stats = apply_fetch(session, META, FetchResult(items=[item], listed_keys={"gops-1"}), run, settings)
        return next(iter(stats.touched_ids))


def _geo_rows(session: Session, inst_id: int, field: str) -> list[FieldProvenance]:
    return list(session.exec(select(FieldProvenance).where(
        FieldProvenance.institution_id == inst_id, FieldProvenance.field == field,
        FieldProvenance.source == "geo").order_by(FieldProvenance.id)).all())


def test_a_teryt_unit_the_geo_stage_assigns_is_a_change_since_on_the_powiat_sheet(geo_settings):
    inst_id = _run(geo_settings, address_raw="ul. Rynek 8, 16-060 Zabłudów")
    since = utcnow()   # after the merge: what follows is the geo stage's alone
    with session_scope(geo_settings.database_url) as session:
        merged_entries = len(session.exec(select(ChangeLog)).all())
        enrich(session, geo_settings, [inst_id])
    with session_scope(geo_settings.database_url) as session:
        assert session.get(Institution, inst_id).powiat_teryt == "2002"
        sheet = changes_since(session, "2002", since)
        assert [inst.id for inst, _ in sheet["changed"]] == [inst_id]
        entries = [c for _, changes in sheet["changed"] for c in changes if c.source == "geo"]
        assert {(c.field, c.new_value) for c in entries} >= {("powiat_teryt", '"2002"'), ("gmina_id6", '"200214"')}
        assert len(session.exec(select(ChangeLog)).all()) > merged_entries
        [row] = _geo_rows(session, inst_id, "gmina_id6")
        assert (row.value, row.source_key, row.superseded_at) == ('"200214"', "derived", None)


def test_a_reassigned_unit_shows_on_the_new_powiats_sheet_and_keeps_its_history(geo_settings):
    inst_id = _run(geo_settings, address_raw="ul. Rynek 8, 16-060 Zabłudów")
    with session_scope(geo_settings.database_url) as session:
        enrich(session, geo_settings, [inst_id])
    # The source corrects the address (a new run): the unit moves to Kraków, which only geo can tell.
    since = utcnow()
    _run(geo_settings, address_raw="ul. Józefińska 14, 30-529 Kraków")
    with session_scope(geo_settings.database_url) as session:
        enrich(session, geo_settings, [inst_id])   # our earlier parse of the old address follows the new one
    with session_scope(geo_settings.database_url) as session:
        inst = session.get(Institution, inst_id)
        assert (inst.powiat_teryt, inst.street, inst.postal_code) == ("1261", "ul. Józefińska", "30-529")
        sheet = changes_since(session, "1261", since)
        moved = [c for _, changes in sheet["changed"] for c in changes if c.field == "powiat_teryt"]
        assert [(c.source, c.old_value, c.new_value) for c in moved] == [("geo", '"2002"', '"1261"')]
        history = _geo_rows(session, inst_id, "powiat_teryt")
        assert [(r.value, r.superseded_at is None) for r in history] == [('"2002"', False), ('"1261"', True)]


def test_a_source_value_beats_a_derived_one():
    assert priority.rank("gmina_id6", "geo") > priority.rank("gmina_id6", "przemoc-12")   # even an unlisted source
    assert priority.rank("lat", "geo") > priority.rank("lat", "demo")
