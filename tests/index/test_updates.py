"""Incremental updates, atomic rebuilds and a separate writer process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from catalog import db
from catalog.models import Institution
from index import api, store
from index.api import SearchQuery, search

from .conftest import relevance_lib

REPO = Path(__file__).resolve().parents[2]


def ids_for(settings, text: str) -> list[int]:
    return [hit.id for hit in search(settings, SearchQuery(text=text)).hits]


def rename(settings, inst_id: int, new_name: str) -> None:
    with db.session_scope(settings.database_url) as session:
        inst = session.get(Institution, inst_id)
        inst.name = new_name
        session.add(inst)


def test_update_changes_only_the_given_institutions(writable):
    settings, ids = writable
    target = ids["gops-byton"]
    old = search(settings, SearchQuery(text="gminny bytoń"))
    assert old.hits[0].id == target and old.note is None
    rename(settings, target, "Centrum Usług Społecznych w Bytoniu")
    other = ids["mops-zabludow"]
    rename(settings, other, "Zmieniona nazwa bez aktualizacji indeksu")
    with db.session_scope(settings.database_url) as session:
        assert api.update(settings, session, [target]) == 1
    assert target in ids_for(settings, "centrum usług bytoń")           # new name found
    # old name gone: no institution matches all its words any more (only a partial fallback)
    assert search(settings, SearchQuery(text="gminny bytoń")).note == api.NOTE_PARTIAL
    assert other in ids_for(settings, "mops zabludow")                 # not asked for: untouched
    assert search(settings, SearchQuery(per_page=100)).total == len(relevance_lib.catalog_rows())   # replaced, not duplicated


def test_update_removes_deleted_institutions(writable):
    settings, ids = writable
    gone = ids["oik-tarnow"]
    with db.session_scope(settings.database_url) as session:
        session.delete(session.get(Institution, gone))
    with db.session_scope(settings.database_url) as session:
        assert api.update(settings, session, [gone]) == 0
    assert gone not in ids_for(settings, "interwencja kryzysowa tarnów")
    assert search(settings, SearchQuery()).total == len(relevance_lib.catalog_rows()) - 1


def test_update_extends_the_fold_map_for_new_words(writable):
    settings, _ids = writable
    with db.session_scope(settings.database_url) as session:
        inst = Institution(name="Klub Integracji Społecznej w Żółkiewce", type="kis", locality="Żółkiewka")
        session.add(inst)
        session.flush()
        new_id = inst.id
    with db.session_scope(settings.database_url) as session:
        api.update(settings, session, [new_id])
    # "zolkiewce" is a form the index never saw; the fold map brings it to the lemma "Żółkiewka"
    assert ids_for(settings, "klub zolkiewce") == [new_id]


def test_rebuild_is_atomic_for_open_searchers(writable):
    settings, ids = writable
    backend = api.backend_name(settings)
    before = search(settings, SearchQuery(text="bytoń")).hits[0].id
    old_generation = store.current_generation(settings.index_dir, backend)
    old_reader = api._engine(settings).reader
    rename(settings, ids["gops-byton"], "Centrum Usług Społecznych w Bytoniu")
    with db.session_scope(settings.database_url) as session:
        api.rebuild(settings, session)
    new_generation = store.current_generation(settings.index_dir, backend)
    assert new_generation != old_generation and old_generation.exists()   # kept for late readers
    # the searcher opened before the rebuild still answers from its snapshot ...
    count, matches = old_reader.top(api.build_plan("gminny", old_reader, {}).node, api.Filters(), 5, 0, False)
    assert count >= 1 and before in [doc_id for doc_id, _f in old_reader.stored(matches)]
    # ... and the next search in this process sees the new generation
    assert ids_for(settings, "centrum usług bytoń")[0] == before
    with db.session_scope(settings.database_url) as session:
        api.rebuild(settings, session)
    assert not old_generation.exists()   # two rebuilds later the old generation is cleaned


def test_separate_writer_process_updates_a_running_reader(writable):
    settings, ids = writable
    target = ids["kis-lodz"]
    assert ids_for(settings, "klub integracji łódź")[0] == target    # reader open in this process
    rename(settings, target, "Klub Integracji Społecznej Przystań w Łodzi")
    env = {**os.environ, "WSPARCIE_DATA_DIR": str(settings.data_dir),
           "SEARCH_BACKEND": settings.search_backend}
    code = f"from index.cli import reindex_cmd; reindex_cmd(['--ids', '{target}'])"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Zaktualizowano 1" in done.stdout
    assert ids_for(settings, "przystań") == [target]


def test_rebuild_of_empty_catalog(tmp_path, monkeypatch):
    from catalog.settings import load

    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path))
    settings = load()
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        assert api.rebuild(settings, session) == 0
        assert session.exec(select(Institution)).all() == []
    assert api.index_exists(settings)
    assert search(settings, SearchQuery(text="mops")).total == 0


def test_reindex_command_rebuilds_and_reports(writable):
    from click.testing import CliRunner

    from index.cli import reindex_cmd

    settings, _ids = writable
    before = store.current_generation(settings.index_dir, api.backend_name(settings))
    result = CliRunner().invoke(reindex_cmd, [])
    assert result.exit_code == 0, result.output
    assert f"Zbudowano indeks: {len(relevance_lib.catalog_rows())} instytucji" in result.output
    assert store.current_generation(settings.index_dir, api.backend_name(settings)) != before
    bad = CliRunner().invoke(reindex_cmd, ["--ids", "1,x"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
