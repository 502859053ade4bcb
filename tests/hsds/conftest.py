"""A real SQLite catalog built through the real merge (catalog.merge.apply_fetch) from SourceItems of two
sources and the demo snapshot, and the official HSDS 3.0 schemas to validate against."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from catalog import db
from catalog.merge import apply_fetch
from catalog.models import ScrapeRun
from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings, load
from scrapers.base import SourceMeta

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "hsds-3.0"
HOSTILE = "{{ 7*7 }} <script>alert(1)</script> =HYPERLINK(\"http://x\") \u202e"


def rjps_items() -> list[SourceItem]:
    def item(key: str, **fields) -> SourceItem:
        return SourceItem("rjps", key, fields, source_updated_at=date(2026, 1, 15))
    return [
        item("3499", name="Miejski Ośrodek Pomocy Społecznej w Białymstoku", type="ops", street="ul. Malmeda",
             building="1", postal_code="15-440", locality="Białystok", woj_teryt="20", powiat_teryt="2061",
             gmina_id6="206101", lat=53.1325, lon=23.1688, geo_precision="source", rjps_id="3499",
             regon="000985437", nip="9661234567", krs="0000123456",
             phones=[{"raw": "85 678 01 00", "e164": "+48856780100"}], email="mops@mops.bialystok.pl; sekretariat@x.pl",
             www="https://mops.białystok.pl/ośrodek", head="Anna Kowalska",
             target_groups=["seniorzy", "bezdomni"], service_tags=["poradnictwo"]),
        item("2321", name="Gminny Ośrodek Pomocy Społecznej w Zabłudowie", type="ops", building="8",
             postal_code="16-060", locality="Zabłudów", woj_teryt="20", powiat_teryt="2002", gmina_id6="200214",
             lat=53.0146, lon=23.3384, geo_precision="address", www="javascript:alert(1)"),
        item("5000", name="Powiatowe Centrum Pomocy Rodzinie w Białymstoku", type="pcpr", street="ul. Borsucza",
             building="2", postal_code="15-569", locality="Białystok", woj_teryt="20", powiat_teryt="2002",
             gmina_id6="206101", lat=53.112, lon=23.13, geo_precision="gmina"),
        item("6000", name=HOSTILE, type="kis", locality="Supraśl", woj_teryt="20", powiat_teryt="2002",
             gmina_id6="200209", address_raw="Supraśl, bez adresu", status="closed", email="not-an-email"),
    ]


def owes_items() -> list[SourceItem]:
    return [SourceItem("owes", "owes-20-1", {
        "name": "Ośrodek Wsparcia Ekonomii Społecznej Subregionu Białostockiego", "type": "owes",
        "street": "ul. Lipowa", "building": "1", "flat": "3", "postal_code": "15-424", "locality": "Białystok",
        "woj_teryt": "20", "powiat_teryt": "2061", "gmina_id6": "206101", "service_area": ["2061", "2002", "2010"],
        "operator_name": "Fundacja Partner", "status": "active"})]


def demo_items() -> list[SourceItem]:
    return [SourceItem("demo", "demo-ops-200216", {
        "name": "Ośrodek pomocy społecznej — gmina Zawady (miejsce na dane)", "type": "ops", "woj_teryt": "20",
        "powiat_teryt": "2002", "gmina_id6": "200216", "lat": 53.05, "lon": 22.9, "geo_precision": "gmina"})]


def _meta(key: str) -> SourceMeta:
    return SourceMeta(key, key.upper(), f"https://{key}.example", "test", "test")


def apply(settings: Settings, source: str, items: list[SourceItem], complete: bool = False) -> None:
    with db.session_scope(settings.database_url) as session:
        run = ScrapeRun(source=source)
        session.add(run)
        session.flush()
        apply_fetch(session, _meta(source), FetchResult(items=items, listed_keys={i.source_key for i in items},
                                                        complete=complete), run, settings)


def build_catalog(data_dir: Path, *, order: tuple[str, ...] = ("rjps", "owes", "demo")) -> Settings:
    settings = dataclasses.replace(
        load(), data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'wsparcie.db'}",
        index_dir=data_dir / "index", captures_dir=data_dir / "captures", secret_key="test-secret")
    db.upgrade(settings.database_url)
    sources = {"rjps": rjps_items, "owes": owes_items, "demo": demo_items}
    for key in order:
        apply(settings, key, sources[key]())
    return settings


@dataclass
class Validators:
    service: Draft202012Validator
    organization: Draft202012Validator
    service_at_location: Draft202012Validator
    service_list: Draft202012Validator
    organization_list: Draft202012Validator
    service_at_location_list: Draft202012Validator
    taxonomy: Draft202012Validator
    taxonomy_term: Draft202012Validator


def _load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def schemas() -> Validators:
    # taxonomy.json and taxonomy_term.json refer to their siblings by relative name.
    registry = Registry().with_resources(
        (name, Resource.from_contents(_load(name), default_specification=DRAFT202012))
        for name in ("metadata.json", "taxonomy.json", "taxonomy_term.json"))
    checker = FormatChecker()
    # Without these checkers FormatChecker silently accepts any uri / date-time: fail loudly instead.
    assert {"uri", "date-time", "uuid", "email"} <= set(checker.checkers), checker.checkers.keys()

    def v(name: str) -> Draft202012Validator:
        return Draft202012Validator(_load(name), format_checker=checker, registry=registry)
    return Validators(*(v(f"compiled/{n}.json") for n in ("service", "organization", "service_at_location",
                                                           "service_list", "organization_list",
                                                           "service_at_location_list")),
                      v("taxonomy.json"), v("taxonomy_term.json"))


def errors(validator: Draft202012Validator, instance: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)][:10]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_catalog(tmp_path_factory.mktemp("hsds-data"))


@pytest.fixture(scope="session")
def app(settings: Settings):
    from webapp import create_app

    return create_app({"SETTINGS": settings, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()
