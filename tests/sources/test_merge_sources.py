"""End to end: a CIS known to RJPS and to its wojewoda's register becomes one institution (status, validity
and operator from the register, contacts and point from RJPS, each value citing its source); explain-merge
shows why and unmerge undoes it. Real SQLite, real pipeline, register served over loopback."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from catalog.db import get_engine, session_scope
from catalog.matching_cli import explain_merge_cmd
from catalog.merge import apply_fetch
from catalog.models import ChangeLog, FieldProvenance, Institution, ScrapeRun, SourceRecord
from catalog.records import FetchResult, SourceItem
from orchestration.pipeline import scrape
from orchestration.stages_cli import unmerge_cmd
from scrapers.base import SourceMeta
from scrapers.cis_kis_config import CONFIGS

RJPS = SourceMeta(key="rjps", name="RJPS", url="https://rjps.example", licence="", attribution="")


def rjps_item(key: str, **fields) -> SourceItem:
    # Fictional units; contacts are placeholders (example.org), never real data.
    return SourceItem(source="rjps", source_key=key, fields={"type": "cis", "type_raw": "Centrum Integracji Społecznej",
                                                             "status": "active", **fields})


@pytest.fixture
def merged(env, serve, fixture_bytes):
    with session_scope(env.database_url) as session:
        run = ScrapeRun(source="rjps")
        session.add(run)
        session.flush()
        items = [
            rjps_item("9001", name="CIS PRZYKŁAD Zabłudów", postal_code="16-060", locality="Zabłudów",
                      street="ul. Przykładowa", building="1", lat=53.0139, lon=23.3370,
                      email="cis@example.org", phones_raw="tel. 12 345 67 89",
                      phones=[{"raw": "12 345 67 89", "e164": "+48123456789"}]),
            rjps_item("9002", name="Centrum Integracji Społecznej Próba", postal_code="18-100", locality="Łapy",
                      lat=52.9906, lon=22.8842, email="proba@example.org"),
            # Same name pattern, other end of the country: must stay separate.
            rjps_item("9003", name="Centrum Integracji Społecznej „Przykład” w Zabłudowie", postal_code="70-001",
                      locality="Szczecin", lat=53.43, lon=14.55),
            # Another type at the CIS's address with the same name: must stay separate.
            rjps_item("9004", name="CIS PRZYKŁAD Zabłudów", type="wtz", postal_code="16-060", locality="Zabłudów"),
        ]
        apply_fetch(session, RJPS, FetchResult(items=items, listed_keys={i.source_key for i in items}), run, env)
    serve(CONFIGS["20"].landing_paths[0], fixture_bytes("cis_kis", "20_rejestr.html"))
    summaries = scrape(env, ["cis-kis-20"], post_process=False)
    assert [s.status for s in summaries] == ["ok"], summaries[0].message
    return env


def _institution(session: Session, rjps_key: str) -> Institution:
    record = session.exec(select(SourceRecord).where(SourceRecord.source == "rjps",
                                                     SourceRecord.source_key == rjps_key)).one()
    return session.get(Institution, record.institution_id)


def _sources(session: Session, inst_id: int, field_name: str) -> set[str]:
    return {p.source for p in session.exec(select(FieldProvenance).where(
        FieldProvenance.institution_id == inst_id, FieldProvenance.field == field_name)).all()}


def test_cis_in_rjps_and_register_is_one_institution_citing_sources(merged):
    with Session(get_engine(merged.database_url)) as session:
        inst = _institution(session, "9001")
        records = session.exec(select(SourceRecord).where(SourceRecord.institution_id == inst.id)).all()
        assert sorted(r.source for r in records) == ["cis-kis-20", "rjps"]
        register = next(r for r in records if r.source == "cis-kis-20")
        assert register.match_method in ("fuzzy", "name-place") and register.match_detail["score"] >= 85
        # Legal facts from the register ...
        assert inst.valid_until == date(2029, 5, 10) and inst.decision_number == "PS-I.9511.1.2024"
        assert inst.operator_name == "Fundacja Przykładowa" and inst.status == "active"
        for field_name in ("valid_until", "decision_number", "decision_date", "operator_name"):
            assert _sources(session, inst.id, field_name) == {"cis-kis-20"}
        # ... contacts and the point from RJPS, each citing its source.
        assert inst.email == "cis@example.org" and (inst.lat, inst.lon) == (53.0139, 23.3370)
        for field_name in ("email", "lat", "lon", "phones"):
            assert _sources(session, inst.id, field_name) == {"rjps"}
        assert _sources(session, inst.id, "name") == {"rjps", "cis-kis-20"}   # both kept: a visible conflict

        lapy = _institution(session, "9002")
        assert lapy.status == "expired"   # the register's status beats RJPS's "active"
        assert {r.source for r in session.exec(select(SourceRecord).where(
            SourceRecord.institution_id == lapy.id)).all()} == {"rjps", "cis-kis-20"}
        for key in ("9003", "9004"):
            far_or_other_type = _institution(session, key)
            assert {r.source for r in session.exec(select(SourceRecord).where(
                SourceRecord.institution_id == far_or_other_type.id)).all()} == {"rjps"}


def test_explain_merge_shows_method_scores_distance_and_conflicts(merged):
    with Session(get_engine(merged.database_url)) as session:
        inst_id = _institution(session, "9001").id
    result = CliRunner().invoke(explain_merge_cmd, [str(inst_id)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "cis-kis-20" in out and "rjps" in out
    assert "wynik" in out and "próg 85" in out and "odległość" in out and "16-060 / 16-060" in out
    assert "Pola, w których źródła się różnią" in out and "name:" in out
    data = json.loads(CliRunner().invoke(explain_merge_cmd, [str(inst_id), "--json"]).output)
    assert "name" in data["conflicts"] and len(data["records"]) == 2
    missing = CliRunner().invoke(explain_merge_cmd, ["999999"])
    assert missing.exit_code != 0 and "Nie ma instytucji" in missing.output


def test_unmerge_detaches_and_logs_and_is_kept_on_the_next_run(merged):
    with Session(get_engine(merged.database_url)) as session:
        inst = _institution(session, "9001")
        register = session.exec(select(SourceRecord).where(SourceRecord.institution_id == inst.id,
                                                           SourceRecord.source == "cis-kis-20")).one()
        old_id, record_id = inst.id, register.id
    result = CliRunner().invoke(unmerge_cmd, [str(record_id)])
    assert result.exit_code == 0, result.output
    with Session(get_engine(merged.database_url)) as session:
        record = session.get(SourceRecord, record_id)
        assert record.institution_id != old_id and record.match_method == "unmerged"
        assert record.match_detail["unmerged_from"] == old_id
        old, new = session.get(Institution, old_id), session.get(Institution, record.institution_id)
        assert old.valid_until is None and old.operator_name is None and old.email == "cis@example.org"
        assert new.valid_until == date(2029, 5, 10) and new.email is None and new.type == "cis"
        assert _sources(session, new.id, "valid_until") == {"cis-kis-20"}
        kinds = session.exec(select(ChangeLog.institution_id).where(ChangeLog.kind == "unmerged")).all()
        assert sorted(kinds) == sorted([old_id, new.id])
    again = CliRunner().invoke(unmerge_cmd, [str(record_id)])
    assert again.exit_code != 0 and "jedynym rekordem" in again.output
    assert [s.status for s in scrape(merged, ["cis-kis-20"], post_process=False)] == ["ok"]
    with Session(get_engine(merged.database_url)) as session:
        assert session.get(SourceRecord, record_id).institution_id != old_id   # the decision stays undone



def test_units_of_one_source_in_one_run_never_merge_with_each_other(env):
    items = [
        rjps_item("1", name="Centrum Integracji Społecznej w Zabłudowie", postal_code="16-060", locality="Zabłudów"),
        rjps_item("2", name="CIS „Przykład” w Zabłudowie", postal_code="16-060", locality="Zabłudów"),
    ]
    with session_scope(env.database_url) as session:
        run = ScrapeRun(source="rjps")
        session.add(run)
        session.flush()
        stats = apply_fetch(session, RJPS, FetchResult(items=items, listed_keys={"1", "2"}), run, env)
        assert stats.n_new == 2
        assert len(session.exec(select(Institution)).all()) == 2


def test_unmerge_can_be_undone(merged):
    with Session(get_engine(merged.database_url)) as session:
        inst = _institution(session, "9001")
        record_id = session.exec(select(SourceRecord.id).where(SourceRecord.institution_id == inst.id,
                                                               SourceRecord.source == "cis-kis-20")).one()
        target_id = inst.id
    assert CliRunner().invoke(unmerge_cmd, [str(record_id), "--undo"]).exit_code != 0   # nothing to undo yet
    assert CliRunner().invoke(unmerge_cmd, [str(record_id)]).exit_code == 0
    with Session(get_engine(merged.database_url)) as session:
        detached_id = session.get(SourceRecord, record_id).institution_id
    result = CliRunner().invoke(unmerge_cmd, [str(record_id), "--undo"])
    assert result.exit_code == 0, result.output
    with Session(get_engine(merged.database_url)) as session:
        record = session.get(SourceRecord, record_id)
        assert record.institution_id == target_id and record.match_method in ("fuzzy", "name-place")
        assert session.get(Institution, detached_id) is None
        target = session.get(Institution, target_id)
        assert target.valid_until == date(2029, 5, 10) and target.email == "cis@example.org"
        assert _sources(session, target_id, "valid_until") == {"cis-kis-20"}
