"""`wsparcie unmerge` (and --undo) re-run the pipeline's later stages for the affected institutions: TERYT is
assigned to the detached institution and the search index follows the catalog; a failed stage is reported
with a non-zero exit while the catalog change stays. Real SQLite, real index, real CLI."""
from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select

from catalog import merge
from catalog.db import session_scope, upgrade
from catalog.merge import apply_fetch
from catalog.models import ChangeLog, FieldProvenance, Institution, ScrapeRun, SourceRecord
from catalog.records import FetchResult, SourceItem
from index import api as index_api
from orchestration.stages_cli import unmerge_cmd
from scrapers.base import SourceMeta

NAME = "Centrum Integracji Społecznej Przykład w Zabłudowie"   # fictional unit


def _meta(key: str) -> SourceMeta:
    return SourceMeta(key=key, name=key.upper(), url="https://example.invalid", licence="-", attribution="-")


def _ingest(settings, source: str, key: str, **fields) -> None:
    item = SourceItem(source=source, source_key=key, fields={
        "name": NAME, "type": "cis", "postal_code": "16-060", "locality": "Zabłudów", **fields})
    with session_scope(settings.database_url) as session:
        run = ScrapeRun(source=source)
        session.add(run)
        session.flush()
        apply_fetch(session, _meta(source), FetchResult(items=[item], listed_keys={key}), run, settings)


def _merged(settings) -> tuple[int, int]:
    """One CIS known to RJPS (with a point and TERYT) and to a register (address only); (institution, record)."""
    upgrade(settings.database_url)
    _ingest(settings, "rjps", "9001", lat=53.0139, lon=23.3370, gmina_id6="200214", powiat_teryt="2002",
            woj_teryt="20", email="cis@example.org")
    _ingest(settings, "cis-kis-20", "R1", register_number="CIS/20/99")
    with session_scope(settings.database_url) as session:
        records = session.exec(select(SourceRecord).order_by(SourceRecord.id)).all()
        assert len({r.institution_id for r in records}) == 1, "the fixture must merge"
        index_api.rebuild(settings, session)
        return records[0].institution_id, records[1].id


def _indexed_ids(settings) -> set[int]:
    return {int(h.id) for h in index_api.search(settings, index_api.SearchQuery(text="przykład")).hits}


def test_unmerge_and_undo_update_teryt_and_the_search_index(settings):
    inst_id, record_id = _merged(settings)
    assert _indexed_ids(settings) == {inst_id}
    result = CliRunner().invoke(unmerge_cmd, [str(record_id)])
    assert result.exit_code == 0, result.output
    with session_scope(settings.database_url) as session:
        new = session.get(Institution, session.get(SourceRecord, record_id).institution_id)
        assert new.id != inst_id and new.register_number == "CIS/20/99"
        assert new.gmina_id6 == "200214" and new.lat is not None   # geo enrich ran for the new institution
        new_id = new.id
    assert _indexed_ids(settings) == {inst_id, new_id}            # and the index knows it

    undo = CliRunner().invoke(unmerge_cmd, [str(record_id), "--undo"])
    assert undo.exit_code == 0, undo.output
    assert _indexed_ids(settings) == {inst_id}                    # the removed institution left the index


def test_failed_later_stage_is_reported_with_non_zero_exit(settings, tmp_path, monkeypatch):
    inst_id, record_id = _merged(settings)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setenv("INDEX_DIR", str(blocker))        # the index stage cannot write there
    result = CliRunner().invoke(unmerge_cmd, [str(record_id)])
    assert result.exit_code != 0
    assert "odłączono od instytucji" in result.output and "Etap index nie powiódł się" in result.output
    assert f"wsparcie reindex --ids {inst_id}," in result.output
    with session_scope(settings.database_url) as session:   # the catalog change was kept
        assert session.get(SourceRecord, record_id).institution_id != inst_id


def test_public_recompute_logs_without_a_run(settings):
    inst_id, _record_id = _merged(settings)
    with session_scope(settings.database_url) as session:
        row = session.exec(select(FieldProvenance).where(
            FieldProvenance.institution_id == inst_id, FieldProvenance.field == "email")).one()
        row.value = '"nowy@example.org"'
        inst = session.get(Institution, inst_id)
        assert merge.recompute(session, inst, {"email", "name"}, source="operator") is True
        assert inst.email == "nowy@example.org"
        assert merge.recompute(session, inst, {"email"}, source="operator") is False
        entry = session.exec(select(ChangeLog).where(ChangeLog.institution_id == inst_id,
                                                     ChangeLog.field == "email")).one()
        assert (entry.source, entry.run_id, entry.new_value) == ("operator", None, '"nowy@example.org"')

