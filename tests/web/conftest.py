"""Web test fixtures: a real SQLite catalog (Alembic-built) in tmp_path filled with realistic rows for
powiat białostocki (2002) and the city of Białystok (2061), and the app over it."""
from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from catalog import db
from catalog.models import ChangeLog, FieldProvenance, Institution, ScrapeRun, Source
from index import api as index_api

XSS_NAME = 'Klub "Razem" <script>alert(1)</script>'


def _now() -> datetime:
    return datetime.now(UTC)


def _phone(raw: str, e164: str | None) -> list[dict]:
    return [{"raw": raw, "e164": e164}]


def institutions() -> list[Institution]:
    return [
        Institution(name="Gminny Ośrodek Pomocy Społecznej w Zabłudowie", type="ops", street="ul. Rynek",
                    building="8", postal_code="16-060", locality="Zabłudów", woj_teryt="20", powiat_teryt="2002",
                    gmina_id6="200214", lat=53.0146, lon=23.3384, geo_precision="address",
                    phones=_phone("85 718 81 00", "+48857188100"), email="gops@zabludow.example",
                    www="www.zabludow.example", rjps_id="3499", operator_name="Gmina Zabłudów"),
        Institution(name="Powiatowe Centrum Pomocy Rodzinie w Białymstoku", type="pcpr", street="ul. Borsucza",
                    building="2", postal_code="15-569", locality="Białystok", woj_teryt="20", powiat_teryt="2002",
                    gmina_id6="206101", lat=53.1120, lon=23.1300, geo_precision="source",
                    phones=_phone("85 740 39 60", "+48857403960")),
        Institution(name="Powiatowy Urząd Pracy w Białymstoku", type="pup", street="ul. Pogodna", building="63/1",
                    postal_code="15-365", locality="Białystok", woj_teryt="20", powiat_teryt="2061",
                    gmina_id6="206101", lat=53.1210, lon=23.1090, geo_precision="address",
                    service_area=["2061", "2002"], phones=_phone("85 749 71 00", "+48857497100")),
        Institution(name="Centrum Integracji Społecznej w Choroszczy", type="cis", street="ul. Sienkiewicza",
                    building="29", postal_code="16-070", locality="Choroszcz", woj_teryt="20", powiat_teryt="2002",
                    gmina_id6="200201", lat=53.1440, lon=22.9870, geo_precision="locality",
                    valid_from=date(2022, 5, 1), valid_until=date(2027, 4, 30), register_number="CIS/20/7",
                    phones=_phone("tel. 85 719 00 00 wew. 5", None)),
        Institution(name=XSS_NAME, type="kis", locality="Zabłudów", postal_code="16-060", woj_teryt="20",
                    powiat_teryt="2002", gmina_id6="200214", lat=53.0150, lon=23.3400, geo_precision="postcode",
                    status="possibly-closed", www="javascript:alert(1)"),
        Institution(name="Warsztat Terapii Zajęciowej w Choroszczy", type="wtz", street="ul. Dominikańska",
                    building="4", postal_code="16-070", locality="Choroszcz", woj_teryt="20",
                    powiat_teryt="2002", gmina_id6="200201", lat=53.1450, lon=22.9850, geo_precision="address"),
        Institution(name="Podlaski Ośrodek Wsparcia Ekonomii Społecznej", type="owes", street="ul. Lipowa",
                    building="1", postal_code="15-424", locality="Białystok", woj_teryt="20", powiat_teryt="2061",
                    gmina_id6="206101", lat=53.1330, lon=23.1570, geo_precision="address",
                    service_area=["2061", "2002", "2003"], partners=[{"name": "Fundacja Partner", "role": "partner"}]),
        Institution(name="Ośrodek Pomocy Społecznej w Krakowie", type="ops", postal_code="30-001",
                    locality="Kraków", woj_teryt="12", powiat_teryt="1261", gmina_id6="126101",
                    lat=50.0614, lon=19.9366, geo_precision="address"),
    ]


def fill(session: Session) -> dict[str, int]:
    """Insert the sample catalog; returns ids by short key."""
    rows = institutions()
    session.add_all(rows)
    session.flush()
    ids = dict(zip(["ops", "pcpr", "pup", "cis", "kis", "wtz", "owes", "krakow"], [r.id for r in rows], strict=True))
    now = _now()
    session.add(Source(key="rjps", name="Rejestr Jednostek Polityki Społecznej (RJPS)",
                       url="https://rjps.mrpips.gov.pl", licence="informacja publiczna",
                       attribution="Ministerstwo Rodziny, Pracy i Polityki Społecznej",
                       last_success_at=now, last_data_date=date(2026, 1, 15)))
    session.add(ScrapeRun(source="rjps", started_at=now, finished_at=now, status="partial", complete=True,
                          n_in=120, n_new=3, n_changed=2, n_errors=1,
                          errors=[{"where": "unit 77", "message": "HTTP 500"}]))
    session.add(FieldProvenance(institution_id=ids["ops"], field="phones", source="rjps", source_key="3499",
                                value=json.dumps([{"raw": "85 718 81 00", "e164": "+48857188100"}]),
                                first_seen=now - timedelta(days=300), last_seen=now - timedelta(days=1),
                                source_updated_at=date(2025, 11, 3)))
    session.add(FieldProvenance(institution_id=ids["ops"], field="name", source="rjps", source_key="3499",
                                value=json.dumps("Gminny Ośrodek Pomocy Społecznej w Zabłudowie"),
                                last_seen=now, source_updated_at=date(2025, 11, 3)))
    session.add(ChangeLog(institution_id=ids["cis"], kind="new", source="cis-kis-20",
                          changed_at=now - timedelta(days=5)))
    session.add(ChangeLog(institution_id=ids["ops"], kind="changed", field="phones", old_value='"85 718 81 01"',
                          new_value='"85 718 81 00"', source="rjps", changed_at=now - timedelta(days=3)))
    session.add(ChangeLog(institution_id=ids["kis"], kind="missing", source="rjps",
                          changed_at=now - timedelta(days=2)))
    session.add(ChangeLog(institution_id=ids["wtz"], kind="changed", field="email", source="rjps",
                          changed_at=now - timedelta(days=400)))
    return ids


@pytest.fixture
def xss_name() -> str:
    return XSS_NAME


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory) -> Path:
    """An empty catalog built once by the Alembic migration; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    with db.get_engine(url).connect() as conn:   # fold the WAL into the file before it is copied
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def ids(settings, schema_template) -> dict[str, int]:
    target = Path(settings.database_url.split("///", 1)[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(schema_template, target)
    with db.session_scope(settings.database_url) as session:
        return fill(session)


@pytest.fixture
def app(settings, ids):
    from webapp import create_app

    # The pages run the real search path: the index is built from the catalog, as `wsparcie start` does
    # (without it every page test would exercise only the SQL fallback). The schema is already at head
    # (copied template); create_app never migrates.
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)
    return create_app({"TESTING": True})


@pytest.fixture
def app_without_index(settings, ids):
    """The site before any index was built: lists come from the SQL fallback, with the notice."""
    from webapp import create_app

    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def rebuild_index(settings) -> None:
    """Bring the index level with rows a test wrote straight into the catalog (in production only the
    ingest writes, and it updates the index itself)."""
    with db.session_scope(settings.database_url) as session:
        index_api.rebuild(settings, session)


@pytest.fixture
def reindex(settings):
    return lambda: rebuild_index(settings)
