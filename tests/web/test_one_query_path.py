"""One query path: the map (its data endpoint), the list page, the API, the map's GeoJSON and `wsparcie search`
return the same institutions for the same query (text, type, powiat, near), on the real index."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from index.cli import search_cmd
from tests.web.test_map_clusters import map_ids

CARD = re.compile(r'class="card-title"><a href="/instytucja/(\d+)">')

# (page parameters, API/CLI parameters)
QUERIES = [
    ({"q": "Choroszczy"}, {"q": "Choroszczy"}),
    ({"q": "gops zabludow"}, {"q": "gops zabludow"}),
    ({"typ": "cis"}, {"type": "cis"}),
    ({"powiat": "2002"}, {"powiat": "2002"}),
    ({"q": "pomocy", "powiat": "2002"}, {"q": "pomocy", "powiat": "2002"}),
]


def _map_ids(client, args: dict) -> set[int]:
    # The map's pins come per viewport from /mapa/dane.json: every cluster zoomed into until it splits.
    return map_ids(client, args)


def _list_ids(client, args: dict) -> set[int]:
    return {int(i) for i in CARD.findall(client.get("/instytucje", query_string=args).get_data(as_text=True))}


def _api_ids(client, args: dict) -> set[int]:
    body = client.get("/api/institutions", query_string={**args, "per_page": 100}).get_json()
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def _geojson_ids(client, args: dict) -> set[int]:
    return {f["id"] for f in client.get("/api/map.geojson", query_string=args).get_json()["features"]}


def _cli_ids(args: dict) -> set[int]:
    options = [args.get("q", "")]
    for name, option in (("type", "--type"), ("powiat", "--powiat"), ("near", "--near"),
                         ("radius_km", "--radius")):
        if name in args:
            options += [option, str(args[name])]
    result = CliRunner().invoke(search_cmd, [*options, "--limit", "100", "--json"])
    assert result.exit_code == 0, result.output
    return {json.loads(line)["id"] for line in result.output.splitlines() if line.strip()}


@pytest.mark.parametrize(("page_args", "api_args"), QUERIES)
def test_map_list_api_geojson_and_cli_agree(client, page_args, api_args):
    expected = _api_ids(client, api_args)
    assert expected   # every query finds something: an empty agreement would prove nothing
    assert _list_ids(client, page_args) == expected
    assert _map_ids(client, page_args) == expected          # every sample institution has a point
    assert _geojson_ids(client, api_args) == expected
    assert _cli_ids(api_args) == expected


def test_the_text_narrows_every_view(client, ids):
    """The mutation "a view ignores q" fails here: the one office must appear, the others must not."""
    page, api = {"q": "gops zabludow"}, {"q": "gops zabludow"}
    for found in (_list_ids(client, page), _map_ids(client, page), _api_ids(client, api),
                  _geojson_ids(client, api), _cli_ids(api)):
        assert ids["ops"] in found
        assert ids["krakow"] not in found and ids["cis"] not in found


def test_near_agrees_between_api_geojson_and_cli(client, ids):
    args = {"near": "53.0146,23.3384", "radius_km": "5"}
    expected = _api_ids(client, args)
    assert ids["ops"] in expected and ids["krakow"] not in expected
    assert _geojson_ids(client, args) == expected == _cli_ids(args)


FALLBACK_QUERIES = [
    ({"q": "Zabłudowie"}, {"q": "Zabłudowie"}),
    ({"q": "choroszczy"}, {"q": "choroszczy"}),   # lower case, as typed: the fallback folds like the index
    ({"typ": "cis"}, {"type": "cis"}),
    ({"powiat": "2002"}, {"powiat": "2002"}),
    ({"q": "pomocy", "powiat": "2002"}, {"q": "pomocy", "powiat": "2002"}),
]


@pytest.mark.parametrize(("page_args", "api_args"), FALLBACK_QUERIES)
def test_without_an_index_map_list_api_and_geojson_still_agree(app_without_index, page_args, api_args):
    """The SQL fallback (index/fallback.py) is the same query path: every view shows the same ids."""
    client = app_without_index.test_client()
    expected = _api_ids(client, api_args)
    assert expected
    assert _list_ids(client, page_args) == expected
    assert _map_ids(client, page_args) == expected
    assert _geojson_ids(client, api_args) == expected
    assert "trybie awaryjnym" in client.get("/instytucje", query_string=page_args).get_data(as_text=True)
