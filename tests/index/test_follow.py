"""A node's index follows the catalog (index.follow): it tells from the catalog's mark whether another
writer changed the catalog (new rows, changed rows, deletions, and a slow transaction's rows stamped
before the mark), catches up, and leaves the round to the process holding the follow lock."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from catalog import db
from catalog.models import Institution, utcnow
from index import api, follow, store
from index.api import SearchQuery, search


def _sync(settings) -> follow.Sync:
    with db.session_scope(settings.database_url) as session:
        return follow.sync_state(settings, session)


def _total(settings) -> int:
    return search(settings, SearchQuery(per_page=1)).total


def test_a_fresh_build_is_level_and_a_round_changes_nothing(writable):
    settings, _ids = writable
    sync = _sync(settings)
    assert sync.level and sync.behind == 0 and sync.indexed == sync.catalog > 0
    assert follow.follow_once(settings) is None


def test_rows_written_by_another_node_are_seen_and_caught_up(writable):
    settings, ids = writable
    before = _total(settings)
    with db.session_scope(settings.database_url) as session:   # "another node's ingest"
        session.add(Institution(name="Środowiskowy Dom Samopomocy w Wadowicach", type="sds", locality="Wadowice"))
        first = session.get(Institution, min(ids.values()))
        first.name, first.updated_at = "Ośrodek Pomocy Społecznej w Nowym Mieście", utcnow()
    sync = _sync(settings)
    assert not sync.level and sync.behind >= 2 and sync.catalog == sync.indexed + 1
    outcome = follow.follow_once(settings)
    assert outcome is not None and outcome.updated >= 2
    assert _sync(settings).level and _total(settings) == before + 1
    assert search(settings, SearchQuery(text="wadowice")).total == 1
    assert search(settings, SearchQuery(text="nowym mieście")).total >= 1


def test_a_deletion_is_seen(writable):
    settings, ids = writable
    with db.session_scope(settings.database_url) as session:
        victim = session.exec(select(Institution).where(Institution.id == max(ids.values()))).one()
        session.delete(victim)
    assert not _sync(settings).level
    follow.follow_once(settings)
    assert _sync(settings).level


def test_a_slow_transaction_stamped_before_the_mark_is_seen(writable):
    """A row changed by a transaction that stamped it before the index's high-water mark but committed
    after the index was brought level: it enters the overlap window, so the mark moves."""
    settings, ids = writable
    generation = store.current_generation(settings.index_dir, api.backend_name(settings))
    state = store.read_catalog_state(generation)
    with db.session_scope(settings.database_url) as session:
        old = session.exec(select(Institution).where(Institution.updated_at < state.high_water
                                                     - api.CATCH_UP_OVERLAP)).first()
        if old is None:   # every fixture row is recent: age one first, and bring the index level again
            old = session.get(Institution, min(ids.values()))
            old.updated_at = state.high_water - api.CATCH_UP_OVERLAP * 3
    follow.follow_once(settings)
    state = store.read_catalog_state(store.current_generation(settings.index_dir, api.backend_name(settings)))
    assert _sync(settings).level
    with db.session_scope(settings.database_url) as session:
        old = session.exec(select(Institution).where(Institution.updated_at < state.high_water
                                                     - api.CATCH_UP_OVERLAP)).first()
        old.name = "Klub Integracji Społecznej w Pcimiu"
        old.updated_at = state.high_water - timedelta(minutes=5)   # stamped before the mark
    assert not _sync(settings).level
    follow.follow_once(settings)
    assert _sync(settings).level and search(settings, SearchQuery(text="pcimiu")).total == 1


def test_a_round_is_left_to_the_process_holding_the_follow_lock(writable):
    settings, _ids = writable
    with db.session_scope(settings.database_url) as session:
        session.add(Institution(name="Warsztat Terapii Zajęciowej w Oświęcimiu", type="wtz"))
    backend = api.backend_name(settings)
    with store.try_lock(settings.index_dir, backend, follow.FOLLOW_LOCK) as mine:
        assert mine
        held = []
        other = threading.Thread(target=lambda: held.append(follow.follow_once(settings)))
        other.start()   # flock is per open file: a second open in this process is refused as well
        other.join(timeout=60)
        assert held == [None] and not _sync(settings).level
    assert follow.follow_once(settings) is not None and _sync(settings).level


def test_the_follower_thread_catches_up_and_stops(writable):
    settings, _ids = writable
    with db.session_scope(settings.database_url) as session:
        session.add(Institution(name="Zakład Aktywności Zawodowej w Bochni", type="zaz"))
    follower = follow.Follower(settings, interval=0.05)
    follower.ensure_started()
    try:
        for _ in range(600):   # polling, not a timing assertion
            if follower.last_round is not None and _sync(settings).level:
                break
            threading.Event().wait(0.05)
    finally:
        follower.stop()
    assert _sync(settings).level and follower.last_error is None
    assert search(settings, SearchQuery(text="bochni")).total == 1


def test_catching_up_reads_only_what_changed_not_the_whole_overlap(writable):
    """Every fixture row was stamped within the last hour (the catch-up overlap): re-reading the overlap
    would re-index all of them; only the changed row (and any sharing the mark's stamp) is."""
    settings, ids = writable
    with db.session_scope(settings.database_url) as session:
        inst = session.get(Institution, min(ids.values()))
        inst.name, inst.updated_at = "Centrum Usług Społecznych w Limanowej", utcnow()
    outcome = follow.follow_once(settings)
    assert outcome is not None and 1 <= outcome.updated <= 2 < len(ids)
    assert search(settings, SearchQuery(text="limanowej")).total == 1
