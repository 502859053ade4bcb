"""A real SQLite catalog (built by the Alembic migration) with realistic institutions, the search index
built from it, and the app from create_app over both."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from catalog import db
from catalog.models import FieldProvenance, Institution, SourceRecord
from catalog.settings import Settings, load
from geo import teryt
from index import api as index_api

OLD = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
NEW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
XSS_NAME = "<script>alert(1)</script> Klub \"Razem\" & Co"


def _inst(name: str, type_: str, gmina: str, *, dlat: float = 0.0, dlon: float = 0.0, precision: str = "address",
          updated: datetime = NEW, located: bool = True, **fields) -> Institution:
    g = teryt.gmina(gmina)
    assert g is not None and g.lat is not None, gmina
    return Institution(
        name=name, type=type_, gmina_id6=g.id6, powiat_teryt=g.powiat_code, woj_teryt=g.woj_code,
        lat=round(g.lat + dlat, 6) if located else None, lon=round(g.lon + dlon, 6) if located else None,
        geo_precision=precision if located else None, geo_source="rjps" if located else None,
        locality=fields.pop("locality", g.name), updated_at=updated, first_seen=OLD, last_seen=NEW, **fields,
    )


def institutions() -> list[Institution]:
    return [
        _inst("Miejski Ośrodek Pomocy Społecznej w Białymstoku", "ops", "206101", street="ul. Malmeda",
              building="1", postal_code="15-440", address_raw="ul. Malmeda 1, 15-440 Białystok",
              phones=[{"raw": "85 678 01 00", "e164": "+48856780100"}], email="mops@mops.bialystok.pl",
              www="https://mops.bialystok.pl", rjps_id="3499", regon="000985437", precision="source",
              target_groups=["bezdomni", "rodziny"], service_tags=["zasiłki", "praca socjalna"]),
        _inst("Gminny Ośrodek Pomocy Społecznej w Zabłudowie", "ops", "200214", street="ul. Rynek", building="8",
              postal_code="16-060", phones=[{"raw": "85 7188100", "e164": "+48857188100"}], updated=OLD),
        _inst("Powiatowe Centrum Pomocy Rodzinie w Białymstoku", "pcpr", "200201", dlat=-0.02, postal_code="15-003"),
        _inst("Powiatowy Urząd Pracy w Białymstoku", "pup", "206101", dlat=0.01, dlon=0.01,
              service_area=["2061", "2002"], updated=OLD),
        _inst("Centrum Integracji Społecznej w Białymstoku", "cis", "206101", dlat=-0.01, status="active",
              valid_from=date(2022, 5, 1), valid_until=date(2027, 4, 30), decision_number="PS.II.9512.1.2022",
              target_groups=["bezdomni", "uzależnieni"], operator_name="Stowarzyszenie \"Pomoc\""),
        _inst("Klub Integracji Społecznej w Supraślu", "kis", "200209", precision="locality",
              target_groups=["bezrobotni"]),
        _inst("Warsztat Terapii Zajęciowej „Promyk” w Krakowie", "wtz", "126101", dlat=0.02),
        _inst("Zakład Aktywności Zawodowej w Krakowie", "zaz", "126101", dlon=-0.03, updated=OLD),
        _inst("Ośrodek Wsparcia Ekonomii Społecznej Subregionu Białostockiego", "owes", "206101", dlon=-0.01,
              service_area=["2061", "2002", "2010"], partners=[{"name": "Fundacja Partner", "role": "partner"}]),
        _inst("Centrum Integracji Społecznej w Warszawie", "cis", "146501", status="closed", updated=OLD),
        _inst(XSS_NAME, "kis", "146501", dlat=0.01, precision="postcode"),
        _inst("Klub Integracji Społecznej bez współrzędnych", "kis", "200201", located=False),
    ]


@dataclass
class Catalog:
    settings: Settings
    ids: dict[str, int]           # name -> id


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    data_dir: Path = tmp_path_factory.mktemp("api-data")
    settings = dataclasses.replace(
        load(), data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'wsparcie.db'}",
        index_dir=data_dir / "index", captures_dir=data_dir / "captures", secret_key="test-secret",
    )
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        rows = institutions()
        session.add_all(rows)
        session.flush()
        ids = {r.name: r.id for r in rows}
        mops = ids["Miejski Ośrodek Pomocy Społecznej w Białymstoku"]
        session.add(SourceRecord(source="rjps", source_key="3499", institution_id=mops, first_seen=OLD, last_seen=NEW,
                                 source_updated_at=date(2026, 1, 15)))
        session.add_all([
            FieldProvenance(institution_id=mops, field="postal_code", source="rjps", source_key="3499",
                            value='"15-440"', first_seen=OLD, last_seen=NEW, source_updated_at=date(2026, 1, 15)),
            FieldProvenance(institution_id=mops, field="name", source="rjps", source_key="3499",
                            value='"Miejski Ośrodek Pomocy Społecznej w Białymstoku"', first_seen=OLD, last_seen=NEW),
        ])
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    return Catalog(settings, ids)


@pytest.fixture(autouse=True)
def _env(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    # Code that calls catalog.settings.load() itself must see the same catalog.
    monkeypatch.setenv("WSPARCIE_DATA_DIR", str(catalog.settings.data_dir))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INDEX_DIR", raising=False)


@pytest.fixture(scope="session")
def app(catalog: Catalog):
    from webapp import create_app

    return create_app({"SETTINGS": catalog.settings, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()
