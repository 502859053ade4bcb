"""RJPS target groups and service tags from its own filter taxonomy (REGISTRIES.md §1.5)."""
from __future__ import annotations

import json

from sqlmodel import select

from catalog.db import session_scope
from catalog.models import Institution, ScrapeRun, SourceRecord
from catalog.types import SERVICE_TAGS, TARGET_GROUPS
from orchestration.pipeline import run_adapter
from scrapers.http import HostRateLimiter, HttpClient
from scrapers.rjps import DEMO_REPLAY_DIR, DISABILITY_IDS, RjpsAdapter
from scrapers.rjps_taxonomy import SUBCATEGORIES, ids_for_group, ids_for_service, taxonomy_requests
from tests.scrapers.conftest import (
    REAL_FRAGMENTS,
    real_listing_entries,
    serve_fragment,
    serve_listing,
    taxonomy_requests_in,
)

SENIORS = "19,20,21,22,23,24"
DAY_SERVICES = "4,8,13,22,26,31,36,45"
COUNSELLING = "2,10,18,24,28,33,38,43"


def serve_units(httpserver, filtered: dict[str, list[int]], failing: set[str] = frozenset(),
                email: str = "biuro@mops-zabludow.pl") -> None:
    serve_listing(httpserver, json.dumps(real_listing_entries({3499, 2321})), filtered=filtered, failing=failing)
    for unit_id, path in REAL_FRAGMENTS.items():
        serve_fragment(httpserver, unit_id, path.read_bytes().replace(b"biuro@mops-zabludow.pl", email.encode()))


def fetch(settings):
    with HttpClient(settings, "rjps", backoff=0.01, limiter=HostRateLimiter(), run_id=1) as c:
        return RjpsAdapter().fetch(c, settings)


def test_the_id_table_covers_rjps_and_uses_the_one_vocabulary():
    assert sorted(SUBCATEGORIES) == list(range(1, 46))
    assert {g for g, _ in SUBCATEGORIES.values()} == set(TARGET_GROUPS)
    assert {s for _, s in SUBCATEGORIES.values()} == set(SERVICE_TAGS)
    assert ids_for_group("niepelnosprawnosc") == [7, 8, 9, 10, 11, 12]
    assert ids_for_group("przemoc") == [41, 42, 43, 44, 45] and ids_for_service("wsparcie-finansowe")[-1] == 40
    assert len(taxonomy_requests()) == 14


def test_units_get_groups_and_tags_from_the_filtered_listings(httpserver, rjps_settings):
    serve_units(httpserver, {DISABILITY_IDS: [3499, 2321], SENIORS: [3499, 555], DAY_SERVICES: [3499],
                             COUNSELLING: [3499, 2321]})
    result = fetch(rjps_settings)
    assert result.fatal is None and result.errors == []
    items = {i.source_key: i for i in result.items}
    assert items["3499"].fields["target_groups"] == ["niepelnosprawnosc", "seniorzy"]
    assert items["3499"].fields["service_tags"] == ["dzienne", "poradnictwo"]
    assert items["2321"].fields["target_groups"] == ["niepelnosprawnosc"]
    assert items["2321"].fields["service_tags"] == ["poradnictwo"]
    assert all(not i.keep_fields for i in result.items)
    assert taxonomy_requests_in(httpserver) == [ids for _, _, ids in taxonomy_requests()]


def test_units_in_no_filtered_listing_get_empty_lists(httpserver, rjps_settings):
    serve_units(httpserver, {})
    for item in fetch(rjps_settings).items:
        assert item.fields["target_groups"] == [] and item.fields["service_tags"] == []


def _institutions(settings) -> dict[str, Institution]:
    with session_scope(settings.database_url) as session:
        records = session.exec(select(SourceRecord)).all()
        return {r.source_key: session.get(Institution, r.institution_id) for r in records}


def test_failing_taxonomy_request_is_partial_and_keeps_previous_tags(httpserver, rjps_settings):
    serve_units(httpserver, {DISABILITY_IDS: [3499], SENIORS: [2321], DAY_SERVICES: [3499]})
    assert run_adapter(rjps_settings, RjpsAdapter()).status == "ok"

    httpserver.clear()
    # This run: seniors fails, and the answers that did come differ (they must not be half-applied).
    serve_units(httpserver, {DISABILITY_IDS: [2321], COUNSELLING: [2321]}, failing={SENIORS},
                email="nowy@mops-zabludow.pl")
    summary = run_adapter(rjps_settings, RjpsAdapter())
    assert summary.status == "partial"
    assert [e["where"] for e in summary.errors] == [f"RJPS filtr target_groups=seniorzy (podkategorie {SENIORS})"]
    units = _institutions(rjps_settings)
    assert units["3499"].email == "nowy@mops-zabludow.pl"                       # contacts updated
    assert units["3499"].target_groups == ["niepelnosprawnosc"]                  # groups: as in run 1
    assert units["2321"].target_groups == ["seniorzy"]
    assert units["3499"].service_tags == [] and units["2321"].service_tags == ["poradnictwo"]  # complete: new
    with session_scope(rjps_settings.database_url) as session:
        assert [r.status for r in session.exec(select(ScrapeRun).order_by(ScrapeRun.id)).all()] == ["ok", "partial"]


def test_demo_replay_tags_both_units_with_disability(rjps_settings):
    assert run_adapter(rjps_settings, RjpsAdapter(expected_min=1, replay_dir=DEMO_REPLAY_DIR)).status == "ok"
    units = _institutions(rjps_settings)
    assert units["3499"].target_groups == units["2321"].target_groups == ["niepelnosprawnosc"]
    assert units["3499"].service_tags == units["2321"].service_tags == []
