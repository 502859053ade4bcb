"""Index generations carry the document schema version (index.documents.SCHEMA_VERSION): a generation
of another version is never searched (the site answers from the catalog with the notice, never a 500)
and the catch-up (also run at the start of every ingest) rebuilds it."""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import json
import textwrap

import pytest
from sqlmodel import select

from catalog import db
from catalog.models import Institution
from index import api, documents, fallback, store, tantivy_backend, whoosh_backend
from index.api import SearchQuery

# SCHEMA_VERSION -> fingerprint of the document schema it stands for. A change to the fields fails
# test_fields_did_not_change_without_a_version_bump: bump SCHEMA_VERSION and add the new fingerprint.
FINGERPRINTS = {2: "ad9bc4ecef8d6687b8133302e02fb41b69fbfe58ceac0ac94288a850cda00be3"}


def _code(function) -> str:
    """A function's syntax tree: changes with what it does, not with comments or formatting."""
    return ast.dump(ast.parse(textwrap.dedent(inspect.getsource(function))), annotate_fields=False)


def fingerprint() -> str:
    """What a generation's documents depend on: the document's fields and each backend's schema."""
    parts = [
        json.dumps([f.name for f in dataclasses.fields(documents.IndexDocument)]),
        json.dumps(documents.TEXT_FIELDS, sort_keys=True), json.dumps(documents.STORED_FIELDS),
        json.dumps(documents.FACET_KEYS),
        json.dumps([documents.PLACES_FREE, documents.PLACES_FULL, documents.PLACES_UNKNOWN]),
    ]
    for backend in (tantivy_backend, whoosh_backend):
        parts += [json.dumps(backend.FILTER_FIELDS), _code(backend._schema), _code(backend._document)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_fields_did_not_change_without_a_version_bump():
    assert max(FINGERPRINTS) == documents.SCHEMA_VERSION
    assert fingerprint() == FINGERPRINTS[documents.SCHEMA_VERSION], (
        "the index document schema changed: bump index.documents.SCHEMA_VERSION and record "
        "the new fingerprint in FINGERPRINTS")


def _generation(settings):
    return store.current_generation(settings.index_dir, api.backend_name(settings))


def _make_stale(settings) -> None:
    """The published generation as an index built before versions (and the places field) existed."""
    (_generation(settings) / store.SCHEMA).unlink()


def test_a_rebuild_records_the_current_version(writable):
    settings, _ids = writable
    assert store.read_schema_version(_generation(settings)) == documents.SCHEMA_VERSION


def test_a_stale_generation_is_not_searched(writable):
    settings, _ids = writable
    _make_stale(settings)
    with pytest.raises(api.IndexStale) as raised:
        api.search(settings, SearchQuery(free_places=True))
    assert "przebudowanie" in str(raised.value)


def test_catch_up_rebuilds_a_stale_generation(writable):
    settings, _ids = writable
    _make_stale(settings)
    with db.session_scope(settings.database_url) as session:
        outcome = api.catch_up(settings, session)
        count = len(session.exec(select(Institution.id)).all())
    assert outcome.rebuilt and outcome.updated == count
    assert store.read_schema_version(_generation(settings)) == documents.SCHEMA_VERSION
    assert api.search(settings, SearchQuery(per_page=1)).total == count


def test_catch_up_leaves_a_current_generation_alone(writable):
    settings, _ids = writable
    before = _generation(settings)
    with db.session_scope(settings.database_url) as session:
        assert not api.catch_up(settings, session).rebuilt
    assert _generation(settings) == before


def test_an_update_into_a_stale_generation_rebuilds_it(writable):
    settings, ids = writable
    _make_stale(settings)
    with db.session_scope(settings.database_url) as session:
        api.update(settings, session, [ids["dps-krakow"]])
    assert store.read_schema_version(_generation(settings)) == documents.SCHEMA_VERSION


def test_the_site_answers_from_the_catalog_until_the_rebuild(writable):
    """/api/institutions?free_places=true against an index from before `places`: the fallback's
    answer with its notice, not a 500; the pages show the notice too."""
    from webapp import create_app

    settings, ids = writable
    with db.session_scope(settings.database_url) as session:
        inst = session.get(Institution, ids["dps-krakow"])
        inst.places_total, inst.places_free = 10, 2
    with db.session_scope(settings.database_url) as session:
        api.update(settings, session, [ids["dps-krakow"]])
    _make_stale(settings)
    client = create_app({"TESTING": True, "SETTINGS": settings}).test_client()
    response = client.get("/api/institutions", query_string={"free_places": "true"})
    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [ids["dps-krakow"]]
    assert fallback.NOTICE in json.dumps(body, ensure_ascii=False)
    page = client.get("/instytucje", query_string={"q": "pomocy"})
    assert page.status_code == 200
    assert "trybie awaryjnym" in page.get_data(as_text=True)
