"""RJPS adapter: real captures served on the real paths by a local server, plus synthetic-content fixtures."""
from __future__ import annotations

import json
from datetime import date

import pytest

from catalog.normalise import normalise_fields
from catalog.records import FetchResult
from scrapers.http import HostRateLimiter, HttpClient
from scrapers.rjps import (
    DEMO_REPLAY_DIR,
    DISABILITY_IDS,
    ListingError,
    RjpsAdapter,
    parse_fragment,
    parse_listing,
    replay_client,
    split_address,
    unit_to_item,
)
from tests.scrapers.conftest import (
    FIXTURES,
    REAL,
    REAL_FRAGMENTS,
    REAL_LISTING,
    real_listing_entries,
    serve_fragment,
    serve_listing,
)


def client(settings, **kwargs) -> HttpClient:
    return HttpClient(settings, "rjps", backoff=0.01, limiter=HostRateLimiter(), **kwargs)


def fixture(name: str) -> bytes:
    """A synthetic fixture, or a real capture (kept once, in data/registries/samples/rjps)."""
    path = FIXTURES / name
    return (path if path.exists() else REAL / name).read_bytes()


def run(settings, **adapter_kwargs):
    with client(settings, run_id=1) as c:
        return RjpsAdapter(**adapter_kwargs).fetch(c, settings)


def by_key(result) -> dict:
    return {item.source_key: item for item in result.items}


def serve_real(httpserver, extra_entries: list[dict] | None = None) -> None:
    """The real listing entries of 3499 and 2321 (+ extra) and the two real fragments; like the demo, only
    the disability filter lists them (the one real filtered capture), every other filter answers []."""
    serve_listing(httpserver, json.dumps(real_listing_entries({3499, 2321}) + (extra_entries or [])),
                  filtered={DISABILITY_IDS: [3499, 2321]})
    for unit_id, path in REAL_FRAGMENTS.items():
        serve_fragment(httpserver, unit_id, path.read_bytes())


# -- the real captures ----------------------------------------------------------------------------


def test_real_units_through_the_local_server(httpserver, rjps_settings):
    serve_real(httpserver)
    result = run(rjps_settings)
    assert result.fatal is None and result.complete and result.errors == []
    assert result.listed_keys == {"3499", "2321"}
    items = by_key(result)

    zab = items["3499"]
    assert "phones" not in zab.fields   # the adapter hands over the raw text; catalog.normalise splits it
    f = normalise_fields(zab.fields)
    assert f["name"] == "Miejski Ośrodek Pomocy Społecznej w Zabłudowie"
    assert (f["type"], f["type_raw"], f["rjps_id"]) == ("ops", "Ośrodek pomocy społecznej", "3499")
    assert (f["postal_code"], f["locality"], f["street"], f["building"]) == ("16-060", "Zabłudów", "ul. Rynek", "8")
    assert "flat" not in f
    assert f["address_raw"] == "16-060 Zabłudów, ul. Rynek 8"
    assert f["email"] == "biuro@mops-zabludow.pl"
    assert f["phones"] == [{"raw": "85 7188100", "e164": "+48857188100"}]
    assert f["phones_raw"] == "tel. 85 7188100"
    assert f["www"] == "http://bip.mops.um.zabludow.wrotapodlasia.pl"
    assert f["source_updated_at"] == zab.source_updated_at == date(2018, 2, 5)
    assert (f["lat"], f["lon"], f["geo_precision"], f["geo_source"]) == (53.014641, 23.33699, "source", "rjps")
    assert zab.raw["data_typ_id"] == "5" and zab.raw["address_2"] == "ul. Rynek 8"
    assert zab.raw["phone"] == "tel. 85 7188100" and zab.source == "rjps"
    assert zab.capture_id is not None

    byton = normalise_fields(items["2321"].fields)
    assert byton["name"] == "Gminny Ośrodek Pomocy Społecznej w Bytoniu"
    assert (byton["postal_code"], byton["locality"], byton["building"]) == ("88-231", "Bytoń", "72")
    assert "street" not in byton and "www" not in byton
    assert byton["address_raw"] == "88-231 Bytoń 72"
    assert byton["source_updated_at"] == date(2013, 12, 13)
    assert byton["phones"] == [{"raw": "542851327", "e164": "+48542851327"}]
    assert (byton["lat"], byton["lon"]) == (52.55788, 18.59832)


def test_the_whole_real_listing_over_http(httpserver, rjps_settings):
    serve_listing(httpserver, REAL_LISTING.read_bytes())
    with client(rjps_settings) as c:
        units = RjpsAdapter().fetch_listing(c, rjps_settings.base_url("rjps"), FetchResult())
    assert len(units) == 2801
    assert units["3499"] == (53.014641, 23.33699)
    assert all(coords is not None for coords in units.values())


