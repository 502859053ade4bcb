"""The merge's degraded-run guard and provenance history, on SQLite and a real PostgreSQL server."""
from __future__ import annotations

import json

from sqlmodel import func, select

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.merge import apply_fetch
from catalog.models import ChangeLog, FieldProvenance, Institution, ScrapeRun, SourceRecord
from catalog.records import FetchResult, SourceItem
from scrapers.base import SourceMeta

META = SourceMeta(key="rjps", name="RJPS", url="https://example.invalid", licence="-", attribution="-")
UNITS = [str(n) for n in range(1, 9)]   # 8 units: above the default minimum of 5


def _item(key: str, contacts: bool = True, **fields) -> SourceItem:
    base = {"name": f"Gminny Ośrodek Pomocy Społecznej nr {key}", "type": "ops", "postal_code": "16-060",
            "locality": "Zabłudów"}
    if contacts:
        base.update(email=f"gops{key}@example.invalid", www=f"https://gops{key}.example.invalid",
                    phones=[{"raw": f"85 718 81 0{key}", "e164": f"+4885718810{key}"}], phones_raw=f"85 718 81 0{key}")
    base.update(fields)
    return SourceItem(source=META.key, source_key=key, fields={k: v for k, v in base.items() if v is not None})


def _run(s, items) -> tuple[object, int]:
    result = FetchResult(items=items, listed_keys={i.source_key for i in items}, complete=True)
    with session_scope(s.database_url) as session:
        run = ScrapeRun(source=META.key)
        session.add(run)
        session.flush()
        return apply_fetch(session, META, result, run, s), run.id


def _by_key(session, key: str) -> Institution:
    rec = session.exec(select(SourceRecord).where(SourceRecord.source_key == key)).one()
    return session.get(Institution, rec.institution_id)


def _current(session, field: str) -> list[FieldProvenance]:
    return list(session.exec(select(FieldProvenance).where(FieldProvenance.field == field,
                                                           FieldProvenance.current())).all())


def test_every_unit_losing_its_contacts_is_degraded_and_nothing_is_removed(db_settings):
    _run(db_settings, [_item(k) for k in UNITS])
    with session_scope(db_settings.database_url) as session:
        seen_before = {p.source_key: p.last_seen for p in _current(session, "email")}
        total_before = session.exec(select(func.count()).select_from(FieldProvenance)).one()
    # The degraded answer: no contact block anywhere; yet unit 1 moved and a new unit 9 appeared.
    items = [_item(k, contacts=False) for k in UNITS]
    items[0].fields["locality"] = "Białystok"
    items.append(_item("9"))
    stats, run_id = _run(db_settings, items)

    assert {d["field"] for d in stats.degraded} == {"email", "www", "phones", "phones_raw"}
    assert {d["field"]: (d["before"], d["gone"]) for d in stats.degraded}["email"] == (8, 8)
    with session_scope(db_settings.database_url) as session:
        for key in UNITS:
            inst = _by_key(session, key)
            assert inst.email == f"gops{key}@example.invalid" and inst.www.startswith("https://gops")
            assert inst.phones[0]["raw"] == f"85 718 81 0{key}"
        emails = {p.source_key: p for p in _current(session, "email")}
        assert set(emails) == {*UNITS, "9"}
        # Kept values were not seen this run: their last_seen stays where it was.
        assert all(emails[k].last_seen == seen_before[k] for k in UNITS)
        assert session.exec(select(func.count()).select_from(FieldProvenance).where(
            FieldProvenance.superseded_at.is_not(None), FieldProvenance.field == "email")).one() == 0
        assert session.exec(select(func.count()).select_from(FieldProvenance)).one() >= total_before
        # Everything else applied: the genuine change, the new unit.
        assert _by_key(session, "1").locality == "Białystok" and _by_key(session, "9").email
        assert session.exec(select(ChangeLog).where(ChangeLog.field == "email", ChangeLog.kind == "changed")
                            ).all() == []
        run = session.get(ScrapeRun, run_id)
        assert {d["field"] for d in run.degraded} == {"email", "www", "phones", "phones_raw"}
        assert "email (8/8 units)" in run.message


def test_one_office_dropping_its_email_among_many_is_applied_and_logged(db_settings):
    _run(db_settings, [_item(k) for k in UNITS])
    items = [_item(k) for k in UNITS]
    del items[2].fields["email"]
    stats, run_id = _run(db_settings, items)
    assert stats.degraded == []
    with session_scope(db_settings.database_url) as session:
        inst = _by_key(session, "3")
        assert inst.email is None and _by_key(session, "4").email == "gops4@example.invalid"
        change = session.exec(select(ChangeLog).where(ChangeLog.institution_id == inst.id,
                                                      ChangeLog.field == "email")).one()
        assert json.loads(change.old_value) == "gops3@example.invalid" and change.new_value is None
        assert session.get(ScrapeRun, run_id).degraded == []
        # The removed value is history, not gone.
        old = session.exec(select(FieldProvenance).where(FieldProvenance.source_key == "3",
                                                         FieldProvenance.field == "email")).one()
        assert old.superseded_at is not None and old.superseded_run_id == run_id
        assert json.loads(old.value) == "gops3@example.invalid"


