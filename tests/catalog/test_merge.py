"""Merge rules on real databases (SQLite and a real PostgreSQL server)."""
from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from catalog.db import session_scope, upgrade
from catalog.merge import apply_fetch
from catalog.models import ChangeLog, FieldProvenance, Institution, ScrapeRun, SourceRecord
from catalog.records import FetchResult, SourceItem
from scrapers.base import SourceMeta

META = SourceMeta(key="rjps", name="RJPS", url="https://example.invalid", licence="-", attribution="-")


def _item(key: str, **fields) -> SourceItem:
    base = {"name": f"Ośrodek Pomocy Społecznej nr {key}", "type": "ops", "postal_code": "16-060",
            "locality": "Zabłudów", "phones": [{"raw": "85 7188100", "e164": "+48857188100"}]}
    base.update(fields)
    return SourceItem(source=META.key, source_key=key, fields=base, raw={"name": base["name"]},
                      source_updated_at=fields.get("source_updated_at"))


def _run(s, items, listed=None, complete=True):
    result = FetchResult(items=items, listed_keys=set(listed if listed is not None else [i.source_key for i in items]),
                         complete=complete)
    with session_scope(s.database_url) as session:
        run = ScrapeRun(source=META.key)
        session.add(run)
        session.flush()
        return apply_fetch(session, META, result, run, s)


def _inst(s, key):
    with session_scope(s.database_url) as session:
        rec = session.exec(select(SourceRecord).where(SourceRecord.source_key == key)).one()
        return session.get(Institution, rec.institution_id)


def test_new_records_create_institutions_with_provenance(db_settings):
    stats = _run(db_settings, [_item("1", source_updated_at=date(2018, 2, 5)), _item("2")])
    assert (stats.n_new, stats.n_changed, stats.n_unchanged) == (2, 0, 0)
    inst = _inst(db_settings, "1")
    assert inst.name == "Ośrodek Pomocy Społecznej nr 1" and inst.postal_code == "16-060"
    assert inst.phones == [{"raw": "85 7188100", "e164": "+48857188100"}]
    assert inst.source_updated_at == date(2018, 2, 5)
    with session_scope(db_settings.database_url) as session:
        prov = session.exec(select(FieldProvenance).where(FieldProvenance.institution_id == inst.id)).all()
        assert {p.field for p in prov} >= {"name", "type", "postal_code", "locality", "phones"}
        assert all(p.source == "rjps" and p.source_key == "1" for p in prov)
        logs = session.exec(select(ChangeLog).where(ChangeLog.institution_id == inst.id)).all()
        assert [entry.kind for entry in logs].count("new") == 1


def test_rerun_unchanged_then_field_change_is_logged(db_settings):
    _run(db_settings, [_item("1"), _item("2")])
    stats = _run(db_settings, [_item("1"), _item("2")])
    assert (stats.n_new, stats.n_changed, stats.n_unchanged) == (0, 0, 2)
    stats = _run(db_settings, [_item("1", email="biuro@example.invalid", locality="Zabłudów "), _item("2")])
    assert stats.n_changed == 1
    inst = _inst(db_settings, "1")
    assert inst.email == "biuro@example.invalid"
    with session_scope(db_settings.database_url) as session:
        changes = session.exec(select(ChangeLog).where(
            ChangeLog.institution_id == inst.id, ChangeLog.kind == "changed")).all()
        by_field = {c.field: c for c in changes}
        assert json.loads(by_field["email"].new_value) == "biuro@example.invalid"
        assert by_field["email"].old_value is None


def test_value_dropped_by_source_is_cleared_and_logged(db_settings):
    _run(db_settings, [_item("1", www="http://example.invalid")])
    _run(db_settings, [_item("1")])
    inst = _inst(db_settings, "1")
    assert inst.www is None
    with session_scope(db_settings.database_url) as session:
        change = session.exec(select(ChangeLog).where(ChangeLog.field == "www")).one()
        assert json.loads(change.old_value) == "http://example.invalid" and change.new_value is None


