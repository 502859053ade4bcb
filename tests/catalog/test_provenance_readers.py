"""Every reader of FieldProvenance shows what the sources say now, never superseded history."""
from __future__ import annotations

import json

from sqlmodel import func, select

from catalog import settings as settings_mod
from catalog.db import session_scope, upgrade
from catalog.matching_cli import explanation
from catalog.merge import apply_fetch
from catalog.models import FieldProvenance, ScrapeRun, SourceRecord
from catalog.records import FetchResult, SourceItem
from scrapers.base import SourceMeta
from webapp import page_queries

META = SourceMeta(key="rjps", name="RJPS", url="https://example.invalid", licence="-", attribution="-")
OLD, NEW = "stary@example.invalid", "nowy@example.invalid"


def _ingest(s, email: str) -> None:
    item = SourceItem(source="rjps", source_key="1", fields={
        "name": "Gminny Ośrodek Pomocy Społecznej w Bytoniu", "type": "ops", "email": email,
        "postal_code": "88-231", "locality": "Bytoń"})
    with session_scope(s.database_url) as session:
        run = ScrapeRun(source="rjps")
        session.add(run)
        session.flush()
        apply_fetch(session, META, FetchResult(items=[item], listed_keys={"1"}, complete=True), run, s)


def test_superseded_rows_are_history_for_every_reader(data_dir):
    s = settings_mod.load()
    upgrade(s.database_url)
    _ingest(s, OLD)
    _ingest(s, NEW)
    with session_scope(s.database_url) as session:
        inst_id = session.exec(select(SourceRecord.institution_id)).one()
        assert session.exec(select(func.count()).select_from(FieldProvenance).where(
            FieldProvenance.field == "email")).one() == 2          # the old value is kept as history
        detail_rows = page_queries.provenance(session, inst_id)      # detail page "Skąd są te dane"
        assert [json.loads(r.value) for r in detail_rows if r.field == "email"] == [NEW]
        assert explanation(session, inst_id)["conflicts"] == {}      # history is no disagreement

    from webapp import create_app

    client = create_app({"TESTING": True}).test_client()
    api = client.get(f"/api/institutions/{inst_id}").get_json()
    assert [p["value"] for p in api["provenance"]["email"]] == [NEW]
    page = client.get(f"/instytucja/{inst_id}").get_data(as_text=True)
    assert NEW in page and OLD not in page
