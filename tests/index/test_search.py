"""Query API over the test catalog, against every backend (the `built` fixture is parametrised)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from catalog.geometry import haversine_km
from index.api import IndexMissing, QueryError, SearchQuery, index_exists, search
from index.cli import search_cmd

ZABLUDOW = (53.0135, 23.3368)


def names(result):
    return [hit.fields["name"] for hit in result.hits]


@pytest.mark.parametrize("text, key", [
    ("mops zabludow", "mops-zabludow"),
    ("gops bytoń", "gops-byton"),
    ("osrodek pomocy spolecznej w bytoniu", "gops-byton"),
    ("Bytoniu", "gops-byton"),
])
def test_done_when_queries_rank_the_unit_first(built, text, key):
    settings, ids = built
    result = search(settings, SearchQuery(text=text))
    assert result.hits[0].id == ids[key]
    assert result.note is None


def test_misspelled_name_is_found_with_a_note(built):
    settings, ids = built
    result = search(settings, SearchQuery(text="zabłodów"))
    # the typo ties three Zabłudów institutions; the gmina's OPS (first contact) goes first
    assert result.hits[0].id == ids["mops-zabludow"]
    assert {hit.id for hit in result.hits} == {ids["mops-zabludow"], ids["kis-zabludow"], ids["dps-zabludow"]}
    assert result.note and "podobnych" in result.note


def test_exact_match_is_not_drowned_by_fuzzy_neighbours(built):
    # "bytom" and "byton" are one edit apart: exact words must not pull in the other town.
    settings, ids = built
    result = search(settings, SearchQuery(text="bytom"))
    assert [hit.id for hit in result.hits] == [ids["mops-bytom"]]


def test_prefix_of_last_word_while_typing(built):
    settings, ids = built
    result = search(settings, SearchQuery(text="mops zabł"))
    assert result.hits[0].id == ids["mops-zabludow"]
    # with a trailing space the word is complete: no prefix expansion, a partial fallback at most
    complete = search(settings, SearchQuery(text="mops zabł "))
    assert complete.total == 0 or complete.note


def test_stored_fields_for_display(built):
    settings, _ids = built
    hit = search(settings, SearchQuery(text="gops bytoń")).hits[0]
    fields = hit.fields
    assert fields["name"] == "Gminny Ośrodek Pomocy Społecznej w Bytoniu"
    assert (fields["type"], fields["postal_code"], fields["gmina_id6"]) == ("ops", "88-231", "041102")
    assert (fields["woj_teryt"], fields["powiat_teryt"]) == ("04", "0411")
    assert isinstance(fields["lat"], float) and isinstance(fields["target_groups"], list)
    assert hit.distance_km is None


def test_filters_and_facets(built):
    settings, ids = built
    everything = search(settings, SearchQuery(text="łódź"))
    assert everything.facets["type"]["wtz"] == 1 and everything.facets["type"]["ops"] == 1
    only_pup = search(settings, SearchQuery(text="łódź", types=("pup",)))
    assert [hit.id for hit in only_pup.hits] == [ids["pup-lodz"]]
    # a facet ignores its own filter, so the other types stay countable ...
    assert only_pup.facets["type"] == everything.facets["type"]
    # ... while other facets reflect the filter
    assert only_pup.facets["status"] == {"active": 1}
    assert set(everything.facets) == {"type", "woj", "powiat", "target_group", "status"}
    in_powiat = search(settings, SearchQuery(powiat="0411", per_page=50))
    assert in_powiat.total == 9 and all(h.fields["powiat_teryt"] == "0411" for h in in_powiat.hits)
    by_gmina = search(settings, SearchQuery(gmina="2002143", types=("ops", "kis")))
    assert {hit.id for hit in by_gmina.hits} == {ids["mops-zabludow"], ids["kis-zabludow"]}
    expired = search(settings, SearchQuery(status="expired"))
    assert [hit.id for hit in expired.hits] == [ids["cis-bialystok"]]
    group = search(settings, SearchQuery(target_groups=("rodziny zastępcze",), woj="12"))
    assert {hit.fields["type"] for hit in group.hits} == {"pcpr"} and group.total == 2


def test_distance_sort_and_radius(built, rel):
    settings, _ids = built
    result = search(settings, SearchQuery(near=ZABLUDOW, sort="distance", per_page=10))
    distances = [hit.distance_km for hit in result.hits]
    assert distances == sorted(distances) and distances[0] < 2
    assert result.total == len(rel.catalog_rows())
    first = result.hits[0].fields
    assert distances[0] == pytest.approx(haversine_km(*ZABLUDOW, first["lat"], first["lon"]))
    nearby = search(settings, SearchQuery(text="ośrodek pomocy", near=ZABLUDOW, radius_km=30, sort="distance"))
    assert nearby.hits and all(hit.distance_km <= 30 for hit in nearby.hits)
    assert {hit.fields["locality"] for hit in nearby.hits} <= {"Zabłudów", "Supraśl", "Choroszcz",
                                                               "Juchnowiec Kościelny", "Białystok"}


def test_distance_aware_relevance_prefers_the_nearer_unit(built):
    settings, ids = built
    far = (50.0125, 20.9888)          # Tarnów
    plain = search(settings, SearchQuery(text="mops"))
    near = search(settings, SearchQuery(text="mops", near=far))
    assert near.hits[0].id == ids["mops-tarnow"] and near.hits[0].distance_km < 5
    assert plain.total == near.total


def test_pagination_is_stable_and_complete(built):
    settings, _ids = built
    total = search(settings, SearchQuery(text="ośrodek", per_page=5)).total
    pages = [search(settings, SearchQuery(text="ośrodek", page=p, per_page=5)) for p in range(1, -(-total // 5) + 2)]
    seen = [hit.id for page in pages for hit in page.hits]
    assert len(seen) == len(set(seen)) == pages[0].total
    assert all(page.total == pages[0].total for page in pages)


@pytest.mark.parametrize("text", [
    "", "   ", "***", "AND OR NOT", '"unbalanced', "x" * 10_000, "🙂🙂 🙂", "title:(foo", "\x00\n\t",
    "zabłudów " * 2000, "-+&&||!(){}[]^~*?:\\/",
])
def test_garbage_queries_return_clean_results(built, text):
    settings, _ids = built
    result = search(settings, SearchQuery(text=text))
    assert result.total >= 0 and len(result.hits) <= 20


def test_too_long_query_is_capped_with_a_note(built):
    settings, ids = built
    result = search(settings, SearchQuery(text="mops zabłudów " + "a" * 500))
    assert result.hits[0].id == ids["mops-zabludow"]
    assert "za długie" in result.note


@pytest.mark.parametrize("query", [
    SearchQuery(page=0), SearchQuery(per_page=0), SearchQuery(per_page=1000), SearchQuery(page=10_000),
    SearchQuery(sort="name"), SearchQuery(sort="distance"), SearchQuery(near=(123.0, 20.0)),
    SearchQuery(near=(52.0, 20.0), radius_km=-1), SearchQuery(near=(52.0, 20.0), radius_km=50_000),
])
def test_invalid_requests_raise_a_polish_query_error(built, query):
    settings, _ids = built
    with pytest.raises(QueryError) as info:
        search(settings, query)
    assert any(ch in str(info.value) for ch in "ąęółśżźćń")


def test_missing_index_is_a_clear_error(tmp_path, monkeypatch):
    from catalog.settings import load

    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(tmp_path))
    settings = load()
    assert not index_exists(settings)
    with pytest.raises(IndexMissing):
        search(settings, SearchQuery(text="mops"))


def test_cli_json_lines_best_first(built, monkeypatch):
    settings, ids = built
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SEARCH_BACKEND", settings.search_backend)
    runner = CliRunner()
    result = runner.invoke(search_cmd, ["mops zabludow", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows[0]["id"] == ids["mops-zabludow"] and rows[0]["type"] == "ops"
    assert set(rows[0]) == {"id", "name", "type", "score"}
    near = runner.invoke(search_cmd, ["ośrodek", "--near", "53.01,23.33", "--type", "ops", "--json"])
    rows = [json.loads(line) for line in near.output.splitlines()]
    assert rows and all("distance_km" in row for row in rows)
    assert [row["score"] for row in rows] != [] and rows[0]["id"] == ids["mops-zabludow"]
    in_powiat = runner.invoke(search_cmd, ["ośrodek", "--powiat", "0411", "--json"])
    assert {json.loads(line)["id"] for line in in_powiat.output.splitlines()} >= {ids["gops-byton"]}
    bad = runner.invoke(search_cmd, ["x", "--near", "abc"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    human = runner.invoke(search_cmd, ["gops bytoń"])
    assert human.exit_code == 0 and "Bytoniu" in human.output and "Znaleziono: 1" in human.output


def test_generic_words_rank_but_do_not_filter(built):
    settings, ids = built
    result = search(settings, SearchQuery(text="pomoc dla bezrobotnych w Łodzi"))
    assert result.hits[0].id == ids["pup-lodz"]
    assert result.note is None          # a strict match, not the partial fallback