def test_missing_units_are_kept_and_marked_possibly_closed_after_threshold(db_settings):
    _run(db_settings, [_item("1"), _item("2")])
    threshold = db_settings.missing_runs_threshold
    for i in range(threshold):
        stats = _run(db_settings, [_item("1")])
        assert stats.n_missing == 1
        assert _inst(db_settings, "2").status == ("possibly-closed" if i == threshold - 1 else "active")
    # It comes back: active again, and the return is logged.
    stats = _run(db_settings, [_item("1"), _item("2")])
    assert _inst(db_settings, "2").status == "active"
    assert stats.n_changed == 1


def test_incomplete_listing_never_counts_missing(db_settings):
    _run(db_settings, [_item("1"), _item("2")])
    for _ in range(5):
        stats = _run(db_settings, [_item("1")], complete=False)
        assert stats.n_missing == 0
    assert _inst(db_settings, "2").status == "active"


def test_listed_but_failed_unit_is_untouched_and_not_missing(db_settings):
    _run(db_settings, [_item("1"), _item("2", email="a@example.invalid")])
    before = _inst(db_settings, "2")
    stats = _run(db_settings, [_item("1")], listed=["1", "2"])
    assert stats.n_missing == 0
    after = _inst(db_settings, "2")
    assert after.email == "a@example.invalid" and after.last_seen == before.last_seen


def test_duplicate_keys_in_one_listing_do_not_duplicate(db_settings):
    stats = _run(db_settings, [_item("1"), _item("1", name="Inna nazwa")])
    assert stats.n_new == 1
    with session_scope(db_settings.database_url) as session:
        assert len(session.exec(select(Institution)).all()) == 1


def test_upgrade_keeps_existing_data(db_settings):
    _run(db_settings, [_item("1")])
    upgrade(db_settings.database_url)   # a second upgrade (new release start-up) is a no-op on data
    assert _inst(db_settings, "1").name == "Ośrodek Pomocy Społecznej nr 1"


def _keeping(key: str, keep: set[str], **fields) -> SourceItem:
    item = _item(key, **fields)
    item.keep_fields = frozenset(keep)
    return item


def _provenance(s, key: str) -> dict[str, FieldProvenance]:
    """The current (not superseded) provenance rows of one source key, by field."""
    with session_scope(s.database_url) as session:
        rows = session.exec(select(FieldProvenance).where(FieldProvenance.source_key == key,
                                                          FieldProvenance.current())).all()
        return {row.field: row for row in rows}


def test_kept_fields_survive_a_run_that_did_not_observe_them(db_settings):
    tags = {"target_groups": ["seniorzy"], "service_tags": ["dzienne"]}
    _run(db_settings, [_item("1", **tags)])
    first_seen = _provenance(db_settings, "1")["target_groups"].last_seen
    stats = _run(db_settings, [_keeping("1", {"target_groups", "service_tags"}, email="nowy@example.invalid")])
    assert stats.n_changed == 1
    inst = _inst(db_settings, "1")
    assert inst.email == "nowy@example.invalid"                       # observed fields still update
    assert (inst.target_groups, inst.service_tags) == (["seniorzy"], ["dzienne"])
    prov = _provenance(db_settings, "1")
    assert prov["target_groups"].last_seen == first_seen               # not observed: not "seen now"
    with session_scope(db_settings.database_url) as session:
        record = session.exec(select(SourceRecord).where(SourceRecord.source_key == "1")).one()
        assert record.data["target_groups"] == ["seniorzy"] and record.data["email"] == "nowy@example.invalid"
        assert session.exec(select(ChangeLog).where(ChangeLog.field == "target_groups",
                                                    ChangeLog.kind == "changed")).all() == []


def test_without_the_marker_absent_tags_are_cleared(db_settings):
    _run(db_settings, [_item("1", target_groups=["seniorzy"])])
    _run(db_settings, [_item("1", target_groups=[])])                # observed: none
    assert _inst(db_settings, "1").target_groups == []
    assert "target_groups" not in _provenance(db_settings, "1")
