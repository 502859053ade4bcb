"""The index catches up with the catalog by itself (finding 8): whatever changed since its high-water
mark, ids never indexed, ids gone from the catalog, and ids a crashed writer left uncertain."""
from __future__ import annotations

from sqlmodel import select

from catalog import db
from catalog.models import Institution, utcnow
from index import api, store
from index.api import SearchQuery, search


def indexed_ids(settings) -> set[int]:
    out: set[int] = set()
    page = 1
    while True:      # the judged catalog is larger than one page
        hits = search(settings, SearchQuery(per_page=100, page=page)).hits
        out |= {h.id for h in hits}
        if len(hits) < 100:
            return out
        page += 1


def catalog_ids(settings) -> set[int]:
    with db.session_scope(settings.database_url) as session:
        return set(session.exec(select(Institution.id)).all())


def state(settings) -> store.CatalogState:
    generation = store.current_generation(settings.index_dir, api.backend_name(settings))
    return store.read_catalog_state(generation)


def test_rebuild_records_what_it_indexed(writable):
    settings, _ids = writable
    recorded = state(settings)
    assert recorded.ids == catalog_ids(settings) == indexed_ids(settings) and not recorded.pending
    with db.session_scope(settings.database_url) as session:
        newest = session.exec(select(Institution.updated_at).order_by(Institution.updated_at.desc())).first()
    assert recorded.high_water == newest


def test_catch_up_indexes_changes_new_rows_and_drops_deleted_ones(writable):
    settings, ids = writable
    with db.session_scope(settings.database_url) as session:
        template = session.get(Institution, ids["mops-zabludow"]).model_dump(exclude={"id"})
        added = Institution(**{**template, "name": "Klub Integracji Społecznej Nowy"})
        session.add(added)
        session.flush()
        added_id = added.id   # added first: SQLite would give a deleted highest id to the new row
    with db.session_scope(settings.database_url) as session:
        renamed = session.get(Institution, ids["gops-byton"])
        renamed.name, renamed.updated_at = "Centrum Usług Społecznych w Bytoniu", utcnow()
        session.delete(session.get(Institution, ids["oik-tarnow"]))
    with db.session_scope(settings.database_url) as session:
        outcome = api.catch_up(settings, session)
    assert outcome.removed == 1 and outcome.updated >= 2 and not outcome.rebuilt
    assert indexed_ids(settings) == catalog_ids(settings)
    assert ids["oik-tarnow"] not in indexed_ids(settings) and added_id in indexed_ids(settings)
    assert ids["gops-byton"] in {h.id for h in search(settings, SearchQuery(text="centrum usług bytoń")).hits}
    assert state(settings).ids == catalog_ids(settings)


def test_catch_up_with_nothing_pending_changes_nothing(writable):
    settings, _ids = writable
    with db.session_scope(settings.database_url) as session:
        api.catch_up(settings, session)            # the rows stamped just now are inside the overlap
    with db.session_scope(settings.database_url) as session:
        before = state(settings)
        assert api.catch_up(settings, session).removed == 0
    assert state(settings).ids == before.ids and state(settings).high_water == before.high_water


def test_update_does_not_move_the_high_water_mark(writable):
    """An update of some ids proves nothing about the others: a later catch-up must still see them."""
    settings, ids = writable
    before = state(settings).high_water
    with db.session_scope(settings.database_url) as session:
        for key in ("gops-byton", "mops-zabludow"):
            inst = session.get(Institution, ids[key])
            inst.name, inst.updated_at = f"Nowa nazwa {key}", utcnow()
    with db.session_scope(settings.database_url) as session:
        api.update(settings, session, [ids["gops-byton"]])
    assert state(settings).high_water == before
    with db.session_scope(settings.database_url) as session:
        api.catch_up(settings, session)
    assert ids["mops-zabludow"] in {h.id for h in search(settings, SearchQuery(text="nowa nazwa mops")).hits}
    assert state(settings).high_water > before


def test_ids_a_crashed_writer_left_pending_are_redone(writable):
    """Killed between its commit and its final state write: the pending ids are re-checked, so a
    document of an institution deleted meanwhile does not linger."""
    settings, ids = writable
    gone = ids["oik-tarnow"]
    generation = store.current_generation(settings.index_dir, api.backend_name(settings))
    recorded = state(settings)
    # What the crashed writer had written: its own id set without `gone`, `gone` still pending.
    store.write_catalog_state(generation, store.CatalogState(recorded.ids - {gone}, recorded.high_water, {gone}))
    with db.session_scope(settings.database_url) as session:
        session.delete(session.get(Institution, gone))
    assert gone in indexed_ids(settings)
    with db.session_scope(settings.database_url) as session:
        api.catch_up(settings, session)
    assert gone not in indexed_ids(settings) and not state(settings).pending


def test_index_without_a_recorded_state_is_rebuilt(writable):
    settings, _ids = writable
    generation = store.current_generation(settings.index_dir, api.backend_name(settings))
    next(generation.parent.glob("state-gen-*.json")).unlink()
    with db.session_scope(settings.database_url) as session:
        assert api.catch_up(settings, session).rebuilt
    assert state(settings).ids == catalog_ids(settings)
