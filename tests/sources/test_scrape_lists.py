"""OWES and PUP through the real pipeline (`wsparcie scrape owes pup`) from the local server."""
from __future__ import annotations

from sqlmodel import Session, select

from catalog.db import get_engine
from catalog.models import Institution, SourceRecord
from orchestration.pipeline import scrape
from scrapers.pup import LIST_PATH


def test_owes_and_pup_are_merged_into_the_catalog(env, serve, fixture_bytes):
    serve("/owes/action/export/wojewodztwo/11.html", fixture_bytes("owes", "export_11.csv"), content_type="text/csv")
    for n in range(1, 17):
        if n != 11:
            serve(f"/owes/action/export/wojewodztwo/{n}.html", b"", content_type="text/csv")
            serve(f"/owes/wojewodztwo/{n}.html", fixture_bytes("owes", "page_empty.html"))
    serve(LIST_PATH, fixture_bytes("pup", "urzedy-pracy.html"))
    summaries = {s.source: s for s in scrape(env, ["owes", "pup"], post_process=False)}
    # Far fewer entries than the national lists hold: merged, but not trusted as complete listings.
    assert summaries["owes"].status == "partial" and summaries["owes"].n_new == 2
    assert summaries["pup"].status == "partial" and summaries["pup"].n_new == 4
    assert "only" in summaries["pup"].errors[-1]["message"]
    with Session(get_engine(env.database_url)) as session:
        owes = session.exec(select(Institution).where(Institution.type == "owes")).all()
        debrzno = next(i for i in owes if i.name.endswith("w Debrznie"))
        assert debrzno.service_area == ["2203", "2202", "2206"] and debrzno.partners[0]["role"] == "partner"
        branch = session.exec(select(SourceRecord).where(SourceRecord.source == "pup",
                                                         SourceRecord.source_key.contains("/filia:"))).one()
        assert branch.data["parent_source_key"] and branch.raw["parent_source_key"] == branch.data["parent_source_key"]
        # The branch is linked to its seat's institution.
        seat = session.exec(select(SourceRecord).where(SourceRecord.source == "pup",
                                                       SourceRecord.source_key == branch.data["parent_source_key"])).one()
        assert session.get(Institution, branch.institution_id).parent_id == seat.institution_id


def test_expected_minimum_from_the_environment(env, serve, fixture_bytes, monkeypatch):
    monkeypatch.setenv("PUP_EXPECTED_MIN", "2")
    serve(LIST_PATH, fixture_bytes("pup", "urzedy-pracy.html"))
    summaries = scrape(env, ["pup"], post_process=False)
    assert summaries[0].status == "ok" and summaries[0].complete
