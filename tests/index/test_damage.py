"""The private copy searches read (index/tantivy_view.py): independent of what happens to the published
generation's files, and able to tell damage from a writer's commit."""
from __future__ import annotations

import os

import pytest

from catalog import db
from catalog.models import Institution
from index import api, store, tantivy_view


@pytest.fixture(params=["tantivy", "whoosh"])
def built(request, settings, monkeypatch):
    monkeypatch.setenv("SEARCH_BACKEND", request.param)
    from catalog import settings as settings_mod

    settings = settings_mod.load()
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        session.add_all([Institution(name=f"Klub Integracji Społecznej nr {n}", type="kis") for n in range(30)])
    with db.session_scope(settings.database_url) as session:
        api.rebuild(settings, session)
    return settings, store.current_generation(settings.index_dir, request.param)


def _segments(generation, copy):
    return [n for n in copy.manifest if n not in copy.mutable and not n.endswith(".toc")]


def test_copy_is_independent_of_truncation_and_reports_it(built):
    settings, generation = built
    engine_reader = api._module(api.backend_name(settings)).Reader(generation)
    copy = engine_reader.copy
    assert copy.damage() is None
    name = max(_segments(generation, copy), key=lambda n: (generation / n).stat().st_size)
    size = (copy.path / name).stat().st_size
    os.truncate(generation / name, 0)
    assert (copy.path / name).stat().st_size == size           # our pages are our own
    assert "truncated" in copy.damage()
    with pytest.raises(tantivy_view.GenerationDamaged):
        engine_reader.refresh()
    assert engine_reader.num_docs() == 30                        # and still readable


def test_a_commit_is_not_damage(built):
    settings, _generation = built
    assert api.search(settings, api.SearchQuery(text="klub")).total == 30
    with db.session_scope(settings.database_url) as session:
        added = Institution(name="Klub Integracji Społecznej w Choroszczy", type="kis")
        session.add(added)
        session.flush()
        api.update(settings, session, [added.id])
    assert api.search(settings, api.SearchQuery(text="klub")).total == 31    # refreshed, not "damaged"
    api.check(settings)


def test_deleted_file_is_damage(built):
    settings, generation = built
    api.check(settings)
    reader = api._ENGINES[(settings.index_dir, api.backend_name(settings))].reader
    (generation / _segments(generation, reader.copy)[0]).unlink()
    with pytest.raises(tantivy_view.GenerationDamaged, match="missing"):
        api.check(settings)