def test_real_listing_parses_with_every_point_in_poland():
    units, errors = parse_listing(json.loads(REAL_LISTING.read_bytes()))
    assert len(units) == 2801 and errors == []
    lats = [c[0] for c in units.values()]
    lons = [c[1] for c in units.values()]
    assert 49.2 < min(lats) and max(lats) < 54.8 and 14.2 < min(lons) and max(lons) < 24.1


def test_demo_replay_dir_runs_the_same_parse_path(httpserver, rjps_settings):
    serve_real(httpserver)
    live = by_key(run(rjps_settings))
    with replay_client(rjps_settings, run_id=2) as c:
        replayed = RjpsAdapter(expected_min=1).fetch(c, rjps_settings)
        assert c.requests_sent == 0
    assert replayed.fatal is None and replayed.listed_keys == {"3499", "2321"}
    assert {k: i.fields for k, i in by_key(replayed).items()} == {k: i.fields for k, i in live.items()}
    assert all(i.capture_id for i in replayed.items)
    # The demo fragments are the real captures, byte for byte.
    for unit_id, path in REAL_FRAGMENTS.items():
        assert (DEMO_REPLAY_DIR / f"pobierzDaneJednostki_{unit_id}.html").read_bytes() == path.read_bytes()


# -- synthetic content in the real layout -------------------------------------------------------------


def test_several_phones_in_one_span():
    [unit] = parse_fragment(fixture("fragment_3499_two_phones.html"))
    assert unit["phone_text"] == "tel. 85 7188100 85 7188118"


def test_two_phones_become_two_numbers(httpserver, rjps_settings):
    serve_listing(httpserver, json.dumps(real_listing_entries({3499})))
    serve_fragment(httpserver, "3499", fixture("fragment_3499_two_phones.html"))
    [item] = run(rjps_settings).items
    assert [p["e164"] for p in normalise_fields(item.fields)["phones"]] == ["+48857188100", "+48857188118"]


def test_unknown_type_id_and_label_are_kept():
    [unit] = parse_fragment(fixture("fragment_900001_unknown_type.html"))
    assert unit["type_id"] == "999" and unit["type_label"] == "Placówka syntetyczna (rodzaj testowy)"
    item = unit_to_item(unit, None, None)
    assert item.fields["type"] == "other" and item.fields["type_raw"] == "Placówka syntetyczna (rodzaj testowy)"
    assert item.raw["data_typ_id"] == "999"
    assert (item.fields["locality"], item.fields["building"]) == ("Syntetyczna Wola", "7")
    assert "phones" not in item.fields and "lat" not in item.fields


def test_empty_spans_leave_fields_out():
    [unit] = parse_fragment(fixture("fragment_900002_empty_spans.html"))
    fields = unit_to_item(unit, (52.0, 19.0), None).fields
    assert fields["name"] == "Ośrodek Pomocy Społecznej (syntetyczny) nr 2"
    for absent in ("postal_code", "locality", "street", "building", "address_raw", "email", "phones",
                   "phones_raw", "www", "source_updated_at"):
        assert absent not in fields, absent


def test_several_units_in_one_fragment_with_cus_pcpr_cis():
    units = parse_fragment(fixture("fragment_three_types.html"))
    items = [unit_to_item(u, None, None) for u in units]
    assert [i.source_key for i in items] == ["900003", "900004", "900005"]
    assert [i.fields["type"] for i in items] == ["cus", "pcpr", "cis"]
    first = items[0].fields
    assert (first["street"], first["building"], first["flat"]) == ("ul. Przykładowa", "12", "3")
    assert items[1].fields["building"] == "5a"
    assert items[2].fields["street"] == "ul. 3 Maja" and "building" not in items[2].fields
    assert [i.source_updated_at for i in items] == [date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]


def test_fragment_without_browser_wrapper_parses_the_same():
    html = fixture("pobierzDaneJednostki_3499_list_fragment.html").decode()
    inner = html[html.index('<div class="zamknij"'):html.rindex("</body>")]
    assert parse_fragment(inner) == parse_fragment(html)


def test_batched_fragment_requests(httpserver, rjps_settings):
    entries = [{"id": i, "x": 19.0, "y": 52.0} for i in (900003, 900004, 900005)]
    serve_listing(httpserver, json.dumps(entries))
    serve_fragment(httpserver, "900003,900004,900005", fixture("fragment_three_types.html"))
    progress: list[tuple[int, int]] = []
    result = run(rjps_settings, batch_size=3, progress=lambda done, total: progress.append((done, total)))
    assert sorted(by_key(result)) == ["900003", "900004", "900005"] and result.errors == []
    assert progress == [(3, 3)]
    assert len(httpserver.log) == 2 + 14          # listing, 8 group + 6 service filters, one fragment batch