def test_threshold_is_configurable(db_settings, monkeypatch):
    _run(db_settings, [_item(k) for k in UNITS])
    monkeypatch.setenv("DEGRADED_SHARE", "1")     # an operator accepting a genuine mass removal
    accepting = settings_mod.load()
    stats, _ = _run(accepting, [_item(k, contacts=False) for k in UNITS])
    assert stats.degraded == []
    with session_scope(db_settings.database_url) as session:
        assert all(_by_key(session, k).email is None for k in UNITS)


def test_below_the_minimum_number_of_units_removals_apply(db_settings, monkeypatch):
    few = UNITS[:4]
    _run(db_settings, [_item(k) for k in few])
    stats, _ = _run(db_settings, [_item(k, contacts=False) for k in few])
    assert stats.degraded == []
    monkeypatch.setenv("DEGRADED_MIN_UNITS", "3")
    _run(db_settings, [_item(k) for k in few])
    stats, _ = _run(settings_mod.load(), [_item(k, contacts=False) for k in few])
    assert {d["field"] for d in stats.degraded} >= {"email"}


def test_provenance_history_value_changes_removals_and_returns(db_settings):
    _run(db_settings, [_item("1")])
    _run(db_settings, [_item("1", email="nowy@example.invalid")])   # changed
    _run(db_settings, [_item("1", email=None)])                     # removed (one unit: genuine)
    _run(db_settings, [_item("1", email="nowy@example.invalid")])   # back
    with session_scope(db_settings.database_url) as session:
        rows = session.exec(select(FieldProvenance).where(FieldProvenance.field == "email")
                            .order_by(FieldProvenance.id)).all()
        assert [json.loads(r.value) for r in rows] == ["gops1@example.invalid", "nowy@example.invalid",
                                                       "nowy@example.invalid"]
        assert [r.superseded_at is None for r in rows] == [False, False, True]
        assert rows[0].superseded_at <= rows[1].first_seen
        assert _by_key(session, "1").email == "nowy@example.invalid"
        # Superseded rows never count as what a source says now.
        assert len(_current(session, "email")) == 1


def test_removed_value_does_not_win_over_another_source(db_settings):
    """A superseded RJPS value must not be chosen by priority over a current value from another source."""
    other = SourceMeta(key="pup", name="PUP", url="https://example.invalid", licence="-", attribution="-")
    _run(db_settings, [_item("1", email="rjps@example.invalid")])
    with session_scope(db_settings.database_url) as session:
        inst_id = _by_key(session, "1").id
        session.add(FieldProvenance(institution_id=inst_id, field="email", source=other.key, source_key="p1",
                                    value=json.dumps("pup@example.invalid")))
    _run(db_settings, [_item("1", email=None)])
    with session_scope(db_settings.database_url) as session:
        assert session.get(Institution, inst_id).email == "pup@example.invalid"


def test_a_recovered_source_is_ok_again_and_a_still_broken_one_stays_degraded(db_settings):
    _run(db_settings, [_item(k) for k in UNITS])
    assert _run(db_settings, [_item(k, contacts=False) for k in UNITS])[0].degraded
    stats, _ = _run(db_settings, [_item(k, contacts=False) for k in UNITS])   # still broken the next night
    assert {d["field"] for d in stats.degraded} >= {"email"}
    stats, _ = _run(db_settings, [_item(k) for k in UNITS])                    # recovered
    assert stats.degraded == [] and stats.n_changed == 0 and stats.n_unchanged == len(UNITS)


def test_cleaning_notes_on_the_run_are_capped(db_settings):
    from catalog.merge import MAX_RUN_NOTES

    items = [_item(str(k), name=f"Ośrodek\u202e nr {k}") for k in range(MAX_RUN_NOTES + 50)]
    run_id = _run(db_settings, items)[1]
    with session_scope(db_settings.database_url) as session:
        notes = session.get(ScrapeRun, run_id).notes
        assert len(notes) == MAX_RUN_NOTES and notes[-1]["message"] == "... and 51 more cleaning notes"
        assert notes[0] == {"where": "rjps 0", "message": "name: removed bidi/invisible characters"}
        assert session.exec(select(Institution.name).where(Institution.name == "Ośrodek nr 7")).one()
