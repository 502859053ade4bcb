"""`wsparcie search` and `wsparcie reindex` fail with one clear line and exit 1, never a traceback."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from catalog import settings as settings_mod
from catalog.db import upgrade
from index import store
from index.documents import SCHEMA_VERSION
from orchestration.cli import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception   # handled, not a crash
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", [("search", "mops"), ("reindex",)])
def test_unknown_backend(data_dir, monkeypatch, command):
    monkeypatch.setenv("SEARCH_BACKEND", "bogus")
    assert_one_line_error(invoke(*command), "SEARCH_BACKEND", "bogus")


def test_reindex_into_an_index_dir_that_cannot_be_created(data_dir, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("INDEX_DIR", str(blocker / "index"))
    upgrade(settings_mod.load().database_url)
    assert_one_line_error(invoke("reindex"), "Nie udało się przebudować indeksu", str(blocker))


def test_reindex_without_a_catalog(data_dir):
    assert_one_line_error(invoke("reindex"), "nie można odczytać katalogu")


def test_search_on_a_damaged_index(data_dir):
    settings = settings_mod.load()
    generation = store.new_generation(settings.index_dir, "tantivy")
    (generation / "meta.json").write_text("{ not json")
    store.write_schema_version(generation, SCHEMA_VERSION)   # damaged, not merely of an older schema
    store.publish(settings.index_dir, "tantivy", generation)
    assert_one_line_error(invoke("search", "mops"), "Wyszukiwanie nie powiodło się")


def test_search_on_an_index_of_an_older_schema(data_dir):
    settings = settings_mod.load()
    generation = store.new_generation(settings.index_dir, "tantivy")
    store.write_schema_version(generation, SCHEMA_VERSION - 1)
    store.publish(settings.index_dir, "tantivy", generation)
    assert_one_line_error(invoke("search", "mops"), "wsparcie reindex")


def test_bad_ids_stay_a_usage_error(data_dir):
    upgrade(settings_mod.load().database_url)
    result = invoke("reindex", "--ids", "1,x")
    assert result.exit_code == 2 and "--ids" in result.output and "Traceback" not in result.output