@pytest.mark.parametrize("line1, line2, expected", [
    ("16-060 Zabłudów", "ul. Rynek 8", {"postal_code": "16-060", "locality": "Zabłudów",
                                         "street": "ul. Rynek", "building": "8"}),
    ("88-231 Bytoń 72", "", {"postal_code": "88-231", "locality": "Bytoń", "building": "72"}),
    ("00-001 Miasto", "ul. Długa 12/3", {"postal_code": "00-001", "locality": "Miasto", "street": "ul. Długa",
                                         "building": "12", "flat": "3"}),
    ("00-001 Miasto", "al. Jana Pawła II 5A lok. 4", {"postal_code": "00-001", "locality": "Miasto",
                                                     "street": "al. Jana Pawła II", "building": "5A",
                                                     "flat": "4"}),
    ("Miasto", "", {"locality": "Miasto"}),
])
def test_split_address(line1, line2, expected):
    assert split_address(line1, line2) == expected


# -- broken sources -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "<html><body>Przerwa techniczna</body></html>",
    json.dumps({"error": "x"}),
    json.dumps(["a", "b", "c"] * 20),
    "[]",
])
def test_garbage_listing_is_fatal(httpserver, rjps_settings, body):
    serve_listing(httpserver, body)
    result = run(rjps_settings)
    assert result.fatal and result.fatal.startswith("RJPS listing unusable")
    assert result.items == [] and not result.complete and len(httpserver.log) == 1


def test_listing_down_is_fatal(httpserver, rjps_settings):
    serve_listing(httpserver, "err", status=502)
    result = run(rjps_settings)
    assert result.fatal and "HTTP 502" in result.fatal
    assert len(httpserver.log) == rjps_settings.http_retries


def test_too_few_units_is_fatal(httpserver, rjps_settings, monkeypatch):
    monkeypatch.setenv("RJPS_EXPECTED_MIN", "5")
    serve_real(httpserver)
    result = run(rjps_settings)
    assert result.fatal == "only 2 units, expected at least 5"
    assert not result.complete and result.items == [] and len(httpserver.log) == 1


def test_expected_min_default_is_for_the_live_register(monkeypatch):
    monkeypatch.delenv("RJPS_EXPECTED_MIN", raising=False)
    assert RjpsAdapter().meta.expected_min == 1000


def test_one_failing_unit_is_an_error_not_a_failure(httpserver, rjps_settings):
    serve_real(httpserver, extra_entries=[{"id": 900009, "x": 19.0, "y": 52.0}])
    serve_fragment(httpserver, "900009", b"boom", status=500)
    result = run(rjps_settings)
    assert result.fatal is None and result.complete
    assert result.listed_keys == {"3499", "2321", "900009"}       # still listed: neither updated nor missing
    assert sorted(by_key(result)) == ["2321", "3499"]
    assert result.errors == [{"where": "RJPS unit 900009", "message": "HTTP 500 after 3 attempts"}]


def test_unit_missing_from_its_fragment_is_an_error(httpserver, rjps_settings):
    serve_listing(httpserver, json.dumps([{"id": 77, "x": 19.0, "y": 52.0}]))
    serve_fragment(httpserver, "77", fixture("pobierzDaneJednostki_2321_list_fragment.html"))
    result = run(rjps_settings)
    assert result.items == [] and result.errors[0]["where"] == "RJPS unit 77"


def test_listing_entries_with_bad_points_keep_their_ids():
    units, errors = parse_listing([{"id": 1, "x": 19.0, "y": 52.0}, {"id": 2, "x": 0.0, "y": 0.0},
                                   {"id": 3, "x": None, "y": 52.0}, {"id": 1, "x": 19.0, "y": 52.0}])
    assert units == {"1": (52.0, 19.0), "2": None, "3": None}
    assert [e["where"] for e in errors] == ["RJPS unit 2", "RJPS unit 3"]
    with pytest.raises(ListingError):
        parse_listing({"id": 1})


def test_type_id_5_is_ops_when_the_label_is_missing():
    html = fixture("pobierzDaneJednostki_2321_list_fragment.html").decode()
    [unit] = parse_fragment(html.replace("<span>Ośrodek pomocy społecznej</span>", "<span></span>"))
    item = unit_to_item(unit, None, None)
    assert item.fields["type"] == "ops" and "type_raw" not in item.fields
